// Finding and describing the model bundles under models/ (Node side).
import {existsSync, readdirSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";
import {parseManifest, type ModelManifest, type ParityReport} from "../src/lib/bundle.js";
import {MODELS_DIR} from "./paths.js";

export interface BundleSummary {
  dir: string;
  manifest: ModelManifest;
  files: {name: string; bytes: number}[];
  totalBytes: number;
  parity: ParityReport | null;
}

export function readManifest(dir: string): ModelManifest {
  const path = join(dir, "model.json");
  if (!existsSync(path)) throw new Error(`${dir} is not a model bundle: model.json is missing (run "fetalclip import" first)`);
  return parseManifest(new Uint8Array(readFileSync(path)), path);
}

export function describeBundle(dir: string): BundleSummary {
  const manifest = readManifest(dir);
  const files = readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort()
    .map((name) => ({name, bytes: statSync(join(dir, name)).size}));
  const parityPath = join(dir, "parity.json");
  const parity = existsSync(parityPath) ? (JSON.parse(readFileSync(parityPath, "utf8")) as ParityReport) : null;
  return {dir, manifest, files, totalBytes: files.reduce((s, f) => s + f.bytes, 0), parity};
}

/** Every bundle directly under `modelsDir` (folders holding a model.json). */
export function listBundles(modelsDir = MODELS_DIR): BundleSummary[] {
  if (!existsSync(modelsDir)) return [];
  return readdirSync(modelsDir)
    .map((name) => join(modelsDir, name))
    .filter((dir) => existsSync(join(dir, "model.json")))
    .sort()
    .map(describeBundle);
}
