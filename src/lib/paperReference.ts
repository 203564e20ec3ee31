// FetalCLIP's released outputs (BioMedIA-MBZUAI/FetalCLIP; layout in ../shared/reference/README.md):
// per-image zero-shot predictions, prompt files, the results CSVs its scripts printed and the
// HC18 GA dot products. Parsers that check each file's shape and name the file when it is
// wrong; the scoring itself is the project's own (tasks/zeroShot.ts zeroShotMetrics,
// tasks/gestationalAge.ts gaMetrics). No I/O here: loaders/paperReference.ts reads the files.
import {BRAIN_SUBPLANE_CLASSES, FIVE_PLANES_CLASSES} from "./prompts.js";
import type {GaDotProductRow, GaMetrics} from "./tasks/gestationalAge.js";
import type {ZeroShotMetrics} from "./tasks/zeroShot.js";

/** File names in a released-outputs folder (../shared/reference/fetalclip). */
export const REFERENCE_FILES = {
  fivePlanes: {
    predictions: "test_five_planes_prediction.json",
    prompts: "test_five_planes_prompts.json",
    results: "test_five_planes_results.csv"
  },
  brainSubplanes: {
    predictions: "test_brain_subplanes_prediction.json",
    prompts: "test_brain_subplanes_prompts.json",
    results: "test_brain_subplanes_results.csv"
  },
  gaDotProducts: "hc18_ga_dot_prods.json"
} as const;

/**
 * The GA result the released post-processing (test_ga_postprocess_dot_prods.py: top-15 median,
 * WHO band, bootstrap of 10,000 with numpy's default_rng(42)) gives on hc18_ga_dot_prods.json.
 * The folder has no GA results file, so these numbers are quoted here (as the project's
 * issue 13 states them), not read.
 */
export const PAPER_GA_RESULT = {vpr: 0.8342, ci95: [0.81, 0.859] as [number, number], n: 814, topBins: 15} as const;

/** Where PAPER_GA_RESULT comes from, in a phrase the paper page shows. */
export const PAPER_GA_SOURCE =
  "FetalCLIP's GA post-processing script (test_ga_postprocess_dot_prods.py) gives VPR 0.8342, 95 % CI about 0.810–0.859, on these 814 heads";

/** Per-image labels of a *_prediction.json: {"prediction": [...], "label": [...]} (label = true class). */
export interface ZeroShotPredictions {
  trueLabels: string[];
  predictedLabels: string[];
}

