// Projection and neighbours in the core (src/lib/projection): PCA against a direct
// eigendecomposition, exact neighbours against brute force, trustworthiness against
// sklearn, and UMAP's determinism and cluster separation.
import {EigenvalueDecomposition, Matrix} from "ml-matrix";
import {UMAP} from "umap-js";
import umapCurve from "umap-js/dist/umap.js";
import {describe, expect, it} from "vitest";
import {cosineNeighbours, euclideanNeighbours, nearestTo} from "../src/lib/projection/neighbours.js";
import {fitPca} from "../src/lib/projection/pca.js";
import {syntheticEmbeddings} from "../src/lib/projection/syntheticEmbeddings.js";
import {layoutQuality, trustworthiness} from "../src/lib/projection/trustworthiness.js";
import {fuzzyGraph, powB, powTables, umapLayout} from "../src/lib/projection/umap.js";
import {createRng} from "../src/lib/random.js";

/** n rows of dim values with independent normal scores of the given spreads along random orthonormal axes. */
function knownAxes(n: number, dim: number, spreads: number[], seed: number) {
  const rng = createRng(seed);
  const raw = Matrix.from1DArray(dim, dim, Array.from({length: dim * dim}, () => rng.normal()));
  const axes = new EigenvalueDecomposition(raw.mmul(raw.transpose()), {assumeSymmetric: true}).eigenvectorMatrix; // orthonormal columns
  const vectors = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < spreads.length; a++) {
      const z = rng.normal(0, spreads[a]!);
      for (let c = 0; c < dim; c++) vectors[i * dim + c]! += z * axes.get(c, a);
    }
    for (let c = 0; c < dim; c++) vectors[i * dim + c]! += 3 + 0.01 * rng.normal(); // offset + noise floor
  }
  return {vectors, axes};
}

/** Sample covariance eigenpairs by ml-matrix's full symmetric eigendecomposition, largest first. */
function directEigen(vectors: Float32Array, n: number, dim: number) {
  const x = Matrix.from1DArray(n, dim, Array.from(vectors));
  const centred = x.clone().subRowVector(x.mean("column"));
  const cov = centred.transpose().mmul(centred).div(n - 1);
  const evd = new EigenvalueDecomposition(cov, {assumeSymmetric: true});
  const order = evd.realEigenvalues.map((_, i) => i).sort((a, b) => evd.realEigenvalues[b]! - evd.realEigenvalues[a]!);
  return {values: order.map((i) => evd.realEigenvalues[i]!), vectors: order.map((i) => evd.eigenvectorMatrix.getColumn(i))};
}

