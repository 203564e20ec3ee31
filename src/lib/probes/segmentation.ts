// The segmentation probe: a per-patch linear head (a 1x1 convolution) on a frozen
// encoder's projected patch tokens, one logit per structure per patch, upsampled
// bilinearly to the encoder's input size (PyTorch's F.interpolate, align_corners
// False) and thresholded at 0.5 after the sigmoid. Trained as FetalCLIP's
// segmentation probing trains its decoder (probing/segmentation_hc: smp DiceLoss,
// multilabel, from logits; AdamW lr 3e-4, weight decay 0.01; batch 8; the epoch with
// the lowest validation loss, pooled over the validation set, kept) but with this
// linear head instead of the paper's UNETR-style decoder on blocks 6/8/12/24, and
// seeded (initialisation, shuffling). Scored as the official test_dsc: smp Fscore at
// threshold 0.5, eps 1e-7, pooled over every pixel of every test image; also per image
// (mean over the test images that show the structure) with seeded bootstrap CIs.
// Isomorphic and synchronous: Node's CLI and the page run the same code.
import {fromFloat16Bits} from "../float16.js";
import {quantile} from "../metrics.js";
import {createRng, type Rng} from "../random.js";

/** Patch tokens of n images: float32 values, or float16 bits as embeddings.arrow stores them; image i's token p at ((i * tokens) + p) * dim. */
export interface PatchFeatures {
  values: Float32Array | Uint16Array;
  n: number;
  tokens: number;
  dim: number;
}

/** What the probe learns from: patch tokens and, per structure, a binary mask of every image at the encoder's input size. */
export interface SegmentationSet {
  features: PatchFeatures;
  structures: string[];
  /** Per structure: n masks of size x size bytes (0 or 1), image i at i * size * size. */
  masks: Uint8Array[];
  /** The encoder's input side in px: masks are scored at this size. */
  size: number;
}

export type SegmentationLoss = "dice" | "bce";

export interface SegmentationSettings {
  /** "dice": smp's DiceLoss (multilabel, from logits, smooth 0, eps 1e-7) as the official code; "bce": binary cross-entropy. */
  loss: SegmentationLoss;
  learningRate: number;
  weightDecay: number;
  batchSize: number;
  epochs: number;
  betas: readonly [number, number];
  eps: number;
  /**
   * Side of the grid the loss is taken on: the masks area-averaged to it (soft targets),
   * the logits upsampled to it. Default 4 x the patch grid (at most the input size): the
   * head's upsampled logits are smooth at that scale, and it is 12x cheaper than the
   * 112 px input of the demo model. Scoring is always at the full input size.
   */
  lossSize?: number;
}

/**
 * The official segmentation probing's optimiser (AdamW, weight decay 0.01, batch 8) and
 * loss, with a higher learning rate and fewer epochs than its 3e-4 x 100: a linear head
 * on standardised features needs larger steps than a deep decoder (at 3e-4 its validation
 * loss still falls after 100 epochs on HC18's 157 training images; at 1e-2 it levels off
 * within 50, measured on the phantom and HC18 with the demo model).
 */
export const SEGMENTATION_SETTINGS: Readonly<SegmentationSettings> = Object.freeze({
  loss: "dice",
  learningRate: 1e-2,
  weightDecay: 0.01,
  batchSize: 8,
  epochs: 50,
  betas: [0.9, 0.999] as const,
  eps: 1e-8
});

/** The trained head on raw patch tokens (the training set's standardisation folded in): logit = weights[k] . token + bias[k]. */
export interface SegmentationHead {
  structures: string[];
  dim: number;
  grid: number;
  size: number;
  /** structures x dim, row-major. */
  weights: Float64Array;
  bias: Float64Array;
}

export interface TrainedSegmentationHead {
  head: SegmentationHead;
  /** The kept epoch (lowest validation loss; the last one when there is no validation set). */
  epoch: number;
  trainLoss: number[];
  valLoss: number[];
}

/** Side of the square patch grid of `tokens` patch tokens. */
export function patchGrid(tokens: number): number {
  const grid = Math.round(Math.sqrt(tokens));
  if (grid * grid !== tokens || grid < 1) throw new Error(`segmentation: ${tokens} patch tokens do not form a square grid`);
  return grid;
}

