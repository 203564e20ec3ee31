// The Gestational-age, Zero-shot drill-down and Compare artifacts: their core (exact compact dot
// products, the top-N bins the median picks, error by trimester, a confusion cell's images),
// the HC18 file matching, and the cached demo evaluation whose per-image details must give
// back its headline numbers. On ../shared: the released outputs through the same code.
import {describe, expect, it} from "vitest";
import {DEMO_BUNDLE_DIR} from "../loaders/demo/bundle.js";
import {cachedDemoEvaluation, withoutDetails} from "../loaders/demo/evaluationCache.js";
import {readHc18} from "../loaders/datasets/realDatasets.js";
import {PHANTOM_DIR} from "../loaders/paths.js";
import {paperOutputs} from "../loaders/results/sources.js";
import {matchHc18Rows} from "../loaders/results/gaArchive.js";
import {decodeDotProducts, encodeDotProducts, errorByTrimester, formatGa, topBins} from "../src/lib/gaExplorer.js";
import {estimateGaDays, GA_BIN_DAYS, isValidGaPrediction} from "../src/lib/gestationalAge.js";
import {confusionMatrix, validPredictionRate} from "../src/lib/metrics.js";
import {gaMetrics, type GaPrediction} from "../src/lib/tasks/gestationalAge.js";
import {zeroShotMetrics} from "../src/lib/tasks/zeroShot.js";
import {cellImages, drilldownConfusion, drilldownImages, imageProbabilities} from "../src/lib/zeroShotDrilldown.js";
import {describeShared, sharedPath} from "./shared.js";

describe("GA dot products in ga.zip", () => {
  it("values with at most 5 decimals are stored as scaled int32 differences and decode to the same doubles", () => {
    const rows = [Float64Array.from([45.35477, 45.11245, 45.78371, -3.1, 0]), Float64Array.from([12.5, 12.50001, 9999.99999, 1e-5, -9999.99999])];
    const {bytes, encoding} = encodeDotProducts(rows, 5);
    expect(encoding).toBe("i32e5");
    expect(bytes.length).toBe(2 * 5 * 4);
    expect(decodeDotProducts(bytes, encoding, 2, 5)).toEqual(rows);
  });

  it("any value with more decimals keeps every row in float64, exactly", () => {
    const rows = [Float64Array.from([45.35477, 0.1 + 0.2]), Float64Array.from([1, 2])];
    const {bytes, encoding} = encodeDotProducts(rows, 2);
    expect(encoding).toBe("f64");
    // So does a value whose scaled int would not fit 32 bits.
    expect(encodeDotProducts([Float64Array.from([99999.99999])], 1).encoding).toBe("f64");
    expect(bytes.length).toBe(2 * 2 * 8);
    expect(decodeDotProducts(bytes, encoding, 2, 2)).toEqual(rows);
  });

  it("refuses rows of the wrong length and bytes of the wrong size, naming them", () => {
    expect(() => encodeDotProducts([new Float64Array(3)], 4)).toThrow("row 0 has 3 values, expected 4");
    expect(() => decodeDotProducts(new Uint8Array(10), "i32e5", 1, 4, "x.bin")).toThrow("x.bin: 10 bytes, expected 1 x 4 values of 4 bytes");
  });
});

describe("the top-N bins the GA median is taken over", () => {
  it("are the N largest, ascending, and the median one is estimateGaDays' answer (ties: the lower bin first)", () => {
    const dots = [1, 5, 5, 3, 9, 0, 5];
    expect(topBins(dots, 3)).toEqual({bins: [1, 2, 4], median: 2});
    expect(topBins(dots, 4)).toEqual({bins: [1, 2, 4, 6], median: 4});
    const days = [10, 11, 12, 13, 14, 15, 16];
    for (let n = 1; n <= dots.length; n++) expect(days[topBins(dots, n).median]).toBe(estimateGaDays(dots, days, n));
    expect(() => topBins(dots, 0)).toThrow("N must be an integer in [1, 7]");
  });

  it("formats GA as weeks and days", () => {
    expect(formatGa(98)).toBe("14w 0d");
    expect(formatGa(272)).toBe("38w 6d");
    expect(formatGa(160.6)).toBe("23w 0d");
  });
});

