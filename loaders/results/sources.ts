// What the Gestational-age, Zero-shot drill-down and Compare pages show: every model bundle
// under models/ scored on the phantom's held-out patients (the demo evaluation, cached per
// bundle), and FetalCLIP's released outputs when a reference folder is configured
// (fetalclip.config.json "reference" or FETALCLIP_REFERENCE). Scoring is the core's
// (zeroShotMetrics, gaMetrics); reading the released files is src/lib/paperReference.ts's.
import {createHash} from "node:crypto";
import {existsSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";
import {parseJsonStrict} from "../../src/lib/json.js";
import {
  PAPER_GA_RESULT, parseGaDotProducts, parsePromptFile, parseResultsCsv, parseZeroShotPredictions, REFERENCE_FILES,
  type GaDotProducts, type PaperResults, type ZeroShotPredictions
} from "../../src/lib/paperReference.js";
import {listBundles, type BundleSummary} from "../bundles.js";
import {DEMO_ID, ensureDemoBundle} from "../demo/bundle.js";
import type {DemoEvaluation, DemoEvaluationDetails} from "../demo/evaluate.js";
import {cachedDemoEvaluation} from "../demo/evaluationCache.js";
import {paperReferenceKey} from "../paperReference.js";
import {generatePhantomDataset, PHANTOM_DIR} from "../phantomDataset.js";
import {readProjectConfig} from "../projectConfig.js";

/** One bundle scored on the phantom's test split, with every image's results. */
export interface ModelRun {
  /** Bundle folder name, e.g. "fetalclip-demo". */
  id: string;
  /** The bundle's display name. */
  name: string;
  bundle: BundleSummary;
  evaluation: DemoEvaluation & {details: DemoEvaluationDetails};
}

export const PHANTOM_TEST_NAME = "Phantom, held-out patients (test split)";

/**
 * Every bundle under models/ (the demo bundle imported first if missing), scored on the
 * phantom's test split through the demo evaluation's cache. A bundle that fails is listed
 * with the reason; the others go on.
 */
export async function modelRuns(log: (m: string) => void): Promise<{runs: ModelRun[]; skipped: {source: string; error: string}[]}> {
  await generatePhantomDataset({});
  await ensureDemoBundle({log});
  const runs: ModelRun[] = [];
  const skipped: {source: string; error: string}[] = [];
  // The demo bundle first: it is the site's default selection.
  const bundles = listBundles().sort((a, b) => Number(b.manifest.id === DEMO_ID) - Number(a.manifest.id === DEMO_ID));
  for (const bundle of bundles) {
    const id = bundle.dir.split(/[\\/]/).pop()!;
    try {
      const evaluation = await cachedDemoEvaluation({bundleDir: bundle.dir, phantomDir: PHANTOM_DIR, split: "test", log});
      runs.push({id, name: bundle.manifest.name, bundle, evaluation});
    } catch (error) {
      const message = (error as Error).message;
      log(`${id}: not scored on the phantom: ${message}`);
      skipped.push({source: `${id} × phantom`, error: message});
    }
  }
  return {runs, skipped};
}

/** FetalCLIP's released outputs, as read from the configured folder. */
export interface PaperOutputs {
  /** The folder as configured (absolute; never published). */
  dir: string;
  fivePlanes: {classes: string[]; predictions: ZeroShotPredictions; results: PaperResults};
  brainSubplanes: {classes: string[]; predictions: ZeroShotPredictions; results: PaperResults};
  ga: GaDotProducts;
  gaReported: typeof PAPER_GA_RESULT;
}

function readJsonFile(file: string): unknown {
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file}: does not exist`);
  return parseJsonStrict(readFileSync(file, "utf8"), file);
}

/** The configured reference folder, or null (not configured). */
export function referenceDir(env: Record<string, string | undefined> = process.env): string | null {
  return readProjectConfig({env}).reference;
}

/** The released outputs of the configured folder; null when none is configured; throws (naming the file) when one cannot be read. */
export function paperOutputs(dir: string | null = referenceDir()): PaperOutputs | null {
  if (!dir) return null;
  const zeroShot = (files: {predictions: string; prompts: string; results: string}) => {
    const predictionsFile = join(dir, files.predictions), promptsFile = join(dir, files.prompts), resultsFile = join(dir, files.results);
    return {
      classes: parsePromptFile(readJsonFile(promptsFile), promptsFile).classes,
      predictions: parseZeroShotPredictions(readJsonFile(predictionsFile), predictionsFile),
      results: parseResultsCsv(readFileSync(resultsFile, "utf8"), resultsFile)
    };
  };
  const gaFile = join(dir, REFERENCE_FILES.gaDotProducts);
  return {
    dir,
    fivePlanes: zeroShot(REFERENCE_FILES.fivePlanes),
    brainSubplanes: zeroShot(REFERENCE_FILES.brainSubplanes),
    ga: parseGaDotProducts(readJsonFile(gaFile), gaFile),
    gaReported: PAPER_GA_RESULT
  };
}

/**
 * What these pages' artifacts were built from beyond the loader's own code: the reference
 * folder's key and the bundles present. Stored in each artifact, so a stale cached copy
 * (Framework keys its cache by the loader file's date only) is told apart and rebuilt.
 */
export function resultsKey(env: Record<string, string | undefined> = process.env): string {
  const bundles = listBundles().map((b) => `${b.manifest.id} ${b.totalBytes}`).join("\n");
  return createHash("sha256").update(`${paperReferenceKey(referenceDir(env))}\n${bundles}\n`).digest("hex").slice(0, 16);
}

/** Removes the message's absolute folder, so nothing of this machine's paths is published. */
export function withoutPath(message: string, dir: string | null, as = "the reference folder"): string {
  return dir ? message.split(dir).join(as) : message;
}
