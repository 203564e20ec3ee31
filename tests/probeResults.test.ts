// The Probes page's series and CSVs (src/lib/probeResults.ts) on a hand-made artifact:
// what the few-shot chart plots for toggled classes, the zero-shot reference, the table
// rows, ROC points and the CSVs, so the page and its browser test read the same numbers.
import {csvParse} from "d3-dsv";
import {describe, expect, it} from "vitest";
import {
  checkProbesArtifact,
  confusionCsv,
  fewShotCsv,
  fewShotFits,
  fewShotSeries,
  MACRO_SERIES,
  probeTableCsv,
  probeTableRows,
  PROBES_FORMAT,
  rocCsv,
  rocSeries,
  zeroShotLines,
  type ProbeEntry
} from "../src/lib/probeResults.js";

function entry(model: string, task: string, classes: string[], overrides: Partial<ProbeEntry["report"]> = {}): ProbeEntry {
  const report = {
    label: task, column: "plane", classes, mode: "paper", seed: 0, group: "patient",
    data: {images: 10, patients: 5, perClass: {}, rowsWithoutPatient: 0},
    splits: {test: "split column", folds: "seeded", fewShot: "seeded", testPatients: 2, testImages: 4, trainValPatients: 3, missingPatients: 0},
    protocol: {full: {} as never, fewShot: {} as never, runs: 5},
    curve: [
      {patients: 2, mean: 0.5, std: 0.6, runs: 2, perClass: {a: 0.4, b: Number.NaN}, meanClassAccuracy: 0.5, values: [0.1, 0.9], trainImages: 4, skipped: 0},
      {patients: 4, mean: 0.8, std: 0.1, runs: 2, perClass: {a: 0.7, b: 0.9}, meanClassAccuracy: 0.8, values: [0.75, 0.85], trainImages: 8, skipped: 0}
    ],
    full: {
      macroF1: 0.9, macroF1Std: 0.01, meanClassAccuracy: 0.91, meanClassAccuracyStd: 0.01, accuracy: 0.92, f1: {a: 0.88, b: 0.92}, classAccuracy: {a: 0.9, b: 0.92},
      confusion: {classes, counts: [[9, 1], [1, 9]]}, runs: 25, folds: 5, values: [], selected: [], trainImages: 100
    },
    zeroShot: {macroF1: 0.85, note: "zero-shot"},
    seconds: 1,
    embeddings: {rows: 10, embedDim: 4, model, dataset: "phantom"},
    ...overrides
  } as ProbeEntry["report"];
  return {model, dataset: "phantom", task, report};
}

describe("the Probes page's series (src/lib/probeResults.ts)", () => {
  const entries = [entry("m1", "six-planes", ["a", "b"]), entry("m2", "six-planes", ["a", "b"]), entry("m1", "brain-subplanes", ["a", "b"])];

  it("plots macro F1 with mean ± SD clipped to [0, 1] per model, and only the toggled classes' means", () => {
    const none = fewShotSeries(entries, "six-planes");
    expect(none.map((s) => [s.model, s.series])).toEqual([["m1", MACRO_SERIES], ["m2", MACRO_SERIES]]);
    expect(none[0]!.points[0]).toEqual({patients: 2, mean: 0.5, std: 0.6, lo: 0, hi: 1, fits: 2});
    expect(none[0]!.points[1]!.lo).toBeCloseTo(0.7, 12);
    const withB = fewShotSeries(entries, "six-planes", ["b"]);
    expect(withB.map((s) => [s.model, s.series])).toEqual([["m1", MACRO_SERIES], ["m1", "b"], ["m2", MACRO_SERIES], ["m2", "b"]]);
    // b has no F1 at 2 patients (absent from every fit): that point is left out, not drawn at 0.
    expect(withB[1]!.points).toEqual([{patients: 4, mean: 0.9, std: null, lo: null, hi: null, fits: 2}]);
  });

  it("keeps each fit's macro F1, the zero-shot line and the table's numbers", () => {
    expect(fewShotFits(entries, "brain-subplanes")).toEqual([{model: "m1", patients: 2, macroF1: 0.1}, {model: "m1", patients: 2, macroF1: 0.9}, {model: "m1", patients: 4, macroF1: 0.75}, {model: "m1", patients: 4, macroF1: 0.85}]);
    expect(zeroShotLines(entries, "six-planes")).toEqual([{model: "m1", macroF1: 0.85, note: "zero-shot"}, {model: "m2", macroF1: 0.85, note: "zero-shot"}]);
    const rows = probeTableRows(entries);
    expect(rows[0]).toMatchObject({model: "m1", task: "six-planes", macroF1: 0.9, fits: 25, testImages: 4, scoredAsZeroShot: null, zeroShot: 0.85, f1: {a: 0.88, b: 0.92}});
  });

  it("writes CSVs a spreadsheet reads back: every series, each fit, the reference", () => {
    const rows = csvParse(fewShotCsv(entries, "six-planes"));
    expect(rows.length).toBe(2 * (2 + 2 + 1) + 2); // per model: macro 2 points, a 2, b 1, zero-shot 1
    expect(rows[0]).toMatchObject({model: "m1", series: MACRO_SERIES, patients: "2", mean: "0.5", std: "0.6", fits: "2", fit_values: "0.1 0.9"});
    expect(rows.find((r) => r.series.startsWith("zero-shot"))).toMatchObject({mean: "0.85"});
    const table = csvParse(probeTableCsv(entries));
    expect(table.columns).toContain("f1_b");
    expect(table.length).toBe(3);
    expect(csvParse(confusionCsv(entries[0]!)).map((r) => [r.true, r.predicted, r.count, r.share_of_true])).toEqual([["a", "a", "9", "0.9"], ["a", "b", "1", "0.1"], ["b", "a", "1", "0.1"], ["b", "b", "9", "0.9"]]);
  });

  it("gives ROC points and AUROC with its CI for binary reports only", () => {
    const chd = entry("m1", "chd", ["chd", "normal"], {
      auroc: {positive: "chd", auroc: 0.75, ci95: [0.6, 0.9], resamples: 2000, perRun: {mean: 0.7, std: 0.05}, roc: {fpr: [0, 0.5, 1], tpr: [0, 1, 1]}, positives: 2, negatives: 2}
    });
    expect(rocSeries([chd, entries[0]!])).toEqual([{model: "m1", positive: "chd", auroc: 0.75, ci95: [0.6, 0.9], positives: 2, negatives: 2, points: [{fpr: 0, tpr: 0}, {fpr: 0.5, tpr: 1}, {fpr: 1, tpr: 1}]}]);
    expect(csvParse(rocCsv([chd])).map((r) => r.tpr)).toEqual(["0", "1", "1"]);
  });

  it("refuses an artifact of another format, naming it", () => {
    expect(() => checkProbesArtifact({format: "x"}, "p.json")).toThrow(/p\.json: format "x", expected fetalclip-explorer\/probes@1/);
    expect(() => checkProbesArtifact({format: PROBES_FORMAT, models: [], classification: [], chd: {}, skipped: []})).toThrow(/"chd" should be a list/);
  });
});
