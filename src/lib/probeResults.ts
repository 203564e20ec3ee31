// The Probes page's artifact, written by its loader in Node and read by the page in the
// browser with the same code: probe reports (few-shot curves, the full-data linear probe,
// CHD AUROC) and segmentation-probe reports per configured model, and the series and CSVs
// the page draws from them, so the browser test can compute with the core exactly what the
// page plots.
import {csvFormat} from "d3-dsv";
import type {ProbeReport} from "./probes/probe.js";
import type {StructureScores} from "./probes/segmentation.js";

export const PROBES_FORMAT = "fetalclip-explorer/probes@1";
export const SEGMENTATION_PROBES_FORMAT = "fetalclip-explorer/segmentation-probes@1";

/** The paper's two classification tasks, as the page names them. */
export const PROBE_TASK_NAMES: Readonly<Record<string, string>> = {
  "six-planes": "Six planes",
  "brain-subplanes": "Brain sub-planes",
  chd: "CHD vs normal"
};

/** A probe report as the artifact keeps it: without the machine's file path. */
export type StoredProbeReport = Omit<ProbeReport, "seconds"> & {
  seconds: number;
  embeddings: {rows: number; embedDim: number; model: string; dataset: string};
};

export interface ProbeEntry {
  /** Model id (the configured name: bundle folder, plus the variant when not fp32). */
  model: string;
  dataset: string;
  /** "six-planes", "brain-subplanes" or "chd". */
  task: string;
  report: StoredProbeReport;
}

/** One example prediction: base64 PNGs at the encoder's input size. */
export interface SegmentationExample {
  id: string;
  structure: string;
  dice: number;
  size: number;
  /** The image as the encoder saw it (grey). */
  image: string;
  /** The true mask (0/255). */
  mask: string;
  /** The predicted mask at threshold 0.5 (0/255). */
  prediction: string;
}

export interface SegmentationEntry {
  model: string;
  dataset: string;
  /** Which head produced the Dice, in words (the segmentation probe's own statement). */
  head: string;
  grid: number;
  size: number;
  dim: number;
  structures: StructureScores[];
  split: {source: string; trainPatients: number; valPatients: number; testPatients: number; trainImages: number; valImages: number; testImages: number; notes: string[]};
  training: {loss: string; learningRate: number; weightDecay: number; batchSize: number; epochs: number; lossSize: number; seed: string | number; keptEpoch: number};
  examples: SegmentationExample[];
  /** Seconds the probe took when it was computed (a cached result keeps its first time). */
  seconds: number;
}

export interface ProbesArtifact {
  format: typeof PROBES_FORMAT;
  /** How every probe here was run. */
  settings: {
    mode: "paper" | "fast";
    seed: number;
    runs: number;
    /**
     * Augmented copies per training image for the full-data probe and the few-shot curve,
     * and their seed (FETALCLIP_PROBE_AUGMENT); null: the images themselves, through the
     * standard pipeline (PIL resize), no augmentation.
     */
    augment: {full: number; fewShot: number; seed: number} | null;
    resamples: number;
    segmentationExamples: number;
    note: string;
  };
  /** Models in the project config's order, with display names. */
  models: {id: string; name: string}[];
  /** Six planes and brain sub-planes on the phantom, per model. */
  classification: ProbeEntry[];
  /** CHD vs normal on the phantom's CHD set, per model. */
  chd: ProbeEntry[];
  /** What could not be computed, and why (a dataset missing, a bundle that fails). */
  skipped: SkippedProbe[];
}

export interface SkippedProbe {
  section: string;
  model: string;
  dataset: string;
  error: string;
}

/** The segmentation probe per model (its own artifact: the examples' PNGs make it the heavier one). */
export interface SegmentationArtifact {
  format: typeof SEGMENTATION_PROBES_FORMAT;
  settings: {seed: number; resamples: number; examplesPerStructure: number; note: string};
  models: {id: string; name: string}[];
  segmentation: SegmentationEntry[];
  skipped: SkippedProbe[];
}

