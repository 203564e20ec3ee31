// UMAP layout (McInnes, Healy & Melville 2018) of n embedding rows to 2-D, seeded
// and deterministic, in typed arrays. The algorithm is umap-js 1.4.0's, step for
// step (smooth kNN distances, fuzzy union, epochs per sample, its SGD with
// negative sampling and the a/b curve from umap-js's own findABParams), but fed an
// exact kNN graph computed after PCA, started from the first two principal
// components instead of uniform noise, and with d2^b read from interpolation
// tables (relative error < 5e-5). Handed a precomputed 10,000-point kNN graph on
// a busy 2-core machine here, umap-js still took ~20 s to build its graph in
// string-keyed Map sparse matrices and ~125 ms per epoch on arrays of arrays; the
// whole pipeline here is ~4x faster than plain umap-js with the same
// trustworthiness (npm run bench -- umap). embedding-atlas's WASM UMAP was
// not usable: its package exports only an entry that needs Mosaic peers absent
// from the registry, and `dist/umap.js` is not exported, so neither Node nor
// Framework's bundler will resolve it.
// umap-js is CommonJS: its default export is module.exports in Node and in Framework's bundle.
import umapjs from "umap-js/dist/umap.js";
import {createRng, type Rng} from "../random.js";
import {euclideanNeighbours} from "./neighbours.js";
import {fitPca} from "./pca.js";
import {checkRows, unitRows} from "./rows.js";

export type UmapStage = "pca" | "neighbours" | "graph" | "layout";

export interface UmapProgress {
  stage: UmapStage;
  done: number;
  total: number;
}

export interface UmapOptions {
  /** Seed of every random choice (PCA start, initial layout, negative samples); default 0. */
  seed?: number | string;
  /** Neighbourhood size, counting the point itself as umap-learn and umap-js do (default 15). */
  nNeighbors?: number;
  /** Minimum distance between points in the layout (default 0.1). */
  minDist?: number;
  spread?: number;
  /** SGD epochs; default as umap-js: 500 up to 2,500 rows, 400 to 5,000, 300 to 7,500, else 200. */
  nEpochs?: number;
  /** Principal components kept before the neighbour search (default 50; the data's own dim if smaller). */
  pcaDims?: number;
  /** Rows sampled to find the principal axes (default 1,024; all rows are projected). */
  pcaFitRows?: number;
  /** Distance between rows: cosine (default; CLIP embeddings) or euclidean. */
  metric?: "cosine" | "euclidean";
  /** Initial layout: the first two principal components (default) or uniform in [-10, 10] as umap-js. */
  init?: "pca" | "random";
  learningRate?: number;
  negativeSampleRate?: number;
  repulsionStrength?: number;
  onProgress?: (progress: UmapProgress) => void;
  /** Aborts between epochs (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;
// Keeps a page responsive: the layout loop hands the event loop back this often.
const YIELD_EVERY_MS = 40;

/** umap-js's default number of epochs for n rows. */
export function defaultEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : 200;
}

/** The symmetric fuzzy graph as an edge list (both directions), ordered by (tail, head). */
export interface FuzzyGraph {
  tail: Int32Array;
  head: Int32Array;
  weight: Float64Array;
}

/**
 * UMAP's fuzzy simplicial set from a kNN graph of `k` real neighbours per row (self excluded,
 * nearest first): per-row rho and sigma as umap-js's smoothKNNDistance (self counted at distance 0),
 * memberships exp(-(d - rho) / sigma), then the fuzzy union w = p + p' - p p'.
 */