function checkSet(set: SegmentationSet): number {
  const {features, masks, structures, size} = set;
  const {n, tokens, dim, values} = features;
  if (values.length !== n * tokens * dim) throw new Error(`segmentation: ${values.length} feature values for ${n} images x ${tokens} tokens x ${dim}`);
  if (structures.length === 0 || structures.length !== masks.length) throw new Error(`segmentation: ${structures.length} structures for ${masks.length} mask sets`);
  masks.forEach((m, k) => {
    if (m.length !== n * size * size) throw new Error(`segmentation: structure ${structures[k]} has ${m.length} mask pixels for ${n} images of ${size} x ${size}`);
  });
  return patchGrid(tokens);
}

/** Reads image i's tokens as float64 into `out` (tokens x dim). */
function readTokens(features: PatchFeatures, i: number, out: Float64Array): void {
  const {tokens, dim, values} = features;
  const start = i * tokens * dim;
  if (values instanceof Uint16Array) out.set(fromFloat16Bits(values.subarray(start, start + tokens * dim)));
  else for (let j = 0; j < tokens * dim; j++) out[j] = values[start + j]!;
}

/** Bilinear taps of an upsampling from `from` to `to` samples (align_corners False, edges clamped): for each output, two inputs and weights. */
function bilinearTaps(from: number, to: number): {i0: Int32Array; i1: Int32Array; w1: Float64Array} {
  const i0 = new Int32Array(to);
  const i1 = new Int32Array(to);
  const w1 = new Float64Array(to);
  const scale = from / to;
  for (let x = 0; x < to; x++) {
    const src = Math.max(0, (x + 0.5) * scale - 0.5);
    const lo = Math.min(from - 1, Math.floor(src));
    i0[x] = lo;
    i1[x] = Math.min(from - 1, lo + 1);
    w1[x] = src - lo;
  }
  return {i0, i1, w1};
}

/** A grid x grid map upsampled bilinearly to size x size (F.interpolate, mode bilinear, align_corners False). */
export function upsampleBilinear(values: ArrayLike<number>, grid: number, size: number): Float32Array {
  if (values.length !== grid * grid) throw new Error(`upsampleBilinear: ${values.length} values for a ${grid} x ${grid} grid`);
  const t = bilinearTaps(grid, size);
  const rows = new Float64Array(grid * size);
  for (let gy = 0; gy < grid; gy++) {
    for (let x = 0; x < size; x++) rows[gy * size + x] = values[gy * grid + t.i0[x]!]! * (1 - t.w1[x]!) + values[gy * grid + t.i1[x]!]! * t.w1[x]!;
  }
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const a = t.i0[y]! * size, b = t.i1[y]! * size, w = t.w1[y]!;
    for (let x = 0; x < size; x++) out[y * size + x] = rows[a + x]! * (1 - w) + rows[b + x]! * w;
  }
  return out;
}

/** The mean of each cell of a size x size mask over a target x target grid (pixel centres binned): soft targets in [0, 1]. */
function areaAverage(mask: Uint8Array, offset: number, size: number, target: number, out: Float32Array, outOffset: number): void {
  const sums = new Float64Array(target * target);
  const counts = new Float64Array(target * target);
  for (let y = 0; y < size; y++) {
    const ty = Math.min(target - 1, Math.floor(((y + 0.5) * target) / size));
    for (let x = 0; x < size; x++) {
      const tx = Math.min(target - 1, Math.floor(((x + 0.5) * target) / size));
      sums[ty * target + tx] += mask[offset + y * size + x]!;
      counts[ty * target + tx] += 1;
    }
  }
  for (let j = 0; j < target * target; j++) out[outOffset + j] = counts[j]! > 0 ? sums[j]! / counts[j]! : 0;
}

/** Per-channel mean and 1/sd over every patch token of the training images (1 where a channel is constant). */
function tokenStats(features: PatchFeatures, rows: readonly number[]): {mean: Float64Array; scale: Float64Array} {
  const {tokens, dim} = features;
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  const buf = new Float64Array(tokens * dim);
  for (const i of rows) {
    readTokens(features, i, buf);
    for (let p = 0; p < tokens; p++) for (let d = 0; d < dim; d++) mean[d] += buf[p * dim + d]!;
  }
  const count = rows.length * tokens;
  for (let d = 0; d < dim; d++) mean[d] /= count;
  for (const i of rows) {
    readTokens(features, i, buf);
    for (let p = 0; p < tokens; p++) {
      for (let d = 0; d < dim; d++) {
        const v = buf[p * dim + d]! - mean[d]!;
        sq[d] += v * v;
      }
    }
  }
  const scale = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    const sd = Math.sqrt(sq[d]! / count);
    scale[d] = sd > 1e-12 ? 1 / sd : 1;
  }
  return {mean, scale};
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

