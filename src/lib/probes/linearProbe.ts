// The paper's linear probe (FetalCLIP probing/ and few_data_training/, train_fetalclip.py
// and utils.py): one Linear(dim -> classes) on frozen encode_image embeddings, softmax
// cross-entropy, AdamW (torch defaults but lr and weight decay), shuffled mini-batches with
// drop_last, validation cross-entropy after every epoch, and the epoch with the lowest one
// kept. The official code sets no seed; here initialisation and shuffling come from a
// seeded generator, so a run is reproducible anywhere.
import type {Rng} from "../random.js";
import {checkRows, crossEntropy, initialHead, type LinearHead, type ProbeRows, type TrainedProbe} from "./linearHead.js";

export interface PaperProbeSettings {
  learningRate: number;
  weightDecay: number;
  batchSize: number;
  maxEpochs: number;
  /** AdamW's (beta1, beta2), torch's defaults. */
  betas: readonly [number, number];
  /** AdamW's eps, torch's default. */
  eps: number;
}

/** Linear probing (probing/classification_*: config.json and utils.py): batch 64, 50 epochs, AdamW lr 3e-4, weight decay 0.01. */
export const PROBING_SETTINGS: PaperProbeSettings = Object.freeze({learningRate: 3e-4, weightDecay: 0.01, batchSize: 64, maxEpochs: 50, betas: [0.9, 0.999] as const, eps: 1e-8});

/** Few-data training (few_data_training/classification_six_fetal_planes): batch 16, 100 epochs, lr 3e-4. */
export const FEW_SHOT_SETTINGS: PaperProbeSettings = Object.freeze({...PROBING_SETTINGS, batchSize: 16, maxEpochs: 100});

/** Few-data brain sub-planes (few_data_training/classification_brain_subplanes/utils.py): lr 1e-4. */
export const FEW_SHOT_BRAIN_SETTINGS: PaperProbeSettings = Object.freeze({...FEW_SHOT_SETTINGS, learningRate: 1e-4});

/**
 * Trains the paper's linear probe. Batches are drawn from a fresh shuffle every epoch
 * and the last partial batch is dropped (drop_last), except when the training set is
 * smaller than one batch (a few-shot support set without augmentation can be): then
 * the whole set is the one batch, where the official code would not train at all.
 */
export function trainLinearProbe(train: ProbeRows, val: ProbeRows, classes: number, settings: PaperProbeSettings, rng: Rng): TrainedProbe {
  checkRows(train, classes, "trainLinearProbe: training set");
  checkRows(val, classes, "trainLinearProbe: validation set");
  if (train.rows.length === 0) throw new Error("trainLinearProbe: the training set is empty");
  const {learningRate: lr, weightDecay, batchSize, maxEpochs, eps} = settings;
  const [beta1, beta2] = settings.betas;
  const dim = train.dim;
  const head = initialHead(dim, classes, rng);
  const params = [head.weight, head.bias];
  const grads = [new Float64Array(head.weight.length), new Float64Array(classes)];
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  const n = train.rows.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const batches = n >= batchSize ? Math.floor(n / batchSize) : 1;
  const size = n >= batchSize ? batchSize : n;
  let step = 0;
  let best: LinearHead = {dim, classes, weight: Float64Array.from(head.weight), bias: Float64Array.from(head.bias)};
  let bestLoss = Infinity;
  let bestEpoch = 0;
  for (let epoch = 1; epoch <= maxEpochs; epoch++) {
    rng.shuffle(order as unknown as number[]);
    for (let b = 0; b < batches; b++) {
      crossEntropy(head, train, order, b * size, (b + 1) * size, grads[0], grads[1]);
      step += 1;
      // torch.optim.AdamW: decoupled decay first, then the bias-corrected Adam step.
      const bias1 = 1 - beta1 ** step;
      const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
      const stepSize = lr / bias1;
      for (let t = 0; t < params.length; t++) {
        const p = params[t]!, g = grads[t]!, mt = m[t]!, vt = v[t]!;
        for (let i = 0; i < p.length; i++) {
          p[i] *= 1 - lr * weightDecay;
          const gi = g[i]!;
          mt[i] = beta1 * mt[i]! + (1 - beta1) * gi;
          vt[i] = beta2 * vt[i]! + (1 - beta2) * gi * gi;
          p[i] -= (stepSize * mt[i]!) / (Math.sqrt(vt[i]!) / bias2Sqrt + eps);
        }
      }
    }
    // Without validation cases the last epoch is kept.
    const loss = val.rows.length > 0 ? crossEntropy(head, val) : Number.NaN;
    if (val.rows.length === 0 || loss < bestLoss) {
      bestLoss = loss;
      bestEpoch = epoch;
      best = {dim, classes, weight: Float64Array.from(head.weight), bias: Float64Array.from(head.bias)};
    }
  }
  return {head: best, valLoss: val.rows.length > 0 ? bestLoss : Number.NaN, bestEpoch, iterations: maxEpochs};
}
