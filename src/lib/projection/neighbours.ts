// Exact nearest neighbours by brute force over typed arrays: O(n^2 dim), which is
// seconds for the 10,000-image datasets this site explores, with no index to build
// and no approximation to explain. Ties break by the lower row index, so the answer
// is a pure function of the data.
import {checkK, checkRows, unitRows} from "./rows.js";

export interface CosineNeighbours {
  /** n x k neighbour rows, nearest first; a row never lists itself. */
  index: Int32Array;
  /** n x k cosine similarities matching `index`. */
  cosine: Float32Array;
}

export interface EuclideanNeighbours {
  /** n x k neighbour rows, nearest first; a row never lists itself. */
  index: Int32Array;
  /** n x k Euclidean distances matching `index`. */
  distance: Float32Array;
}

/** The k best (score, index) pairs of every row, best first; higher score wins, then lower index. */
class TopK {
  readonly index: Int32Array;
  readonly score: Float64Array;
  constructor(n: number, readonly k: number) {
    this.index = new Int32Array(n * k).fill(-1);
    this.score = new Float64Array(n * k).fill(-Infinity);
  }

  offer(row: number, candidate: number, score: number): void {
    const k = this.k, base = row * k, index = this.index, scores = this.score;
    let slot = base + k - 1;
    const last = index[slot]!;
    if (last !== -1 && (score < scores[slot]! || (score === scores[slot]! && candidate > last))) return;
    while (slot > base) {
      const prev = slot - 1, prevIndex = index[prev]!;
      if (prevIndex !== -1 && (score < scores[prev]! || (score === scores[prev]! && candidate > prevIndex))) break;
      index[slot] = prevIndex;
      scores[slot] = scores[prev]!;
      slot = prev;
    }
    index[slot] = candidate;
    scores[slot] = score;
  }
}

/** Dot product of rows i and j of a flat row-major matrix, four partial sums (a fixed order: same bits everywhere). */
function dotRows(rows: ArrayLike<number>, i: number, other: ArrayLike<number>, j: number, dim: number): number {
  const a = i * dim, b = j * dim;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, c = 0;
  for (; c + 3 < dim; c += 4) {
    s0 += rows[a + c]! * other[b + c]!;
    s1 += rows[a + c + 1]! * other[b + c + 1]!;
    s2 += rows[a + c + 2]! * other[b + c + 2]!;
    s3 += rows[a + c + 3]! * other[b + c + 3]!;
  }
  for (; c < dim; c++) s0 += rows[a + c]! * other[b + c]!;
  return s0 + s1 + s2 + s3;
}

// Rows of the outer block stay in cache while every later row streams past them once.
const BLOCK = 16;

/** Offers every pair i < j once to both rows, scored by their dot product (cosine of unit rows). */
function allPairs(rows: Float64Array, n: number, dim: number, top: TopK): void {
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let j = i0 + 1; j < n; j++) {
      const iEnd = Math.min(i1, j);
      for (let i = i0; i < iEnd; i++) {
        const s = dotRows(rows, i, rows, j, dim);
        top.offer(i, j, s);
        top.offer(j, i, s);
      }
    }
  }
}

/**
 * Exact k nearest neighbours of every row by cosine similarity (rows need not be unit length;
 * a zero row has cosine 0 to everything). Self excluded; ties go to the lower row index.
 */
export function cosineNeighbours(vectors: ArrayLike<number>, n: number, dim: number, k: number): CosineNeighbours {
  checkRows("cosineNeighbours", vectors, n, dim);
  checkK("cosineNeighbours", k, n);
  const top = new TopK(n, k);
  allPairs(unitRows(vectors, n, dim), n, dim, top);
  return {index: top.index, cosine: new Float32Array(top.score)};
}

/**
 * Exact k nearest neighbours of every row by Euclidean distance; self excluded, ties to the lower index.
 * The squared distance is summed coordinate by coordinate and a pair is dropped as soon as the partial
 * sum exceeds both rows' current k-th distance: a partial sum of squares never exceeds the full one, in
 * floating point too, so nothing is lost. On PCA scores (largest variance first) most pairs stop after
 * a few coordinates.
 */
export function euclideanNeighbours(vectors: ArrayLike<number>, n: number, dim: number, k: number): EuclideanNeighbours {
  checkRows("euclideanNeighbours", vectors, n, dim);
  checkK("euclideanNeighbours", k, n);
  const rows = Float64Array.from(vectors);
  const top = new TopK(n, k);
  const scores = top.score;
  // Squared k-th distance of each row so far (+Infinity until k candidates were seen).
  const bound = new Float64Array(n).fill(Infinity);
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let j = i0 + 1; j < n; j++) {
      const iEnd = Math.min(i1, j), b = j * dim;
      for (let i = i0; i < iEnd; i++) {
        const limit = Math.max(bound[i]!, bound[j]!);
        const a = i * dim;
        let s = 0, c = 0;
        for (; c < dim; c++) {
          const d = rows[a + c]! - rows[b + c]!;
          s += d * d;
          if (s > limit) break;
        }
        if (c < dim) continue;
        top.offer(i, j, -s);
        top.offer(j, i, -s);
        bound[i] = -scores[i * k + k - 1]!;
        bound[j] = -scores[j * k + k - 1]!;
      }
    }
  }
  return {index: top.index, distance: Float32Array.from(top.score, (s) => Math.sqrt(-s))};
}

/**
 * The k rows most cosine-similar to row `queryIndex` (itself excluded), nearest first, ties to the
 * lower index: what the page shows when a point is clicked. O(n dim), no precomputation.
 */
export function nearestTo(
  vectors: ArrayLike<number>,
  n: number,
  dim: number,
  queryIndex: number,
  k: number
): {index: Int32Array; cosine: Float32Array} {
  checkRows("nearestTo", vectors, n, dim);
  if (!Number.isInteger(queryIndex) || queryIndex < 0 || queryIndex >= n) {
    throw new Error(`nearestTo: queryIndex must be a row in [0, ${n}), got ${queryIndex}`);
  }
  checkK("nearestTo", k, n);
  // Same arithmetic as cosineNeighbours (rows scaled to unit length, then summed in order), so the
  // page's answer for one point equals the precomputed one bit for bit.
  const q = queryIndex * dim;
  const query = unitRows(Float64Array.from({length: dim}, (_, c) => vectors[q + c]!), 1, dim);
  const row = new Float64Array(dim);
  const top = new TopK(1, k);
  for (let j = 0; j < n; j++) {
    if (j === queryIndex) continue;
    const b = j * dim;
    let bb = 0;
    for (let c = 0; c < dim; c++) bb += vectors[b + c]! * vectors[b + c]!;
    const scale = bb > 0 ? 1 / Math.sqrt(bb) : 0;
    for (let c = 0; c < dim; c++) row[c] = vectors[b + c]! * scale;
    top.offer(0, j, dotRows(query, 0, row, 0, dim));
  }
  return {index: top.index, cosine: new Float32Array(top.score)};
}
