// Opening a model bundle in Node: the same ClipModel the browser uses, on onnxruntime-node.
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {ClipModel} from "../src/lib/clipModel.js";
import {preprocessImage} from "../src/lib/preprocess.js";
import {readMergesFile, Tokenizer} from "../src/lib/tokenizer.js";
import {variantFiles, type ModelVariant} from "../src/lib/bundle.js";
import {readManifest} from "./bundles.js";
import {createNodeSession, ort, type ExecutionProvider, type SessionOptions} from "./session.js";
import "./jpeg.js"; // loads the JPEG decoder before any image is decoded

export interface NodeModel {
  model: ClipModel;
  dir: string;
  ep: {image: ExecutionProvider; text: ExecutionProvider};
}

export function loadBundleTokenizer(dir: string): Tokenizer {
  const manifest = readManifest(dir);
  return Tokenizer.fromMerges(readMergesFile(new Uint8Array(readFileSync(join(dir, manifest.text.vocab)))));
}

export async function loadNodeModel(dir: string, options: SessionOptions & {variant?: ModelVariant} = {}): Promise<NodeModel> {
  const manifest = readManifest(dir);
  const {image: imageFile, text: textFile} = variantFiles(manifest, options.variant ?? "fp32", dir);
  const image = await createNodeSession(join(dir, imageFile), options);
  const text = await createNodeSession(join(dir, textFile), options);
  const model = new ClipModel(ort, manifest, image.session, text.session, loadBundleTokenizer(dir));
  return {model, dir, ep: {image: image.ep, text: text.ep}};
}

/** Reads and preprocesses one image file exactly as the browser does. */
export function preprocessImageFile(path: string, model: ClipModel): Float32Array {
  const {size, mean, std} = model.manifest.image;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new Error(`${path}: cannot read image (${(error as Error).message})`);
  }
  try {
    return preprocessImage(bytes, {size, mean, std});
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}