/** Refuses what is not a probes artifact, naming what is wrong. */
export function checkProbesArtifact(value: unknown, where = "probes.json"): ProbesArtifact {
  const a = value as Partial<ProbesArtifact> | null;
  if (!a || typeof a !== "object") throw new Error(`${where}: not an object`);
  if (a.format !== PROBES_FORMAT) throw new Error(`${where}: format ${JSON.stringify(a.format)}, expected ${PROBES_FORMAT}`);
  for (const key of ["models", "classification", "chd", "skipped"] as const) {
    if (!Array.isArray(a[key])) throw new Error(`${where}: "${key}" should be a list`);
  }
  return a as ProbesArtifact;
}

/** Refuses what is not a segmentation-probes artifact, naming what is wrong. */
export function checkSegmentationArtifact(value: unknown, where = "segmentation-probes.json"): SegmentationArtifact {
  const a = value as Partial<SegmentationArtifact> | null;
  if (!a || typeof a !== "object") throw new Error(`${where}: not an object`);
  if (a.format !== SEGMENTATION_PROBES_FORMAT) throw new Error(`${where}: format ${JSON.stringify(a.format)}, expected ${SEGMENTATION_PROBES_FORMAT}`);
  for (const key of ["models", "segmentation", "skipped"] as const) {
    if (!Array.isArray(a[key])) throw new Error(`${where}: "${key}" should be a list`);
  }
  return a as SegmentationArtifact;
}

/** The series name of the mean macro F1 in a few-shot chart. */
export const MACRO_SERIES = "macro F1";

export interface CurvePointSeries {
  patients: number;
  mean: number;
  /** Sample std over the fits (macro F1 only: per-class values are means over fits). */
  std: number | null;
  /** mean - std and mean + std, clipped to [0, 1] (macro F1 only). */
  lo: number | null;
  hi: number | null;
  fits: number;
}

export interface CurveSeries {
  model: string;
  task: string;
  /** MACRO_SERIES, or a class name (its mean F1). */
  series: string;
  points: CurvePointSeries[];
}

/**
 * What a few-shot chart plots for one task: per model, the mean macro F1 over the fits with
 * its spread (mean ± sample std), then the mean F1 of each class in `classes` (the toggled
 * ones), in the task's class order. Points where a class has no F1 (absent from every fit)
 * are left out.
 */
export function fewShotSeries(entries: readonly ProbeEntry[], task: string, classes: readonly string[] = []): CurveSeries[] {
  const out: CurveSeries[] = [];
  for (const e of entries) {
    if (e.task !== task) continue;
    const curve = e.report.curve;
    out.push({
      model: e.model,
      task,
      series: MACRO_SERIES,
      points: curve.map((p) => ({patients: p.patients, mean: p.mean, std: p.std, lo: Math.max(0, p.mean - p.std), hi: Math.min(1, p.mean + p.std), fits: p.runs}))
    });
    for (const c of e.report.classes) {
      if (!classes.includes(c)) continue;
      out.push({
        model: e.model,
        task,
        series: c,
        points: curve.filter((p) => Number.isFinite(p.perClass[c])).map((p) => ({patients: p.patients, mean: p.perClass[c]!, std: null, lo: null, hi: null, fits: p.runs}))
      });
    }
  }
  return out;
}

/** Each fit's macro F1 at each patient count (the dots behind the mean). */
export function fewShotFits(entries: readonly ProbeEntry[], task: string): {model: string; patients: number; macroF1: number}[] {
  return entries.filter((e) => e.task === task).flatMap((e) => e.report.curve.flatMap((p) => p.values.map((v) => ({model: e.model, patients: p.patients, macroF1: v}))));
}

/** The zero-shot reference per model for a task (null where the task has none). */
export function zeroShotLines(entries: readonly ProbeEntry[], task: string): {model: string; macroF1: number; note: string}[] {
  return entries.filter((e) => e.task === task && e.report.zeroShot).map((e) => ({model: e.model, macroF1: e.report.zeroShot!.macroF1, note: e.report.zeroShot!.note ?? ""}));
}

const num = (v: number | null | undefined): number | string => (v === null || v === undefined || !Number.isFinite(v) ? "" : Number(v.toPrecision(6)));

