// Principal component analysis of n x dim float32 rows, for reducing CLIP
// embeddings (768 dims for FetalCLIP) before UMAP. The covariance is formed once
// (n * dim^2 / 2 multiply-adds), its leading eigenvectors found by block
// subspace iteration on it (cheap: dim^2 per vector per pass), then refined by
// a Rayleigh-Ritz step; a full eigendecomposition of a 768 x 768 matrix costs
// ~4 s in ml-matrix here, the iteration a few hundred ms.
import {EigenvalueDecomposition, Matrix} from "ml-matrix";
import {createRng} from "../random.js";
import {checkRows} from "./rows.js";

export interface PcaOptions {
  /** Seed of the random start block (the result does not depend on it beyond float rounding). */
  seed?: number | string;
  /** Subspace-iteration passes over the covariance (default 4). */
  iterations?: number;
  /** Extra vectors carried beyond k to speed convergence (default 10). */
  oversample?: number;
  /**
   * Estimate the mean and covariance from at most this many rows (a seeded sample) and project
   * all n rows on the axes found (default: all rows). The covariance costs n dim^2 / 2, the
   * projection only n dim k: for reduction before UMAP a few thousand rows find the axes.
   */
  fitRows?: number;
}

export interface PcaResult {
  /** Number of components kept: min(k, dim, n). */
  k: number;
  /** n x k scores, row-major. */
  projected: Float32Array;
  /** k x dim unit principal axes, row-major, by decreasing variance; each axis's largest entry is positive. */
  components: Float32Array;
  /** Column means removed before projecting (dim). */
  mean: Float64Array;
  /** Variance along each kept axis (sample variance, n - 1 denominator, of the rows fitted). */
  explainedVariance: Float64Array;
  /** Total variance of the rows fitted (trace of the covariance). */
  totalVariance: number;
}

/** All rows, or `limit` of them drawn without replacement with `seed` (kept in row order). */
function sampleRows(vectors: Float32Array, n: number, dim: number, limit: number | undefined, seed: number | string): Float32Array {
  if (limit === undefined || limit >= n) return vectors;
  if (!Number.isInteger(limit) || limit < 2) throw new Error(`fitPca: fitRows must be an integer >= 2, got ${limit}`);
  const order = Array.from({length: n}, (_, i) => i);
  createRng(`${seed}/rows`).shuffle(order);
  const rows = order.slice(0, limit).sort((a, b) => a - b);
  const out = new Float32Array(limit * dim);
  rows.forEach((row, t) => out.set(vectors.subarray(row * dim, row * dim + dim), t * dim));
  return out;
}

/** Column means of the rows. */
function columnMeans(vectors: Float32Array, n: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let c = 0; c < dim; c++) mean[c]! += vectors[i * dim + c]!;
  for (let c = 0; c < dim; c++) mean[c]! /= Math.max(n, 1);
  return mean;
}

// Rows are taken BATCH at a time, centred and stored column-major (zero-padded), so each
// covariance entry gets a BATCH-long dot product per load and store.
const BATCH = 64;

/** The dim x dim sample covariance: upper triangle accumulated batch by batch, then mirrored. */
function covariance(vectors: Float32Array, n: number, dim: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(dim * dim);
  const columns = new Float64Array(dim * BATCH);
  for (let i0 = 0; i0 < n; i0 += BATCH) {
    const m = Math.min(BATCH, n - i0);
    if (m < BATCH) columns.fill(0);
    for (let t = 0; t < m; t++) {
      const o = (i0 + t) * dim;
      for (let c = 0; c < dim; c++) columns[c * BATCH + t] = vectors[o + c]! - mean[c]!;
    }
    for (let a = 0; a < dim; a++) {
      const ca = a * BATCH, row = a * dim;
      for (let b = a; b < dim; b++) {
        const cb = b * BATCH;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let t = 0; t < BATCH; t += 4) {
          s0 += columns[ca + t]! * columns[cb + t]!;
          s1 += columns[ca + t + 1]! * columns[cb + t + 1]!;
          s2 += columns[ca + t + 2]! * columns[cb + t + 2]!;
          s3 += columns[ca + t + 3]! * columns[cb + t + 3]!;
        }
        cov[row + b]! += s0 + s1 + s2 + s3;
      }
    }
  }
  const scale = 1 / Math.max(n - 1, 1);
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b]! * scale;
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return cov;
}

/** cov (dim x dim) times q (dim x l), both row-major: dot products of cov's rows with q's columns. */
function multiply(cov: Float64Array, q: Float64Array, dim: number, l: number): Float64Array {
  const columns = new Float64Array(l * dim);
  for (let r = 0; r < dim; r++) for (let j = 0; j < l; j++) columns[j * dim + r] = q[r * l + j]!;
  const out = new Float64Array(dim * l);
  for (let a = 0; a < dim; a++) {
    const row = a * dim;
    for (let j = 0; j < l; j++) {
      const col = j * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, b = 0;
      for (; b + 3 < dim; b += 4) {
        s0 += cov[row + b]! * columns[col + b]!;
        s1 += cov[row + b + 1]! * columns[col + b + 1]!;
        s2 += cov[row + b + 2]! * columns[col + b + 2]!;
        s3 += cov[row + b + 3]! * columns[col + b + 3]!;
      }
      for (; b < dim; b++) s0 += cov[row + b]! * columns[col + b]!;
      out[a * l + j] = s0 + s1 + s2 + s3;
    }
  }
  return out;
}

