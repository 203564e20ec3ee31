// Shared argument checks for the projection modules: every function here takes
// `n` rows of `dim` float32 values laid out row-major in one flat array.

/** Throws a message naming the function and the expected shape when (vectors, n, dim) disagree. */
export function checkRows(fn: string, vectors: ArrayLike<number>, n: number, dim: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${fn}: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`${fn}: dim must be a positive integer, got ${dim}`);
  if (vectors.length !== n * dim) {
    throw new Error(`${fn}: expected ${n} x ${dim} = ${n * dim} values, got ${vectors.length}`);
  }
}

/** Throws when k is not a positive integer below n (a row is never its own neighbour). */
export function checkK(fn: string, k: number, n: number): void {
  if (!Number.isInteger(k) || k <= 0) throw new Error(`${fn}: k must be a positive integer, got ${k}`);
  if (k >= n) throw new Error(`${fn}: k = ${k} needs at least ${k + 1} rows, got ${n}`);
}

/** Rows scaled to unit length, in float64 (a zero row stays zero: cosine 0 to everything). */
export function unitRows(vectors: ArrayLike<number>, n: number, dim: number): Float64Array {
  const out = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += vectors[o + c]! * vectors[o + c]!;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let c = 0; c < dim; c++) out[o + c] = vectors[o + c]! * scale;
  }
  return out;
}