/** smp DiceLoss's eps (clamp of the denominator). */
const DICE_EPS = 1e-7;

/**
 * Trains the per-patch linear head. `train` and `val` are image indices of `set`.
 * Deterministic for a seed: initialisation (PyTorch's uniform +-1/sqrt(dim)) and the
 * shuffle of every epoch come from it; the last partial batch is kept.
 */
export function trainSegmentationHead(
  set: SegmentationSet,
  train: readonly number[],
  val: readonly number[],
  settings: Partial<SegmentationSettings> = {},
  seed: string | number = 0
): TrainedSegmentationHead {
  const grid = checkSet(set);
  const s: SegmentationSettings = {...SEGMENTATION_SETTINGS, ...settings};
  if (train.length === 0) throw new Error("trainSegmentationHead: no training images");
  for (const [name, v] of [["learningRate", s.learningRate], ["batchSize", s.batchSize], ["epochs", s.epochs]] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`trainSegmentationHead: ${name} must be positive, got ${v}`);
  }
  if (s.loss !== "dice" && s.loss !== "bce") throw new Error(`trainSegmentationHead: loss must be dice or bce, got ${JSON.stringify(s.loss)}`);
  const {features, structures, masks, size} = set;
  const {tokens, dim} = features;
  const K = structures.length;
  const L = Math.min(size, Math.max(grid, s.lossSize ?? 4 * grid));
  const LL = L * L;
  const rng: Rng = createRng(`segmentation-head/${String(seed)}`);
  const {mean, scale} = tokenStats(features, train);

  // Soft targets at the loss grid, per image and structure.
  const targetsOf = (rows: readonly number[]) => {
    const out = new Float32Array(rows.length * K * LL);
    rows.forEach((i, r) => {
      for (let k = 0; k < K; k++) areaAverage(masks[k]!, i * size * size, size, L, out, (r * K + k) * LL);
    });
    return out;
  };
  const trainTargets = targetsOf(train);
  const valTargets = targetsOf(val);

  // Parameters on standardised tokens: w[k * dim + d], b[k].
  const bound = 1 / Math.sqrt(dim);
  const w = new Float64Array(K * dim).map(() => rng.uniform(-bound, bound));
  const b = new Float64Array(K).map(() => rng.uniform(-bound, bound));
  const gw = new Float64Array(K * dim);
  const gb = new Float64Array(K);
  const mw = new Float64Array(K * dim), vw = new Float64Array(K * dim);
  const mb = new Float64Array(K), vb = new Float64Array(K);
  const taps = bilinearTaps(grid, L);

  const x = new Float64Array(tokens * dim); // standardised tokens of one image
  const z = new Float64Array(K * tokens); // patch logits
  const rowsBuf = new Float64Array(grid * L);
  const loadImage = (i: number) => {
    readTokens(features, i, x);
    for (let p = 0; p < tokens; p++) for (let d = 0; d < dim; d++) x[p * dim + d] = (x[p * dim + d]! - mean[d]!) * scale[d]!;
  };
  /** Patch logits of the loaded image, then the upsampled logits of structure k into `up`. */
  const forward = () => {
    for (let k = 0; k < K; k++) {
      for (let p = 0; p < tokens; p++) {
        let acc = b[k]!;
        const wo = k * dim, xo = p * dim;
        for (let d = 0; d < dim; d++) acc += w[wo + d]! * x[xo + d]!;
        z[k * tokens + p] = acc;
      }
    }
  };
  const upsample = (k: number, up: Float64Array, offset: number) => {
    const zo = k * tokens;
    for (let gy = 0; gy < grid; gy++) {
      for (let X = 0; X < L; X++) rowsBuf[gy * L + X] = z[zo + gy * grid + taps.i0[X]!]! * (1 - taps.w1[X]!) + z[zo + gy * grid + taps.i1[X]!]! * taps.w1[X]!;
    }
    for (let Y = 0; Y < L; Y++) {
      const a = taps.i0[Y]! * L, c = taps.i1[Y]! * L, wy = taps.w1[Y]!;
      for (let X = 0; X < L; X++) up[offset + Y * L + X] = rowsBuf[a + X]! * (1 - wy) + rowsBuf[c + X]! * wy;
    }
  };
  /** Adds the gradient of the upsampled logits `g` (structure k) into the patch logits' gradient `gz`. */
  const gzBuf = new Float64Array(K * tokens);
  const backUpsample = (k: number, g: Float64Array, offset: number) => {
    rowsBuf.fill(0);
    for (let Y = 0; Y < L; Y++) {
      const a = taps.i0[Y]! * L, c = taps.i1[Y]! * L, wy = taps.w1[Y]!;
      for (let X = 0; X < L; X++) {
        const v = g[offset + Y * L + X]!;
        rowsBuf[a + X] += v * (1 - wy);
        rowsBuf[c + X] += v * wy;
      }
    }
    const zo = k * tokens;
    for (let gy = 0; gy < grid; gy++) {
      for (let X = 0; X < L; X++) {
        const v = rowsBuf[gy * L + X]!;
        gzBuf[zo + gy * grid + taps.i0[X]!] += v * (1 - taps.w1[X]!);
        gzBuf[zo + gy * grid + taps.i1[X]!] += v * taps.w1[X]!;
      }
    }
  };

  /**
   * Loss of a batch of images (rows of `targets`), and its gradient into gw/gb when asked.
   * Dice: per structure over the whole batch (smp's dims (0, 2)), structures without a
   * positive pixel in the batch count 0, averaged over structures. BCE: mean over pixels.
   */
  const probs = new Float64Array(0);
  let probBuf = probs;
  const batchLoss = (images: readonly number[], targets: Float32Array, targetRows: readonly number[], withGradient: boolean): number => {
    const nb = images.length;
    if (probBuf.length < nb * K * LL) probBuf = new Float64Array(nb * K * LL);
    const P = probBuf;
    const inter = new Float64Array(K), card = new Float64Array(K), pos = new Float64Array(K);
    let bce = 0;
    for (let j = 0; j < nb; j++) {
      loadImage(images[j]!);
      forward();
      for (let k = 0; k < K; k++) {
        const off = (j * K + k) * LL;
        upsample(k, P, off);
        const to = (targetRows[j]! * K + k) * LL;
        for (let q = 0; q < LL; q++) {
          const logit = P[off + q]!;
          const t = targets[to + q]!;
          if (s.loss === "bce") bce += softplus(logit) - t * logit;
          const p = sigmoid(logit);
          P[off + q] = p;
          inter[k] += p * t;
          card[k] += p + t;
          pos[k] += t;
        }
      }
    }
    let loss: number;
    if (s.loss === "bce") loss = bce / (nb * K * LL);
    else {
      loss = 0;
      for (let k = 0; k < K; k++) if (pos[k]! > 0) loss += 1 - (2 * inter[k]!) / Math.max(card[k]!, DICE_EPS);
      loss /= K;
    }
    if (!withGradient) return loss;
    gw.fill(0);
    gb.fill(0);
    const g = new Float64Array(LL);
    for (let j = 0; j < nb; j++) {
      loadImage(images[j]!);
      gzBuf.fill(0);
      for (let k = 0; k < K; k++) {
        const off = (j * K + k) * LL;
        const to = (targetRows[j]! * K + k) * LL;
        const c = Math.max(card[k]!, DICE_EPS);
        const active = s.loss === "bce" || pos[k]! > 0;
        if (!active) continue;
        for (let q = 0; q < LL; q++) {
          const p = P[off + q]!;
          const t = targets[to + q]!;
          // d loss / d logit through the sigmoid.
          g[q] = s.loss === "bce" ? (p - t) / (nb * K * LL) : (((2 * inter[k]! - 2 * t * c) / (c * c)) * p * (1 - p)) / K;
        }
        backUpsample(k, g, 0);
      }
      for (let k = 0; k < K; k++) {
        const wo = k * dim;
        for (let p = 0; p < tokens; p++) {
          const gz = gzBuf[k * tokens + p]!;
          if (gz === 0) continue;
          gb[k] += gz;
          const xo = p * dim;
          for (let d = 0; d < dim; d++) gw[wo + d] += gz * x[xo + d]!;
        }
      }
    }
    return loss;
  };

  const [beta1, beta2] = s.betas;
  let step = 0;
  const adamw = (param: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array) => {
    const c1 = 1 - beta1 ** step, c2 = 1 - beta2 ** step;
    for (let i = 0; i < param.length; i++) {
      param[i] -= s.learningRate * s.weightDecay * param[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * grad[i]!;
      v[i] = beta2 * v[i]! + (1 - beta2) * grad[i]! * grad[i]!;
      param[i] -= (s.learningRate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + s.eps);
    }
  };
  /** Validation loss pooled over the whole validation set (in chunks, summed as one batch). */
  const validationLoss = (): number => {
    if (val.length === 0) return NaN;
    const idx = val.map((_, r) => r);
    return batchLoss(val, valTargets, idx, false);
  };
  const fold = (): SegmentationHead => {
    // logit = sum_d w'[d] (x[d] - mean[d]) scale[d] + b' = sum_d (w'[d] scale[d]) x[d] + (b' - sum_d w'[d] scale[d] mean[d])
    const weights = new Float64Array(K * dim);
    const bias = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let shift = 0;
      for (let d = 0; d < dim; d++) {
        weights[k * dim + d] = w[k * dim + d]! * scale[d]!;
        shift += weights[k * dim + d]! * mean[d]!;
      }
      bias[k] = b[k]! - shift;
    }
    return {structures: [...structures], dim, grid, size, weights, bias};
  };

  const order = train.map((_, r) => r);
  const trainLoss: number[] = [];
  const valLoss: number[] = [];
  let best = fold();
  let bestLoss = Infinity;
  let bestEpoch = 0;
  for (let epoch = 1; epoch <= s.epochs; epoch++) {
    rng.shuffle(order);
    let sum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += s.batchSize) {
      const rowsInBatch = order.slice(start, start + s.batchSize);
      const loss = batchLoss(rowsInBatch.map((r) => train[r]!), trainTargets, rowsInBatch, true);
      step += 1;
      adamw(w, gw, mw, vw);
      adamw(b, gb, mb, vb);
      sum += loss;
      batches += 1;
    }
    trainLoss.push(sum / batches);
    const vl = validationLoss();
    valLoss.push(vl);
    if (val.length === 0 || vl < bestLoss) {
      bestLoss = vl;
      bestEpoch = epoch;
      best = fold();
    }
  }
  return {head: best, epoch: bestEpoch, trainLoss, valLoss};
}

