// The Gestational-age page's artifact: every source's true HC, GA dot products and
// thumbnails (see loaders/results/gaArchive.ts). Models are scored through the demo
// evaluation's cache: a rebuild with nothing changed runs no model.
import {buildGaArchive} from "../../loaders/results/gaArchive.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
const {bytes} = await buildGaArchive(log);
process.stdout.write(bytes);
