// Finding and describing the model bundles under models/ (Node side).
import {existsSync, readdirSync, readFileSync, statSync} from "node:fs";
import {join, resolve} from "node:path";
import type {ModelManifest} from "../src/lib/bundle.js";

export const MODELS_DIR = resolve(process.env.FETALCLIP_MODELS ?? "models");

/** Parity of a bundle's ONNX graphs against reference outputs (written by `fetalclip verify`). */
export interface ParityReport {
  reference: string;
  checkedAt: string;
  ep: string;
  images: {name: string; cosine: number; maxAbsDiff: number}[];
  texts: {count: number; minCosine: number; maxAbsDiff: number};
  thresholds: {cosine: number};
  pass: boolean;
}

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
  const manifest = JSON.parse(readFileSync(path, "utf8")) as ModelManifest;
  if (manifest.format !== "fetalclip-explorer/model@1") throw new Error(`${path}: unknown bundle format ${JSON.stringify(manifest.format)}`);
  return manifest;
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