/** Patch logits (structures x grid^2) of image i. */
export function patchLogits(head: SegmentationHead, features: PatchFeatures, i: number): Float64Array {
  const {tokens, dim} = features;
  if (dim !== head.dim || tokens !== head.grid * head.grid) throw new Error(`patchLogits: features of ${tokens} x ${dim} for a head of ${head.grid}^2 x ${head.dim}`);
  const x = new Float64Array(tokens * dim);
  readTokens(features, i, x);
  const K = head.structures.length;
  const out = new Float64Array(K * tokens);
  for (let k = 0; k < K; k++) {
    for (let p = 0; p < tokens; p++) {
      let acc = head.bias[k]!;
      for (let d = 0; d < dim; d++) acc += head.weights[k * dim + d]! * x[p * dim + d]!;
      out[k * tokens + p] = acc;
    }
  }
  return out;
}

/** Image i's logits of structure k at the input size (size x size). */
export function predictLogits(head: SegmentationHead, features: PatchFeatures, i: number, k: number): Float32Array {
  const tokens = head.grid * head.grid;
  return upsampleBilinear(patchLogits(head, features, i).subarray(k * tokens, (k + 1) * tokens), head.grid, head.size);
}

/** The predicted mask: sigmoid(logit) > 0.5, i.e. logit > 0 (smp's threshold). */
export function thresholdLogits(logits: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! > 0 ? 1 : 0;
  return out;
}