/** Every series of a task's few-shot curves (macro F1 and every class), each fit's macro F1 and the zero-shot reference, as CSV. */
export function fewShotCsv(entries: readonly ProbeEntry[], task: string): string {
  const rows: Record<string, string | number>[] = [];
  for (const e of entries) {
    if (e.task !== task) continue;
    const all = fewShotSeries([e], task, e.report.classes);
    for (const s of all) {
      for (const p of s.points) rows.push({model: e.model, task, series: s.series, patients: p.patients, mean: num(p.mean), std: num(p.std), fits: p.fits, fit_values: s.series === MACRO_SERIES ? e.report.curve.find((c) => c.patients === p.patients)!.values.map((v) => num(v)).join(" ") : ""});
    }
    if (e.report.zeroShot) rows.push({model: e.model, task, series: "zero-shot macro F1 (reference)", patients: "", mean: num(e.report.zeroShot.macroF1), std: "", fits: "", fit_values: ""});
  }
  return csvFormat(rows, ["model", "task", "series", "patients", "mean", "std", "fits", "fit_values"]);
}

export interface ProbeTableRow {
  model: string;
  task: string;
  macroF1: number;
  macroF1Std: number;
  meanClassAccuracy: number;
  accuracy: number;
  fits: number;
  trainImages: number;
  testImages: number;
  /** The probe scored as zero-shot is scored (six planes: Other left out), and zero-shot itself. */
  scoredAsZeroShot: number | null;
  zeroShot: number | null;
  f1: Record<string, number>;
}

/** The full-data linear probe, one row per model and task. */
export function probeTableRows(entries: readonly ProbeEntry[]): ProbeTableRow[] {
  return entries.filter((e) => e.report.full).map((e) => {
    const full = e.report.full!;
    return {
      model: e.model,
      task: e.task,
      macroF1: full.macroF1,
      macroF1Std: full.macroF1Std,
      meanClassAccuracy: full.meanClassAccuracy,
      accuracy: full.accuracy,
      fits: full.runs,
      trainImages: full.trainImages,
      testImages: e.report.splits.testImages,
      scoredAsZeroShot: full.scoredAsZeroShot?.macroF1 ?? null,
      zeroShot: e.report.zeroShot?.macroF1 ?? null,
      f1: full.f1
    };
  });
}

export function probeTableCsv(entries: readonly ProbeEntry[]): string {
  const classes = [...new Set(entries.flatMap((e) => e.report.classes))];
  const rows: Record<string, string | number>[] = probeTableRows(entries).map((r) => ({
    model: r.model, task: r.task, macro_f1: num(r.macroF1), macro_f1_std: num(r.macroF1Std), mean_class_accuracy: num(r.meanClassAccuracy), accuracy: num(r.accuracy),
    fits: r.fits, train_images: num(r.trainImages), test_images: r.testImages, scored_as_zero_shot_macro_f1: num(r.scoredAsZeroShot), zero_shot_macro_f1: num(r.zeroShot),
    ...Object.fromEntries(classes.map((c) => [`f1_${c}`, num(r.f1[c])]))
  }));
  return csvFormat(rows, ["model", "task", "macro_f1", "macro_f1_std", "mean_class_accuracy", "accuracy", "fits", "train_images", "test_images", "scored_as_zero_shot_macro_f1", "zero_shot_macro_f1", ...classes.map((c) => `f1_${c}`)]);
}

/** The full-data probe's confusion matrix (test predictions summed over every fit) as CSV: one row per true and predicted class. */
export function confusionCsv(entry: ProbeEntry): string {
  const full = entry.report.full;
  if (!full) return csvFormat([], ["model", "task", "true", "predicted", "count", "share_of_true"]);
  const {classes, counts} = full.confusion;
  const rows = classes.flatMap((t, i) => {
    const total = counts[i]!.reduce((a, b) => a + b, 0);
    return classes.map((p, j) => ({model: entry.model, task: entry.task, true: t, predicted: p, count: counts[i]![j]!, share_of_true: total ? num(counts[i]![j]! / total) : ""}));
  });
  return csvFormat(rows, ["model", "task", "true", "predicted", "count", "share_of_true"]);
}

export interface RocSeries {
  model: string;
  positive: string;
  auroc: number;
  ci95: [number, number];
  positives: number;
  negatives: number;
  points: {fpr: number; tpr: number}[];
}

