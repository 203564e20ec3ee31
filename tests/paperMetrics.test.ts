// FetalCLIP's released outputs scored with the project's own metric code: `fetalclip metrics
// zero-shot|ga` reproduce the paper's numbers on ../shared/reference/fetalclip (read in place),
// the core on small hand-made inputs, the paper page's artifact, the reference-folder config,
// and clear errors naming the file for malformed input.
import {spawnSync} from "node:child_process";
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {isAbsolute, join} from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {
  clearStalePaperReferenceCache, gaMetricsFromFile, paperReferenceArtifact, paperReferenceCacheFile, paperReferenceKey, zeroShotMetricsFromFiles,
  type GaFileMetrics, type ZeroShotFileMetrics
} from "../loaders/paperReference.js";
import {readProjectConfig} from "../loaders/projectConfig.js";
import {gaFromHcMm, hcQuantileMm} from "../src/lib/biometry.js";
import {GA_BIN_DAYS} from "../src/lib/gestationalAge.js";
import {bootstrapClassificationScores} from "../src/lib/metrics.js";
import {
  knownClassesFor, paperComparisonCsv, paperComparisonRows, parseGaDotProducts, parsePromptFile, parseResultsCsv, parseZeroShotPredictions, REFERENCE_FILES,
  type PaperReferenceArtifact
} from "../src/lib/paperReference.js";
import {gaMetrics, gaPredictions, type GaDotProductRow} from "../src/lib/tasks/gestationalAge.js";
import {zeroShotMetrics} from "../src/lib/tasks/zeroShot.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

const reference = (name: string) => sharedPath("reference", "fetalclip", name);

function cli(args: string[]): {code: number; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), ...args], {cwd: repoRoot, encoding: "utf8"});
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}

