// Small linear algebra on flat row-major Float32Array matrices: what CLIP scoring
// needs (normalise, dot, similarity matrix, softmax, ranking) and nothing more.
// Sums accumulate in float64 so results do not depend on summation order noise.

function checkRows(data: ArrayLike<number>, dim: number, fn: string): number {
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${fn}: dim must be a positive integer, got ${dim}`);
  if (data.length % dim !== 0) {
    throw new Error(`${fn}: expected a flat [n, ${dim}] matrix, got ${data.length} values (not a multiple of ${dim})`);
  }
  return data.length / dim;
}

/** Dot product of two equal-length vectors. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: vector lengths differ (${a.length} vs ${b.length})`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Euclidean norm of a vector. */
export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/**
 * L2-normalises each row of a flat [n, dim] matrix (dim defaults to the whole
 * array: one vector). Returns a new array; a zero row is an error, since CLIP
 * embeddings are never zero and a silent NaN would poison every score after it.
 */
export function l2Normalize(data: ArrayLike<number>, dim: number = data.length): Float32Array {
  const rows = checkRows(data, dim, "l2Normalize");
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const offset = r * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += data[offset + i]! * data[offset + i]!;
    const length = Math.sqrt(sum);
    if (!(length > 0) || !Number.isFinite(length)) {
      throw new Error(`l2Normalize: row ${r} has norm ${length}; cannot normalise`);
    }
    for (let i = 0; i < dim; i++) out[offset + i] = data[offset + i]! / length;
  }
  return out;
}

/** Cosine similarity of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const denominator = norm(a) * norm(b);
  if (!(denominator > 0)) throw new Error("cosine: a vector has zero norm");
  return dot(a, b) / denominator;
}

/** Largest absolute elementwise difference of two equal-length arrays (parity checks against reference outputs). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** a [n, dim] times b [m, dim] transposed: the [n, m] matrix of row dot products. */
export function matmulTransposed(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): Float32Array {
  const n = checkRows(a, dim, "matmulTransposed (left)");
  const m = checkRows(b, dim, "matmulTransposed (right)");
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ai = i * dim;
    for (let j = 0; j < m; j++) {
      const bj = j * dim;
      let sum = 0;
      for (let k = 0; k < dim; k++) sum += a[ai + k]! * b[bj + k]!;
      out[i * m + j] = sum;
    }
  }
  return out;
}

/** Softmax over each row of a flat [n, dim] matrix (dim defaults to one row); max-shifted for stability. */
export function softmax(data: ArrayLike<number>, dim: number = data.length): Float32Array {
  const rows = checkRows(data, dim, "softmax");
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const offset = r * dim;
    let max = -Infinity;
    for (let i = 0; i < dim; i++) max = Math.max(max, data[offset + i]!);
    let sum = 0;
    const exps = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      exps[i] = Math.exp(data[offset + i]! - max);
      sum += exps[i]!;
    }
    for (let i = 0; i < dim; i++) out[offset + i] = exps[i]! / sum;
  }
  return out;
}

/** Index of the largest value (the first one on ties, as torch.argmax and numpy do). */
export function argmax(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error("argmax: empty input");
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Indices of the k largest values, largest first; equal values keep index
 * order (a stable descending sort, as Python's sorted(..., reverse=True)).
 */
export function topK(values: ArrayLike<number>, k: number): number[] {
  if (!Number.isInteger(k) || k < 1 || k > values.length) {
    throw new Error(`topK: k must be an integer in [1, ${values.length}], got ${k}`);
  }
  const indices = Array.from({length: values.length}, (_, i) => i);
  indices.sort((i, j) => (values[i]! > values[j]! ? -1 : values[i]! < values[j]! ? 1 : i - j));
  return indices.slice(0, k);
}