/** The full-data probe's ROC curve per model (the positive class's probability averaged over the fits). */
export function rocSeries(entries: readonly ProbeEntry[]): RocSeries[] {
  return entries.filter((e) => e.report.auroc).map((e) => {
    const a = e.report.auroc!;
    return {model: e.model, positive: a.positive, auroc: a.auroc, ci95: a.ci95, positives: a.positives, negatives: a.negatives, points: a.roc.fpr.map((fpr, i) => ({fpr, tpr: a.roc.tpr[i]!}))};
  });
}

export function rocCsv(entries: readonly ProbeEntry[]): string {
  const rows = rocSeries(entries).flatMap((s) => s.points.map((p) => ({model: s.model, positive: s.positive, auroc: num(s.auroc), auroc_ci_low: num(s.ci95[0]), auroc_ci_high: num(s.ci95[1]), fpr: num(p.fpr), tpr: num(p.tpr)})));
  return csvFormat(rows, ["model", "positive", "auroc", "auroc_ci_low", "auroc_ci_high", "fpr", "tpr"]);
}

/** Few-shot CHD detection: AUROC (mean ± std over the fits, 95% CI of the mean: null in reports made before it) and macro F1 against patients. */
export function chdFewShotSeries(entries: readonly ProbeEntry[]): {model: string; patients: number; auroc: number; aurocStd: number; ci95: [number, number] | null; macroF1: number; macroF1Std: number; fits: number}[] {
  return entries.flatMap((e) =>
    e.report.curve.filter((p) => p.auroc).map((p) => ({model: e.model, patients: p.patients, auroc: p.auroc!.mean, aurocStd: p.auroc!.std, ci95: p.auroc!.ci95 ?? null, macroF1: p.mean, macroF1Std: p.std, fits: p.runs}))
  );
}

export function chdFewShotCsv(entries: readonly ProbeEntry[]): string {
  const rows = chdFewShotSeries(entries).map((r) => ({
    model: r.model, patients: r.patients, auroc_mean: num(r.auroc), auroc_ci_low: r.ci95 ? num(r.ci95[0]) : "", auroc_ci_high: r.ci95 ? num(r.ci95[1]) : "", auroc_std: num(r.aurocStd), macro_f1_mean: num(r.macroF1), macro_f1_std: num(r.macroF1Std), fits: r.fits
  }));
  return csvFormat(rows, ["model", "patients", "auroc_mean", "auroc_ci_low", "auroc_ci_high", "auroc_std", "macro_f1_mean", "macro_f1_std", "fits"]);
}

/** Dice per model and structure (pooled as the official code, per image, baselines) and each example's Dice, as CSV. */
export function segmentationCsv(entries: readonly SegmentationEntry[]): string {
  const rows = entries.flatMap((e) => [
    ...e.structures.map((s) => ({
      model: e.model, dataset: e.dataset, structure: s.structure, image: "", dice_pooled: num(s.dice), dice_pooled_ci_low: num(s.diceCi95[0]), dice_pooled_ci_high: num(s.diceCi95[1]),
      dice_per_image: num(s.perImage.dice), dice_per_image_ci_low: num(s.perImage.diceCi95[0]), dice_per_image_ci_high: num(s.perImage.diceCi95[1]), iou_pooled: num(s.iou),
      images: s.perImage.images, baseline_mean_shape_per_image_dice: num(s.baseline.meanShapePerImageDice), head: e.head
    })),
    ...e.examples.map((x) => ({
      model: e.model, dataset: e.dataset, structure: x.structure, image: x.id, dice_pooled: "", dice_pooled_ci_low: "", dice_pooled_ci_high: "",
      dice_per_image: num(x.dice), dice_per_image_ci_low: "", dice_per_image_ci_high: "", iou_pooled: "", images: 1, baseline_mean_shape_per_image_dice: "", head: e.head
    }))
  ]);
  return csvFormat(rows, ["model", "dataset", "structure", "image", "dice_pooled", "dice_pooled_ci_low", "dice_pooled_ci_high", "dice_per_image", "dice_per_image_ci_low", "dice_per_image_ci_high", "iou_pooled", "images", "baseline_mean_shape_per_image_dice", "head"]);
}