export function fuzzyGraph(index: Int32Array, distance: Float32Array, n: number, k: number): FuzzyGraph {
  const target = Math.log2(k + 1); // umap-js: log2 of nNeighbors, which counts the point itself
  let meanAll = 0;
  for (let i = 0; i < n * k; i++) meanAll += distance[i]!;
  meanAll /= n * (k + 1);
  const member = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let rho = 0;
    for (let j = 0; j < k; j++) {
      if (distance[o + j]! > 0) {
        rho = distance[o + j]!;
        break;
      }
    }
    let lo = 0, hi = Infinity, mid = 1;
    for (let it = 0; it < 64; it++) {
      let psum = 0;
      for (let j = 0; j < k; j++) {
        const d = distance[o + j]! - rho;
        psum += d > 0 ? Math.exp(-(d / mid)) : 1;
      }
      if (Math.abs(psum - target) < SMOOTH_K_TOLERANCE) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    let sigma = mid;
    if (rho > 0) {
      let mean = 0;
      for (let j = 0; j < k; j++) mean += distance[o + j]!;
      mean /= k + 1;
      if (sigma < MIN_K_DIST_SCALE * mean) sigma = MIN_K_DIST_SCALE * mean;
    } else if (sigma < MIN_K_DIST_SCALE * meanAll) {
      sigma = MIN_K_DIST_SCALE * meanAll;
    }
    for (let j = 0; j < k; j++) {
      const d = distance[o + j]! - rho;
      member[o + j] = d <= 0 ? 1 : Math.exp(-(d / sigma));
    }
  }

  const reverse = (from: number, to: number): number => {
    const o = from * k;
    for (let j = 0; j < k; j++) if (index[o + j] === to) return member[o + j]!;
    return -1;
  };
  // Every kNN entry i -> j gives the edge i -> j; an entry without its reverse also gives j -> i.
  // Edges are bucketed by tail (counting sort), then ordered by head within a bucket.
  const back = new Float64Array(n * k);
  const count = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const other = index[i * k + j]!;
      back[i * k + j] = reverse(other, i);
      count[i + 1]!++;
      if (back[i * k + j]! < 0) count[other + 1]!++;
    }
  }
  for (let i = 0; i < n; i++) count[i + 1]! += count[i]!;
  const edges = count[n]!;
  const tail = new Int32Array(edges), head = new Int32Array(edges), weight = new Float64Array(edges);
  const fill = count.slice(0, n);
  const add = (t: number, h: number, w: number) => {
    const e = fill[t]!++;
    tail[e] = t;
    head[e] = h;
    weight[e] = w;
  };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const other = index[i * k + j]!, p = member[i * k + j]!, q = back[i * k + j]!;
      const w = q < 0 ? p : p + q - p * q;
      add(i, other, w);
      if (q < 0) add(other, i, w);
    }
  }
  for (let t = 0; t < n; t++) {
    for (let e = count[t]! + 1; e < count[t + 1]!; e++) {
      const h = head[e]!, w = weight[e]!;
      let f = e;
      while (f > count[t]! && head[f - 1]! > h) {
        head[f] = head[f - 1]!;
        weight[f] = weight[f - 1]!;
        f--;
      }
      head[f] = h;
      weight[f] = w;
    }
  }
  return {tail, head, weight};
}

/** Starting layout in [-10, 10]: the first two principal components rescaled, or uniform draws. */
function initialLayout(scores: Float32Array, n: number, pcs: number, init: "pca" | "random", rng: Rng): Float64Array {
  const y = new Float64Array(n * 2);
  if (init === "random" || pcs < 2) {
    for (let i = 0; i < y.length; i++) y[i] = rng.next() * 20 - 10;
    return y;
  }
  let largest = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) largest = Math.max(largest, Math.abs(scores[i * pcs + c]!));
  }
  const scale = largest > 0 ? 10 / largest : 1;
  // A little jitter so identical rows do not start on the same spot.
  for (let i = 0; i < n; i++) for (let c = 0; c < 2; c++) y[i * 2 + c] = scores[i * pcs + c]! * scale + (rng.next() - 0.5) * 1e-4;
  return y;
}

const clip4 = (x: number) => (x > 4 ? 4 : x < -4 ? -4 : x);

// d2^b (b ~ 0.9 for minDist 0.1) is the layout's cost: exp(b log d2) is a long dependency chain
// in a loop where every step moves the point the next step reads. Linear interpolation in two
// tables (d2 in [0.25, 16) in steps of 1/64, [16, 4096) in steps of 1; 40 KB) has a relative
// error below 5e-5 there (tested) and is ~1.5x faster overall; outside them exp(log) is used.
const POW_LOW_STEPS = 64, POW_LOW_FROM = 0.25, POW_MID_FROM = 16, POW_HIGH_TO = 4096;

