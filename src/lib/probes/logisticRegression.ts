// The fast probe mode: multinomial logistic regression with an L2 penalty, solved by
// L-BFGS, on the same linear head as the paper mode. Features are standardised inside
// the objective (train mean and standard deviation folded into the weights, nothing
// copied); the penalty is chosen on the validation set from a short path, each fit warm-
// started from the previous one - as the paper mode chooses its epoch. Deterministic:
// no initialisation noise, no shuffling, so repeated runs give the same head.
import {checkRows, crossEntropy, zeroHead, type LinearHead, type ProbeRows, type TrainedProbe} from "./linearHead.js";
import {minimiseLbfgs} from "./lbfgs.js";

export interface FastProbeSettings {
  /** L2 penalties on the standardised weights, tried from strongest to weakest; the one with the lowest validation loss is kept. */
  penalties: readonly number[];
  /** L-BFGS iterations per penalty (sklearn LogisticRegression's default max_iter: 100). */
  maxIterations: number;
  /** Stop when the largest gradient entry is under this (sklearn's default tol: 1e-4). */
  gradientTolerance: number;
}

export const FAST_SETTINGS: FastProbeSettings = Object.freeze({penalties: [1e-1, 1e-2, 1e-3, 1e-4] as const, maxIterations: 100, gradientTolerance: 1e-4});

/** Per-feature mean and standard deviation over the training cases (std 1 where a feature is constant). */
function featureStats(set: ProbeRows): {mean: Float64Array; scale: Float64Array} {
  const {dim, embeddings: x, rows} = set;
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i]! * dim;
    for (let k = 0; k < dim; k++) mean[k] += x[base + k]!;
  }
  for (let k = 0; k < dim; k++) mean[k] /= rows.length;
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i]! * dim;
    for (let k = 0; k < dim; k++) {
      const d = x[base + k]! - mean[k]!;
      sq[k] += d * d;
    }
  }
  const scale = new Float64Array(dim);
  for (let k = 0; k < dim; k++) {
    const sd = Math.sqrt(sq[k]! / rows.length);
    scale[k] = sd > 1e-12 ? 1 / sd : 1;
  }
  return {mean, scale};
}

/**
 * Fits the fast probe. The parameter vector holds standardised weights (classes x dim)
 * then biases; the objective is the mean training cross-entropy plus penalty/2 * |W|^2.
 */
export function fitLogisticRegression(train: ProbeRows, val: ProbeRows, classes: number, settings: FastProbeSettings = FAST_SETTINGS): TrainedProbe {
  checkRows(train, classes, "fitLogisticRegression: training set");
  checkRows(val, classes, "fitLogisticRegression: validation set");
  if (train.rows.length === 0) throw new Error("fitLogisticRegression: the training set is empty");
  if (settings.penalties.length === 0) throw new Error("fitLogisticRegression: no penalties to try");
  const dim = train.dim;
  const {mean, scale} = featureStats(train);
  const nw = dim * classes;
  const head = zeroHead(dim, classes);
  const gw = new Float64Array(nw);
  const gb = new Float64Array(classes);
  /** Standardised parameters -> the head on raw embeddings: W = W' * scale, b = b' - W . mean. */
  const toHead = (theta: Float64Array, into: LinearHead): void => {
    for (let c = 0; c < classes; c++) {
      let shift = 0;
      for (let k = 0; k < dim; k++) {
        const w = theta[c * dim + k]! * scale[k]!;
        into.weight[c * dim + k] = w;
        shift += w * mean[k]!;
      }
      into.bias[c] = theta[nw + c]! - shift;
    }
  };
  let penalty = 0;
  const objective = (theta: Float64Array, gradient: Float64Array): number => {
    toHead(theta, head);
    let loss = crossEntropy(head, train, null, 0, train.rows.length, gw, gb);
    // Chain rule back to the standardised parameters.
    for (let c = 0; c < classes; c++) {
      const b = gb[c]!;
      gradient[nw + c] = b;
      for (let k = 0; k < dim; k++) {
        const i = c * dim + k;
        gradient[i] = (gw[i]! - b * mean[k]!) * scale[k]! + penalty * theta[i]!;
        loss += 0.5 * penalty * theta[i]! * theta[i]!;
      }
    }
    return loss;
  };
  let theta: Float64Array = new Float64Array(nw + classes);
  let best: TrainedProbe | null = null;
  let iterations = 0;
  for (const p of settings.penalties) {
    if (!(p >= 0)) throw new Error(`fitLogisticRegression: penalty ${p} is not a non-negative number`);
    penalty = p;
    const result = minimiseLbfgs(objective, theta, {maxIterations: settings.maxIterations, gradientTolerance: settings.gradientTolerance, relativeTolerance: 2.2e-9});
    iterations += result.iterations;
    theta = result.x;
    const fitted = zeroHead(dim, classes);
    toHead(theta, fitted);
    const valLoss = val.rows.length > 0 ? crossEntropy(fitted, val) : Number.NaN;
    // Without validation cases the weakest penalty tried is kept.
    if (!best || val.rows.length === 0 || valLoss < best.valLoss) best = {head: fitted, valLoss, penalty: p, iterations: 0};
  }
  return {...best!, iterations};
}