function cliJson<T>(args: string[]): T {
  const r = cli(args);
  if (r.code !== 0) throw new Error(`fetalclip ${args.join(" ")} failed: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  expect(lines).toHaveLength(1); // one JSON line
  return JSON.parse(lines[0]!) as T;
}

/** The CSV's float32 values against our float64 ones: equal to float32 precision. */
const FLOAT32_TOLERANCE = 1e-6;

describeShared("fetalclip metrics on FetalCLIP's released outputs (../shared/reference/fetalclip)", () => {
  let fivePlanes: ZeroShotFileMetrics;
  let brain: ZeroShotFileMetrics;
  let ga: GaFileMetrics;

  beforeAll(() => {
    fivePlanes = cliJson(["metrics", "zero-shot", "--predictions", reference(REFERENCE_FILES.fivePlanes.predictions), "--prompts", reference(REFERENCE_FILES.fivePlanes.prompts)]);
    brain = cliJson(["metrics", "zero-shot", "--predictions", reference(REFERENCE_FILES.brainSubplanes.predictions)]);
    ga = cliJson(["metrics", "ga", "--dot-products", reference(REFERENCE_FILES.gaDotProducts)]);
  });

  test("zero-shot five planes: macro F1 0.97275 over 8,187 images, 5 true x 9 predicted classes", () => {
    expect(fivePlanes.macroF1.toFixed(5)).toBe("0.97275");
    expect(fivePlanes.n).toBe(8187);
    expect(fivePlanes.classes).toEqual(["abdomen", "brain", "femur", "heart", "kidney", "lips_nose", "profile_patient", "spine", "cervix"]);
    expect(fivePlanes.trueClasses).toEqual(["abdomen", "brain", "femur", "heart", "cervix"]);
    expect(fivePlanes.confusion.counts).toHaveLength(5);
    expect(fivePlanes.confusion.counts.every((row) => row.length === 9)).toBe(true);
    expect(fivePlanes.confusion.counts.flat().reduce((a, b) => a + b, 0)).toBe(8187);
    // Distractor columns hold real mistakes: abdomen images taken for kidney.
    expect(fivePlanes.confusion.counts[0]![fivePlanes.classes.indexOf("kidney")]).toBeGreaterThan(0);
    expect(fivePlanes.classesFrom).toBe("prompts");
  });

  test("zero-shot brain sub-planes: macro F1 0.69293 over 2,949 images (prompts found beside the predictions)", () => {
    expect(brain.macroF1.toFixed(5)).toBe("0.69293");
    expect(brain.n).toBe(2949);
    expect(brain.promptsFile).toBe(reference(REFERENCE_FILES.brainSubplanes.prompts));
    expect(brain.confusion.counts.flat().reduce((a, b) => a + b, 0)).toBe(2949);
  });

  test("per-class F1 and accuracy, macro F1 and mean accuracy equal the results CSVs", () => {
    for (const [metrics, file] of [[fivePlanes, REFERENCE_FILES.fivePlanes.results], [brain, REFERENCE_FILES.brainSubplanes.results]] as const) {
      const paper = parseResultsCsv(readFileSync(reference(file), "utf8"), reference(file));
      expect(Object.keys(paper.f1)).toEqual(metrics.trueClasses);
      expect(Object.keys(paper.accuracy)).toEqual(metrics.trueClasses);
      for (const c of metrics.trueClasses) {
        expect(Math.abs(metrics.f1[c]! - paper.f1[c]!), `${file} f1_${c}`).toBeLessThan(FLOAT32_TOLERANCE);
        expect(Math.abs(metrics.accuracy[c]! - paper.accuracy[c]!), `${file} acc_${c}`).toBeLessThan(FLOAT32_TOLERANCE);
      }
      expect(Math.abs(metrics.macroF1 - paper.macroF1)).toBeLessThan(FLOAT32_TOLERANCE);
      expect(Math.abs(metrics.meanAccuracy - paper.meanAccuracy)).toBeLessThan(FLOAT32_TOLERANCE);
    }
  });

  test("bootstrap 95% CIs of macro F1 and per-class F1 surround the point estimates (10,000 resamples, seed 42)", () => {
    for (const m of [fivePlanes, brain]) {
      expect(m.bootstrap).toMatchObject({resamples: 10_000, seed: 42});
      expect(m.ci95[0]).toBeLessThan(m.macroF1);
      expect(m.ci95[1]).toBeGreaterThan(m.macroF1);
      expect(m.ci95[1] - m.ci95[0]).toBeLessThan(0.04);
      for (const c of m.trueClasses) {
        expect(m.f1Ci95[c]![0]).toBeLessThanOrEqual(m.f1[c]!);
        expect(m.f1Ci95[c]![1]).toBeGreaterThanOrEqual(m.f1[c]!);
      }
    }
    expect(fivePlanes.ci95[0]).toBeGreaterThan(0.96);
    expect(brain.ci95[0]).toBeGreaterThan(0.67);
    expect(brain.ci95[1]).toBeLessThan(0.72);
  });

  test("metrics ga: VPR 0.8342 with a 95% CI of about 0.810-0.859 on 814 scored images of 999", () => {
    expect(ga.vpr.toFixed(4)).toBe("0.8342");
    expect(ga.n).toBe(814);
    expect(ga.valid).toBe(679);
    expect(ga.total).toBe(999);
    expect(ga.topBins).toBe(15);
    expect(Math.abs(ga.ci95[0] - 0.81)).toBeLessThan(0.005);
    expect(Math.abs(ga.ci95[1] - 0.859)).toBeLessThan(0.005);
    expect(ga.predictions).toHaveLength(999);
    expect(ga.predictions.filter((p) => p.scored)).toHaveLength(814);
    const scored = ga.predictions.filter((p) => p.scored);
    expect(ga.maeDays).toBeCloseTo(scored.reduce((s, p) => s + Math.abs(p.predictedGaDays - gaFromHcMm(p.trueHcMm)), 0) / 814, 9);
    expect(ga.maeDays).toBeGreaterThan(1);
    expect(ga.maeDays).toBeLessThan(20);
  });

  test("metrics ga --top N equals the core's gaMetrics with topBins N", () => {
    const out = cliJson<GaFileMetrics>(["metrics", "ga", "--dot-products", reference(REFERENCE_FILES.gaDotProducts), "--top", "5", "--resamples", "500"]);
    const data = parseGaDotProducts(JSON.parse(readFileSync(reference(REFERENCE_FILES.gaDotProducts), "utf8")), "hc18");
    const core = gaMetrics(data.rows, {gaDays: data.gaDays, topBins: 5, resamples: 500});
    expect(out.topBins).toBe(5);
    expect(out.vpr).toBe(core.vpr);
    expect(out.ci95).toEqual(core.ci95);
    expect(out.predictions.map((p) => p.predictedGaDays)).toEqual(core.predictions.map((p) => p.predictedGaDays));
    expect(out.vpr).not.toBe(ga.vpr);
  });

  test("the paper page's artifact holds the CLI's numbers beside the CSVs', and the released prompts are the project's", () => {
    const artifact = paperReferenceArtifact({dir: sharedPath("reference", "fetalclip")});
    if (!artifact.configured) throw new Error("expected a configured artifact");
    expect(artifact.problem).toBeUndefined();
    expect(artifact.folder).not.toMatch(/^\//); // no absolute path is published
    expect(artifact.fivePlanes!.metrics.macroF1).toBe(fivePlanes.macroF1);
    expect(artifact.fivePlanes!.metrics.ci95).toEqual(fivePlanes.ci95);
    expect(artifact.fivePlanes!.metrics.confusion).toEqual(fivePlanes.confusion);
    expect(artifact.brainSubplanes!.metrics.f1).toEqual(brain.f1);
    expect(artifact.fivePlanes!.paper.macroF1).toBeCloseTo(0.97275, 5);
    expect(artifact.fivePlanes!.promptsMatchProject).toBe(true);
    expect(artifact.brainSubplanes!.promptsMatchProject).toBe(true);
    expect(artifact.ga!.metrics.vpr).toBe(ga.vpr);
    expect(artifact.ga!.metrics.ci95).toEqual(ga.ci95);
    expect(artifact.ga!.paper.vpr).toBe(0.8342);
    expect("predictions" in artifact.ga!.metrics).toBe(false);
    // No absolute path reaches the site: the folder is written relative to the repository (whose
    // own location may make that relative path end in the same letters as the absolute one).
    expect(JSON.stringify(artifact)).not.toContain(JSON.stringify(sharedPath("reference")).slice(0, -1));
    expect(isAbsolute(artifact.folder)).toBe(false);
  });
});

describe("zero-shot metrics on hand-made predictions", () => {
  // a: 3 images (2 right, 1 taken for the distractor x); b: 2 images (1 right, 1 taken for a).
  const truth = ["a", "a", "a", "b", "b"];
  const predicted = ["a", "a", "x", "b", "a"];
  const classes = ["a", "b", "x"];

  test("confusion is true x every class (distractor column included); F1, accuracy, precision by hand", () => {
    const m = zeroShotMetrics(truth, predicted, classes, {resamples: 200});
    expect(m.confusion).toEqual({trueClasses: ["a", "b"], predictedClasses: classes, counts: [[2, 0, 1], [1, 1, 0]]});
    expect(m.trueClasses).toEqual(["a", "b"]);
    expect(m.n).toBe(5);
    // a: TP 2, FP 1, FN 1 -> 4/6; b: TP 1, FP 0, FN 1 -> 2/3
    expect(m.f1.a).toBeCloseTo(2 / 3, 12);
    expect(m.f1.b).toBeCloseTo(2 / 3, 12);
    expect(m.macroF1).toBeCloseTo(2 / 3, 12);
    expect(m.accuracy).toEqual({a: 2 / 3, b: 1 / 2});
    expect(m.precision).toEqual({a: 2 / 3, b: 1});
    expect(m.meanAccuracy).toBeCloseTo(7 / 12, 12);
    expect(m.overallAccuracy).toBeCloseTo(3 / 5, 12);
  });

  test("the bootstrap is seeded: the same seed gives the same intervals, another seed others", () => {
    const one = bootstrapClassificationScores(truth, predicted, classes, {resamples: 300, seed: 7});
    const again = bootstrapClassificationScores(truth, predicted, classes, {resamples: 300, seed: 7});
    const other = bootstrapClassificationScores(truth, predicted, classes, {resamples: 300, seed: 8});
    expect(again).toEqual(one);
    expect(other.macroF1).not.toEqual(one.macroF1);
    expect(one.classes).toEqual(["a", "b"]);
    expect(one.f1).toHaveLength(2);
    expect(one.macroF1.ci95[0]).toBeLessThanOrEqual(one.macroF1.ci95[1]);
  });

  test("perfect predictions have every interval at 1; a class never predicted has precision 0", () => {
    const labels = Array.from({length: 80}, (_, i) => (i % 2 ? "a" : "b"));
    const perfect = zeroShotMetrics(labels, labels, ["a", "b", "x"], {resamples: 100});
    expect(perfect.macroF1).toBe(1);
    expect(perfect.ci95).toEqual([1, 1]);
    expect(perfect.f1Ci95).toEqual({a: [1, 1], b: [1, 1]});
    const never = zeroShotMetrics(["a", "b"], ["a", "x"], ["a", "b", "x"], {resamples: 50});
    expect(never.precision.b).toBe(0);
    expect(never.f1.b).toBe(0);
  });

  test("a class missing from a resample scores F1 0 there, as sklearn's zero_division=0 in the official script", () => {
    // Two perfect images, one per class: half the resamples hold one class only (macro F1 0.5).
    const boot = bootstrapClassificationScores(["a", "b"], ["a", "b"], ["a", "b"], {resamples: 400});
    expect(boot.macroF1.ci95).toEqual([0.5, 1]);
    expect(boot.macroF1.mean).toBeGreaterThan(0.6);
    expect(boot.macroF1.mean).toBeLessThan(0.9);
  });

  test("a label outside the classes is refused by name", () => {
    expect(() => zeroShotMetrics(["a"], ["z"], ["a", "b"])).toThrow(/predicted label "z" at 0 is not one of \[a, b\]/);
  });
});

describe("GA metrics on hand-made dot products", () => {
  /** Dot products over GA_BIN_DAYS with a peak of the given heights at the given bins. */
  const curve = (peaks: Record<number, number>): Float64Array => {
    const values = new Float64Array(GA_BIN_DAYS.length).fill(10);
    for (const [bin, height] of Object.entries(peaks)) values[Number(bin)] = height;
    return values;
  };
  const binOf = (gaDays: number) => GA_BIN_DAYS.indexOf(gaDays);

  test("the predicted GA is the median of the top-N bins, sorted by GA", () => {
    // Top 3 at 150, 160 and 200 days: the middle one by GA is 160, whatever their heights.
    const row: GaDotProductRow = {trueHcMm: 150, dotProducts: curve({[binOf(200)]: 30, [binOf(150)]: 29, [binOf(160)]: 28})};
    expect(gaPredictions([row], GA_BIN_DAYS, 3)[0]!.predictedGaDays).toBe(160);
    expect(gaPredictions([row], GA_BIN_DAYS, 1)[0]!.predictedGaDays).toBe(200);
  });

  test("validity is the WHO 2.5-97.5 band at the predicted GA; HC outside [100, 342] mm is not scored; MAE is against the WHO median GA", () => {
    const gaDays = 180;
    const inside = (hcQuantileMm(gaDays, 0.025) + hcQuantileMm(gaDays, 0.975)) / 2;
    const above = hcQuantileMm(gaDays, 0.975) + 5;
    const rows: GaDotProductRow[] = [
      {trueHcMm: inside, dotProducts: curve({[binOf(gaDays)]: 50})},
      {trueHcMm: above, dotProducts: curve({[binOf(gaDays)]: 50})},
      {trueHcMm: 60, dotProducts: curve({[binOf(gaDays)]: 50})} // too small to score
    ];
    const m = gaMetrics(rows, {topBins: 1, resamples: 100});
    expect(m.total).toBe(3);
    expect(m.n).toBe(2);
    expect(m.valid).toBe(1);
    expect(m.vpr).toBe(0.5);
    expect(m.predictions.map((p) => [p.scored, p.valid])).toEqual([[true, true], [true, false], [false, false]]);
    expect(m.maeDays).toBeCloseTo((Math.abs(gaDays - gaFromHcMm(inside)) + Math.abs(gaDays - gaFromHcMm(above))) / 2, 9);
    expect(m.predictions[0]!.errorDays).toBeCloseTo(gaDays - gaFromHcMm(inside), 9);
  });

  test("no scored image, or a top-N out of range, is an error", () => {
    expect(() => gaMetrics([{trueHcMm: 50, dotProducts: curve({})}])).toThrow(/no row has a true HC in FetalCLIP's scored range/);
    expect(() => gaMetrics([{trueHcMm: 150, dotProducts: curve({})}], {topBins: 176})).toThrow(/topBins must be an integer in \[1, 175\]/);
  });
});

describe("released-file parsers", () => {
  test("a results CSV gives macro F1, mean accuracy and per-class columns (top-k columns kept apart)", () => {
    const csv = "model,f1,acc,acc_top2,f1_a,f1_b,acc_a,acc_b,acc_top2_a\nFetalCLIP,0.5,0.6,0.9,0.4,0.6,0.7,0.5,0.95\n";
    const r = parseResultsCsv(csv, "r.csv");
    expect(r).toMatchObject({model: "FetalCLIP", macroF1: 0.5, meanAccuracy: 0.6, f1: {a: 0.4, b: 0.6}, accuracy: {a: 0.7, b: 0.5}});
    expect(r.columns.acc_top2_a).toBe(0.95);
    expect(() => parseResultsCsv("model,f1\nx,1\n", "r.csv")).toThrow(/^r\.csv: no "acc" column/);
    expect(() => parseResultsCsv("model,f1,acc\nx,1,oops\n", "r.csv")).toThrow(/r\.csv: column "acc" is "oops"/);
  });

  test("predictions, prompts and dot products of the wrong shape are refused naming the file", () => {
    expect(() => parseZeroShotPredictions([], "p.json")).toThrow(/^p\.json: expected a JSON object/);
    expect(() => parseZeroShotPredictions({prediction: ["a"]}, "p.json")).toThrow(/p\.json: no "label" list/);
    expect(() => parseZeroShotPredictions({prediction: ["a", "b"], label: ["a"]}, "p.json")).toThrow(/p\.json: 2 predictions but 1 labels/);
    expect(() => parseZeroShotPredictions({prediction: [3], label: ["a"]}, "p.json")).toThrow(/p\.json: "prediction"\[0\] is 3/);
    expect(() => parsePromptFile({a: []}, "q.json")).toThrow(/q\.json: class "a" must map to a non-empty list/);
    expect(parsePromptFile({b: ["x"], a: ["y"]}, "q.json").classes).toEqual(["b", "a"]);
    expect(() => parseGaDotProducts({ga_days: [1, 2], rows: [{true_hc: 150, dot_prods: [1]}]}, "d.json")).toThrow(/d\.json: rows\[0\]\.dot_prods has 1 values, expected 2/);
    expect(() => parseGaDotProducts({ga_days: [2, 1], rows: []}, "d.json")).toThrow(/d\.json: "ga_days" must ascend/);
    expect(() => parseGaDotProducts({ga_days: [1], rows: [{true_hc: "x", dot_prods: [1]}]}, "d.json")).toThrow(/d\.json: rows\[0\]\.true_hc is "x"/);
  });

  test("without a prompts file the known class order is used when every label fits it", () => {
    expect(knownClassesFor({trueLabels: ["brain"], predictedLabels: ["spine"]})?.[8]).toBe("cervix");
    expect(knownClassesFor({trueLabels: ["trans-thalamic"], predictedLabels: ["trans-ventricular"]})).toEqual(["trans-thalamic", "trans-cerebellum", "trans-ventricular"]);
    expect(knownClassesFor({trueLabels: ["cat"], predictedLabels: ["dog"]})).toBeNull();
  });
});

describe("the paper comparison rows", () => {
  const metrics = zeroShotMetrics(["a", "a", "b"], ["a", "b", "b"], ["a", "b"], {resamples: 50});
  const paper = {model: "FetalCLIP", macroF1: 0.6667, meanAccuracy: 0.75, f1: {a: 0.6666666, b: 0.71}, accuracy: {a: 0.5, b: 1}, columns: {}};
  const artifact: PaperReferenceArtifact = {
    format: 1, configured: true, key: "k", folder: "ref", source: "option",
    fivePlanes: {files: REFERENCE_FILES.fivePlanes, metrics: {...metrics, classesFrom: "prompts"}, paper, promptsMatchProject: true}
  };

  test("macro F1, mean accuracy, then per-class F1 and accuracy; agreement at the paper's printed decimals", () => {
    const rows = paperComparisonRows(artifact);
    expect(rows.map((r) => `${r.metric}/${r.class}`)).toEqual(["macro F1/all", "mean accuracy/all", "F1/a", "F1/b", "accuracy/a", "accuracy/b"]);
    const byKey = Object.fromEntries(rows.map((r) => [`${r.metric}/${r.class}`, r]));
    expect(byKey["macro F1/all"]).toMatchObject({paper: 0.6667, ours: 2 / 3, decimals: 4, agrees: true, ci95: metrics.ci95});
    // 0.6666666 is printed with 7 decimals; compared at 6 (the cap), both round to 0.666667.
    expect(byKey["F1/a"]).toMatchObject({decimals: 6, agrees: true});
    expect(byKey["F1/b"]!.agrees).toBe(false);
    expect(byKey["F1/b"]!.difference).toBeCloseTo(2 / 3 - 0.71, 12);
    expect(paperComparisonRows({format: 1, configured: false, key: "k", howToConfigure: "x"})).toEqual([]);
  });

  test("the CSV has a header and one full-precision line per row", () => {
    const csv = paperComparisonCsv(paperComparisonRows(artifact)).trim().split("\n");
    expect(csv[0]).toBe("test,metric,class,paper,ours,difference,ci95_low,ci95_high,paper_ci95_low,paper_ci95_high,agrees");
    expect(csv).toHaveLength(7);
    expect(csv[1]!.startsWith(`Five planes,macro F1,all,0.6667,${2 / 3},`)).toBe(true);
  });
});

describe("fetalclip metrics: files and configuration", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "fetalclip-paper-"));
  });
  afterAll(() => rmSync(tmp, {recursive: true, force: true}));

  test("malformed or missing input exits non-zero with a message naming the file", () => {
    const broken = join(tmp, "broken_prediction.json");
    writeFileSync(broken, '{"prediction": ["a", ');
    const r1 = cli(["metrics", "zero-shot", "--predictions", broken]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain(broken);
    const missing = join(tmp, "none.json");
    const r2 = cli(["metrics", "ga", "--dot-products", missing]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain(`${missing}: does not exist`);
    const shape = join(tmp, "shape.json");
    writeFileSync(shape, JSON.stringify({ga_days: [98], rows: [{true_hc: 150}]}));
    const r3 = cli(["metrics", "ga", "--dot-products", shape]);
    expect(r3.stderr).toContain(`${shape}: rows[0].dot_prods has no values`);
    expect(r1.stdout + r2.stdout + r3.stdout).toBe("");
  });

  test("a prompts file lacking a predicted class is named; --prompts sets the confusion's columns", () => {
    const predictions = join(tmp, "tiny_prediction.json");
    writeFileSync(predictions, JSON.stringify({prediction: ["a", "x", "b"], label: ["a", "a", "b"]}));
    const prompts = join(tmp, "tiny_prompts_short.json");
    writeFileSync(prompts, JSON.stringify({a: ["p"], b: ["q"]}));
    expect(() => zeroShotMetricsFromFiles({predictions, prompts})).toThrow(new RegExp(`${prompts}: has no prompt class for label\\(s\\) "x"`));
    const full = join(tmp, "tiny_prompts_full.json");
    writeFileSync(full, JSON.stringify({x: ["r"], a: ["p"], b: ["q"]}));
    const m = zeroShotMetricsFromFiles({predictions, prompts: full, resamples: 50});
    expect(m.classes).toEqual(["x", "a", "b"]);
    expect(m.confusion.counts).toEqual([[1, 1, 0], [0, 0, 1]]);
    expect(zeroShotMetricsFromFiles({predictions, resamples: 50})).toMatchObject({classesFrom: "labels", classes: ["a", "b", "x"]});
    expect(() => gaMetricsFromFile({dotProducts: join(tmp, "no.json")})).toThrow(/no\.json: does not exist/);
  });

  test("the reference folder: FETALCLIP_REFERENCE over the config's \"reference\" (resolved from the config's folder), none by default", () => {
    const dir = join(tmp, "cfg");
    mkdirSync(dir, {recursive: true});
    const file = join(dir, "fetalclip.config.json");
    writeFileSync(file, JSON.stringify({reference: "../released"}));
    expect(readProjectConfig({file, env: {}})).toMatchObject({reference: join(tmp, "released"), referenceSource: file});
    expect(readProjectConfig({file, env: {FETALCLIP_REFERENCE: "/elsewhere"}})).toMatchObject({reference: "/elsewhere", referenceSource: "FETALCLIP_REFERENCE"});
    writeFileSync(file, "{}");
    expect(readProjectConfig({file, env: {}})).toMatchObject({reference: null, referenceSource: "default"});
    writeFileSync(file, JSON.stringify({reference: 3}));
    expect(() => readProjectConfig({file, env: {}})).toThrow(/"reference" must be a folder path/);
  });

  test("not configured: the artifact says so and how to configure it; a missing folder is reported, not thrown", () => {
    const none = paperReferenceArtifact({dir: null});
    expect(none).toMatchObject({configured: false});
    expect(none.configured === false && none.howToConfigure).toMatch(/FETALCLIP_REFERENCE/);
    const gone = paperReferenceArtifact({dir: join(tmp, "absent")});
    expect(gone.configured && gone.problem).toMatch(/does not exist/);
  });

  test("Framework's cached artifact is removed when it was built for another folder", () => {
    const siteRoot = join(tmp, "site");
    const cached = paperReferenceCacheFile(siteRoot);
    mkdirSync(join(cached, ".."), {recursive: true});
    const file = join(tmp, "empty.config.json");
    writeFileSync(file, "{}");
    writeFileSync(cached, JSON.stringify({key: paperReferenceKey(join(tmp, "released"))}));
    expect(clearStalePaperReferenceCache({siteRoot, file, env: {FETALCLIP_REFERENCE: join(tmp, "released")}})).toBe(false);
    expect(readFileSync(cached, "utf8")).toContain("key");
    expect(clearStalePaperReferenceCache({siteRoot, file, env: {}})).toBe(true);
    expect(() => readFileSync(cached)).toThrow();
  });
});
