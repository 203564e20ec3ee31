// The Zero-shot page's drill-down artifact (zero-shot-images.zip), written by the loader in
// Node and read by the page in the browser with the same code: for each source (a model on
// the phantom's held-out patients, or FetalCLIP's released FETAL_PLANES_DB predictions) and
// each task (five planes, brain sub-planes), every image's true and predicted class, its
// class probabilities when the source has them, its thumbnail cell, and the metrics the
// core computes from them (zeroShotMetrics: per-class F1, precision, recall with bootstrap
// CIs; topKAccuracy). The confusion matrix and a cell's images are computed from the same
// per-image lists, so a cell always holds as many images as it counts.
import type {SpriteSheetInfo} from "./embeddingMap.js";
import {confusionMatrix, type ConfusionMatrix, type TopKAccuracy} from "./metrics.js";
import type {ZeroShotMetrics} from "./tasks/zeroShot.js";

export const ZERO_SHOT_DRILLDOWN_FORMAT = "fetalclip-explorer/zero-shot-images@1";

/** A results CSV's numbers for the same predictions (the paper's), shown beside ours. */
export interface ReportedScores {
  macroF1: number;
  meanAccuracy: number;
  f1: Record<string, number>;
  accuracy: Record<string, number>;
  /** Top-k mean accuracy by k, where the file has them (acc_top2, acc_top3). */
  topK: Record<string, number>;
  note: string;
}

export interface DrilldownTask {
  id: "planes" | "sub-planes";
  name: string;
  /** Member of the zip holding DrilldownImages (JSON). */
  file: string;
  n: number;
  /** Every class the model could predict (confusion columns), in index order. */
  classes: string[];
  /** Whether per-image class probabilities are stored (the released predictions have none). */
  probabilities: boolean;
  /** The core's metrics of these predictions, without the confusion (the page recomputes it from the images). */
  metrics: Omit<ZeroShotMetrics, "confusion">;
  /** Top-k accuracy for k = 1.. (from the probabilities), or null. */
  topK: TopKAccuracy[] | null;
  reported: ReportedScores | null;
}

export interface DrilldownSource {
  /** Folder of the source's members in the zip. */
  id: string;
  name: string;
  model: string;
  dataset: string;
  note: string;
  /** The sprite sheet of the source's images, or null (no image files known). */
  thumbnails: ({file: string} & SpriteSheetInfo) | null;
  tasks: DrilldownTask[];
}

export interface DrilldownIndex {
  format: typeof ZERO_SHOT_DRILLDOWN_FORMAT;
  sources: DrilldownSource[];
  skipped: {source: string; error: string}[];
  /** What the artifact was built from (the reference folder's key). */
  key: string;
}

/** Per-image results of one task, in one order (the source's). */
export interface DrilldownImages {
  /** Image ids, or null when the source names no files (then images are known by position). */
  ids: string[] | null;
  /** Thumbnail cell per image (-1: none), or null. */
  cell: number[] | null;
  /** Index into the task's classes of each image's true and predicted class. */
  trueIndex: number[];
  predictedIndex: number[];
  /** Flat [images, classes] probabilities (4 decimals), or null. */
  probabilities: number[] | null;
}

/** Per-image lists from labels, as the loader stores them; a label outside `classes` is an error. */
export function drilldownImages(
  classes: readonly string[],
  trueLabels: readonly string[],
  predicted: readonly string[],
  extra: {ids?: string[] | null; cell?: number[] | null; probabilities?: ArrayLike<number> | null} = {}
): DrilldownImages {
  if (trueLabels.length !== predicted.length) throw new Error(`drilldownImages: ${trueLabels.length} true labels but ${predicted.length} predictions`);
  const column = new Map(classes.map((c, i) => [c, i]));
  const index = (label: string, i: number, kind: string): number => {
    const c = column.get(label);
    if (c === undefined) throw new Error(`drilldownImages: ${kind} label "${label}" of image ${i} is not one of [${classes.join(", ")}]`);
    return c;
  };
  const p = extra.probabilities ?? null;
  if (p && p.length !== trueLabels.length * classes.length) throw new Error(`drilldownImages: ${p.length} probabilities, expected ${trueLabels.length} x ${classes.length}`);
  return {
    ids: extra.ids ?? null,
    cell: extra.cell ?? null,
    trueIndex: trueLabels.map((l, i) => index(l, i, "true")),
    predictedIndex: predicted.map((l, i) => index(l, i, "predicted")),
    probabilities: p ? Array.from(p, (v) => Math.round(v * 1e4) / 1e4) : null
  };
}

/** The task's confusion matrix (true classes present x every class), from its images. */
export function drilldownConfusion(task: Pick<DrilldownTask, "classes">, images: DrilldownImages): ConfusionMatrix {
  return confusionMatrix(
    images.trueIndex.map((c) => task.classes[c]!),
    images.predictedIndex.map((c) => task.classes[c]!),
    task.classes
  );
}

/** Positions of the images of one confusion cell (true class x predicted class), in order. */
export function cellImages(task: Pick<DrilldownTask, "classes">, images: DrilldownImages, trueClass: string, predictedClass: string): number[] {
  const t = task.classes.indexOf(trueClass), p = task.classes.indexOf(predictedClass);
  if (t < 0 || p < 0) throw new Error(`cellImages: "${trueClass}" or "${predictedClass}" is not one of [${task.classes.join(", ")}]`);
  const out: number[] = [];
  for (let i = 0; i < images.trueIndex.length; i++) if (images.trueIndex[i] === t && images.predictedIndex[i] === p) out.push(i);
  return out;
}

/** One image's class probabilities, best first. */
export function imageProbabilities(task: Pick<DrilldownTask, "classes">, images: DrilldownImages, i: number): {label: string; p: number}[] | null {
  if (!images.probabilities) return null;
  const k = task.classes.length;
  return task.classes.map((label, c) => ({label, p: images.probabilities![i * k + c]!})).sort((a, b) => b.p - a.p);
}
