// Classification and GA metrics computed the way FetalCLIP's evaluation scripts
// compute them (torchmetrics multiclass Accuracy/F1Score with average="none",
// kept for the true classes present, then averaged), plus the valid prediction
// rate (VPR) of the GA evaluation with a bootstrap confidence interval.

import {createRng} from "./random.js";
import {topK} from "./vector.js";

/**
 * Counts of true class (rows) x predicted class (columns). Rows are the true
 * classes present, columns every class the model can predict: the five-planes
 * test has 5 true planes against 9 prompt classes (4 are distractors).
 */
export interface ConfusionMatrix {
  trueClasses: string[];
  predictedClasses: string[];
  /** counts[row][column]: images of trueClasses[row] predicted as predictedClasses[column]. */
  counts: number[][];
}

/** Per-class and averaged scores over the true classes present, in class order. */
export interface ClassificationScores {
  classes: string[];
  /** Per-class F1 = 2TP / (2TP + FP + FN), FP counted over every image (0 when undefined, as torchmetrics). */
  f1: number[];
  /** Per-class precision TP / (TP + FP), FP counted over every image (0 when nothing was predicted as the class). */
  precision: number[];
  /** Per-class accuracy as torchmetrics' average="none" gives it: the class's recall, TP / (TP + FN). */
  classAccuracy: number[];
  /** Mean per-class F1: the `f1` column of FetalCLIP's results CSVs. */
  macroF1: number;
  /** Mean per-class accuracy (balanced accuracy): the `acc` column of FetalCLIP's results CSVs. */
  meanClassAccuracy: number;
  /** Share of all images predicted correctly (micro accuracy). */
  accuracy: number;
  count: number;
}

function sortedUnique(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort();
}

/**
 * Confusion matrix from per-image true and predicted labels. `classes` lists
 * every predictable class in index order (e.g. FIVE_PLANES_CLASSES); it defaults
 * to the sorted labels seen. A label outside `classes` is an error.
 */
export function confusionMatrix(
  trueLabels: readonly string[],
  predictedLabels: readonly string[],
  classes: readonly string[] = sortedUnique([...trueLabels, ...predictedLabels])
): ConfusionMatrix {
  if (trueLabels.length !== predictedLabels.length) {
    throw new Error(`confusionMatrix: ${trueLabels.length} true labels but ${predictedLabels.length} predictions`);
  }
  if (trueLabels.length === 0) throw new Error("confusionMatrix: no labels given");
  const column = new Map(classes.map((c, i) => [c, i]));
  if (column.size !== classes.length) throw new Error(`confusionMatrix: duplicate class names in [${classes.join(", ")}]`);
  const indexOf = (label: string, kind: string, i: number): number => {
    const index = column.get(label);
    if (index === undefined) throw new Error(`confusionMatrix: ${kind} label "${label}" at ${i} is not one of [${classes.join(", ")}]`);
    return index;
  };
  const trueIndex = trueLabels.map((label, i) => indexOf(label, "true", i));
  const predictedIndex = predictedLabels.map((label, i) => indexOf(label, "predicted", i));
  const presentRows = [...new Set(trueIndex)].sort((a, b) => a - b);
  const rowOf = new Map(presentRows.map((c, r) => [c, r]));
  const counts = presentRows.map(() => new Array<number>(classes.length).fill(0));
  for (let i = 0; i < trueIndex.length; i++) counts[rowOf.get(trueIndex[i]!)!]![predictedIndex[i]!]! += 1;
  return {trueClasses: presentRows.map((c) => classes[c]!), predictedClasses: [...classes], counts};
}