/** Tables of x^b for powB: [0] over [0, 16) in steps of 1/64, [1] over [0, 4096] in steps of 1. */
export function powTables(b: number): [Float64Array, Float64Array] {
  const low = Float64Array.from({length: POW_MID_FROM * POW_LOW_STEPS + 1}, (_, i) => Math.pow(i / POW_LOW_STEPS, b));
  const high = Float64Array.from({length: POW_HIGH_TO + 1}, (_, i) => Math.pow(i, b));
  return [low, high];
}

/** d2^b from the tables of powTables(b), or exactly outside their range. */
export function powB(d2: number, b: number, low: Float64Array, high: Float64Array): number {
  if (d2 >= POW_MID_FROM) {
    if (d2 < POW_HIGH_TO) {
      const i = d2 | 0, f = d2 - i;
      return high[i]! + f * (high[i + 1]! - high[i]!);
    }
  } else if (d2 >= POW_LOW_FROM) {
    const u = d2 * POW_LOW_STEPS, i = u | 0, f = u - i;
    return low[i]! + f * (low[i + 1]! - low[i]!);
  }
  return Math.exp(b * Math.log(d2));
}

interface LayoutState {
  /** n x 2 positions, updated in place. */
  y: Float64Array;
  n: number;
  head: Int32Array;
  tail: Int32Array;
  epochsPerSample: Float64Array;
  epochsPerNegative: Float64Array;
  nextSample: Float64Array;
  nextNegative: Float64Array;
  a: number;
  b: number;
  gamma: number;
  random: () => number;
  powLow: Float64Array;
  powHigh: Float64Array;
}

/**
 * One epoch of umap-js's optimizeLayoutStep in 2-D: every edge due this epoch pulls its ends together
 * and pushes its head away from a few random points. A plain function so the engine optimises it
 * whole (a hot loop inside an async function runs slower).
 */
function optimiseEpoch(s: LayoutState, epoch: number, alpha: number): void {
  const {y, n, head, tail, epochsPerSample, epochsPerNegative, nextSample, nextNegative, a, b, gamma, random, powLow, powHigh} = s;
  const edges = head.length;
  for (let e = 0; e < edges; e++) {
    if (nextSample[e]! > epoch) continue;
    const j = head[e]! * 2, t = tail[e]! * 2;
    let dx = y[j]! - y[t]!, dy = y[j + 1]! - y[t + 1]!;
    let d2 = dx * dx + dy * dy;
    if (d2 > 0) {
      const pb = powB(d2, b, powLow, powHigh);
      const coeff = (-2 * a * b * (pb / d2)) / (a * pb + 1);
      const gx = clip4(coeff * dx) * alpha, gy = clip4(coeff * dy) * alpha;
      y[j]! += gx;
      y[j + 1]! += gy;
      y[t]! -= gx;
      y[t + 1]! -= gy;
    }
    nextSample[e]! += epochsPerSample[e]!;
    const negatives = Math.floor((epoch - nextNegative[e]!) / epochsPerNegative[e]!);
    for (let p = 0; p < negatives; p++) {
      const o = Math.floor(random() * n) * 2;
      dx = y[j]! - y[o]!;
      dy = y[j + 1]! - y[o + 1]!;
      d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const coeff = (2 * gamma * b) / ((0.001 + d2) * (a * powB(d2, b, powLow, powHigh) + 1));
        y[j]! += clip4(coeff * dx) * alpha;
        y[j + 1]! += clip4(coeff * dy) * alpha;
      } else if (o !== j) {
        y[j]! += 4 * alpha;
        y[j + 1]! += 4 * alpha;
      }
    }
    nextNegative[e]! += negatives * epochsPerNegative[e]!;
  }
}
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * 2-D UMAP layout of n rows of `dim` values: rows x and y interleaved (n * 2). Steps: (cosine:
 * rows scaled to unit length), PCA to `pcaDims`, exact kNN there, umap-js's graph and SGD.
 * The same input, options and seed give the same bytes in Node and in the browser.
 */
