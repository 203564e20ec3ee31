import {describe, expect, it} from "vitest";
import {auroc, aurocWithCi, meanAurocWithCi, rocCurve} from "../src/lib/probes/roc.js";
import {createRng} from "../src/lib/random.js";

/** P(positive score > negative score) + 0.5 P(tie), by brute force over all pairs. */
function pairwiseAuroc(scores: number[], labels: number[]): number {
  let wins = 0, pairs = 0;
  scores.forEach((s, i) => scores.forEach((t, j) => {
    if (labels[i] === 1 && labels[j] === 0) {
      pairs += 1;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    }
  }));
  return wins / pairs;
}

describe("ROC and AUROC", () => {
  it("give sklearn's curve and area on its documented example", () => {
    // sklearn.metrics.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), drop_intermediate=False; roc_auc_score = 0.75.
    const curve = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    expect(curve.fpr).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(curve.tpr).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(curve.thresholds).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it("count a tie between a positive and a negative as a half, like the Mann-Whitney statistic", () => {
    expect(auroc([1, 1, 0], [1, 0, 0])).toBe(0.75);
    const rng = createRng("roc-ties");
    const scores = Array.from({length: 60}, () => Math.round(rng.uniform(0, 5)));
    const labels = scores.map((s) => (rng.chance(0.2 + 0.12 * s) ? 1 : 0));
    expect(auroc(scores, labels)).toBeCloseTo(pairwiseAuroc(scores, labels), 12);
  });

  it("refuse one-class labels, mismatched lengths and non-finite scores", () => {
    expect(() => auroc([0.2, 0.3], [1, 1])).toThrow(/both classes/);
    expect(() => auroc([0.2], [1, 0])).toThrow(/1 scores for 2 labels/);
    expect(() => auroc([NaN, 0.3], [1, 0])).toThrow(/score 0 is not a finite number/);
  });

  it("bootstrap a 95% CI that holds the estimate, repeats for a seed and narrows with more cases", () => {
    const draw = (n: number, seed: string) => {
      const rng = createRng(seed);
      const labels = Array.from({length: n}, (_, i) => i % 2);
      const scores = labels.map((y) => rng.normal(y * 1.0, 1));
      return {scores, labels};
    };
    const small = draw(60, "a");
    const big = draw(600, "a");
    const a = aurocWithCi(small.scores, small.labels, {resamples: 500, seed: 3});
    const b = aurocWithCi(small.scores, small.labels, {resamples: 500, seed: 3});
    expect(a).toEqual(b);
    expect(a.ci95[0]).toBeLessThan(a.auroc);
    expect(a.ci95[1]).toBeGreaterThan(a.auroc);
    const c = aurocWithCi(big.scores, big.labels, {resamples: 500, seed: 3});
    expect(c.ci95[1] - c.ci95[0]).toBeLessThan((a.ci95[1] - a.ci95[0]) * 0.6);
    // Two normals one SD apart: AUROC = Phi(1 / sqrt 2) = 0.7602; the big sample's CI covers it.
    expect(c.ci95[0]).toBeLessThan(0.7602);
    expect(c.ci95[1]).toBeGreaterThan(0.7602);
  });

  it("resample whole patients when groups are given", () => {
    // Each patient's two images have the same score: the grouped bootstrap sees 20 units, not 40.
    const scores = Array.from({length: 40}, (_, i) => Math.floor(i / 2) + (i % 4 < 2 ? 0 : 0.5));
    const labels = scores.map((_, i) => (Math.floor(i / 2) % 2));
    const groups = scores.map((_, i) => `P${Math.floor(i / 2)}`);
    const grouped = aurocWithCi(scores, labels, {resamples: 400, seed: 1, groups});
    const single = aurocWithCi(scores, labels, {resamples: 400, seed: 1});
    expect(grouped.units).toBe(20);
    expect(single.units).toBe(40);
    expect(grouped.auroc).toBe(single.auroc);
    expect(grouped.ci95[1] - grouped.ci95[0]).toBeGreaterThan(single.ci95[1] - single.ci95[0]);
  });

  it("the mean AUROC of several fits: one fit (or copies of it) is aurocWithCi; the CI of the mean covers the true AUROC", () => {
    const rng = createRng("fits");
    const labels = Array.from({length: 120}, (_, i) => i % 2);
    const groups = labels.map((_, i) => `P${Math.floor(i / 3)}`);
    const latent = labels.map((y) => rng.normal(y, 1));
    const one = aurocWithCi(latent, labels, {resamples: 300, seed: 2, groups});
    expect(meanAurocWithCi([latent], labels, {resamples: 300, seed: 2, groups})).toEqual(one);
    expect(meanAurocWithCi([latent, latent.slice()], labels, {resamples: 300, seed: 2, groups})).toEqual(one);
    // Five fits: the latent score plus each fit's own noise. The point is the mean of their AUROCs.
    const fits = Array.from({length: 5}, () => latent.map((v) => v + rng.normal(0, 0.5)));
    const r = meanAurocWithCi(fits, labels, {resamples: 1000, seed: 2, groups});
    expect(r.auroc).toBeCloseTo(fits.reduce((s, f) => s + auroc(f, labels), 0) / 5, 12);
    expect(r.ci95[0]).toBeLessThan(r.auroc);
    expect(r.ci95[1]).toBeGreaterThan(r.auroc);
    // Scores N(y, 1 + 0.25): AUROC = Phi(1 / sqrt(2 x 1.25)) = 0.7365, inside the interval.
    expect(r.ci95[0]).toBeLessThan(0.7365);
    expect(r.ci95[1]).toBeGreaterThan(0.7365);
    expect(r.units).toBe(40);
  });
});