describe("fitPca (src/lib/projection/pca.ts)", () => {
  it("finds the variances and axes of data built on known principal axes, as a direct eigendecomposition does", () => {
    const n = 3000, dim = 12, spreads = [6, 4, 3, 2, 1];
    const {vectors, axes} = knownAxes(n, dim, spreads, 1);
    const pca = fitPca(vectors, n, dim, 5);
    const direct = directEigen(vectors, n, dim);
    expect(pca.k).toBe(5);
    for (let j = 0; j < 5; j++) {
      expect(pca.explainedVariance[j]!).toBeCloseTo(direct.values[j]!, 6);
      // Sample variances are within a few per cent of the generating spreads squared.
      expect(pca.explainedVariance[j]! / spreads[j]! ** 2).toBeGreaterThan(0.93);
      expect(pca.explainedVariance[j]! / spreads[j]! ** 2).toBeLessThan(1.07);
      let withDirect = 0, withTruth = 0;
      for (let c = 0; c < dim; c++) {
        withDirect += pca.components[j * dim + c]! * direct.vectors[j]![c]!;
        withTruth += pca.components[j * dim + c]! * axes.get(c, j);
      }
      expect(Math.abs(withDirect)).toBeGreaterThan(0.999999);
      expect(Math.abs(withTruth)).toBeGreaterThan(0.999);
    }
    const total = direct.values.reduce((a, b) => a + b, 0);
    expect(pca.totalVariance).toBeCloseTo(total, 6);
    const kept = pca.explainedVariance.reduce((a, b) => a + b, 0) / pca.totalVariance;
    expect(kept).toBeGreaterThan(0.9999); // only the 0.01 noise floor is left out
  });

  it("projects onto unit axes through the mean: scores have zero mean and the axes' variances", () => {
    const n = 500, dim = 8;
    const {vectors} = knownAxes(n, dim, [5, 2, 1], 2);
    const pca = fitPca(vectors, n, dim, 3);
    for (let j = 0; j < 3; j++) {
      let sum = 0, sq = 0, norm = 0, largest = 0;
      for (let i = 0; i < n; i++) sum += pca.projected[i * 3 + j]!;
      for (let i = 0; i < n; i++) sq += (pca.projected[i * 3 + j]! - sum / n) ** 2;
      for (let c = 0; c < dim; c++) {
        const v = pca.components[j * dim + c]!;
        norm += v * v;
        if (Math.abs(v) > Math.abs(largest)) largest = v;
      }
      expect(Math.abs(sum / n)).toBeLessThan(1e-4);
      expect(sq / (n - 1)).toBeCloseTo(pca.explainedVariance[j]!, 3);
      expect(norm).toBeCloseTo(1, 6);
      expect(largest).toBeGreaterThan(0); // the sign convention
    }
  });

  it("matches the direct eigendecomposition on a 100-dim decaying spectrum (subspace iteration converged)", () => {
    const n = 800, dim = 100;
    const spreads = Array.from({length: 40}, (_, j) => 10 * 0.88 ** j);
    const {vectors} = knownAxes(n, dim, spreads, 3);
    const pca = fitPca(vectors, n, dim, 20);
    const direct = directEigen(vectors, n, dim);
    for (let j = 0; j < 20; j++) expect(pca.explainedVariance[j]! / direct.values[j]!).toBeCloseTo(1, 6);
  });

  it("finds nearly the same axes from a sample of rows (fitRows) and still projects every row", () => {
    const n = 4000, dim = 20;
    const {vectors} = knownAxes(n, dim, [6, 4, 3, 2, 1], 5);
    const full = fitPca(vectors, n, dim, 5);
    const sampled = fitPca(vectors, n, dim, 5, {fitRows: 1000, seed: 2});
    expect(sampled.projected.length).toBe(n * 5);
    for (let j = 0; j < 5; j++) {
      let cos = 0;
      for (let c = 0; c < dim; c++) cos += full.components[j * dim + c]! * sampled.components[j * dim + c]!;
      expect(Math.abs(cos)).toBeGreaterThan(0.99);
      expect(sampled.explainedVariance[j]! / full.explainedVariance[j]!).toBeGreaterThan(0.9);
      expect(sampled.explainedVariance[j]! / full.explainedVariance[j]!).toBeLessThan(1.1);
    }
    expect(() => fitPca(vectors, n, dim, 5, {fitRows: 1})).toThrow(/fitRows must be an integer >= 2/);
  });

  it("keeps min(k, dim, n) components and is deterministic", () => {
    const {vectors} = knownAxes(40, 6, [3, 2, 1], 4);
    const a = fitPca(vectors, 40, 6, 50);
    const b = fitPca(vectors, 40, 6, 50);
    expect(a.k).toBe(6);
    expect(Buffer.from(a.projected.buffer).equals(Buffer.from(b.projected.buffer))).toBe(true);
    expect(() => fitPca(vectors, 41, 6, 2)).toThrow(/expected 41 x 6 = 246 values, got 240/);
  });
});

/** Brute-force reference: every other row sorted by similarity (descending), ties by index. */
function bruteForce(vectors: Float32Array, n: number, dim: number, k: number, score: (i: number, j: number) => number) {
  const index: number[][] = [], value: number[][] = [];
  for (let i = 0; i < n; i++) {
    const others = Array.from({length: n}, (_, j) => j).filter((j) => j !== i);
    const s = others.map((j) => score(i, j));
    const order = others.map((_, t) => t).sort((a, b) => s[b]! - s[a]! || others[a]! - others[b]!);
    index.push(order.slice(0, k).map((t) => others[t]!));
    value.push(order.slice(0, k).map((t) => s[t]!));
  }
  return {index, value};
}

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({length: n * dim}, () => rng.normal());
}