describe("error by trimester", () => {
  const p = (index: number, predicted: number, who: number, valid: boolean, scored = true): GaPrediction =>
    ({index, trueHcMm: 200, scored, predictedGaDays: predicted, valid, whoMedianGaDays: who, errorDays: predicted - who});

  it("groups scored heads by the trimester of their reference GA: the true GA where known, else the WHO median GA", () => {
    const predictions = [p(0, 150, 140, true), p(1, 130, 140, false), p(2, 250, 200, true), p(3, 100, 300, false, false)];
    const byWho = errorByTrimester(predictions);
    expect(byWho.map((t) => t.n)).toEqual([0, 2, 1]);
    expect(byWho[1]).toMatchObject({trimester: "second", maeDays: 10, biasDays: 0, vpr: 0.5});
    expect(byWho[2]).toMatchObject({trimester: "third", maeDays: 50, biasDays: 50, vpr: 1});
    // With true GAs, head 2 (true 190 d, 27w1d) falls in the second trimester.
    const byTruth = errorByTrimester(predictions, [140, 140, 190, null]);
    expect(byTruth.map((t) => t.n)).toEqual([0, 3, 0]);
    expect(byTruth[1]!.maeDays).toBeCloseTo((10 + 10 + 60) / 3, 12);
  });
});

describe("a confusion cell's images", () => {
  const classes = ["a", "b", "distractor"];
  const images = drilldownImages(classes, ["a", "a", "b", "b", "a"], ["a", "distractor", "b", "a", "a"], {
    ids: ["x0", "x1", "x2", "x3", "x4"],
    probabilities: [0.9, 0.05, 0.05, 0.2, 0.1, 0.7, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1, 0.51, 0.49, 0]
  });

  it("the confusion of the stored images is the core's, and each cell lists exactly its images", () => {
    expect(drilldownConfusion({classes}, images)).toEqual(confusionMatrix(["a", "a", "b", "b", "a"], ["a", "distractor", "b", "a", "a"], classes));
    expect(cellImages({classes}, images, "a", "a")).toEqual([0, 4]);
    expect(cellImages({classes}, images, "a", "distractor")).toEqual([1]);
    expect(cellImages({classes}, images, "b", "b")).toEqual([2]);
    expect(cellImages({classes}, images, "b", "distractor")).toEqual([]);
    expect(imageProbabilities({classes}, images, 1)).toEqual([{label: "distractor", p: 0.7}, {label: "a", p: 0.2}, {label: "b", p: 0.1}]);
  });

  it("refuses a label outside the classes and probabilities of the wrong size", () => {
    expect(() => drilldownImages(classes, ["a"], ["c"])).toThrow('predicted label "c" of image 0 is not one of [a, b, distractor]');
    expect(() => drilldownImages(classes, ["a"], ["a"], {probabilities: [1, 0]})).toThrow("2 probabilities, expected 1 x 3");
  });
});

