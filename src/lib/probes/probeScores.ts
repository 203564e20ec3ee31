// A probe's scores on its test cases, as FetalCLIP's probing scripts compute them
// (torchmetrics 1.4 multiclass F1Score / Accuracy, argmax of the logits, over the whole
// test set): per-class F1 and recall, and their macro means over the classes that occur
// in the targets or the predictions (a class absent from both is left out; one that is
// predicted but absent from the targets counts with 0).

export interface ProbeScores {
  /** Per-class F1 = 2TP / (2TP + FP + FN); NaN for a class absent from targets and predictions. */
  f1: number[];
  /** Per-class recall TP / (TP + FN) (torchmetrics' per-class accuracy); NaN as for f1, 0 when only predicted. */
  classAccuracy: number[];
  macroF1: number;
  /** Mean per-class recall (the `acc` column of the official CSVs: balanced accuracy). */
  meanClassAccuracy: number;
  /** Share of cases predicted correctly. */
  accuracy: number;
  /** counts[true][predicted], classes x classes. */
  confusion: number[][];
}

/** Confusion counts of true x predicted class indices. */
export function confusionCounts(trueIdx: ArrayLike<number>, predictedIdx: ArrayLike<number>, classes: number): number[][] {
  if (trueIdx.length !== predictedIdx.length) throw new Error(`confusionCounts: ${trueIdx.length} targets but ${predictedIdx.length} predictions`);
  const counts = Array.from({length: classes}, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < trueIdx.length; i++) {
    const t = trueIdx[i]!, p = predictedIdx[i]!;
    if (!(t >= 0 && t < classes && p >= 0 && p < classes)) throw new Error(`confusionCounts: case ${i} has class ${t} -> ${p}, outside 0..${classes - 1}`);
    counts[t]![p]! += 1;
  }
  return counts;
}

/** Scores from a confusion matrix (rows true, columns predicted). */
export function scoresFromConfusion(confusion: number[][]): ProbeScores {
  const classes = confusion.length;
  const f1: number[] = [];
  const classAccuracy: number[] = [];
  let total = 0, correct = 0;
  const macro = {f1: 0, acc: 0, n: 0};
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c]![c]!;
    let support = 0, predicted = 0;
    for (let k = 0; k < classes; k++) {
      support += confusion[c]![k]!;
      predicted += confusion[k]![c]!;
    }
    total += support;
    correct += tp;
    const fn = support - tp, fp = predicted - tp;
    if (tp + fp + fn === 0) {
      f1.push(Number.NaN);
      classAccuracy.push(Number.NaN);
      continue;
    }
    const f = (2 * tp) / (2 * tp + fp + fn);
    const recall = support === 0 ? 0 : tp / support;
    f1.push(f);
    classAccuracy.push(recall);
    macro.f1 += f;
    macro.acc += recall;
    macro.n += 1;
  }
  if (total === 0) throw new Error("scoresFromConfusion: no cases");
  return {f1, classAccuracy, macroF1: macro.f1 / macro.n, meanClassAccuracy: macro.acc / macro.n, accuracy: correct / total, confusion};
}

/** Scores of predicted against true class indices. */
export function probeScores(trueIdx: ArrayLike<number>, predictedIdx: ArrayLike<number>, classes: number): ProbeScores {
  return scoresFromConfusion(confusionCounts(trueIdx, predictedIdx, classes));
}

/** Mean and sample standard deviation (n - 1; 0 for one value) of the finite values. */
export function meanStd(values: readonly number[]): {mean: number; std: number} {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return {mean: Number.NaN, std: Number.NaN};
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  if (finite.length === 1) return {mean, std: 0};
  const variance = finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1);
  return {mean, std: Math.sqrt(variance)};
}
