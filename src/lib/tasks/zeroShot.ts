// The zero-shot classification task, as FetalCLIP's evaluation scripts run it
// (zero_shot_planes_db/test_five_planes.py): prompt-ensemble class embeddings,
// top-1 over every prompt class (distractors included), a confusion matrix and
// macro F1 over the true classes present. Runs wherever a text encoder does:
// the Node evaluations and the live page call the same code.
import type {PromptEncoder} from "../gestationalAge.js";
import {
  bootstrapClassificationScores, classificationScores, confusionMatrix, type ClassificationScores, type ConfusionMatrix
} from "../metrics.js";
import {classEmbeddings, predictTopK, zeroShotLogits} from "../zeroShot.js";

/** Prompt texts per class name (FIVE_PLANES_PROMPTS, BRAIN_SUBPLANE_PROMPTS). */
export type PromptEnsembles = Readonly<Record<string, readonly string[]>>;

/**
 * One embedding per class: the normalised mean of its prompts' normalised embeddings.
 * Each class's prompts go to the encoder as one batch, one class after the other
 * (never concurrent runs on one session).
 */
export async function promptClassEmbeddings(encoder: PromptEncoder, classes: readonly string[], prompts: PromptEnsembles): Promise<Float32Array[]> {
  const perClass: Float32Array[][] = [];
  for (const c of classes) {
    const texts = prompts[c];
    if (!texts || texts.length === 0) throw new Error(`promptClassEmbeddings: class "${c}" has no prompts`);
    perClass.push(await encoder.encodeTexts([...texts]));
  }
  return classEmbeddings(perClass);
}

export interface ZeroShotResult {
  scores: ClassificationScores;
  confusion: ConfusionMatrix;
  predicted: string[];
}

/** Top-1 label of each image embedding against class embeddings (in `classes` order). */
export function predictLabels(embeds: readonly Float32Array[], classEmbeds: readonly Float32Array[], classes: readonly string[]): string[] {
  if (embeds.length === 0) return [];
  const dim = classEmbeds[0]!.length;
  const flat = new Float32Array(embeds.length * dim);
  embeds.forEach((e, i) => {
    if (e.length !== dim) throw new Error(`predictLabels: image ${i} has ${e.length} dims, the classes ${dim}`);
    flat.set(e, i * dim);
  });
  return predictTopK(zeroShotLogits(flat, classEmbeds), classes, 1).map((top) => top[0]!.label);
}

/**
 * Top-1 zero-shot over `classes` (all prompt classes, distractors included) for images
 * whose true labels are given; scored over the true classes present.
 */
export async function zeroShotClassify(
  encoder: PromptEncoder,
  embeds: readonly Float32Array[],
  trueLabels: readonly string[],
  classes: readonly string[],
  prompts: PromptEnsembles
): Promise<ZeroShotResult> {
  if (embeds.length !== trueLabels.length) throw new Error(`zeroShotClassify: ${embeds.length} images but ${trueLabels.length} labels`);
  if (embeds.length === 0) throw new Error("zeroShotClassify: no images to classify");
  const predicted = predictLabels(embeds, await promptClassEmbeddings(encoder, classes, prompts), classes);
  const confusion = confusionMatrix(trueLabels, predicted, classes);
  return {scores: classificationScores(confusion), confusion, predicted};
}

/**
 * Zero-shot metrics of per-image predictions, as FetalCLIP's scripts report them (the
 * results CSVs) plus the bootstrap intervals of confidence_interval.py: what
 * `fetalclip metrics zero-shot` prints. Per-class maps are keyed by the true classes present,
 * in `classes` order.
 */
export interface ZeroShotMetrics {
  /** Every class the model could predict, in index order: the confusion's columns (distractors included). */
  classes: string[];
  /** The true classes present: the confusion's rows and the keys of the per-class maps. */
  trueClasses: string[];
  /** Images scored. */
  n: number;
  /** Mean per-class F1 over the true classes present: the results CSV's `f1`. */
  macroF1: number;
  /** Bootstrap 95% CI of macro F1. */
  ci95: [number, number];
  /** Per-class F1: the CSV's `f1_<class>`. */
  f1: Record<string, number>;
  f1Ci95: Record<string, [number, number]>;
  /** Per-class accuracy as torchmetrics gives it (the class's recall): the CSV's `acc_<class>`. */
  accuracy: Record<string, number>;
  accuracyCi95: Record<string, [number, number]>;
  /** Per-class precision, FP counted over every image. */
  precision: Record<string, number>;
  precisionCi95: Record<string, [number, number]>;
  /** Mean per-class accuracy (balanced accuracy): the CSV's `acc`. */
  meanAccuracy: number;
  /** Share of all images predicted right (micro accuracy). */
  overallAccuracy: number;
  /** True (rows) x predicted (columns) counts. */
  confusion: ConfusionMatrix;
  /** How the intervals were drawn; `macroF1Mean` is the bootstrap mean the official script prints. */
  bootstrap: {resamples: number; seed: string | number; macroF1Mean: number};
}

export interface ZeroShotMetricsOptions {
  /** Bootstrap resamples (default 10,000, as the official script). */
  resamples?: number;
  /** Bootstrap seed (default 42, as the official script; the generator is the project's own). */
  seed?: string | number;
}

/**
 * Scores top-1 predicted labels against true labels over `classes` (every prompt class, in
 * index order; default: the labels seen, sorted): confusion matrix, torchmetrics-style
 * per-class F1 / accuracy / precision and their means, bootstrap 95% intervals.
 */
export function zeroShotMetrics(
  trueLabels: readonly string[],
  predictedLabels: readonly string[],
  classes?: readonly string[],
  {resamples = 10_000, seed = 42}: ZeroShotMetricsOptions = {}
): ZeroShotMetrics {
  const confusion = confusionMatrix(trueLabels, predictedLabels, classes);
  const scores = classificationScores(confusion);
  const boot = bootstrapClassificationScores(trueLabels, predictedLabels, confusion.predictedClasses, {resamples, seed});
  const byClass = <T>(values: readonly T[]): Record<string, T> => Object.fromEntries(scores.classes.map((c, i) => [c, values[i]!]));
  return {
    classes: [...confusion.predictedClasses],
    trueClasses: [...scores.classes],
    n: scores.count,
    macroF1: scores.macroF1,
    ci95: boot.macroF1.ci95,
    f1: byClass(scores.f1),
    f1Ci95: byClass(boot.f1.map((b) => b.ci95)),
    accuracy: byClass(scores.classAccuracy),
    accuracyCi95: byClass(boot.recall.map((b) => b.ci95)),
    precision: byClass(scores.precision),
    precisionCi95: byClass(boot.precision.map((b) => b.ci95)),
    meanAccuracy: scores.meanClassAccuracy,
    overallAccuracy: scores.accuracy,
    confusion,
    bootstrap: {resamples, seed, macroF1Mean: boot.macroF1.mean}
  };
}