describeShared("the released outputs through the pages' artifacts (../shared/reference/fetalclip)", () => {
  const dir = sharedPath("reference", "fetalclip");

  it("the 999 x 175 HC18 dot products are stored exactly, in 4 bytes a value, and score the paper's VPR 0.8342 over 814 heads", () => {
    const paper = paperOutputs(dir)!;
    const {bytes, encoding} = encodeDotProducts(paper.ga.rows.map((r) => r.dotProducts), paper.ga.gaDays.length);
    expect(encoding).toBe("i32e5");
    expect(bytes.length).toBe(999 * 175 * 4);
    const decoded = decodeDotProducts(bytes, encoding, 999, 175);
    decoded.forEach((row, i) => expect(Array.from(row)).toEqual(Array.from(paper.ga.rows[i]!.dotProducts)));
    const m = gaMetrics(decoded.map((dotProducts, i) => ({trueHcMm: paper.ga.rows[i]!.trueHcMm, dotProducts})), {gaDays: paper.ga.gaDays});
    expect(m.n).toBe(814);
    expect(m.vpr.toFixed(4)).toBe("0.8342");
    // Every row's median bin is the one topBins marks on the page.
    decoded.forEach((row) => expect(paper.ga.gaDays[topBins(row, 15).median]).toBe(estimateGaDays(row, paper.ga.gaDays, 15)));
  });

  it("each local HC18 file is matched to its released row by HC, in order: ../shared's 250 are every fourth of the 999", () => {
    const paper = paperOutputs(dir)!;
    const files = readHc18(sharedPath("data", "hc18"));
    const rowOf = matchHc18Rows(paper.ga.rows.map((r) => r.trueHcMm), files);
    expect(rowOf).toEqual(files.map((_, k) => 4 * k));
    expect(files[0]!.path.endsWith("000_HC.png")).toBe(true);
    // A file whose HC is in no later row stops the matching there.
    expect(matchHc18Rows([1, 2, 3], [{hcMm: 2}, {hcMm: 1}])).toEqual([1]);
  });

  it("the drill-down's cells partition the released five-plane predictions, and their confusion is zeroShotMetrics'", () => {
    const paper = paperOutputs(dir)!;
    const {trueLabels, predictedLabels} = paper.fivePlanes.predictions;
    const images = drilldownImages(paper.fivePlanes.classes, trueLabels, predictedLabels);
    const task = {classes: paper.fivePlanes.classes};
    const confusion = drilldownConfusion(task, images);
    expect(confusion).toEqual(zeroShotMetrics(trueLabels, predictedLabels, paper.fivePlanes.classes, {resamples: 1}).confusion);
    let total = 0;
    confusion.trueClasses.forEach((t, r) => confusion.predictedClasses.forEach((p, c) => {
      const members = cellImages(task, images, t, p);
      expect(members.length).toBe(confusion.counts[r]![c]);
      total += members.length;
    }));
    expect(total).toBe(8187);
  });
});

describe("the cached demo evaluation (the Zero-shot, GA and Compare pages' one model run)", () => {
  it("its per-image details give back its headline numbers, and a second call reads the cache", async () => {
    const first = await cachedDemoEvaluation({bundleDir: DEMO_BUNDLE_DIR, phantomDir: PHANTOM_DIR, split: "test"});
    const {planes, subPlanes, ga} = first.details;
    expect(confusionMatrix(planes.trueLabels, planes.predicted, planes.classes)).toEqual(first.planes.confusion);
    expect(confusionMatrix(subPlanes.trueLabels, subPlanes.predicted, subPlanes.classes)).toEqual(first.subPlanes.confusion);
    // The stored probabilities' argmax is the prediction.
    planes.predicted.forEach((label, i) => {
      const row = Array.from(planes.probabilities.subarray(i * planes.classes.length, (i + 1) * planes.classes.length));
      expect(planes.classes[row.indexOf(Math.max(...row))]).toBe(label);
    });
    expect(ga.dotProducts.map((d) => estimateGaDays(d))).toEqual(ga.predictedDays);
    expect(validPredictionRate(ga.predictedDays.map((d, i) => isValidGaPrediction(ga.trueHcMm[i]!, d)))).toEqual(first.ga.vpr);
    expect(ga.binDays).toEqual([...GA_BIN_DAYS]);
    const second = await cachedDemoEvaluation({bundleDir: DEMO_BUNDLE_DIR, phantomDir: PHANTOM_DIR, split: "test"});
    expect(second.cached).toBe(true);
    expect(withoutDetails(second)).toEqual(withoutDetails(first));
    expect(second.details.ga.dotProducts).toEqual(ga.dotProducts);
    expect("details" in withoutDetails(second)).toBe(false);
  }, 600_000);
});
