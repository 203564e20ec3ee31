// Scoring core against hand-computed cases and against FetalCLIP's released
// outputs: the official scripts' numbers must come back from their predictions.
import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {hcQuantileMm} from "../src/lib/biometry.js";
import {
  GA_BIN_DAYS,
  GA_PROMPT_TEMPLATES,
  estimateGaDays,
  formatSpacing,
  gaDotProducts,
  gaPromptEmbeddings,
  gaPrompts,
  isScoredHc,
  isValidGaPrediction,
  pixelSpacingAfterResize
} from "../src/lib/gestationalAge.js";
import {classificationScores, confusionMatrix, quantile, topKAccuracy, validPredictionRate} from "../src/lib/metrics.js";
import {
  BRAIN_SUBPLANE_CLASSES,
  BRAIN_SUBPLANE_PROMPTS,
  FIVE_PLANES_CLASSES,
  FIVE_PLANES_PROMPTS,
  brainSubplaneOf,
  planeClassOf
} from "../src/lib/prompts.js";
import {argmax, cosine, dot, l2Normalize, matmulTransposed, softmax, topK} from "../src/lib/vector.js";
import {classEmbeddings, predictTopK, zeroShotLogits, zeroShotProbabilities} from "../src/lib/zeroShot.js";
import {describeShared, sharedPath} from "./shared.js";

const f32 = (...values: number[]) => Float32Array.from(values);
const readJson = <T>(...parts: string[]): T => JSON.parse(readFileSync(sharedPath("reference", "fetalclip", ...parts), "utf8")) as T;

/** One-row CSV written by pandas (no quoted fields): header -> number. */
function readResultsCsv(name: string): Record<string, number> {
  const [header, row] = readFileSync(sharedPath("reference", "fetalclip", name), "utf8").trim().split("\n");
  const keys = header!.split(",");
  const values = row!.split(",");
  return Object.fromEntries(keys.slice(1).map((k, i) => [k, Number(values[i + 1])]));
}

