// One probe fit and its test scores, in either mode: "paper" (the official AdamW linear
// probe) or "fast" (L2 logistic regression by L-BFGS). Both give the same linear head.
import type {Rng} from "../random.js";
import {argmaxRows, headLogits, softmaxRows, type LinearHead, type ProbeRows, type TrainedProbe} from "./linearHead.js";
import {trainLinearProbe, type PaperProbeSettings} from "./linearProbe.js";
import {FAST_SETTINGS, fitLogisticRegression, type FastProbeSettings} from "./logisticRegression.js";
import {probeScores, type ProbeScores} from "./probeScores.js";

export const PROBE_MODES = ["paper", "fast"] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];

export interface FitSettings {
  mode: ProbeMode;
  paper: PaperProbeSettings;
  fast?: FastProbeSettings;
}

/** Trains a head on `train`, choosing epoch (paper) or penalty (fast) on `val`. */
export function fitProbe(train: ProbeRows, val: ProbeRows, classes: number, settings: FitSettings, rng: Rng): TrainedProbe {
  if (settings.mode === "paper") return trainLinearProbe(train, val, classes, settings.paper, rng);
  if (settings.mode === "fast") return fitLogisticRegression(train, val, classes, settings.fast ?? FAST_SETTINGS);
  throw new Error(`fitProbe: mode "${settings.mode as string}" is not one of ${PROBE_MODES.join(", ")}`);
}

export interface TestResult {
  scores: ProbeScores;
  predicted: Int32Array;
  /** Softmax probabilities, cases x classes. */
  probabilities: Float64Array;
}

/** Argmax predictions of a head on `test` and their scores. */
export function testProbe(head: LinearHead, test: ProbeRows): TestResult {
  const logits = headLogits(head, test);
  const predicted = argmaxRows(logits, head.classes);
  return {scores: probeScores(test.labels, predicted, head.classes), predicted, probabilities: softmaxRows(logits, head.classes)};
}