describe("exact neighbours (src/lib/projection/neighbours.ts)", () => {
  const n = 300, dim = 24, k = 10;
  const vectors = randomRows(n, dim, 5);
  // Row 7 duplicated at 200 and 250 (scaled, same direction): cosine ties that must break by index.
  for (const copy of [200, 250]) for (let c = 0; c < dim; c++) vectors[copy * dim + c] = vectors[7 * dim + c]! * (copy === 200 ? 2 : 0.5);
  const cos = (i: number, j: number) => {
    let s = 0, a = 0, b = 0;
    for (let c = 0; c < dim; c++) {
      s += vectors[i * dim + c]! * vectors[j * dim + c]!;
      a += vectors[i * dim + c]! ** 2;
      b += vectors[j * dim + c]! ** 2;
    }
    return s / Math.sqrt(a * b);
  };

  it("cosineNeighbours equals a brute-force sort, cosine values included, self excluded", () => {
    const result = cosineNeighbours(vectors, n, dim, k);
    const reference = bruteForce(vectors, n, dim, k, cos);
    let compared = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const ref = reference.index[i]![j]!;
        const got = result.index[i * k + j]!;
        // Duplicates have cosine 1 to each other up to rounding; the reference may order them by that noise.
        if (got !== ref) expect([7, 200, 250]).toContain(got);
        else compared++;
        expect(result.cosine[i * k + j]!).toBeCloseTo(reference.value[i]![j]!, 6);
        expect(got).not.toBe(i);
      }
    }
    expect(compared).toBeGreaterThan(n * k - 12);
    // The three copies list each other first, lower index first.
    expect(Array.from(result.index.subarray(7 * k, 7 * k + 2))).toEqual([200, 250]);
    expect(Array.from(result.index.subarray(200 * k, 200 * k + 2))).toEqual([7, 250]);
    expect(Array.from(result.index.subarray(250 * k, 250 * k + 2))).toEqual([7, 200]);
    // Ties elsewhere: row 3's neighbours that are copies of 7 appear in index order.
    const row3 = Array.from(result.index.subarray(3 * k, 4 * k));
    const copies = row3.filter((j) => j === 7 || j === 200 || j === 250);
    expect(copies).toEqual([...copies].sort((a, b) => a - b));
  });

  it("nearestTo gives, bit for bit, the row cosineNeighbours gives", () => {
    const all = cosineNeighbours(vectors, n, dim, k);
    for (const q of [0, 7, 123, 250, n - 1]) {
      const one = nearestTo(vectors, n, dim, q, k);
      expect(Array.from(one.index)).toEqual(Array.from(all.index.subarray(q * k, q * k + k)));
      expect(Array.from(one.cosine)).toEqual(Array.from(all.cosine.subarray(q * k, q * k + k)));
    }
    expect(() => nearestTo(vectors, n, dim, n, k)).toThrow(/queryIndex/);
    expect(() => cosineNeighbours(vectors, n, dim, n)).toThrow(/k = 300 needs at least 301 rows/);
  });

  it("euclideanNeighbours equals a brute-force sort with distances", () => {
    const rows = randomRows(200, 7, 6);
    const dist = (i: number, j: number) => {
      let s = 0;
      for (let c = 0; c < 7; c++) s += (rows[i * 7 + c]! - rows[j * 7 + c]!) ** 2;
      return Math.sqrt(s);
    };
    const result = euclideanNeighbours(rows, 200, 7, 8);
    const reference = bruteForce(rows, 200, 7, 8, (i, j) => -dist(i, j));
    expect(Array.from(result.index)).toEqual(reference.index.flat());
    result.distance.forEach((d, t) => expect(d).toBeCloseTo(-reference.value.flat()[t]!, 5));
  });
});

