// The demo evaluation with every image's results, cached under
// FETALCLIP_CACHE/demo-evaluation/ and keyed by the bundle's files, the phantom's
// manifest and the code that scores them: the Zero-shot page's numbers, its drill-down,
// the Gestational-age page and the Compare page read one run, and a rebuild with
// nothing changed runs no model (the evaluation takes about a minute on two cores).
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync} from "node:fs";
import {basename, join, resolve} from "node:path";
import {writeFileAtomic} from "../embeddings/cache.js";
import {pruneOtherKeys, sourceKey} from "../embeddingMaps/sourceKey.js";
import {CACHE_DIR} from "../paths.js";
import {evaluateDemo, type DemoEvaluation, type DemoEvaluationOptions} from "./evaluate.js";

export const DEMO_EVALUATION_CACHE_DIR = join(CACHE_DIR, "demo-evaluation");
const CACHE_VERSION = 1;

/** The modules whose code shapes the numbers: editing one evaluates again. */
const EVALUATION_CODE = [
  "loaders/demo/evaluate.ts",
  "loaders/evaluation/imageFiles.ts",
  "src/lib/preprocess.ts",
  "src/lib/zeroShot.ts",
  "src/lib/tasks/zeroShot.ts",
  "src/lib/gestationalAge.ts",
  "src/lib/tasks/gestationalAge.ts",
  "src/lib/biometry.ts",
  "src/lib/metrics.ts",
  "src/lib/prompts.ts"
];

function evaluationKey(bundleDir: string, phantomDir: string, split: string): string {
  const hash = createHash("sha256").update(`demo-evaluation@${CACHE_VERSION} code ${sourceKey(EVALUATION_CODE)} split=${split}\n`);
  for (const name of readdirSync(bundleDir).sort()) {
    if (!/\.(json|onnx|txt|data)$/.test(name) || name === "parity.json") continue;
    hash.update(`${name}\n`).update(readFileSync(join(bundleDir, name)));
  }
  hash.update("manifest\n").update(readFileSync(join(phantomDir, "manifest.json")));
  return hash.digest("hex").slice(0, 24);
}

/** Typed arrays as plain arrays, for JSON (doubles round-trip exactly). */
function toJson(evaluation: DemoEvaluation): string {
  return JSON.stringify(evaluation, (_, value) => (ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number>) : value));
}

function fromJson(text: string): DemoEvaluation {
  const evaluation = JSON.parse(text) as DemoEvaluation;
  const d = evaluation.details;
  if (d) {
    d.planes.probabilities = Float32Array.from(d.planes.probabilities);
    d.subPlanes.probabilities = Float32Array.from(d.subPlanes.probabilities);
    d.ga.dotProducts = d.ga.dotProducts.map((row) => Float64Array.from(row));
  }
  return evaluation;
}

/**
 * evaluateDemo with `details`, from the cache when the bundle, the phantom and the scoring
 * code are unchanged. Loaders that run at once wait for the one that evaluates (a lock
 * folder) instead of evaluating twice.
 */
export async function cachedDemoEvaluation(options: Omit<DemoEvaluationOptions, "details">): Promise<DemoEvaluation & {details: NonNullable<DemoEvaluation["details"]>; cached: boolean}> {
  const log = options.log ?? (() => {});
  const bundleDir = resolve(options.bundleDir);
  const phantomDir = resolve(options.phantomDir);
  const split = options.split ?? "test";
  const key = evaluationKey(bundleDir, phantomDir, split);
  // One folder per bundle and split: pruning old keys never touches another bundle's run.
  const dir = join(DEMO_EVALUATION_CACHE_DIR, `${basename(bundleDir)}-${split}`);
  const file = join(dir, `evaluation-${key}.json`);
  mkdirSync(dir, {recursive: true});
  const lock = join(dir, `evaluation-${key}.lock`);
  const started = Date.now();
  for (;;) {
    if (existsSync(file)) {
      log(`demo evaluation: cached (${file})`);
      return {...(fromJson(readFileSync(file, "utf8")) as DemoEvaluation & {details: NonNullable<DemoEvaluation["details"]>}), cached: true};
    }
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock older than 15 minutes belongs to a loader that died: take it over.
      if (Date.now() - started > 15 * 60_000) {
        rmSync(lock, {recursive: true, force: true});
        continue;
      }
      await new Promise((done) => setTimeout(done, 1000));
    }
  }
  try {
    const evaluation = await evaluateDemo({...options, bundleDir, phantomDir, split, details: true});
    writeFileAtomic(dir, `evaluation-${key}.json`, [new TextEncoder().encode(toJson(evaluation))]);
    pruneOtherKeys(dir, key, /^(evaluation)-([0-9a-f]{24})\.json$/);
    return {...(evaluation as DemoEvaluation & {details: NonNullable<DemoEvaluation["details"]>}), cached: false};
  } finally {
    rmSync(lock, {recursive: true, force: true});
  }
}

/** The evaluation without its per-image details: what the Zero-shot page's headline reads. */
export function withoutDetails<T extends DemoEvaluation>(evaluation: T): Omit<T, "details" | "cached"> {
  const {details: _details, cached: _cached, ...rest} = evaluation as T & {cached?: boolean};
  return rest;
}
