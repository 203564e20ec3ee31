// Opening a model bundle in the browser: the same ClipModel the Node loaders
// use, on onnxruntime-web. The bundle comes from a base URL (a deployed
// models/<id>/ folder) or from any byte source (files a user dropped).
import {parseManifest, variantFiles, type ModelVariant} from "../lib/bundle.js";
import {ClipModel} from "../lib/clipModel.js";
import {readMergesFile, Tokenizer} from "../lib/tokenizer.js";
import {createWebSession, ort, type WebExecutionProvider, type WebSessionOptions} from "./ortWeb.js";

/** Gives the bytes of one bundle file by its name (model.json, image.onnx, ...). */
export type BundleFileReader = (name: string) => Promise<Uint8Array>;

export interface LoadClipModelOptions extends WebSessionOptions {
  /** Which graphs to run (default fp32); fp16 halves the download. */
  variant?: ModelVariant;
}

export interface WebClipModel {
  model: ClipModel;
  ep: {image: WebExecutionProvider; text: WebExecutionProvider};
}

/** Reads bundle files over HTTP relative to `baseUrl` (a folder URL; a trailing "/" is added). */
export function fetchBundleFiles(baseUrl: string | URL, init?: RequestInit): BundleFileReader {
  const base = String(baseUrl).endsWith("/") ? String(baseUrl) : `${baseUrl}/`;
  return async (name) => {
    const url = new URL(name, new URL(base, globalThis.location?.href)).href;
    const response = await fetch(url, init);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  };
}

/** Fetches model.json, both encoders and the vocab, and opens them on webgpu or wasm. */
export async function loadClipModel(source: string | URL | BundleFileReader, options: LoadClipModelOptions = {}): Promise<WebClipModel> {
  const read = typeof source === "function" ? source : fetchBundleFiles(source);
  const manifest = parseManifest(await read("model.json"));
  const {image: imageFile, text: textFile} = variantFiles(manifest, options.variant ?? "fp32", `model.json (${manifest.id})`);
  const [imageBytes, textBytes, vocabBytes] = await Promise.all([read(imageFile), read(textFile), read(manifest.text.vocab)]);
  const tokenizer = Tokenizer.fromMerges(readMergesFile(vocabBytes));
  // One session at a time: two concurrent webgpu inits would race for the device.
  const image = await createWebSession(imageBytes, options);
  const text = await createWebSession(textBytes, options);
  return {model: new ClipModel(ort, manifest, image.session, text.session, tokenizer), ep: {image: image.ep, text: text.ep}};
}
