// Few-shot curves (FetalCLIP few_data_training/): for each patient count N, a probe is
// trained on each support set's N patients, its epoch chosen on the set's N validation
// patients, and scored on the fixed test patients; the curve is the mean and spread of
// macro F1 over support sets x runs.
import {createRng} from "../random.js";
import {fitProbe, testProbe, type FitSettings} from "./fitProbe.js";
import type {LinearHead} from "./linearHead.js";
import type {FewShotSupports} from "./patientSplits.js";
import {patientSet, trainingSet, type PatientSet, type TaskData} from "./probeData.js";
import {meanStd} from "./probeScores.js";
import {patientKey} from "./patientSplits.js";
import {auroc, meanAurocWithCi} from "./roc.js";

export interface CurvePoint {
  /** Patients in each support set's training list (as many again choose the epoch). */
  patients: number;
  /** Mean macro F1 over the fits. */
  mean: number;
  /** Sample standard deviation of macro F1 over the fits. */
  std: number;
  /** Fits averaged: support sets x runs (fast mode: one run per support set, it is deterministic). */
  runs: number;
  /** Mean F1 of each class over the fits. */
  perClass: Record<string, number>;
  /** Mean over fits of the mean per-class recall. */
  meanClassAccuracy: number;
  /** Macro F1 of each fit, support set by support set. */
  values: number[];
  /** Training images per support set (mean). */
  trainImages: number;
  /** Support sets left out: none of their training or validation patients have task rows. */
  skipped: number;
  /**
   * Binary tasks: AUROC of the positive class, mean and std over fits, and a 95% CI of the
   * mean from a bootstrap of whole test patients (every fit scored on each resample).
   */
  auroc?: {mean: number; std: number; ci95?: [number, number]; resamples?: number};
}

export interface CurveOptions {
  fit: FitSettings;
  /** Runs per support set (paper mode; fast mode runs once). */
  runs: number;
  seed: string | number;
  /** Binary tasks: the positive class index, for AUROC. */
  positive?: number;
  /** Bootstrap resamples for the few-shot AUROC CIs (default 2000). */
  resamples?: number;
  /** Augmented copies per training image (0 or absent: the images themselves). */
  copies?: number;
  log?: (message: string) => void;
}

/** Mean per class of per-fit values (NaN entries, classes absent from a fit, are left out). */
export function perClassMeans(classes: readonly string[], perFit: readonly number[][]): Record<string, number> {
  return Object.fromEntries(classes.map((name, c) => [name, meanStd(perFit.map((f) => f[c]!)).mean]));
}

export function fewShotCurve(data: TaskData, counts: readonly FewShotSupports[], test: PatientSet, options: CurveOptions): CurvePoint[] {
  const classes = data.task.classes;
  const runs = options.fit.mode === "fast" ? 1 : options.runs;
  const base = createRng(options.seed);
  const curve: CurvePoint[] = [];
  for (const {patients, supports} of counts) {
    const values: number[] = [], recall: number[] = [], perFit: number[][] = [], aurocs: number[] = [], images: number[] = [];
    const positiveScores: Float64Array[] = [];
    let skipped = 0;
    supports.forEach((support, s) => {
      const train = trainingSet(data, support.train, options.copies ?? 0);
      const val = patientSet(data, support.val);
      if (train.rows.length === 0 || val.rows.length === 0) {
        skipped += 1;
        return;
      }
      images.push(train.rows.length);
      for (let r = 0; r < runs; r++) {
        const fitted = fitProbe(train, val, classes.length, options.fit, base.fork(`${data.task.name}/few-shot/${patients}/${s}/${r}`));
        const result = testProbeScores(fitted.head, test, options.positive);
        values.push(result.macroF1);
        recall.push(result.meanClassAccuracy);
        perFit.push(result.f1);
        if (result.auroc !== undefined) {
          aurocs.push(result.auroc);
          positiveScores.push(result.positiveScores!);
        }
      }
    });
    if (skipped > 0) options.log?.(`few-shot ${patients} patients: ${skipped} of ${supports.length} support sets have no ${data.task.name} rows and are left out`);
    if (values.length === 0) continue;
    const {mean, std} = meanStd(values);
    const point: CurvePoint = {
      patients,
      mean,
      std,
      runs: values.length,
      perClass: perClassMeans(classes, perFit),
      meanClassAccuracy: meanStd(recall).mean,
      values,
      trainImages: meanStd(images).mean,
      skipped
    };
    if (options.positive !== undefined && aurocs.length > 0) {
      const labels = Array.from(test.labels, (l) => l === options.positive);
      const groups = Array.from(test.rows, (row) => patientKey(data.patientOfRow[row]!));
      const ci = meanAurocWithCi(positiveScores, labels, {groups, seed: `${options.seed}/${data.task.name}/few-shot/${patients}/auroc`, resamples: options.resamples ?? 2000});
      point.auroc = {...meanStd(aurocs), ci95: ci.ci95, resamples: ci.resamples};
    }
    curve.push(point);
    options.log?.(`few-shot ${data.task.name} ${patients} patients: macro F1 ${mean.toFixed(3)} +- ${std.toFixed(3)} over ${values.length} fits`);
  }
  return curve;
}

/** Test macro F1, mean recall, per-class F1 and (binary, both classes present) AUROC of one head. */
export function testProbeScores(head: LinearHead, test: PatientSet, positive?: number): {macroF1: number; meanClassAccuracy: number; f1: number[]; auroc?: number; positiveScores?: Float64Array} {
  const {scores, probabilities} = testProbe(head, test);
  const out: {macroF1: number; meanClassAccuracy: number; f1: number[]; auroc?: number; positiveScores?: Float64Array} = {macroF1: scores.macroF1, meanClassAccuracy: scores.meanClassAccuracy, f1: scores.f1};
  if (positive !== undefined) {
    const labels = Array.from(test.labels, (l) => l === positive);
    if (labels.some((l) => l) && labels.some((l) => !l)) {
      const score = Float64Array.from({length: test.labels.length}, (_, i) => probabilities[i * head.classes + positive]!);
      out.auroc = auroc(score, labels);
      out.positiveScores = score;
    }
  }
  return out;
}
