// The linear head of a probe: one fully connected layer (torch nn.Linear, weight
// classes x dim, bias classes) on frozen image embeddings, its softmax cross-entropy
// and gradient. Plain Float64 loops over rows picked from the embedding table, so
// nothing is copied and the same code runs in Node and in a browser worker.
import type {Rng} from "../random.js";

/** Rows of an embedding table with their class indices: the training, validation or test set of a probe. */
export interface ProbeRows {
  /** Row-major n x dim embeddings (a whole table); `rows` picks the ones in this set. */
  embeddings: Float32Array;
  dim: number;
  /** Table row of each case. */
  rows: Int32Array;
  /** Class index of each case, aligned with `rows`. */
  labels: Int32Array;
}

export interface LinearHead {
  dim: number;
  classes: number;
  /** classes x dim, row-major: torch's nn.Linear.weight layout. */
  weight: Float64Array;
  bias: Float64Array;
}

/** A trained head and how it was chosen: lowest validation cross-entropy over epochs (paper) or penalties (fast). */
export interface TrainedProbe {
  head: LinearHead;
  /** Mean validation cross-entropy of the kept head (NaN without validation cases). */
  valLoss: number;
  /** Paper mode: the kept epoch (1-based). */
  bestEpoch?: number;
  /** Fast mode: the kept L2 penalty. */
  penalty?: number;
  /** Epochs (paper) or L-BFGS iterations over all penalties (fast). */
  iterations: number;
}

export function zeroHead(dim: number, classes: number): LinearHead {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`linear head: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`linear head: needs at least 2 classes, got ${classes}`);
  return {dim, classes, weight: new Float64Array(dim * classes), bias: new Float64Array(classes)};
}

/** torch.nn.Linear's default initialisation: weight and bias uniform in (-1/sqrt(dim), 1/sqrt(dim)). */
export function initialHead(dim: number, classes: number, rng: Rng): LinearHead {
  const head = zeroHead(dim, classes);
  const bound = 1 / Math.sqrt(dim);
  for (let i = 0; i < head.weight.length; i++) head.weight[i] = rng.uniform(-bound, bound);
  for (let c = 0; c < classes; c++) head.bias[c] = rng.uniform(-bound, bound);
  return head;
}

export function checkRows(set: ProbeRows, classes: number, where: string): void {
  const n = set.embeddings.length / set.dim;
  if (!Number.isInteger(n)) throw new Error(`${where}: ${set.embeddings.length} values are not rows of ${set.dim}`);
  if (set.rows.length !== set.labels.length) throw new Error(`${where}: ${set.rows.length} rows but ${set.labels.length} labels`);
  for (let i = 0; i < set.rows.length; i++) {
    if (!(set.rows[i]! >= 0 && set.rows[i]! < n)) throw new Error(`${where}: row ${set.rows[i]} is outside the table's ${n} rows`);
    if (!(set.labels[i]! >= 0 && set.labels[i]! < classes)) throw new Error(`${where}: label ${set.labels[i]} is not a class index below ${classes}`);
  }
}

/**
 * z = W x + b for the embedding at x[base..base+dim). Two classes per pass share each
 * load of x and keep two partial sums each (about 2x a plain dot-product loop in V8).
 */
function rowLogits(weight: Float64Array, bias: Float64Array, x: Float32Array, base: number, dim: number, classes: number, z: Float64Array): void {
  const even = dim - (dim & 1);
  let c = 0;
  for (; c + 1 < classes; c += 2) {
    const o = c * dim, q = o + dim;
    let s0 = 0, s1 = 0, t0 = 0, t1 = 0;
    for (let k = 0; k < even; k += 2) {
      const a = x[base + k]!, b = x[base + k + 1]!;
      s0 += weight[o + k]! * a;
      s1 += weight[o + k + 1]! * b;
      t0 += weight[q + k]! * a;
      t1 += weight[q + k + 1]! * b;
    }
    if (even < dim) {
      s0 += weight[o + even]! * x[base + even]!;
      t0 += weight[q + even]! * x[base + even]!;
    }
    z[c] = bias[c]! + s0 + s1;
    z[c + 1] = bias[c + 1]! + t0 + t1;
  }
  if (c < classes) {
    const o = c * dim;
    let s0 = 0, s1 = 0;
    for (let k = 0; k < even; k += 2) {
      s0 += weight[o + k]! * x[base + k]!;
      s1 += weight[o + k + 1]! * x[base + k + 1]!;
    }
    if (even < dim) s0 += weight[o + even]! * x[base + even]!;
    z[c] = bias[c]! + s0 + s1;
  }
}

/**
 * gradWeight += sum over `count` (1-4) cases of g_i x_i^T, g_i = g[i*classes..]: four
 * cases and two classes per pass, so each gradient entry is loaded and stored once per
 * four cases (the update is bound by memory traffic, not arithmetic).
 */