export async function umapLayout(vectors: Float32Array, n: number, dim: number, options: UmapOptions = {}): Promise<Float32Array> {
  checkRows("umapLayout", vectors, n, dim);
  const nNeighbors = options.nNeighbors ?? 15;
  if (!Number.isInteger(nNeighbors) || nNeighbors < 2) throw new Error(`umapLayout: nNeighbors must be an integer >= 2, got ${nNeighbors}`);
  const minDist = options.minDist ?? 0.1;
  const spread = options.spread ?? 1;
  if (!(minDist >= 0) || !(spread > 0) || minDist > spread) throw new Error(`umapLayout: need 0 <= minDist <= spread, got minDist ${minDist}, spread ${spread}`);
  const nEpochs = options.nEpochs ?? defaultEpochs(n);
  if (!Number.isInteger(nEpochs) || nEpochs < 1) throw new Error(`umapLayout: nEpochs must be a positive integer, got ${nEpochs}`);
  const pcaDims = options.pcaDims ?? 50;
  if (!Number.isInteger(pcaDims) || pcaDims < 2) throw new Error(`umapLayout: pcaDims must be an integer >= 2, got ${pcaDims}`);
  const progress = options.onProgress ?? (() => {});
  const signal = options.signal;
  signal?.throwIfAborted();
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i]!)) throw new Error(`umapLayout: row ${Math.floor(i / dim)} has a non-finite value (${vectors[i]}) at column ${i % dim}`);
  }
  if (n === 0) return new Float32Array(0);
  if (n === 1) return new Float32Array(2);

  const rng = createRng(options.seed ?? 0);
  progress({stage: "pca", done: 0, total: 1});
  const rows = options.metric === "euclidean" ? vectors : new Float32Array(unitRows(vectors, n, dim));
  const pca = fitPca(rows, n, dim, pcaDims, {seed: `${options.seed ?? 0}/pca`, fitRows: options.pcaFitRows ?? 1024});
  progress({stage: "pca", done: 1, total: 1});
  await pause();
  signal?.throwIfAborted();

  const k = Math.min(nNeighbors, n) - 1;
  progress({stage: "neighbours", done: 0, total: 1});
  const knn = euclideanNeighbours(pca.projected, n, pca.k, k);
  progress({stage: "neighbours", done: 1, total: 1});
  await pause();
  signal?.throwIfAborted();

  progress({stage: "graph", done: 0, total: 1});
  const graph = fuzzyGraph(knn.index, knn.distance, n, k);
  let maxWeight = 0;
  for (const w of graph.weight) maxWeight = Math.max(maxWeight, w);
  const keep: number[] = [];
  for (let e = 0; e < graph.weight.length; e++) if (graph.weight[e]! >= maxWeight / nEpochs && graph.weight[e]! > 0) keep.push(e);
  const head = Int32Array.from(keep, (e) => graph.head[e]!);
  const tail = Int32Array.from(keep, (e) => graph.tail[e]!);
  const negativeSampleRate = options.negativeSampleRate ?? 5;
  const epochsPerSample = Float64Array.from(keep, (e) => maxWeight / graph.weight[e]!);
  const epochsPerNegative = epochsPerSample.map((s) => s / negativeSampleRate);
  const nextSample = epochsPerSample.slice();
  const nextNegative = epochsPerNegative.slice();
  progress({stage: "graph", done: 1, total: 1});

  const y = initialLayout(pca.projected, n, pca.k, options.init ?? "pca", rng.fork("init"));
  const {a, b} = umapjs.findABParams(spread, minDist);
  const gamma = options.repulsionStrength ?? 1;
  const initialAlpha = options.learningRate ?? 1;
  let alpha = initialAlpha;
  const random = rng.fork("sgd").next;
  let lastYield = Date.now();

  const [powLow, powHigh] = powTables(b);
  const state: LayoutState = {y, n, head, tail, epochsPerSample, epochsPerNegative, nextSample, nextNegative, a, b, gamma, random, powLow, powHigh};
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    optimiseEpoch(state, epoch, alpha);
    alpha = initialAlpha * (1 - epoch / nEpochs);
    if (Date.now() - lastYield > YIELD_EVERY_MS || epoch === nEpochs - 1) {
      progress({stage: "layout", done: epoch + 1, total: nEpochs});
      await pause();
      signal?.throwIfAborted();
      lastYield = Date.now();
    }
  }
  return new Float32Array(y);
}
