// The embedded default model: the committed demo weights (models/sources/fetalclip-demo)
// imported by the project's own importer into models/fetalclip-demo on first use,
// and again whenever the committed sources change.
import {existsSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {sha256File} from "../checkpoint/hash.js";
import {importModel} from "../importer.js";
import {MODEL_SOURCES_DIR, MODELS_DIR} from "../paths.js";
import {verifyBundle} from "../verify.js";
import type {ModelManifest} from "../../src/lib/bundle.js";

export const DEMO_ID = "fetalclip-demo";
export const DEMO_SOURCE_DIR = join(MODEL_SOURCES_DIR, DEMO_ID);
export const DEMO_BUNDLE_DIR = join(MODELS_DIR, DEMO_ID);

function sources() {
  return {
    weights: join(DEMO_SOURCE_DIR, "weights.pt"),
    config: join(DEMO_SOURCE_DIR, "config.json"),
    vocab: join(DEMO_SOURCE_DIR, "merges.txt"),
    card: join(DEMO_SOURCE_DIR, "card.json")
  };
}

/** True when the bundle exists and was imported from the committed weights as they are now. */
async function upToDate(): Promise<boolean> {
  const manifestPath = join(DEMO_BUNDLE_DIR, "model.json");
  if (!existsSync(manifestPath)) return false;
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as ModelManifest;
  const weights = manifest.source.files.find((f) => f.role === "weights");
  return weights?.sha256 === (await sha256File(sources().weights));
}

/** Imports the demo bundle if it is missing or stale; returns its folder. */
export async function ensureDemoBundle(options: {log?: (m: string) => void; force?: boolean} = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const src = sources();
  for (const path of [src.weights, src.config, src.vocab]) {
    if (!existsSync(path)) throw new Error(`the demo model's committed source ${path} is missing (train it with scripts/train_demo.py)`);
  }
  if (!options.force && (await upToDate())) return DEMO_BUNDLE_DIR;
  log(`importing the demo model from ${DEMO_SOURCE_DIR} ...`);
  const card = existsSync(src.card) ? (JSON.parse(readFileSync(src.card, "utf8")) as Record<string, unknown>) : undefined;
  await importModel({
    weights: src.weights,
    config: src.config,
    vocab: src.vocab,
    outDir: DEMO_BUNDLE_DIR,
    id: DEMO_ID,
    name: "FetalCLIP demo (phantom-trained)",
    licence: "MIT (trained by this project on its own procedural phantom)",
    card,
    // The project's own bundle, imported from its committed sources: replacing it is safe.
    force: true,
    log
  });
  // The committed PyTorch reference outputs prove the import on every fresh install.
  const reference = join(DEMO_SOURCE_DIR, "reference");
  if (existsSync(join(reference, "expected.json"))) {
    const parity = await verifyBundle(DEMO_BUNDLE_DIR, reference, {ep: "cpu"});
    log(`demo parity with PyTorch: ${parity.pass ? "pass" : "FAIL"} (min image cosine ${Math.min(...parity.images.map((i) => i.cosine)).toFixed(7)}, text ${parity.texts.minCosine.toFixed(7)})`);
  }
  return DEMO_BUNDLE_DIR;
}