describe("vector helpers", () => {
  it("l2Normalize scales each row of a flat matrix to unit length", () => {
    const out = l2Normalize(f32(3, 4, 0, 2), 2);
    expect(Array.from(out)).toEqual([0.6, 0.8, 0, 1].map((v) => Math.fround(v)));
    expect(() => l2Normalize(f32(0, 0))).toThrow(/norm 0/);
    expect(() => l2Normalize(f32(1, 2, 3), 2)).toThrow(/\[n, 2\]/);
  });

  it("dot, cosine and matmulTransposed agree on small vectors", () => {
    expect(dot([1, 2, 3], [4, 5, 6])).toBe(32);
    expect(cosine([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 12);
    // [2,2] x [3,2]^T: rows (1,0),(0,1) against (1,2),(3,4),(5,6)
    expect(Array.from(matmulTransposed(f32(1, 0, 0, 1), f32(1, 2, 3, 4, 5, 6), 2))).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it("softmax normalises each row; argmax and topK break ties towards the lower index", () => {
    const p = softmax(f32(0, Math.log(3), 5, 5), 2);
    expect(p[0]).toBeCloseTo(0.25, 6);
    expect(p[1]).toBeCloseTo(0.75, 6);
    expect(p[2]).toBeCloseTo(0.5, 6);
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(topK([1, 3, 3, 2, 3], 4)).toEqual([1, 2, 4, 3]);
  });
});

describe("zero-shot prompt ensembles", () => {
  it("averages the normalised prompt embeddings of a class and re-normalises (hand-computed)", () => {
    // class 0: (3,4) -> (0.6,0.8); (0,2) -> (0,1); mean (0.3,0.9); |mean| = sqrt(0.9)
    // class 1: (5,0) twice -> (1,0)
    const [c0, c1] = classEmbeddings([[f32(3, 4), f32(0, 2)], [f32(5, 0), f32(5, 0)]]);
    expect(c0![0]).toBeCloseTo(0.3 / Math.sqrt(0.9), 6); // 0.316228
    expect(c0![1]).toBeCloseTo(0.9 / Math.sqrt(0.9), 6); // 0.948683
    expect(Array.from(c1!)).toEqual([1, 0]);

    // Image (2,0) normalises to (1,0): logits 100 x (0.316228, 1).
    const logits = zeroShotLogits(f32(2, 0, 0, 7), [c0!, c1!]);
    expect(logits[0]).toBeCloseTo(31.6228, 3);
    expect(logits[1]).toBeCloseTo(100, 4);
    expect(logits[2]).toBeCloseTo(94.8683, 3); // second image (0,1)
    expect(logits[3]).toBeCloseTo(0, 5);

    // logit scale 1: softmax(0.316228, 1) = (e^-0.683772, 1) / (1 + e^-0.683772) = (0.335423, 0.664577)
    const probs = zeroShotProbabilities(f32(2, 0), [c0!, c1!], 1);
    expect(probs[0]).toBeCloseTo(0.335423, 5);
    expect(probs[1]).toBeCloseTo(0.664577, 5);

    const [ranked] = predictTopK(probs, ["a", "b"], 2);
    expect(ranked!.map((r) => r.label)).toEqual(["b", "a"]);
    expect(ranked![0]!.score).toBeCloseTo(0.664577, 5);
  });

  it("rejects prompt embeddings of mismatched width with the class and prompt named", () => {
    expect(() => classEmbeddings([[f32(1, 0), f32(1, 0, 0)]])).toThrow(/class 0 prompt 1 has 3 dims, expected 2/);
    expect(() => zeroShotLogits(f32(1, 0, 0), [f32(1, 0)])).toThrow(/\[n, 2\]/);
  });

  it("prompt sets keep FetalCLIP's class order (9 plane classes, 3 brain sub-planes, 5 prompts each)", () => {
    expect(Object.keys(FIVE_PLANES_PROMPTS)).toEqual([...FIVE_PLANES_CLASSES]);
    expect(Object.keys(BRAIN_SUBPLANE_PROMPTS)).toEqual([...BRAIN_SUBPLANE_CLASSES]);
    for (const prompts of [...Object.values(FIVE_PLANES_PROMPTS), ...Object.values(BRAIN_SUBPLANE_PROMPTS)]) expect(prompts).toHaveLength(5);
    expect(planeClassOf("Fetal thorax")).toBe("heart");
    expect(planeClassOf("Maternal cervix")).toBe("cervix");
    expect(planeClassOf("Other")).toBeNull();
    expect(brainSubplaneOf("Trans-cerebellum")).toBe("trans-cerebellum");
    expect(brainSubplaneOf("Not A Brain")).toBeNull();
  });
});

describe("gestational age prompts and estimate", () => {
  it("spans 175 daily GA bins from 14w0d (98 days) to 38w6d (272 days)", () => {
    expect(GA_BIN_DAYS).toHaveLength(175);
    expect(GA_BIN_DAYS[0]).toBe(98);
    expect(GA_BIN_DAYS[174]).toBe(272);
  });

  it("computes the spacing after resize to 224 px and formats it as Python's :.2f does", () => {
    // HC18: 800x540 images; 800/224 x 0.0691358 mm = 0.246914 mm/px
    expect(pixelSpacingAfterResize(800, 540, 0.0691358024691358)).toBeCloseTo(0.246914, 6);
    expect(formatSpacing(0.246914)).toBe("0.25");
    expect(formatSpacing(0.125)).toBe("0.12"); // exact binary half: Python rounds to even, toFixed would say 0.13
    expect(formatSpacing(0.375)).toBe("0.38");
    expect(formatSpacing(0.625)).toBe("0.62");
    expect(formatSpacing(0.005)).toBe("0.01"); // 0.005 is stored just above the half
    expect(formatSpacing(1.005)).toBe("1.00"); // 1.005 is stored just below it
    expect(() => pixelSpacingAfterResize(0, 540, 0.1)).toThrow(/width must be positive/);
  });

  it("builds 875 prompts template-major, weeks and days filled in", () => {
    const prompts = gaPrompts(0.246914);
    expect(prompts).toHaveLength(875);
    expect(prompts[0]).toBe(
      "Ultrasound image at 14 weeks and 0 days gestation focusing on the fetal brain, highlighting anatomical structures with a pixel spacing of 0.25 mm/pixel."
    );
    expect(prompts[174]).toContain("at 38 weeks and 6 days gestation focusing");
    expect(prompts[175]).toBe(GA_PROMPT_TEMPLATES[1]!.replace("{weeks}", "14").replace("{day}", "0").replace("{pixel_spacing}", "0.25"));
    expect(prompts[4 * 175 + 9]).toBe(
      "Fetal ultrasound at 15 weeks and 2 days, showing a clear view of the developing brain, with an image pixel spacing of 0.25 mm/pixel."
    );
  });

  it("averages 100 x cosine over templates after normalising image and text embeddings", () => {
    // 3 bins in 2-D; template A at angles 0, 60, 90 deg (lengths 2, 3, 5), template B all at 0 deg.
    const c60 = Math.cos(Math.PI / 3);
    const s60 = Math.sin(Math.PI / 3);
    const templateA = f32(2, 0, 3 * c60, 3 * s60, 0, 5);
    const templateB = f32(1, 0, 4, 0, 0.5, 0);
    const out = gaDotProducts(f32(7, 0), [templateA, templateB]);
    expect(out[0]).toBeCloseTo(100, 4); // (100 + 100) / 2
    expect(out[1]).toBeCloseTo(75, 4); // (50 + 100) / 2
    expect(out[2]).toBeCloseTo(50, 4); // (0 + 100) / 2
  });

  it("takes the middle of the 15 best bins sorted by GA: a symmetric peak gives its own GA", () => {
    const peak = GA_BIN_DAYS.map((_, b) => -Math.abs(b - 40));
    expect(estimateGaDays(peak)).toBe(98 + 40);
  });

  it("is pulled off a peak at the edge of the range and ignores a lone spike", () => {
    // Peak at bin 2: the best 15 are bins 0..14, the middle is bin 7 (105 days), not bin 2.
    expect(estimateGaDays(GA_BIN_DAYS.map((_, b) => -Math.abs(b - 2)))).toBe(105);
    // Peak at bin 100 plus a spike at bin 0: best 15 = {0, 93..106} (93 wins the tie with 107), middle = bin 99.
    const spiky = GA_BIN_DAYS.map((_, b) => (b === 0 ? 50 : -Math.abs(b - 100)));
    expect(estimateGaDays(spiky)).toBe(98 + 99);
    // All equal: stable ranking keeps bins 0..14, middle bin 7.
    expect(estimateGaDays(new Array(175).fill(1))).toBe(105);
    expect(() => estimateGaDays([1, 2, 3])).toThrow(/3 dot products for 175 GA bins/);
  });

  it("WHO HC quantiles at 20w0d match the chart's polynomial evaluated by hand", () => {
    // t = 20: q2.5 exponent 1.59317517131532 + 5.8919601104866 - 2.95441490266828 + 0.525561416172918 = 5.05628179530656
    expect(hcQuantileMm(140, 0.025)).toBeCloseTo(Math.exp(5.05628179530656), 9);
    expect(hcQuantileMm(140, 0.025)).toBeCloseTo(157.00565, 4);
    // q50: 2.09924879247164 + 5.06747312212074 - 2.42259126671313 + 0.411404857647934 = 5.15553550552718
    expect(hcQuantileMm(140, 0.5)).toBeCloseTo(173.38863, 4);
    // q97.5: 2.50074069629423 + 4.40135709431438 - 1.97449244584977 + 0.311252800757215 = 5.23885814551605
    expect(hcQuantileMm(140, 0.975)).toBeCloseTo(188.45479, 4);
  });

  it("calls a GA valid when the true HC is inside the WHO 2.5th-97.5th band at that GA", () => {
    expect(isValidGaPrediction(157.1, 140)).toBe(true);
    expect(isValidGaPrediction(188.4, 140)).toBe(true);
    expect(isValidGaPrediction(156.9, 140)).toBe(false);
    expect(isValidGaPrediction(188.5, 140)).toBe(false);
    expect([99.9, 100, 342, 342.1].map(isScoredHc)).toEqual([false, true, true, false]);
  });
});

describe("classification metrics", () => {
  it("scores true classes against all predicted classes, distractors included (hand-computed)", () => {
    // classes a, b, x (x a distractor no image is labelled with)
    const truth = ["a", "a", "a", "a", "b", "b"];
    const preds = ["a", "a", "x", "b", "b", "a"];
    const cm = confusionMatrix(truth, preds, ["a", "b", "x"]);
    expect(cm.trueClasses).toEqual(["a", "b"]);
    expect(cm.predictedClasses).toEqual(["a", "b", "x"]);
    expect(cm.counts).toEqual([
      [2, 1, 1],
      [1, 1, 0]
    ]);
    const s = classificationScores(cm);
    // a: TP 2, FP 1, FN 2 -> F1 4/7; b: TP 1, FP 1, FN 1 -> F1 1/2
    expect(s.f1[0]).toBeCloseTo(4 / 7, 12);
    expect(s.f1[1]).toBeCloseTo(1 / 2, 12);
    expect(s.macroF1).toBeCloseTo((4 / 7 + 1 / 2) / 2, 12);
    expect(s.classAccuracy).toEqual([0.5, 0.5]);
    expect(s.accuracy).toBeCloseTo(3 / 6, 12);
    expect(() => confusionMatrix(["a"], ["z"], ["a", "b"])).toThrow(/predicted label "z" at 0/);
  });

  it("top-k accuracy counts the true class anywhere in the k best scores", () => {
    const scores = f32(0.7, 0.2, 0.1, /**/ 0.1, 0.3, 0.6, /**/ 0.5, 0.4, 0.1);
    const truth = ["a", "b", "c"];
    const top1 = topKAccuracy(scores, truth, ["a", "b", "c"], 1);
    expect(top1.classAccuracy).toEqual([1, 0, 0]);
    const top2 = topKAccuracy(scores, truth, ["a", "b", "c"], 2);
    expect(top2.classAccuracy).toEqual([1, 1, 0]);
    expect(top2.accuracy).toBeCloseTo(2 / 3, 12);
  });

  it("VPR bootstrap is reproducible from its seed and brackets the rate", () => {
    const validity = Array.from({length: 200}, (_, i) => i % 5 !== 0); // 0.8
    const a = validPredictionRate(validity, {resamples: 500, seed: 7});
    const b = validPredictionRate(validity, {resamples: 500, seed: 7});
    expect(a).toEqual(b);
    expect(a.rate).toBe(0.8);
    expect(a.ci95[0]).toBeLessThan(0.8);
    expect(a.ci95[1]).toBeGreaterThan(0.8);
    // binomial SE sqrt(0.8 x 0.2 / 200) = 0.0283: the 95% interval is about +-0.055
    expect(a.ci95[1] - a.ci95[0]).toBeGreaterThan(0.08);
    expect(a.ci95[1] - a.ci95[0]).toBeLessThan(0.14);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  });
});

describeShared("FetalCLIP's released outputs, re-scored", () => {
  it("prompt sets equal the official prompt JSON files exactly, in order", () => {
    const five = readJson<Record<string, string[]>>("test_five_planes_prompts.json");
    const brain = readJson<Record<string, string[]>>("test_brain_subplanes_prompts.json");
    expect(Object.keys(five)).toEqual(Object.keys(FIVE_PLANES_PROMPTS));
    expect(five).toEqual(FIVE_PLANES_PROMPTS);
    expect(Object.keys(brain)).toEqual(Object.keys(BRAIN_SUBPLANE_PROMPTS));
    expect(brain).toEqual(BRAIN_SUBPLANE_PROMPTS);
  });

  const checkAgainstCsv = (predictionFile: string, csvFile: string, classes: readonly string[]) => {
    const {prediction, label} = readJson<{prediction: string[]; label: string[]}>(predictionFile);
    const scores = classificationScores(confusionMatrix(label, prediction, classes));
    const expected = readResultsCsv(csvFile);
    expect(scores.macroF1).toBeCloseTo(expected.f1!, 6);
    expect(scores.meanClassAccuracy).toBeCloseTo(expected.acc!, 6);
    scores.classes.forEach((name, i) => {
      expect(scores.f1[i], `f1_${name}`).toBeCloseTo(expected[`f1_${name}`]!, 6);
      expect(scores.classAccuracy[i], `acc_${name}`).toBeCloseTo(expected[`acc_${name}`]!, 6);
    });
    return scores;
  };

  it("five planes: macro F1 0.9727 and per-class F1/accuracy match test_five_planes_results.csv (8,187 images, 5 true x 9 predicted)", () => {
    const scores = checkAgainstCsv("test_five_planes_prediction.json", "test_five_planes_results.csv", FIVE_PLANES_CLASSES);
    expect(scores.count).toBe(8187);
    expect(scores.classes).toEqual(["abdomen", "brain", "femur", "heart", "cervix"]);
    console.info(`five planes: macro F1 ${scores.macroF1.toFixed(6)}, mean class acc ${scores.meanClassAccuracy.toFixed(6)}, top-1 acc ${scores.accuracy.toFixed(6)}`);
  });

  it("brain sub-planes: macro F1 0.6929 and per-class F1/accuracy match test_brain_subplanes_results.csv (2,949 images)", () => {
    const scores = checkAgainstCsv("test_brain_subplanes_prediction.json", "test_brain_subplanes_results.csv", BRAIN_SUBPLANE_CLASSES);
    expect(scores.count).toBe(2949);
    console.info(`brain sub-planes: macro F1 ${scores.macroF1.toFixed(6)}, mean class acc ${scores.meanClassAccuracy.toFixed(6)}, top-1 acc ${scores.accuracy.toFixed(6)}`);
  });

  it("HC18 GA: valid prediction rate from the released dot products agrees with an independent re-count (paper: ~0.83)", () => {
    const data = readJson<{ga_days: number[]; rows: {true_hc: number; dot_prods: number[]}[]}>("hc18_ga_dot_prods.json");
    expect(data.ga_days).toEqual(GA_BIN_DAYS);
    expect(data.rows).toHaveLength(999);

    const scored = data.rows.filter((r) => isScoredHc(r.true_hc));
    const validity = scored.map((r) => isValidGaPrediction(r.true_hc, estimateGaDays(r.dot_prods)));
    const vpr = validPredictionRate(validity, {seed: "hc18"});

    // Independent re-count: pick the maximum 15 times (first index on ties), take the 8th lowest bin,
    // and evaluate the WHO band from the README's coefficients directly.
    const who = (days: number, b: number[]) => {
      const t = days / 7;
      return Math.exp(b[0]! + b[1]! * t + b[2]! * t ** 2 + b[3]! * t ** 3);
    };
    const low = [1.59317517131532, 0.29459800552433, -0.0073860372566707, 0.0000656951770216148];
    const high = [2.50074069629423, 0.220067854715719, -0.00493623111462443, 0.0000389066000946519];
    let n = 0;
    let valid = 0;
    for (const row of data.rows) {
      if (row.true_hc < 100 || row.true_hc > 342) continue;
      const taken = new Set<number>();
      for (let pick = 0; pick < 15; pick++) {
        let best = -1;
        for (let b = 0; b < row.dot_prods.length; b++) {
          if (!taken.has(b) && (best < 0 || row.dot_prods[b]! > row.dot_prods[best]!)) best = b;
        }
        taken.add(best);
      }
      const predDays = data.ga_days[[...taken].sort((x, y) => x - y)[7]!]!;
      n += 1;
      if (who(predDays, low) <= row.true_hc && row.true_hc <= who(predDays, high)) valid += 1;
    }

    expect(vpr.count).toBe(n);
    expect(vpr.valid).toBe(valid);
    expect(vpr.rate).toBeGreaterThan(0.81);
    expect(vpr.rate).toBeLessThan(0.86);
    expect(vpr.ci95[0]).toBeLessThan(vpr.rate);
    expect(vpr.ci95[1]).toBeGreaterThan(vpr.rate);
    expect(vpr.ci95[1] - vpr.ci95[0]).toBeLessThan(0.07);
    console.info(
      `HC18 GA: ${vpr.valid}/${vpr.count} valid (HC in [100, 342] mm of 999), VPR ${vpr.rate.toFixed(4)}, ` +
        `95% CI [${vpr.ci95[0].toFixed(4)}, ${vpr.ci95[1].toFixed(4)}] (${vpr.resamples} bootstrap resamples)`
    );
  });
});

describe("gaPromptEmbeddings", () => {
  it("encodes the 875 prompts 125 at a time and lays them out [template][bin] for gaDotProducts", async () => {
    const seen: {texts: string[]; batch?: number}[] = [];
    const prompts = gaPrompts(0.37);
    // A fake encoder whose 2-d embedding is the prompt's index and its length.
    const encoder = {
      async encodeTexts(texts: string[], batchSize?: number) {
        seen.push({texts, batch: batchSize});
        return texts.map((t) => Float32Array.of(prompts.indexOf(t), t.length));
      }
    };
    const blocks = await gaPromptEmbeddings(encoder, 0.37);
    expect(seen).toEqual([{texts: prompts, batch: 125}]);
    expect(blocks).toHaveLength(GA_PROMPT_TEMPLATES.length);
    blocks.forEach((block, t) => {
      expect(block).toHaveLength(GA_BIN_DAYS.length * 2);
      for (const b of [0, 40, 174]) expect(block[b * 2]).toBe(t * GA_BIN_DAYS.length + b);
    });
  });
});