describe("trustworthiness (src/lib/projection/trustworthiness.ts)", () => {
  it("is 1 for a layout that is the data itself and near chance for a random layout", () => {
    const n = 400;
    const data = randomRows(n, 2, 7);
    expect(trustworthiness(data, n, 2, data, 2, 10)).toBe(1);
    const shuffled = randomRows(n, 2, 8);
    const random = trustworthiness(data, n, 2, shuffled, 2, 10);
    expect(random).toBeGreaterThan(0.4);
    expect(random).toBeLessThan(0.6);
    // Scaling or rotating the layout changes nothing.
    const rotated = Float32Array.from({length: n * 2}, (_, t) => (t % 2 === 0 ? -3 * data[t + 1]! : 3 * data[t - 1]!));
    expect(trustworthiness(data, n, 2, rotated, 2, 10)).toBe(1);
  });

  it("counts each intruder's excess rank by hand: 10 points on a line, the two ends swapped in the layout", () => {
    // Original x = 0..9; the layout puts point 0 at 9 and point 9 at 0. With k = 2 (ties to the lower index):
    //   point 0: layout neighbours 8, 7 have original ranks 8, 7    -> (8 - 2) + (7 - 2) = 11
    //   point 9: layout neighbours 1, 2 have original ranks 8, 7    -> 11
    //   point 1: layout neighbours 2, 9 (tie at 1); 9 ranks 9th     -> 7
    //   point 8: layout neighbours 0, 7 (tie at 1); 0 ranks 9th     -> 7
    // T = 1 - 2 / (n k (2n - 3k - 1)) * 36 = 1 - 72 / 260.
    const n = 10;
    const original = Float32Array.from({length: n}, (_, i) => i);
    const position = (i: number) => (i === 0 ? 9 : i === 9 ? 0 : i);
    const layout = Float32Array.from({length: n * 2}, (_, t) => (t % 2 === 1 ? 0 : position(t / 2)));
    expect(trustworthiness(original, n, 1, layout, 2, 2)).toBeCloseTo(1 - 72 / 260, 12);
  });

  it("equals sklearn.manifold.trustworthiness on a case built from a formula, euclidean and cosine", () => {
    // Reference numbers from Debian's python3-sklearn 1.2.1 (apt), run once:
    //   X[i][j] = sin(0.37 i (j + 1) + j) + 0.1 cos(1.7 i + 3 j), n = 60, d = 5
    //   Y[i] = (X[i][0] + 0.3 sin(5 i), X[i][1] + 0.3 cos(7 i))
    //   trustworthiness(X, Y, n_neighbors=k[, metric="cosine"])
    const n = 60, d = 5;
    const x = Float64Array.from({length: n * d}, (_, t) => {
      const i = Math.floor(t / d), j = t % d;
      return Math.sin(0.37 * i * (j + 1) + j) + 0.1 * Math.cos(1.7 * i + 3 * j);
    });
    const y = Float64Array.from({length: n * 2}, (_, t) => {
      const i = Math.floor(t / 2);
      return t % 2 === 0 ? x[i * d]! + 0.3 * Math.sin(5 * i) : x[i * d + 1]! + 0.3 * Math.cos(7 * i);
    });
    expect(trustworthiness(x, n, d, y, 2, 5)).toBeCloseTo(0.8991025641025641, 12);
    expect(trustworthiness(x, n, d, y, 2, 10)).toBeCloseTo(0.8610861423220973, 12);
    expect(trustworthiness(x, n, d, y, 2, 5, {metric: "cosine"})).toBeCloseTo(0.8934615384615384, 12);
    expect(trustworthiness(x, n, d, y, 2, 10, {metric: "cosine"})).toBeCloseTo(0.8660674157303371, 12);
  });

  it("estimates the full value from a sample of query rows, and reports k-NN overlap", () => {
    const {vectors} = syntheticEmbeddings({n: 600, dim: 32, clusters: 4, seed: 9});
    const layout = fitPca(vectors, 600, 32, 2).projected;
    const full = layoutQuality(vectors, 600, 32, layout, 2, 10, {metric: "cosine"});
    const sampled = layoutQuality(vectors, 600, 32, layout, 2, 10, {metric: "cosine", queries: 300, seed: 1});
    expect(full.queries).toBe(600);
    expect(sampled.queries).toBe(300);
    expect(Math.abs(sampled.trustworthiness - full.trustworthiness)).toBeLessThan(0.02);
    expect(full.knnOverlap).toBeGreaterThan(0);
    expect(full.knnOverlap).toBeLessThan(1);
  });
});

/** Share of each point's k layout neighbours that carry its own label. */
function knnPurity(layout: Float32Array, labels: Int32Array, k: number): number {
  const n = labels.length;
  const {index} = euclideanNeighbours(layout, n, 2, k);
  let same = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) if (labels[index[i * k + j]!] === labels[i]) same++;
  return same / (n * k);
}

