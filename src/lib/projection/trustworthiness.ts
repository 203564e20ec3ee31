// How faithfully a low-dimensional layout keeps each point's neighbours.
// Trustworthiness (Venna & Kaski 2001), as sklearn.manifold.trustworthiness
// defines it: with r(i, j) the rank of j among i's neighbours in the original
// space (1 = nearest), and U_i the layout's k nearest neighbours of i that are
// not among its k nearest in the original space,
//   T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_i} (r(i, j) - k).
// 1 means no layout neighbour is an intruder. k-NN overlap is the mean share of
// a point's k original neighbours that the layout also puts among its k nearest.
// Cost: O(q n dim) for q query points (all n by default), typed arrays only.
import {createRng} from "../random.js";
import {checkK, checkRows, unitRows} from "./rows.js";

export interface LayoutQualityOptions {
  /** Distance in the original space: euclidean (default, as sklearn) or cosine. The layout is always euclidean. */
  metric?: "euclidean" | "cosine";
  /**
   * Rows whose neighbourhoods are scored: all (default), a count drawn without replacement with
   * `seed`, or explicit row numbers. Ranks always run over all n rows; the result then estimates
   * the full-data value.
   */
  queries?: number | Int32Array;
  seed?: number | string;
}

export interface LayoutQuality {
  trustworthiness: number;
  /** Mean |kNN_original(i) ∩ kNN_layout(i)| / k. */
  knnOverlap: number;
  /** Number of query rows scored. */
  queries: number;
}

function queryRows(n: number, queries: number | Int32Array | undefined, seed: number | string): Int32Array {
  if (queries === undefined) return Int32Array.from({length: n}, (_, i) => i);
  if (typeof queries !== "number") return queries;
  if (!Number.isInteger(queries) || queries <= 0) throw new Error(`layoutQuality: queries must be a positive integer, got ${queries}`);
  if (queries >= n) return Int32Array.from({length: n}, (_, i) => i);
  const rows = Array.from({length: n}, (_, i) => i);
  createRng(seed).shuffle(rows);
  return Int32Array.from(rows.slice(0, queries)).sort();
}

/** Distances (or any order-preserving stand-in) from row q to every row; self set to +Infinity. */
function distancesFrom(rows: ArrayLike<number>, n: number, dim: number, q: number, cosine: boolean, out: Float64Array): void {
  const o = q * dim;
  for (let j = 0; j < n; j++) {
    const p = j * dim;
    let s = 0;
    if (cosine) {
      for (let c = 0; c < dim; c++) s += rows[o + c]! * rows[p + c]!;
      out[j] = 1 - s;
    } else {
      for (let c = 0; c < dim; c++) {
        const d = rows[o + c]! - rows[p + c]!;
        s += d * d;
      }
      out[j] = s;
    }
  }
  out[q] = Infinity;
}

/** Indices of the k smallest entries of `values` (ties to the lower index), in increasing order of value. */
function smallest(values: Float64Array, k: number, out: Int32Array): void {
  let filled = 0;
  for (let j = 0; j < values.length; j++) {
    const v = values[j]!;
    if (filled === k && v >= values[out[k - 1]!]!) continue;
    let slot = filled < k ? filled++ : k - 1;
    while (slot > 0 && values[out[slot - 1]!]! > v) {
      out[slot] = out[slot - 1]!;
      slot--;
    }
    out[slot] = j;
  }
}

/**
 * Trustworthiness and k-NN overlap of `layout` (n x layoutDim) against the original rows (n x dim).
 * Ranks in the original space break ties by row index (sklearn leaves them to argsort).
 */
export function layoutQuality(
  original: ArrayLike<number>,
  n: number,
  dim: number,
  layout: ArrayLike<number>,
  layoutDim: number,
  k: number,
  options: LayoutQualityOptions = {}
): LayoutQuality {
  checkRows("layoutQuality", original, n, dim);
  checkRows("layoutQuality (layout)", layout, n, layoutDim);
  checkK("layoutQuality", k, n);
  if (2 * n - 3 * k - 1 <= 0) throw new Error(`layoutQuality: k = ${k} is too large for ${n} rows (need k < (2n - 1) / 3)`);
  const cosine = options.metric === "cosine";
  const rows = cosine ? unitRows(original, n, dim) : original;
  const queries = queryRows(n, options.queries, options.seed ?? 0);
  const high = new Float64Array(n), low = new Float64Array(n);
  const highNearest = new Int32Array(k), lowNearest = new Int32Array(k);
  const inHigh = new Uint8Array(n);
  let penalty = 0, shared = 0;
  for (const q of queries) {
    distancesFrom(rows, n, dim, q, cosine, high);
    distancesFrom(layout, n, layoutDim, q, false, low);
    smallest(high, k, highNearest);
    smallest(low, k, lowNearest);
    for (const j of highNearest) inHigh[j] = 1;
    for (const j of lowNearest) {
      if (inHigh[j]) {
        shared++;
        continue;
      }
      // Rank of j among q's original neighbours: rows strictly nearer, or as near with a lower index.
      const dj = high[j]!;
      let rank = 1;
      for (let m = 0; m < n; m++) {
        const dm = high[m]!;
        if (dm < dj || (dm === dj && m < j)) rank++;
      }
      penalty += rank - k;
    }
    for (const j of highNearest) inHigh[j] = 0;
  }
  const scale = queries.length / n; // a sample of queries estimates the sum over all n rows
  const trust = 1 - (penalty / scale) * (2 / (n * k * (2 * n - 3 * k - 1)));
  return {trustworthiness: trust, knnOverlap: shared / (queries.length * k), queries: queries.length};
}

/** sklearn.manifold.trustworthiness(original, layout, n_neighbors=k) (metric euclidean unless given). */
export function trustworthiness(
  original: ArrayLike<number>,
  n: number,
  dim: number,
  layout: ArrayLike<number>,
  layoutDim: number,
  k: number,
  options: LayoutQualityOptions = {}
): number {
  return layoutQuality(original, n, dim, layout, layoutDim, k, options).trustworthiness;
}