/** smp's eps in Fscore and IoU. */
const SCORE_EPS = 1e-7;
/** Dice as smp's Fscore (beta 1): (2 tp + eps) / (2 tp + fn + fp + eps). */
export const diceFromCounts = (tp: number, fp: number, fn: number) => (2 * tp + SCORE_EPS) / (2 * tp + fn + fp + SCORE_EPS);
/** IoU as smp's: (tp + eps) / (tp + fp + fn + eps). */
export const iouFromCounts = (tp: number, fp: number, fn: number) => (tp + SCORE_EPS) / (tp + fp + fn + SCORE_EPS);

/** True/false positives and false negatives of one predicted mask against the truth. */
export function maskCounts(predicted: ArrayLike<number>, truth: ArrayLike<number>, truthOffset = 0): {tp: number; fp: number; fn: number} {
  let tp = 0, fp = 0, fn = 0;
  for (let q = 0; q < predicted.length; q++) {
    const p = predicted[q]! > 0;
    const t = truth[truthOffset + q]! > 0;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return {tp, fp, fn};
}

export interface ImageScore {
  image: number;
  tp: number;
  fp: number;
  fn: number;
  /** Whether the true mask shows the structure (per-image means are over these). */
  present: boolean;
  dice: number;
  iou: number;
}

export interface StructureScores {
  structure: string;
  /** Official test_dsc: Dice pooled over every pixel of every test image, threshold 0.5. */
  dice: number;
  diceCi95: [number, number];
  /** IoU pooled the same way. */
  iou: number;
  iouCi95: [number, number];
  /** Per-image Dice and IoU, mean over the test images whose true mask shows the structure. */
  perImage: {dice: number; diceCi95: [number, number]; iou: number; iouCi95: [number, number]; images: number};
  /**
   * Baselines without the encoder. meanMask: the mean of every training mask, thresholded
   * at 0.5, predicted for every test image (pooled Dice, as `dice`). meanShape: the mean of
   * the training masks that show the structure, predicted only on the test images that
   * show it (presence given for free; pooled and per-image Dice over those images, as
   * `perImage`): what knowing where the structure usually lies gives.
   */
  baseline: {meanMaskDice: number; meanShapeDice: number; meanShapePerImageDice: number};
  pixels: {tp: number; fp: number; fn: number};
  testImages: number;
}

export interface ScoreOptions {
  /** Patient of each image of the set (test images are resampled by patient); default each image its own. */
  groups?: readonly string[];
  resamples?: number;
  seed?: string | number;
}

/** Percentile bootstrap over units (patients): statistic(units drawn with replacement). */
function bootstrap(units: number, resamples: number, seed: string | number, statistic: (draw: Int32Array) => number): [number, number] {
  const rng = createRng(seed);
  const values: number[] = [];
  const draw = new Int32Array(units);
  for (let r = 0; r < resamples; r++) {
    for (let u = 0; u < units; u++) draw[u] = Math.floor(rng.next() * units);
    const v = statistic(draw);
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length === 0) return [NaN, NaN];
  values.sort((a, c) => a - c);
  return [quantile(values, 0.025), quantile(values, 0.975)];
}

/** The mean training mask of structure k, thresholded at 0.5: over every training image, or (`presentOnly`) over those that show it. */
export function meanMask(set: SegmentationSet, train: readonly number[], k: number, presentOnly = false): Uint8Array {
  const {size} = set;
  const sums = new Float64Array(size * size);
  let count = 0;
  for (const i of train) {
    const off = i * size * size;
    let any = false;
    for (let q = 0; q < size * size; q++) if (set.masks[k]![off + q]) { any = true; break; }
    if (presentOnly && !any) continue;
    count++;
    for (let q = 0; q < size * size; q++) sums[q] += set.masks[k]![off + q]!;
  }
  const out = new Uint8Array(size * size);
  if (count > 0) for (let q = 0; q < size * size; q++) out[q] = sums[q]! / count > 0.5 ? 1 : 0;
  return out;
}

/**
 * Scores a head on test images, structure by structure: pooled Dice and IoU (the
 * official metric) and per-image means, each with a bootstrap 95% CI over test patients,
 * and the mean-mask baseline. Also returns every image's counts (for example picking).
 */
export function scoreSegmentationHead(
  head: SegmentationHead,
  set: SegmentationSet,
  train: readonly number[],
  test: readonly number[],
  options: ScoreOptions = {}
): {scores: StructureScores[]; images: ImageScore[][]} {
  checkSet(set);
  if (test.length === 0) throw new Error("scoreSegmentationHead: no test images");
  const resamples = options.resamples ?? 1000;
  const {size} = set;
  const K = head.structures.length;
  const tokens = head.grid * head.grid;
  const perStructure: ImageScore[][] = Array.from({length: K}, () => []);
  for (const i of test) {
    const logits = patchLogits(head, set.features, i);
    for (let k = 0; k < K; k++) {
      const predicted = thresholdLogits(upsampleBilinear(logits.subarray(k * tokens, (k + 1) * tokens), head.grid, size));
      const c = maskCounts(predicted, set.masks[k]!, i * size * size);
      perStructure[k]!.push({image: i, ...c, present: c.tp + c.fn > 0, dice: diceFromCounts(c.tp, c.fp, c.fn), iou: iouFromCounts(c.tp, c.fp, c.fn)});
    }
  }
  // Bootstrap units: the test images of each patient.
  const groupOf = (i: number) => options.groups?.[i] ?? `#${i}`;
  const unitIndex = new Map<string, number>();
  const unitOfRow = test.map((i) => {
    const g = groupOf(i);
    if (!unitIndex.has(g)) unitIndex.set(g, unitIndex.size);
    return unitIndex.get(g)!;
  });
  const rowsOfUnit: number[][] = Array.from({length: unitIndex.size}, () => []);
  unitOfRow.forEach((u, r) => rowsOfUnit[u]!.push(r));
  const scores = head.structures.map((structure, k): StructureScores => {
    const rows = perStructure[k]!;
    const sum = (pick: (s: ImageScore) => boolean) => {
      let tp = 0, fp = 0, fn = 0;
      for (const s of rows) if (pick(s)) { tp += s.tp; fp += s.fp; fn += s.fn; }
      return {tp, fp, fn};
    };
    const all = sum(() => true);
    const present = rows.filter((s) => s.present);
    const mean = (values: number[]) => (values.length ? values.reduce((a, c) => a + c, 0) / values.length : NaN);
    const seed = `${String(options.seed ?? 0)}/${structure}`;
    const pooledCi = (f: typeof diceFromCounts) =>
      bootstrap(rowsOfUnit.length, resamples, `${seed}/pooled`, (draw) => {
        let tp = 0, fp = 0, fn = 0;
        for (const u of draw) for (const r of rowsOfUnit[u]!) { tp += rows[r]!.tp; fp += rows[r]!.fp; fn += rows[r]!.fn; }
        return f(tp, fp, fn);
      });
    const perImageCi = (key: "dice" | "iou") =>
      bootstrap(rowsOfUnit.length, resamples, `${seed}/per-image`, (draw) => {
        let total = 0, count = 0;
        for (const u of draw) for (const r of rowsOfUnit[u]!) if (rows[r]!.present) { total += rows[r]![key]; count++; }
        return count > 0 ? total / count : NaN;
      });
    // Baselines: the mean mask on every test image; the mean shape on the test images that show the structure.
    const everyMask = meanMask(set, train, k);
    let mtp = 0, mfp = 0, mfn = 0;
    for (const s of rows) {
      const c = maskCounts(everyMask, set.masks[k]!, s.image * size * size);
      mtp += c.tp; mfp += c.fp; mfn += c.fn;
    }
    const shape = meanMask(set, train, k, true);
    let btp = 0, bfp = 0, bfn = 0;
    const baseDice: number[] = [];
    for (const s of present) {
      const c = maskCounts(shape, set.masks[k]!, s.image * size * size);
      btp += c.tp; bfp += c.fp; bfn += c.fn;
      baseDice.push(diceFromCounts(c.tp, c.fp, c.fn));
    }
    return {
      structure,
      dice: diceFromCounts(all.tp, all.fp, all.fn),
      diceCi95: pooledCi(diceFromCounts),
      iou: iouFromCounts(all.tp, all.fp, all.fn),
      iouCi95: pooledCi(iouFromCounts),
      perImage: {dice: mean(present.map((s) => s.dice)), diceCi95: perImageCi("dice"), iou: mean(present.map((s) => s.iou)), iouCi95: perImageCi("iou"), images: present.length},
      baseline: {meanMaskDice: diceFromCounts(mtp, mfp, mfn), meanShapeDice: diceFromCounts(btp, bfp, bfn), meanShapePerImageDice: mean(baseDice)},
      pixels: all,
      testImages: test.length
    };
  });
  return {scores, images: perStructure};
}
