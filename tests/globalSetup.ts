// Before any test: the embedded default (phantom dataset + demo bundle), as `npm run dev` makes it.
import {setupEmbeddedDefault} from "../loaders/setup.js";

export default async function setup(): Promise<void> {
  await setupEmbeddedDefault();
}