/** F1, per-class accuracy and their means over the true classes of a confusion matrix. */
export function classificationScores(matrix: ConfusionMatrix): ClassificationScores {
  const {trueClasses, predictedClasses, counts} = matrix;
  const predictedTotals = predictedClasses.map((_, c) => counts.reduce((sum, row) => sum + row[c]!, 0));
  const total = predictedTotals.reduce((a, b) => a + b, 0);
  let correct = 0;
  const f1: number[] = [];
  const precision: number[] = [];
  const classAccuracy: number[] = [];
  trueClasses.forEach((name, r) => {
    const c = predictedClasses.indexOf(name);
    if (c < 0) throw new Error(`classificationScores: true class "${name}" is not a predicted class`);
    const row = counts[r]!;
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const fn = support - tp;
    const fp = predictedTotals[c]! - tp;
    correct += tp;
    f1.push(2 * tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn));
    precision.push(tp + fp === 0 ? 0 : tp / (tp + fp));
    classAccuracy.push(support === 0 ? 0 : tp / support);
  });
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    classes: [...trueClasses],
    f1,
    precision,
    classAccuracy,
    macroF1: mean(f1),
    meanClassAccuracy: mean(classAccuracy),
    accuracy: correct / total,
    count: total
  };
}

/** Per-class top-k hit rate (recall at k) for the true classes present, their mean, and the overall hit rate. */
export interface TopKAccuracy {
  k: number;
  classes: string[];
  classAccuracy: number[];
  meanClassAccuracy: number;
  accuracy: number;
}

/**
 * Top-k accuracy from flat [n, classes] scores (logits or probabilities): an
 * image counts as a hit when its true class is among its k best-scored classes
 * (ties: lower class index first). Per class, as torchmetrics Accuracy(top_k=k, average="none").
 */
export function topKAccuracy(scores: Float32Array, trueLabels: readonly string[], classes: readonly string[], k: number): TopKAccuracy {
  const n = trueLabels.length;
  if (scores.length !== n * classes.length) {
    throw new Error(`topKAccuracy: scores have ${scores.length} values, expected [${n}, ${classes.length}]`);
  }
  const column = new Map(classes.map((c, i) => [c, i]));
  const hits = new Array<number>(classes.length).fill(0);
  const support = new Array<number>(classes.length).fill(0);
  for (let i = 0; i < n; i++) {
    const target = column.get(trueLabels[i]!);
    if (target === undefined) throw new Error(`topKAccuracy: true label "${trueLabels[i]}" at ${i} is not one of [${classes.join(", ")}]`);
    support[target]! += 1;
    if (topK(scores.subarray(i * classes.length, (i + 1) * classes.length), k).includes(target)) hits[target]! += 1;
  }
  const present = classes.map((_, c) => c).filter((c) => support[c]! > 0);
  const classAccuracy = present.map((c) => hits[c]! / support[c]!);
  return {
    k,
    classes: present.map((c) => classes[c]!),
    classAccuracy,
    meanClassAccuracy: classAccuracy.reduce((a, b) => a + b, 0) / classAccuracy.length,
    accuracy: hits.reduce((a, b) => a + b, 0) / n
  };
}

/** Valid prediction rate with its bootstrap 95% confidence interval. */
export interface ValidPredictionRate {
  /** Predictions scored. */
  count: number;
  /** Predictions judged valid. */
  valid: number;
  rate: number;
  /** 2.5th and 97.5th percentiles of the bootstrap rates. */
  ci95: [number, number];
  resamples: number;
}

/** Quantile with linear interpolation between order statistics (numpy's default). */
export function quantile(sortedValues: ArrayLike<number>, q: number): number {
  if (sortedValues.length === 0) throw new Error("quantile: no values");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const position = q * (sortedValues.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sortedValues.length - 1);
  return sortedValues[lo]! + (position - lo) * (sortedValues[hi]! - sortedValues[lo]!);
}

/**
 * Share of valid predictions (FetalCLIP's VPR for GA) and a percentile
 * bootstrap 95% CI: resample the images with replacement `resamples` times
 * from a seeded generator, so the interval is reproducible anywhere.
 */
export function validPredictionRate(
  validity: readonly boolean[],
  {resamples = 2000, seed = "vpr-bootstrap"}: {resamples?: number; seed?: string | number} = {}
): ValidPredictionRate {
  const n = validity.length;
  if (n === 0) throw new Error("validPredictionRate: no predictions to score");
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`validPredictionRate: resamples must be a positive integer, got ${resamples}`);
  const valid = validity.filter(Boolean).length;
  const rng = createRng(seed);
  const rates = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let hits = 0;
    for (let i = 0; i < n; i++) if (validity[Math.floor(rng.next() * n)]) hits += 1;
    rates[b] = hits / n;
  }
  rates.sort();
  return {count: n, valid, rate: valid / n, ci95: [quantile(rates, 0.025), quantile(rates, 0.975)], resamples};
}