describe("umapLayout (src/lib/projection/umap.ts)", () => {
  const n = 600, dim = 64;
  const {vectors, labels} = syntheticEmbeddings({n, dim, clusters: 5, seed: 11});

  it("gives identical bytes for the same seed, different ones for another seed", async () => {
    const a = await umapLayout(vectors, n, dim, {seed: 3, nEpochs: 60});
    const b = await umapLayout(vectors, n, dim, {seed: 3, nEpochs: 60});
    const c = await umapLayout(vectors, n, dim, {seed: 4, nEpochs: 60});
    expect(a.length).toBe(n * 2);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    expect(a.every(Number.isFinite)).toBe(true);
  });

  it("separates well-separated clusters and keeps neighbourhoods (purity, trustworthiness)", async () => {
    const stages = new Set<string>();
    const layout = await umapLayout(vectors, n, dim, {seed: 1, onProgress: (p) => stages.add(p.stage)});
    expect([...stages]).toEqual(["pca", "neighbours", "graph", "layout"]);
    expect(knnPurity(layout, labels, 10)).toBeGreaterThan(0.97);
    const quality = layoutQuality(vectors, n, dim, layout, 2, 15, {metric: "cosine"});
    expect(quality.trustworthiness).toBeGreaterThan(0.9);
    const random = layoutQuality(vectors, n, dim, randomRows(n, 2, 1), 2, 15, {metric: "cosine"});
    expect(quality.trustworthiness - random.trustworthiness).toBeGreaterThan(0.3);
  });

  it("builds umap-js's fuzzy union: symmetric weights in (0, 1], one per direction", () => {
    const k = 5;
    const knn = euclideanNeighbours(vectors, n, dim, k);
    const graph = fuzzyGraph(knn.index, knn.distance, n, k);
    const weights = new Map<string, number>();
    graph.tail.forEach((t, e) => weights.set(`${t}:${graph.head[e]}`, graph.weight[e]!));
    expect(weights.size).toBe(graph.tail.length);
    for (const [key, w] of weights) {
      const [t, h] = key.split(":");
      expect(weights.get(`${h}:${t}`)).toBe(w);
      expect(w).toBeGreaterThan(0);
      expect(w).toBeLessThanOrEqual(1);
    }
    // The nearest neighbour of every row is at distance rho: membership 1, so its edge weighs 1.
    for (let i = 0; i < n; i += 37) expect(weights.get(`${i}:${knn.index[i * k]}`)).toBeCloseTo(1, 12);
  });

  it("takes d2^b from its tables within 5e-5 relative error, and exactly outside them", () => {
    const {b} = umapCurve.findABParams(1, 0.1); // ~0.894: minDist 0.1, spread 1
    const [low, high] = powTables(b);
    let worst = 0;
    for (let d2 = 0.25; d2 < 4096; d2 *= 1.0007) worst = Math.max(worst, Math.abs(powB(d2, b, low, high) / Math.pow(d2, b) - 1));
    expect(worst).toBeGreaterThan(1e-6); // it is an interpolation...
    expect(worst).toBeLessThan(5e-5); // ...a close one
    for (const d2 of [1e-6, 0.1, 0.2499, 4096, 1e5]) expect(powB(d2, b, low, high)).toBeCloseTo(Math.exp(b * Math.log(d2)), 12);
  });

  it("stops when aborted, refuses NaN, and handles 0, 1 and fewer rows than neighbours", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(umapLayout(vectors, n, dim, {signal: controller.signal})).rejects.toThrow("stop");
    expect((await umapLayout(new Float32Array(0), 0, 4)).length).toBe(0);
    expect(Array.from(await umapLayout(new Float32Array(4), 1, 4))).toEqual([0, 0]);
    const broken = vectors.slice(0, 20 * dim);
    broken[3 * dim + 5] = NaN;
    await expect(umapLayout(broken, 20, dim)).rejects.toThrow(/row 3 has a non-finite value \(NaN\) at column 5/);
    const few = await umapLayout(vectors.subarray(0, 6 * dim), 6, dim, {seed: 1});
    expect(few.length).toBe(12);
    expect(few.every(Number.isFinite)).toBe(true);
  });

  it("umap-js itself is deterministic when handed a seeded random (the benchmark's peer)", () => {
    const rows = Array.from({length: 120}, (_, i) => Array.from(vectors.subarray(i * dim, i * dim + dim)));
    const run = () => new UMAP({nNeighbors: 10, nEpochs: 50, random: createRng(5).next}).fit(rows).flat();
    expect(run()).toEqual(run());
  });
});