function fail(file: string, message: string): never {
  throw new Error(`${file}: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function stringList(value: unknown, file: string, key: string): string[] {
  if (!Array.isArray(value)) fail(file, `"${key}" must be a list of class names`);
  value.forEach((v, i) => {
    if (typeof v !== "string" || v === "") fail(file, `"${key}"[${i}] is ${JSON.stringify(v)}, expected a class name`);
  });
  return value as string[];
}

/** Checks and reads a parsed *_prediction.json. */
export function parseZeroShotPredictions(json: unknown, file: string): ZeroShotPredictions {
  if (!isObject(json)) fail(file, 'expected a JSON object {"prediction": [...], "label": [...]} (FetalCLIP\'s *_prediction.json)');
  for (const key of ["prediction", "label"]) if (!(key in json)) fail(file, `no "${key}" list (expected {"prediction": [...], "label": [...]})`);
  const predictedLabels = stringList(json.prediction, file, "prediction");
  const trueLabels = stringList(json.label, file, "label");
  if (predictedLabels.length !== trueLabels.length) fail(file, `${predictedLabels.length} predictions but ${trueLabels.length} labels`);
  if (trueLabels.length === 0) fail(file, "no predictions");
  return {trueLabels, predictedLabels};
}

/** Prompt ensembles of a *_prompts.json: class names in index order (the file's key order) and their prompts. */
export interface PromptFile {
  classes: string[];
  prompts: Record<string, string[]>;
}

/** Checks and reads a parsed *_prompts.json: {"class": ["prompt", ...], ...}. */
export function parsePromptFile(json: unknown, file: string): PromptFile {
  if (!isObject(json)) fail(file, 'expected a JSON object {"class": ["prompt", ...], ...} (FetalCLIP\'s *_prompts.json)');
  const classes = Object.keys(json);
  if (classes.length === 0) fail(file, "no classes");
  const prompts: Record<string, string[]> = {};
  for (const c of classes) {
    const list = json[c];
    if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== "string")) fail(file, `class "${c}" must map to a non-empty list of prompt texts`);
    prompts[c] = list as string[];
  }
  return {classes, prompts};
}

/**
 * The class order to score a predictions file with when no prompts file is given: the
 * five-planes or brain sub-plane classes (official index order) when every label is one of
 * them, else null (the caller falls back to the sorted labels).
 */
export function knownClassesFor(predictions: ZeroShotPredictions): string[] | null {
  const labels = new Set([...predictions.trueLabels, ...predictions.predictedLabels]);
  for (const classes of [FIVE_PLANES_CLASSES, BRAIN_SUBPLANE_CLASSES] as readonly (readonly string[])[]) {
    if ([...labels].every((l) => classes.includes(l))) return [...classes];
  }
  return null;
}

/** hc18_ga_dot_prods.json: GA of each bin in days and, per image, its true HC and dot products. */
export interface GaDotProducts {
  gaDays: number[];
  rows: GaDotProductRow[];
}

/** Checks and reads a parsed hc18_ga_dot_prods.json: {"ga_days": [...], "rows": [{"true_hc", "dot_prods"}, ...]}. */
export function parseGaDotProducts(json: unknown, file: string): GaDotProducts {
  if (!isObject(json)) fail(file, 'expected a JSON object {"ga_days": [...], "rows": [{"true_hc": mm, "dot_prods": [...]}, ...]}');
  const gaDays = json.ga_days;
  if (!Array.isArray(gaDays) || gaDays.length === 0) fail(file, '"ga_days" must be a non-empty list of days');
  gaDays.forEach((d, i) => {
    if (typeof d !== "number" || !Number.isFinite(d) || d <= 0) fail(file, `"ga_days"[${i}] is ${JSON.stringify(d)}, expected a positive number of days`);
    if (i > 0 && d <= (gaDays[i - 1] as number)) fail(file, `"ga_days" must ascend; [${i}] = ${d} follows ${gaDays[i - 1]}`);
  });
  if (!Array.isArray(json.rows) || json.rows.length === 0) fail(file, '"rows" must be a non-empty list of {"true_hc", "dot_prods"}');
  const rows = json.rows.map((row: unknown, i: number): GaDotProductRow => {
    if (!isObject(row)) fail(file, `rows[${i}] is not an object {"true_hc", "dot_prods"}`);
    const hc = row.true_hc;
    if (typeof hc !== "number" || !Number.isFinite(hc) || hc <= 0) fail(file, `rows[${i}].true_hc is ${JSON.stringify(hc)}, expected a positive HC in mm`);
    const dots = row.dot_prods;
    if (!Array.isArray(dots) || dots.length !== gaDays.length) {
      fail(file, `rows[${i}].dot_prods has ${Array.isArray(dots) ? dots.length : "no"} values, expected ${gaDays.length} (one per "ga_days" bin)`);
    }
    const values = Float64Array.from(dots as unknown[], (v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) fail(file, `rows[${i}].dot_prods[${j}] is ${JSON.stringify(v)}, expected a number`);
      return v;
    });
    return {trueHcMm: hc, dotProducts: values};
  });
  return {gaDays: gaDays as number[], rows};
}

/** One row of a FetalCLIP results CSV (test_*_results.csv), as its script printed it. */
export interface PaperResults {
  model: string;
  /** `f1`: macro F1. */
  macroF1: number;
  /** `acc`: mean per-class accuracy. */
  meanAccuracy: number;
  /** `f1_<class>`. */
  f1: Record<string, number>;
  /** `acc_<class>`. */
  accuracy: Record<string, number>;
  /** Every numeric column, by its header. */
  columns: Record<string, number>;
}

/** Reads a FetalCLIP results CSV (header + rows of model, f1, acc, ..., f1_<class>, acc_<class>); the row of `model` (default: the first). */
export function parseResultsCsv(text: string, file: string, model?: string): PaperResults {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length < 2) fail(file, "expected a header line and at least one row");
  const header = lines[0]!.split(",").map((h) => h.trim());
  for (const key of ["model", "f1", "acc"]) if (!header.includes(key)) fail(file, `no "${key}" column in the header`);
  const rows = lines.slice(1).map((l) => l.split(",").map((v) => v.trim()));
  const row = model === undefined ? rows[0]! : rows.find((r) => r[header.indexOf("model")] === model);
  if (!row) fail(file, `no row for model "${model}"`);
  if (row.length !== header.length) fail(file, `a row has ${row.length} fields, the header ${header.length}`);
  const columns: Record<string, number> = {};
  header.forEach((h, i) => {
    if (h === "model") return;
    const value = Number(row[i]);
    if (row[i] === "" || !Number.isFinite(value)) fail(file, `column "${h}" is "${row[i]}", expected a number`);
    columns[h] = value;
  });
  const perClass = (prefix: string): Record<string, number> =>
    Object.fromEntries(
      Object.entries(columns)
        .filter(([h]) => h.startsWith(prefix) && !/^acc_top\d/.test(h))
        .map(([h, v]) => [h.slice(prefix.length), v])
    );
  return {
    model: row[header.indexOf("model")]!,
    macroF1: columns.f1!,
    meanAccuracy: columns.acc!,
    f1: perClass("f1_"),
    accuracy: perClass("acc_"),
    columns
  };
}

// ---------------------------------------------------------------------------
// The paper page's artifact (paper-reference.json, written by loaders/paperReference.ts).

/** Format of paper-reference.json; bump when its shape changes. */
export const PAPER_REFERENCE_FORMAT = 1;

/** One zero-shot test: our metrics from the released predictions beside the numbers the official script printed. */
export interface PaperZeroShot {
  /** File names in the folder. */
  files: {predictions: string; prompts: string; results: string};
  metrics: ZeroShotMetrics & {classesFrom: "prompts" | "project" | "labels"};
  paper: PaperResults;
  /** The released prompts equal the project's own (src/lib/prompts.ts), class by class. */
  promptsMatchProject: boolean;
}

export interface PaperGa {
  file: string;
  /** Our GA metrics, without the per-image predictions (the GA page has those). */
  metrics: Omit<GaMetrics, "predictions">;
  /** The paper's result (quoted: the folder has no GA results file). */
  paper: typeof PAPER_GA_RESULT & {note: string};
}

export type PaperReferenceArtifact =
  | {format: number; configured: false; key: string; howToConfigure: string}
  | {
      format: number;
      configured: true;
      key: string;
      /** The folder, relative to the repository root (no absolute path is published). */
      folder: string;
      /** Where it was configured: FETALCLIP_REFERENCE, fetalclip.config.json or an option. */
      source: string;
      /** Set when the folder is configured but could not be read or scored; the page shows it. */
      problem?: string;
      fivePlanes?: PaperZeroShot;
      brainSubplanes?: PaperZeroShot;
      ga?: PaperGa;
    };

/** One number of the paper beside the project's. */
export interface PaperComparisonRow {
  test: string;
  metric: string;
  /** A class name, or "all" for a summary metric. */
  class: string;
  paper: number;
  ours: number;
  /** Our bootstrap 95% CI, when there is one. */
  ci95: [number, number] | null;
  /** The paper's 95% CI, when it states one. */
  paperCi95: [number, number] | null;
  /** ours - paper. */
  difference: number;
  /** Decimals the paper printed (capped at 6): the precision the two are compared to. */
  decimals: number;
  /** ours rounds to the paper's number at that precision. */
  agrees: boolean;
}

function printedDecimals(value: number): number {
  const text = String(value);
  const dot = text.indexOf(".");
  return Math.min(6, dot < 0 ? 0 : text.length - dot - 1);
}

function comparisonRow(test: string, metric: string, cls: string, paper: number, ours: number, ci95: [number, number] | null, paperCi95: [number, number] | null = null): PaperComparisonRow {
  const decimals = printedDecimals(paper);
  return {test, metric, class: cls, paper, ours, ci95, paperCi95, difference: ours - paper, decimals, agrees: ours.toFixed(decimals) === paper.toFixed(decimals)};
}

/** Display names of the tests, in page order. */
export const PAPER_TESTS = {fivePlanes: "Five planes", brainSubplanes: "Brain sub-planes", ga: "HC18 gestational age"} as const;

/**
 * Every number the paper's files give beside the project's: per test, macro F1 and mean
 * accuracy, then per-class F1 and accuracy (the results CSVs), then the GA VPR.
 */
export function paperComparisonRows(artifact: PaperReferenceArtifact): PaperComparisonRow[] {
  if (!artifact.configured) return [];
  const rows: PaperComparisonRow[] = [];
  for (const key of ["fivePlanes", "brainSubplanes"] as const) {
    const test = artifact[key];
    if (!test) continue;
    const {metrics: m, paper} = test;
    const name = PAPER_TESTS[key];
    rows.push(comparisonRow(name, "macro F1", "all", paper.macroF1, m.macroF1, m.ci95));
    rows.push(comparisonRow(name, "mean accuracy", "all", paper.meanAccuracy, m.meanAccuracy, null));
    for (const c of m.trueClasses) {
      if (c in paper.f1) rows.push(comparisonRow(name, "F1", c, paper.f1[c]!, m.f1[c]!, m.f1Ci95[c]!));
    }
    for (const c of m.trueClasses) {
      if (c in paper.accuracy) rows.push(comparisonRow(name, "accuracy", c, paper.accuracy[c]!, m.accuracy[c]!, m.accuracyCi95[c]!));
    }
  }
  if (artifact.ga) {
    const {metrics: m, paper} = artifact.ga;
    rows.push(comparisonRow(PAPER_TESTS.ga, "VPR", "all", paper.vpr, m.vpr, m.ci95, [...paper.ci95]));
  }
  return rows;
}

const CSV_COLUMNS = ["test", "metric", "class", "paper", "ours", "difference", "ci95_low", "ci95_high", "paper_ci95_low", "paper_ci95_high", "agrees"] as const;

/** The comparison as CSV (full precision), one line per row, header first. */
export function paperComparisonCsv(rows: readonly PaperComparisonRow[]): string {
  const cell = (v: unknown): string => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = rows.map((r) =>
    [r.test, r.metric, r.class, r.paper, r.ours, r.difference, r.ci95?.[0], r.ci95?.[1], r.paperCi95?.[0], r.paperCi95?.[1], r.agrees].map(cell).join(",")
  );
  return [CSV_COLUMNS.join(","), ...lines].join("\n") + "\n";
}
