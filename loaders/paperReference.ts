// FetalCLIP's released outputs, read from a configured folder (fetalclip.config.json
// "reference", or FETALCLIP_REFERENCE; never copied into the repository) and scored with the
// project's own metric code: `fetalclip metrics zero-shot|ga` and the paper page's artifact
// (src/data/paper-reference.json.ts). Parsing rules live in src/lib/paperReference.ts.
import {createHash} from "node:crypto";
import {existsSync, readFileSync, rmSync, statSync} from "node:fs";
import {basename, dirname, join, relative, resolve} from "node:path";
import {parseJsonStrict} from "../src/lib/json.js";
import {
  knownClassesFor, PAPER_GA_RESULT, PAPER_GA_SOURCE, PAPER_REFERENCE_FORMAT, parseGaDotProducts, parsePromptFile, parseResultsCsv, parseZeroShotPredictions,
  REFERENCE_FILES, type PaperReferenceArtifact, type PaperZeroShot
} from "../src/lib/paperReference.js";
import {BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_PROMPTS} from "../src/lib/prompts.js";
import {gaMetrics, type GaMetrics} from "../src/lib/tasks/gestationalAge.js";
import {zeroShotMetrics, type ZeroShotMetrics} from "../src/lib/tasks/zeroShot.js";
import {REPO_ROOT} from "./paths.js";
import {readProjectConfig, type ReadProjectConfigOptions} from "./projectConfig.js";

/** Released files are a few MB; anything far larger is not one of them. */
const MAX_REFERENCE_FILE_BYTES = 256 * 1024 * 1024;