/** Bootstrap distribution summary of one score: the mean over resamples and the 2.5th / 97.5th percentiles. */
export interface BootstrapInterval {
  mean: number;
  ci95: [number, number];
}

/** Bootstrap 95% intervals of macro F1 and of each true class's F1, precision and recall (classes as in classificationScores). */
export interface ClassificationBootstrap {
  resamples: number;
  seed: string | number;
  classes: string[];
  macroF1: BootstrapInterval;
  f1: BootstrapInterval[];
  precision: BootstrapInterval[];
  /** Recall = the per-class accuracy of classificationScores. */
  recall: BootstrapInterval[];
}

function intervalOf(values: Float64Array): BootstrapInterval {
  let sum = 0;
  for (const v of values) sum += v;
  const sorted = Float64Array.from(values).sort();
  return {mean: sum / values.length, ci95: [quantile(sorted, 0.025), quantile(sorted, 0.975)]};
}

/**
 * Percentile bootstrap of F1 per true class and of their mean, as FetalCLIP's
 * zero_shot_planes_db/confidence_interval.py does it: images resampled with replacement
 * `resamples` times (10,000 there), per-class F1 over the true classes of the whole set
 * (a prediction of any other class, a distractor, only counts as a miss; F1 0 when undefined),
 * their mean, then the 2.5th / 97.5th percentiles (numpy's linear rule). The official script
 * draws from numpy's default_rng(42); ours is the project's seeded sfc32 (createRng), so the
 * interval agrees in distribution, not to the last digit, and is the same in Node and the browser.
 * Precision and recall (0 when undefined) come from the same resamples.
 */
export function bootstrapClassificationScores(
  trueLabels: readonly string[],
  predictedLabels: readonly string[],
  classes: readonly string[] = sortedUnique([...trueLabels, ...predictedLabels]),
  {resamples = 10_000, seed = 42}: {resamples?: number; seed?: string | number} = {}
): ClassificationBootstrap {
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`bootstrapClassificationScores: resamples must be a positive integer, got ${resamples}`);
  const matrix = confusionMatrix(trueLabels, predictedLabels, classes); // validates the labels
  const n = trueLabels.length;
  const scored = matrix.trueClasses;
  const slot = new Map(scored.map((c, i) => [c, i]));
  // Per image: its true class's slot and its predicted class's slot (-1: not a true class).
  const truth = Int32Array.from(trueLabels, (label) => slot.get(label)!);
  const guess = Int32Array.from(predictedLabels, (label) => slot.get(label) ?? -1);
  const k = scored.length;
  const tp = new Int32Array(k);
  const support = new Int32Array(k);
  const predicted = new Int32Array(k);
  const macro = new Float64Array(resamples);
  const perClass = scored.map(() => new Float64Array(resamples));
  const precision = scored.map(() => new Float64Array(resamples));
  const recall = scored.map(() => new Float64Array(resamples));
  const rng = createRng(seed);
  for (let b = 0; b < resamples; b++) {
    tp.fill(0);
    support.fill(0);
    predicted.fill(0);
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rng.next() * n);
      const t = truth[j]!;
      const p = guess[j]!;
      support[t]! += 1;
      if (p >= 0) predicted[p]! += 1;
      if (p === t) tp[t]! += 1;
    }
    let sum = 0;
    for (let c = 0; c < k; c++) {
      // 2TP / (2TP + FP + FN) = 2TP / (predicted + support)
      const denominator = predicted[c]! + support[c]!;
      const f1 = denominator === 0 ? 0 : (2 * tp[c]!) / denominator;
      perClass[c]![b] = f1;
      precision[c]![b] = predicted[c]! === 0 ? 0 : tp[c]! / predicted[c]!;
      recall[c]![b] = support[c]! === 0 ? 0 : tp[c]! / support[c]!;
      sum += f1;
    }
    macro[b] = sum / k;
  }
  return {resamples, seed, classes: [...scored], macroF1: intervalOf(macro), f1: perClass.map(intervalOf),
    precision: precision.map(intervalOf), recall: recall.map(intervalOf)};
}