/**
 * An orthonormal basis of the columns of a (dim x l, row-major), in place: modified Gram-Schmidt
 * run twice ("twice is enough" for orthogonality to rounding). ml-matrix's QR does the same job
 * through get/set calls at ~300 ms per 768 x 60 block; this takes a few milliseconds.
 */
function orthonormalise(a: Float64Array, dim: number, l: number): Float64Array {
  const column = new Float64Array(dim);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < l; j++) {
      for (let r = 0; r < dim; r++) column[r] = a[r * l + j]!;
      for (let i = 0; i < j; i++) {
        let proj = 0;
        for (let r = 0; r < dim; r++) proj += a[r * l + i]! * column[r]!;
        for (let r = 0; r < dim; r++) column[r]! -= proj * a[r * l + i]!;
      }
      let norm = 0;
      for (let r = 0; r < dim; r++) norm += column[r]! * column[r]!;
      norm = Math.sqrt(norm);
      // A column already in the span of the others (rank-deficient data) becomes a unit axis.
      if (!(norm > 1e-300)) column.fill(0).fill(1, j % dim, (j % dim) + 1);
      const scale = norm > 1e-300 ? 1 / norm : 1;
      for (let r = 0; r < dim; r++) a[r * l + j] = column[r]! * scale;
    }
  }
  return a;
}

/**
 * Projects n rows of `dim` values onto their first k principal components.
 * Deterministic for a given input and seed; components come out in decreasing variance
 * with a fixed sign (largest entry positive), so two runs and two runtimes agree.
 */
export function fitPca(vectors: Float32Array, n: number, dim: number, k: number, options: PcaOptions = {}): PcaResult {
  checkRows("fitPca", vectors, n, dim);
  if (!Number.isInteger(k) || k <= 0) throw new Error(`fitPca: k must be a positive integer, got ${k}`);
  if (n === 0) throw new Error("fitPca: no rows");
  const kept = Math.min(k, dim, n);
  const sample = sampleRows(vectors, n, dim, options.fitRows, options.seed ?? 0);
  const m = sample.length / dim;
  const mean = columnMeans(sample, m, dim);
  const cov = covariance(sample, m, dim, mean);
  let totalVariance = 0;
  for (let c = 0; c < dim; c++) totalVariance += cov[c * dim + c]!;

  const l = Math.min(dim, kept + (options.oversample ?? 10));
  let basis: Float64Array;
  if (l === dim) {
    basis = new Float64Array(dim * dim);
    for (let c = 0; c < dim; c++) basis[c * dim + c] = 1;
  } else {
    const rng = createRng(options.seed ?? 0);
    basis = new Float64Array(dim * l);
    for (let i = 0; i < basis.length; i++) basis[i] = rng.normal();
    basis = orthonormalise(basis, dim, l);
    const passes = options.iterations ?? 4;
    for (let p = 0; p < passes; p++) basis = orthonormalise(multiply(cov, basis, dim, l), dim, l);
  }

  // Rayleigh-Ritz: eigenvectors of basis' cov basis (l x l) rotate the basis onto the axes.
  const cb = multiply(cov, basis, dim, l);
  const small = new Matrix(l, l);
  for (let i = 0; i < l; i++) {
    for (let j = i; j < l; j++) {
      let s = 0;
      for (let r = 0; r < dim; r++) s += basis[r * l + i]! * cb[r * l + j]!;
      small.set(i, j, s);
      small.set(j, i, s);
    }
  }
  const evd = new EigenvalueDecomposition(small, {assumeSymmetric: true});
  const values = evd.realEigenvalues;
  const vectorsSmall = evd.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);

  const components = new Float32Array(kept * dim);
  const explainedVariance = new Float64Array(kept);
  const axis = new Float64Array(dim);
  for (let j = 0; j < kept; j++) {
    const e = order[j]!;
    explainedVariance[j] = Math.max(values[e]!, 0);
    axis.fill(0);
    for (let r = 0; r < dim; r++) {
      let s = 0;
      for (let t = 0; t < l; t++) s += basis[r * l + t]! * vectorsSmall.get(t, e);
      axis[r] = s;
    }
    let norm = 0, largest = 0;
    for (let r = 0; r < dim; r++) {
      norm += axis[r]! * axis[r]!;
      if (Math.abs(axis[r]!) > Math.abs(largest)) largest = axis[r]!;
    }
    const scale = (largest < 0 ? -1 : 1) / Math.sqrt(norm);
    for (let r = 0; r < dim; r++) components[j * dim + r] = axis[r]! * scale;
  }

  const projected = new Float32Array(n * kept);
  const axes = new Float64Array(components); // float64 reads: no per-element float32 conversion
  const centred = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < dim; c++) centred[c] = vectors[i * dim + c]! - mean[c]!;
    for (let j = 0; j < kept; j++) {
      const o = j * dim;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, c = 0;
      for (; c + 3 < dim; c += 4) {
        s0 += centred[c]! * axes[o + c]!;
        s1 += centred[c + 1]! * axes[o + c + 1]!;
        s2 += centred[c + 2]! * axes[o + c + 2]!;
        s3 += centred[c + 3]! * axes[o + c + 3]!;
      }
      for (; c < dim; c++) s0 += centred[c]! * axes[o + c]!;
      projected[i * kept + j] = s0 + s1 + s2 + s3;
    }
  }
  return {k: kept, projected, components, mean, explainedVariance, totalVariance};
}