function readText(file: string, what: string): string {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error(`${file}: is not a file (expected ${what})`);
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${file}: does not exist (expected ${what})`);
    throw error;
  }
  if (size > MAX_REFERENCE_FILE_BYTES) throw new Error(`${file}: ${size} bytes, over the ${MAX_REFERENCE_FILE_BYTES}-byte limit for ${what}`);
  return readFileSync(file, "utf8");
}

function readJson(file: string, what: string): unknown {
  const text = readText(file, what);
  try {
    return parseJsonStrict(text, file);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith(file) ? message : `${file}: not valid JSON (${message}); expected ${what}`);
  }
}

export interface ZeroShotFileOptions {
  /** A *_prediction.json ({"prediction": [...], "label": [...]}). */
  predictions: string;
  /**
   * A *_prompts.json whose keys give the prompt classes in index order (the confusion's columns).
   * Default: the *_prompts.json beside the predictions when there is one, else the project's
   * five-planes or brain sub-plane classes when every label is one of them, else the sorted labels.
   */
  prompts?: string;
  resamples?: number;
  seed?: string | number;
}

export interface ZeroShotFileMetrics extends ZeroShotMetrics {
  predictionsFile: string;
  /** The prompts file the classes came from, or null. */
  promptsFile: string | null;
  /** Where the class order came from: "prompts", "project" (prompts.ts) or "labels" (sorted). */
  classesFrom: "prompts" | "project" | "labels";
}

/** The prompts file beside a predictions file (test_x_prediction.json -> test_x_prompts.json), if it exists. */
export function promptsBeside(predictionsFile: string): string | null {
  const name = basename(predictionsFile);
  if (!/_prediction\.json$/.test(name)) return null;
  const candidate = join(dirname(predictionsFile), name.replace(/_prediction\.json$/, "_prompts.json"));
  return existsSync(candidate) ? candidate : null;
}

/** `fetalclip metrics zero-shot`: a released predictions file scored with the project's metrics. */
export function zeroShotMetricsFromFiles(options: ZeroShotFileOptions): ZeroShotFileMetrics {
  const predictionsFile = resolve(options.predictions);
  const predictions = parseZeroShotPredictions(readJson(predictionsFile, "FetalCLIP's per-image predictions"), predictionsFile);
  const promptsFile = options.prompts ? resolve(options.prompts) : promptsBeside(predictionsFile);
  let classes: string[];
  let classesFrom: ZeroShotFileMetrics["classesFrom"];
  if (promptsFile) {
    classes = parsePromptFile(readJson(promptsFile, "FetalCLIP's prompt ensembles"), promptsFile).classes;
    classesFrom = "prompts";
    const unknown = [...new Set([...predictions.trueLabels, ...predictions.predictedLabels])].filter((l) => !classes.includes(l));
    if (unknown.length > 0) {
      throw new Error(`${promptsFile}: has no prompt class for label(s) ${unknown.map((l) => `"${l}"`).join(", ")} of ${predictionsFile}`);
    }
  } else {
    const known = knownClassesFor(predictions);
    classes = known ?? [...new Set([...predictions.trueLabels, ...predictions.predictedLabels])].sort();
    classesFrom = known ? "project" : "labels";
  }
  const metrics = zeroShotMetrics(predictions.trueLabels, predictions.predictedLabels, classes, {resamples: options.resamples, seed: options.seed});
  return {...metrics, predictionsFile, promptsFile, classesFrom};
}

export interface GaFileOptions {
  /** hc18_ga_dot_prods.json ({"ga_days": [...], "rows": [{"true_hc", "dot_prods"}, ...]}). */
  dotProducts: string;
  /** Bins in the median (default 15). */
  top?: number;
  resamples?: number;
  seed?: string | number;
}

export interface GaFileMetrics extends GaMetrics {
  dotProductsFile: string;
}

/** `fetalclip metrics ga`: released GA dot products scored with the project's GA evaluation. */
export function gaMetricsFromFile(options: GaFileOptions): GaFileMetrics {
  const dotProductsFile = resolve(options.dotProducts);
  const data = parseGaDotProducts(readJson(dotProductsFile, "GA dot products"), dotProductsFile);
  if (options.top !== undefined && (!Number.isInteger(options.top) || options.top < 1 || options.top > data.gaDays.length)) {
    throw new Error(`--top ${options.top}: must be an integer from 1 to ${data.gaDays.length} (the GA bins of ${dotProductsFile})`);
  }
  const metrics = gaMetrics(data.rows, {gaDays: data.gaDays, topBins: options.top, resamples: options.resamples, seed: options.seed});
  return {...metrics, dotProductsFile};
}

// ---------------------------------------------------------------------------
// The paper page's artifact.

/** What a reader needs to configure the folder (shown on the page when it is not). */
export const HOW_TO_CONFIGURE =
  'Point the project at a folder of FetalCLIP\'s released outputs (the layout of ../shared/reference/fetalclip): add "reference": "PATH" to fetalclip.config.json at the repository root, or set FETALCLIP_REFERENCE=PATH, then rebuild the site (npm run build or npm run dev).';

const ZERO_SHOT_TESTS = {
  fivePlanes: {files: REFERENCE_FILES.fivePlanes, projectPrompts: FIVE_PLANES_PROMPTS as Readonly<Record<string, readonly string[]>>},
  brainSubplanes: {files: REFERENCE_FILES.brainSubplanes, projectPrompts: BRAIN_SUBPLANE_PROMPTS as Readonly<Record<string, readonly string[]>>}
} as const;

function referenceFiles(): string[] {
  return [
    ...Object.values(REFERENCE_FILES.fivePlanes),
    ...Object.values(REFERENCE_FILES.brainSubplanes),
    REFERENCE_FILES.gaDotProducts
  ];
}

/**
 * What the artifact was built from: the folder (or none) and each released file's size and
 * modification time. Framework caches a data loader's output by the loader file's own date,
 * so a changed folder or file would go unseen; clearStalePaperReferenceCache compares keys.
 */
export function paperReferenceKey(dir: string | null): string {
  const hash = createHash("sha256").update(`format ${PAPER_REFERENCE_FORMAT}\n${dir ?? "(none)"}\n`);
  if (dir) {
    for (const name of referenceFiles()) {
      const file = join(dir, name);
      const stat = existsSync(file) ? statSync(file) : null;
      hash.update(`${name} ${stat ? `${stat.size} ${stat.mtimeMs}` : "missing"}\n`);
    }
  }
  return hash.digest("hex").slice(0, 16);
}

function promptsEqual(released: Record<string, string[]>, project: Readonly<Record<string, readonly string[]>>): boolean {
  const a = Object.keys(released);
  const b = Object.keys(project);
  return a.length === b.length && a.every((c, i) => c === b[i] && JSON.stringify(released[c]) === JSON.stringify(project[c]));
}

function paperZeroShot(dir: string, test: keyof typeof ZERO_SHOT_TESTS, bootstrap: {resamples?: number; seed?: string | number}): PaperZeroShot {
  const {files, projectPrompts} = ZERO_SHOT_TESTS[test];
  const promptsFile = join(dir, files.prompts);
  const {predictionsFile: _predictions, promptsFile: _prompts, ...metrics} = zeroShotMetricsFromFiles({predictions: join(dir, files.predictions), prompts: promptsFile, ...bootstrap});
  const resultsFile = join(dir, files.results);
  const paper = parseResultsCsv(readText(resultsFile, "FetalCLIP's results CSV"), resultsFile);
  const released = parsePromptFile(readJson(promptsFile, "FetalCLIP's prompt ensembles"), promptsFile).prompts;
  return {files: {...files}, metrics, paper, promptsMatchProject: promptsEqual(released, projectPrompts)};
}

export interface PaperReferenceOptions extends ReadProjectConfigOptions {
  /** The folder; default: the project config's (null: not configured). */
  dir?: string | null;
  /** Bootstrap resamples and seed (default 10,000 and 42). */
  resamples?: number;
  seed?: string | number;
}

/** The paper page's data: both zero-shot tests and GA scored from the configured folder, beside the paper's numbers. */
export function paperReferenceArtifact(options: PaperReferenceOptions = {}): PaperReferenceArtifact {
  let dir: string | null;
  let source: string;
  if (options.dir !== undefined) {
    dir = options.dir === null ? null : resolve(options.dir);
    source = "option";
  } else {
    const config = readProjectConfig(options);
    dir = config.reference;
    source = config.referenceSource === "default" ? "default" : config.referenceSource === "FETALCLIP_REFERENCE" ? "FETALCLIP_REFERENCE" : "fetalclip.config.json";
  }
  const key = paperReferenceKey(dir);
  if (!dir) return {format: PAPER_REFERENCE_FORMAT, configured: false, key, howToConfigure: HOW_TO_CONFIGURE};
  const folder = relative(REPO_ROOT, dir) || ".";
  const base = {format: PAPER_REFERENCE_FORMAT, configured: true as const, key, folder, source};
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return {...base, problem: `${folder}: the configured reference folder does not exist. ${HOW_TO_CONFIGURE}`};
  const bootstrap = {resamples: options.resamples, seed: options.seed};
  try {
    const {predictions: _predictions, dotProductsFile: _file, ...gaSummary} = gaMetricsFromFile({dotProducts: join(dir, REFERENCE_FILES.gaDotProducts), ...bootstrap});
    return {
      ...base,
      fivePlanes: paperZeroShot(dir, "fivePlanes", bootstrap),
      brainSubplanes: paperZeroShot(dir, "brainSubplanes", bootstrap),
      ga: {
        file: REFERENCE_FILES.gaDotProducts,
        metrics: gaSummary,
        paper: {
          ...PAPER_GA_RESULT,
          note: PAPER_GA_SOURCE
        }
      }
    };
  } catch (error) {
    // Paths inside the message are made relative, so the published artifact holds none of this machine's.
    return {...base, problem: (error as Error).message.split(dir).join(folder)};
  }
}

/** Framework's cached copy of the paper page's artifact under a site root (src/). */
export function paperReferenceCacheFile(siteRoot = resolve(REPO_ROOT, "src")): string {
  return join(siteRoot, ".observablehq", "cache", "data", "paper-reference.json");
}

/**
 * Removes Framework's cached paper-reference.json when it was built from another folder (or
 * other files) than the one configured now, so the next build or preview runs the loader
 * again. Returns whether it removed it. Called by `fetalclip setup` (before dev and build).
 */
export function clearStalePaperReferenceCache(options: ReadProjectConfigOptions & {siteRoot?: string} = {}): boolean {
  const cached = paperReferenceCacheFile(options.siteRoot);
  if (!existsSync(cached)) return false;
  let key: unknown = null;
  try {
    key = (JSON.parse(readFileSync(cached, "utf8")) as {key?: unknown}).key;
  } catch {
    // unreadable: rebuild it
  }
  let current: string;
  try {
    current = paperReferenceKey(readProjectConfig(options).reference);
  } catch {
    return false; // a broken project config is reported by the loaders themselves
  }
  if (key === current) return false;
  rmSync(cached, {force: true});
  return true;
}
