// ROC curve and AUROC of a binary score, with a seeded bootstrap 95% CI: the
// measure the paper reports for CHD detection. Isomorphic (Node and the page).
// AUROC is the area under the ROC curve by the trapezoid rule, which equals the
// Mann-Whitney probability that a positive outscores a negative (ties count a half),
// as sklearn.metrics.roc_auc_score gives it.
import {quantile} from "../metrics.js";
import {createRng} from "../random.js";

export interface RocCurve {
  /** False-positive rate at each threshold, from 0 (threshold +Infinity) up to 1. */
  fpr: number[];
  /** True-positive rate at the same thresholds. */
  tpr: number[];
  /** Score thresholds: a case is called positive when its score >= threshold; the first is +Infinity. */
  thresholds: number[];
  positives: number;
  negatives: number;
}

function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>, where: string): void {
  if (scores.length !== labels.length) throw new Error(`${where}: ${scores.length} scores for ${labels.length} labels`);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) throw new Error(`${where}: score ${i} is not a finite number (${scores[i]})`);
  }
}

const isPositive = (label: boolean | number): boolean => label === true || label === 1;

/** The ROC curve at every distinct score (ties move both rates at once, a diagonal step). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): RocCurve {
  checkInputs(scores, labels, "rocCurve");
  const n = scores.length;
  const order = Array.from({length: n}, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let positives = 0;
  for (let i = 0; i < n; i++) if (isPositive(labels[i]!)) positives += 1;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new Error(`rocCurve: needs both classes, got ${positives} positives and ${negatives} negatives`);
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; ) {
    const s = scores[order[k]!]!;
    while (k < n && scores[order[k]!]! === s) {
      if (isPositive(labels[order[k]!]!)) tp += 1;
      else fp += 1;
      k += 1;
    }
    fpr.push(fp / negatives);
    tpr.push(tp / positives);
    thresholds.push(s);
  }
  return {fpr, tpr, thresholds, positives, negatives};
}

/** Area under the ROC curve (trapezoids; ties count a half). */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): number {
  return areaUnder(rocCurve(scores, labels));
}

/** The trapezoid area under a ROC curve. */
function areaUnder({fpr, tpr}: RocCurve): number {
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += ((fpr[i]! - fpr[i - 1]!) * (tpr[i]! + tpr[i - 1]!)) / 2;
  return area;
}

export interface AurocWithCi {
  auroc: number;
  /** 2.5th and 97.5th percentiles of the bootstrap AUROCs (numpy's linear quantile). */
  ci95: [number, number];
  /** Resamples that had both classes (the others are drawn again, up to a limit). */
  resamples: number;
  /** Cases (or groups, when given) resampled. */
  units: number;
  positives: number;
  negatives: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: string | number;
  /**
   * Resample whole groups (patients) instead of single cases, so that images of one
   * patient, which are not independent, go in and out together.
   */
  groups?: readonly string[];
}

/**
 * AUROC with a percentile bootstrap 95% CI: cases (or groups) are drawn with
 * replacement from a seeded generator; a resample with one class only has no
 * AUROC and is drawn again.
 */
export function aurocWithCi(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>, options: BootstrapOptions = {}): AurocWithCi {
  return meanAurocWithCi([scores], labels, options);
}

/**
 * The mean AUROC of several scorings of the same cases (the fits of a few-shot point),
 * with a percentile bootstrap 95% CI of that mean: each resample draws the cases (or
 * groups) once and scores every fit on them, so the interval is the test set's
 * uncertainty about the mean, not the spread between fits.
 */
export function meanAurocWithCi(scoreSets: readonly ArrayLike<number>[], labels: ArrayLike<boolean | number>, options: BootstrapOptions = {}): AurocWithCi {
  const resamples = options.resamples ?? 2000;
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`aurocWithCi: resamples must be a positive integer, got ${resamples}`);
  if (scoreSets.length === 0) throw new Error("aurocWithCi: no scores");
  const curves = scoreSets.map((scores) => rocCurve(scores, labels));
  const point = curves.reduce((sum, curve) => sum + areaUnder(curve), 0) / curves.length;
  const n = labels.length;
  // Units to resample: each case, or the cases of each group.
  let units: number[][];
  if (options.groups) {
    if (options.groups.length !== n) throw new Error(`aurocWithCi: ${options.groups.length} groups for ${n} scores`);
    const byGroup = new Map<string, number[]>();
    options.groups.forEach((g, i) => {
      const list = byGroup.get(g);
      if (list) list.push(i);
      else byGroup.set(g, [i]);
    });
    units = [...byGroup.values()];
  } else units = Array.from({length: n}, (_, i) => [i]);
  const rng = createRng(options.seed ?? "auroc-bootstrap");
  const values = new Float64Array(resamples);
  const picked: number[] = [];
  const l: boolean[] = [];
  const s: number[] = [];
  let done = 0;
  let attempts = 0;
  while (done < resamples) {
    if (++attempts > resamples * 20) throw new Error(`aurocWithCi: too few cases of one class to bootstrap (${curves[0]!.positives} positives, ${curves[0]!.negatives} negatives)`);
    picked.length = 0;
    l.length = 0;
    let pos = 0;
    for (let u = 0; u < units.length; u++) {
      for (const i of units[Math.floor(rng.next() * units.length)]!) {
        picked.push(i);
        const p = isPositive(labels[i]!);
        l.push(p);
        if (p) pos += 1;
      }
    }
    if (pos === 0 || pos === l.length) continue;
    let sum = 0;
    for (const scores of scoreSets) {
      s.length = 0;
      for (const i of picked) s.push(scores[i]!);
      sum += auroc(s, l);
    }
    values[done++] = sum / scoreSets.length;
  }
  values.sort();
  return {auroc: point, ci95: [quantile(values, 0.025), quantile(values, 0.975)], resamples, units: units.length, positives: curves[0]!.positives, negatives: curves[0]!.negatives};
}