function addOuter(gradWeight: Float64Array, g: Float64Array, x: Float32Array, bases: Int32Array, count: number, dim: number, classes: number): void {
  if (count === 4) {
    const b0 = bases[0]!, b1 = bases[1]!, b2 = bases[2]!, b3 = bases[3]!;
    let c = 0;
    for (; c + 1 < classes; c += 2) {
      const o = c * dim, q = o + dim;
      const g0 = g[c]!, g1 = g[classes + c]!, g2 = g[2 * classes + c]!, g3 = g[3 * classes + c]!;
      const h0 = g[c + 1]!, h1 = g[classes + c + 1]!, h2 = g[2 * classes + c + 1]!, h3 = g[3 * classes + c + 1]!;
      for (let k = 0; k < dim; k++) {
        const a0 = x[b0 + k]!, a1 = x[b1 + k]!, a2 = x[b2 + k]!, a3 = x[b3 + k]!;
        gradWeight[o + k] += g0 * a0 + g1 * a1 + g2 * a2 + g3 * a3;
        gradWeight[q + k] += h0 * a0 + h1 * a1 + h2 * a2 + h3 * a3;
      }
    }
    if (c < classes) {
      const o = c * dim;
      const g0 = g[c]!, g1 = g[classes + c]!, g2 = g[2 * classes + c]!, g3 = g[3 * classes + c]!;
      for (let k = 0; k < dim; k++) gradWeight[o + k] += g0 * x[b0 + k]! + g1 * x[b1 + k]! + g2 * x[b2 + k]! + g3 * x[b3 + k]!;
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    const base = bases[i]!;
    for (let c = 0; c < classes; c++) {
      const o = c * dim, gi = g[i * classes + c]!;
      for (let k = 0; k < dim; k++) gradWeight[o + k] += gi * x[base + k]!;
    }
  }
}

/**
 * Mean softmax cross-entropy of the head over cases `order[start..end)` of `set`
 * (all cases in their order when `order` is null). With `gradWeight`/`gradBias`, also
 * writes the gradient of that mean (overwriting them).
 */
export function crossEntropy(
  head: LinearHead,
  set: ProbeRows,
  order: ArrayLike<number> | null = null,
  start = 0,
  end = order ? order.length : set.rows.length,
  gradWeight?: Float64Array,
  gradBias?: Float64Array
): number {
  const {dim, classes, weight, bias} = head;
  const x = set.embeddings;
  const count = end - start;
  if (count <= 0) return Number.NaN;
  const z = new Float64Array(classes);
  const withGrad = gradWeight !== undefined && gradBias !== undefined;
  if (withGrad) {
    gradWeight.fill(0);
    gradBias.fill(0);
  }
  // Gradients of up to four cases wait here for one addOuter pass.
  const pending = new Float64Array(4 * classes);
  const bases = new Int32Array(4);
  let waiting = 0;
  const scale = 1 / count;
  let loss = 0;
  for (let p = start; p < end; p++) {
    const j = order ? order[p]! : p;
    const base = set.rows[j]! * dim;
    rowLogits(weight, bias, x, base, dim, classes, z);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (z[c]! > max) max = z[c]!;
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[c]! - max);
    const lse = max + Math.log(sum);
    const label = set.labels[j]!;
    loss += lse - z[label]!;
    if (withGrad) {
      const at = waiting * classes;
      for (let c = 0; c < classes; c++) {
        const g = (Math.exp(z[c]! - lse) - (c === label ? 1 : 0)) * scale;
        pending[at + c] = g;
        gradBias[c] += g;
      }
      bases[waiting++] = base;
      if (waiting === 4) {
        addOuter(gradWeight, pending, x, bases, 4, dim, classes);
        waiting = 0;
      }
    }
  }
  if (withGrad && waiting > 0) addOuter(gradWeight!, pending, x, bases, waiting, dim, classes);
  return loss * scale;
}

/** Logits (cases x classes, row-major) of the head for every case of `set`. */
export function headLogits(head: LinearHead, set: Pick<ProbeRows, "embeddings" | "dim" | "rows">): Float64Array {
  const {dim, classes, weight, bias} = head;
  if (set.dim !== dim) throw new Error(`headLogits: the head takes ${dim}-d embeddings, the set has ${set.dim}`);
  const out = new Float64Array(set.rows.length * classes);
  const x = set.embeddings;
  const z = new Float64Array(classes);
  for (let i = 0; i < set.rows.length; i++) {
    rowLogits(weight, bias, x, set.rows[i]! * dim, dim, classes, z);
    out.set(z, i * classes);
  }
  return out;
}

/** Row-wise softmax of cases x classes logits (a new array). */
export function softmaxRows(logits: Float64Array, classes: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += out[i + c] = Math.exp(logits[i + c]! - max);
    for (let c = 0; c < classes; c++) out[i + c] /= sum;
  }
  return out;
}

/** Argmax class of each row (ties: the lower index, as torch.argmax). */
export function argmaxRows(logits: Float64Array, classes: number): Int32Array {
  const out = new Int32Array(logits.length / classes);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    out[i] = best;
  }
  return out;
}
