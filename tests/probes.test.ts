// Probes on frozen embeddings (src/lib/probes, loaders/probes.ts, `fetalclip probe`): the
// linear probe recovers the Bayes rate of known Gaussians in both modes, the split reader
// reads FetalCLIP's released files, curves are reproducible from their seed, and on the
// embedded default (demo model + phantom) the few-shot curve rises and the full probe is
// at least as good as zero-shot.
import {spawnSync} from "node:child_process";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {ensureDemoBundle} from "../loaders/demo/bundle.js";
import {ensureEmbeddings} from "../loaders/embeddings/store.js";
import {readEmbeddingsFile, readSplitFile, zeroShotFor} from "../loaders/probes.js";
import {readProjectConfig} from "../loaders/projectConfig.js";
import {encodeEmbeddingTable, type EmbeddingTableData} from "../src/lib/embeddingTable.js";
import {fitProbe, testProbe} from "../src/lib/probes/fitProbe.js";
import type {ProbeRows} from "../src/lib/probes/linearHead.js";
import {PROBING_SETTINGS} from "../src/lib/probes/linearProbe.js";
import {drawPatientSplits, parseSplitFile, patientKey} from "../src/lib/probes/patientSplits.js";
import {defaultPositive, runProbe} from "../src/lib/probes/probe.js";
import {probeScores} from "../src/lib/probes/probeScores.js";
import {createRng} from "../src/lib/random.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

/** Standard normal CDF (erfc by Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Gaussian classes N(means[k], sigma^2 I), equal priors, drawn with a seed: rows and labels. */
function gaussians(means: number[][], sigma: number, perClass: number, seed: string): {x: Float32Array; y: Int32Array} {
  const rng = createRng(seed);
  const dim = means[0]!.length;
  const n = means.length * perClass;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % means.length;
    y[i] = k;
    for (let d = 0; d < dim; d++) x[i * dim + d] = means[k]![d]! + sigma * rng.normal();
  }
  return {x, y};
}

function rowsOf(data: {x: Float32Array; y: Int32Array}, dim: number): ProbeRows {
  return {embeddings: data.x, dim, rows: Int32Array.from(data.y, (_, i) => i), labels: data.y};
}

/** Two classes a distance 2a apart along a random direction, from a shared offset (embeddings are not centred). */
function binaryMeans(dim: number, a: number, seed: string): number[][] {
  const rng = createRng(seed);
  const u = Array.from({length: dim}, () => rng.normal());
  const norm = Math.hypot(...u);
  const offset = Array.from({length: dim}, () => rng.uniform(-0.5, 0.5));
  return [-1, 1].map((s) => offset.map((o, d) => o + (s * a * u[d]!) / norm));
}

describe("linear probe on Gaussians with known parameters", () => {
  // Equal isotropic covariances: the Bayes rule is linear, and its accuracy is Phi(a / sigma)
  // for two classes 2a apart (Phi(1.2816) = 0.9).
  const dim = 32, a = 1.2816, sigma = 1;
  const means = binaryMeans(dim, a, "gauss-means");
  const bayes = normalCdf(a / sigma);
  const train = rowsOf(gaussians(means, sigma, 2000, "gauss-train"), dim);
  const val = rowsOf(gaussians(means, sigma, 500, "gauss-val"), dim);
  const test = rowsOf(gaussians(means, sigma, 10000, "gauss-test"), dim);

  it("Bayes accuracy from the parameters is 0.9", () => {
    expect(bayes).toBeCloseTo(0.9, 4);
  });

  for (const mode of ["paper", "fast"] as const) {
    it(`${mode} mode: test accuracy within 0.02 of the Bayes rate`, () => {
      const fitted = fitProbe(train, val, 2, {mode, paper: PROBING_SETTINGS}, createRng(`gauss-${mode}`));
      const {scores} = testProbe(fitted.head, test);
      expect(Math.abs(scores.accuracy - bayes)).toBeLessThan(0.02);
      // Balanced classes: the macro recall is the accuracy, the macro F1 close to it.
      expect(scores.meanClassAccuracy).toBeCloseTo(scores.accuracy, 2);
      if (mode === "paper") expect(fitted.bestEpoch).toBeGreaterThanOrEqual(1);
      else expect([1e-1, 1e-2, 1e-3, 1e-4]).toContain(fitted.penalty);
    });
  }

  it("fast mode, four classes on a square: accuracy within 0.02 of the Bayes rate Phi(h)^2", () => {
    // Means at (+-h, +-h) in two of 16 dims: the Bayes rule splits by the signs of those two
    // coordinates, right when both are, so the Bayes accuracy is Phi(h / sigma)^2.
    const h = 1.5;
    const square = [[-h, -h], [-h, h], [h, -h], [h, h]].map(([p, q]) => [p!, q!, ...new Array(14).fill(0.3)]);
    const rate = normalCdf(h) ** 2;
    const fitted = fitProbe(rowsOf(gaussians(square, 1, 1500, "sq-train"), 16), rowsOf(gaussians(square, 1, 300, "sq-val"), 16), 4, {mode: "fast", paper: PROBING_SETTINGS}, createRng(0));
    const {scores} = testProbe(fitted.head, rowsOf(gaussians(square, 1, 5000, "sq-test"), 16));
    expect(Math.abs(scores.accuracy - rate)).toBeLessThan(0.02);
  });
});

describe("probe scores as torchmetrics computes them", () => {
  it("macro F1 and macro recall over classes in targets or predictions; a class in neither is left out", () => {
    // Classes 0..3: class 3 never occurs; class 2 is predicted once but never true.
    const s = probeScores([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 2], 4);
    expect(s.f1[0]).toBeCloseTo(0.8, 10); // TP 2, FP 0, FN 1: 4 / 5
    expect(s.f1[1]).toBeCloseTo(2 / 3, 10); // TP 2, FP 1, FN 1: 4 / 6
    expect(s.f1[2]).toBe(0); // TP 0, FP 1
    expect(s.f1[3]).toBeNaN();
    expect(s.macroF1).toBeCloseTo((0.8 + 2 / 3 + 0) / 3, 10);
    expect(s.meanClassAccuracy).toBeCloseTo((2 / 3 + 2 / 3 + 0) / 3, 10);
    expect(s.accuracy).toBeCloseTo(4 / 6, 10);
    expect(s.confusion).toEqual([[2, 1, 0, 0], [0, 2, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  });
});

/** A table of Gaussian embeddings: `perPatient` images per patient, every patient of one class. */
function gaussianTable(means: number[][], patientsPerClass: number, perPatient: number, seed: string, classNames: string[]): EmbeddingTableData {
  const dim = means[0]!.length;
  const rng = createRng(seed);
  const ids: string[] = [], label: string[] = [], patient: string[] = [];
  const values: number[] = [];
  for (let p = 0; p < patientsPerClass * means.length; p++) {
    const k = p % means.length;
    for (let j = 0; j < perPatient; j++) {
      ids.push(`img/${p}-${j}.png`);
      label.push(classNames[k]!);
      patient.push(`Patient${String(p).padStart(5, "0")}`);
      for (let d = 0; d < dim; d++) values.push(means[k]![d]! + rng.normal());
    }
  }
  return {
    ids,
    embedDim: dim,
    embeddings: Float32Array.from(values),
    columns: [
      {name: "diagnosis", type: "utf8", values: label},
      {name: "patient", type: "utf8", values: patient}
    ],
    metadata: {}
  };
}

describe("runProbe: seeded splits, curves and AUROC", () => {
  const means = binaryMeans(24, 1.2816, "table-means");
  const table = gaussianTable(means, 60, 3, "table", ["normal", "chd"]);
  const options = {label: "diagnosis", mode: "paper" as const, runs: 2, seed: 7, shots: [2, 8, 24], resamples: 300, settings: {probing: {maxEpochs: 15}, fewShot: {maxEpochs: 20}}};

  it("the same seed gives identical curves and full-probe results; another seed does not", () => {
    const a = runProbe(table, options);
    const b = runProbe(table, options);
    expect(b.curve).toEqual(a.curve);
    expect(b.full).toEqual(a.full);
    expect(b.auroc).toEqual(a.auroc);
    const c = runProbe(table, {...options, seed: 8});
    expect(c.curve.map((p) => p.values)).not.toEqual(a.curve.map((p) => p.values));
    expect(a.curve.map((p) => [p.patients, p.runs])).toEqual([[2, 10], [8, 10], [24, 10]]);
    expect(a.full!.runs).toBe(10);
    // Paper mode kept an epoch within the budget for every fit.
    expect(a.full!.selected.every((epoch) => epoch >= 1 && epoch <= 15)).toBe(true);
    // Binary labels: every few-shot point has its mean AUROC with a patient-bootstrap CI of that mean.
    for (const p of a.curve) {
      expect(p.auroc!.resamples).toBe(300);
      expect(p.auroc!.ci95![0]).toBeLessThanOrEqual(p.auroc!.mean);
      expect(p.auroc!.ci95![1]).toBeGreaterThanOrEqual(p.auroc!.mean);
    }
    expect(a.curve.at(-1)!.auroc!.ci95![1] - a.curve.at(-1)!.auroc!.ci95![0]).toBeGreaterThan(0);
  });

  it("binary labels: AUROC of the positive class with a patient bootstrap CI, near the Bayes AUROC", () => {
    // Fast mode: paper settings on 150 training images take ~30 AdamW steps in 15 epochs, too few to train.
    const r = runProbe(table, {...options, mode: "fast", curve: false});
    // Classes sorted: chd, normal; the positive defaults to the one not named normal.
    expect(r.classes).toEqual(["chd", "normal"]);
    expect(r.auroc!.positive).toBe("chd");
    expect([defaultPositive(["a", "b"]), defaultPositive(["0", "1"]), defaultPositive(["disease", "Normal"])]).toEqual([1, 1, 0]);
    const {auroc, ci95, roc} = r.auroc!;
    expect(ci95[0]).toBeLessThanOrEqual(auroc);
    expect(ci95[1]).toBeGreaterThanOrEqual(auroc);
    expect(ci95[1] - ci95[0]).toBeGreaterThan(0);
    expect([roc.fpr[0], roc.tpr[0], roc.fpr.at(-1), roc.tpr.at(-1)]).toEqual([0, 0, 1, 1]);
    // Bayes score of two Gaussians 2a apart: AUROC = Phi(2a / (sigma sqrt 2)).
    expect(Math.abs(auroc - normalCdf((2 * 1.2816) / Math.SQRT2))).toBeLessThan(0.03);
    expect(r.splits).toMatchObject({test: "seeded", folds: "seeded", fewShot: "seeded", testPatients: 60, trainValPatients: 60});
  });

  it("drawn splits: folds partition the train-val patients, support sets hold N + N of them, test patients never train", () => {
    const pool = Array.from({length: 40}, (_, i) => `P${i}`);
    const test = Array.from({length: 10}, (_, i) => `T${i}`);
    const s = drawPatientSplits(pool, test, {seed: 3, counts: [2, 4, 8, 16, 32]});
    expect(s.folds).toHaveLength(5);
    expect(s.folds.flatMap((f) => f.val).sort()).toEqual([...pool].sort());
    for (const f of s.folds) expect(new Set([...f.train, ...f.val]).size).toBe(40);
    // 32 + 32 > 40: that count is left out.
    expect(s.fewShot.map((c) => c.patients)).toEqual([2, 4, 8, 16]);
    for (const c of s.fewShot) for (const sup of c.supports) {
      expect([sup.train.length, sup.val.length]).toEqual([c.patients, c.patients]);
      expect(new Set([...sup.train, ...sup.val]).size).toBe(2 * c.patients);
      expect([...sup.train, ...sup.val].every((p) => p.startsWith("P"))).toBe(true);
    }
    expect(() => drawPatientSplits([...pool, "T3"], test, {seed: 3})).toThrow(/T3 is both a test and a train-val patient/);
  });
});

describe("split files: malformed ones are refused, naming the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "fetalclip-probe-splits-"));
  afterAll(() => rmSync(dir, {recursive: true, force: true}));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it.each([
    ["not-json.json", "{\"0\": [", /not-json\.json: not valid JSON/],
    ["duplicate.json", "{\"0\": [[\"a\"], [\"b\"]], \"0\": [[\"c\"], [\"d\"]]}", /duplicate\.json.*duplicate key/i],
    ["overlap.json", "{\"0\": [[\"Patient1\"], [\"Patient00001\"]]}", /overlap\.json: fold "0": patient Patient00001 is in both its train and val lists/],
    ["gap.json", "{\"0\": [[\"a\"], [\"b\"]], \"2\": [[\"c\"], [\"d\"]]}", /gap\.json: fold keys should be "0".."1"/],
    ["words.json", "{\"first\": [[\"a\"], [\"b\"]]}", /words\.json: key "first" is neither a fold number nor a patient count/],
    ["bad-id.json", "[\"Patient1\", {\"x\": 1}]", /bad-id\.json: the test list\[1\] is not a patient id/]
  ])("%s", (name, text, message) => {
    const path = write(name, text);
    expect(() => readSplitFile(path)).toThrow(message);
  });

  it("a missing file and an over-large embeddings table are refused by name", () => {
    expect(() => readSplitFile(join(dir, "absent.json"), "--test-split")).toThrow(/--test-split .*absent\.json: ENOENT/);
    expect(() => readEmbeddingsFile(write("junk.arrow", "not arrow"))).toThrow(/--embeddings .*junk\.arrow: not an embeddings table/);
  });

  it("patient ids match across FETAL_PLANES_DB's CSV and split files", () => {
    expect(["Patient00305", "305", "0305", "patient305"].map(patientKey)).toEqual(["305", "305", "305", "305"]);
    expect(patientKey("Patient00000")).toBe("0");
    expect(patientKey("Mali-12")).toBe("Mali-12");
  });
});

describeShared("FetalCLIP's released split files", () => {
  const file = (name: string) => sharedPath("reference", "fetalclip", name);

  it("few-data six planes: patient counts 2..128, five support sets of N training and N validation patients each", () => {
    const s = readSplitFile(file("few_data_training_classification_six_fetal_planes_train_val_split.json"));
    if (s.kind !== "few-shot") throw new Error(`read as ${s.kind}`);
    expect(s.counts.map((c) => c.patients)).toEqual([2, 4, 8, 16, 32, 64, 128]);
    for (const c of s.counts) {
      expect(c.supports.map((x) => [x.train.length, x.val.length])).toEqual(new Array(5).fill([c.patients, c.patients]));
    }
  });

  it("few-data brain sub-planes: patient counts 4..128", () => {
    const s = readSplitFile(file("few_data_training_classification_brain_subplanes_train_val_split.json"));
    if (s.kind !== "few-shot") throw new Error(`read as ${s.kind}`);
    expect(s.counts.map((c) => c.patients)).toEqual([4, 8, 16, 32, 64, 128]);
  });

  it("probing six planes: 5 folds whose validation lists partition 896 patients, disjoint from the 896 test patients", () => {
    const s = readSplitFile(file("probing_classification_six_fetal_planes_train_val_split.json"));
    if (s.kind !== "probing") throw new Error(`read as ${s.kind}`);
    expect(s.folds.map((f) => [f.train.length, f.val.length])).toEqual([[716, 180], [717, 179], [717, 179], [717, 179], [717, 179]]);
    const val = s.folds.flatMap((f) => f.val);
    expect(new Set(val).size).toBe(896);
    const test = readSplitFile(file("probing_classification_six_fetal_planes_test_split.json"));
    if (test.kind !== "test") throw new Error(`read as ${test.kind}`);
    expect(new Set(test.patients).size).toBe(896);
    expect(val.filter((p) => test.patients.includes(p))).toEqual([]);
    // The few-data test split is the same set for both tasks.
    for (const name of ["few_data_training_classification_six_fetal_planes_test_split.json", "few_data_training_classification_brain_subplanes_test_split.json"]) {
      const other = readSplitFile(file(name));
      expect(other.kind === "test" && [...other.patients].sort()).toEqual([...test.patients].sort());
    }
  });

  it("HC18's test ids ({id: \"test\"}) read as a test list of 161 subjects", () => {
    const s = parseSplitFile({"5": "test", "017": "test"}, "inline");
    expect(s).toEqual({kind: "test", patients: ["5", "017"]});
    const hc = readSplitFile(file("segmentation_hc_probing_test_id.json"));
    expect(hc.kind === "test" && hc.patients.length).toBe(161);
  });
});

describe("on the embedded default (demo model, phantom)", () => {
  let table: EmbeddingTableData;
  let file: string;
  beforeAll(async () => {
    await ensureDemoBundle({});
    const {models} = readProjectConfig({env: {FETALCLIP_DATASETS: "phantom", FETALCLIP_BUNDLES: "fetalclip-demo"}});
    const job = await ensureEmbeddings(models[0]!, {name: "phantom", dataset: "phantom"}, {log: () => {}});
    file = job.out;
    table = readEmbeddingsFile(file);
  }, 300_000);

  it("six planes: the few-shot curve rises (64 patients > 2), the full probe scores at least zero-shot's macro F1 on the same test patients", async () => {
    const [model] = readProjectConfig({env: {FETALCLIP_BUNDLES: "fetalclip-demo"}}).models;
    const zeroShot = await zeroShotFor(table, "six-planes", model!);
    const r = runProbe(table, {label: "six-planes", mode: "fast", seed: 0, zeroShot});
    expect(r.classes).toEqual(["other", "abdomen", "brain", "cervix", "femur", "heart"]);
    // The phantom's split column: its 150 test patients are the zero-shot evaluation's.
    expect(r.splits).toMatchObject({test: "split column", testPatients: 150, testImages: 591, trainValPatients: 601});
    expect(r.curve.map((p) => p.patients)).toEqual([2, 4, 8, 16, 32, 64]);
    const at = (n: number) => r.curve.find((p) => p.patients === n)!;
    expect(at(64).mean).toBeGreaterThan(at(2).mean);
    expect(at(64).std).toBeLessThan(at(2).std);
    const zs = r.zeroShot!;
    expect(zs.note).toMatch(/430 images/);
    // Scored as zero-shot is scored (same images, same classes): the probe matches or beats it.
    expect(r.full!.scoredAsZeroShot!.images).toBe(430);
    expect(r.full!.scoredAsZeroShot!.macroF1).toBeGreaterThanOrEqual(zs.macroF1);
    console.log(`phantom six planes (fast): curve ${r.curve.map((p) => `${p.patients}:${p.mean.toFixed(3)}`).join(" ")}; full macro F1 ${r.full!.macroF1.toFixed(4)} (6 classes), ${r.full!.scoredAsZeroShot!.macroF1.toFixed(4)} scored as zero-shot; zero-shot ${zs.macroF1.toFixed(4)}`);
  }, 120_000);

  it("fetalclip probe prints one JSON line: label, classes, curve, full; progress on stderr", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), "probe", "--embeddings", file, "--label", "brain-subplanes", "--mode", "fast", "--shots", "4,64", "--seed", "1", "--no-zero-shot"], {cwd: repoRoot, encoding: "utf8"});
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!);
    expect(report).toMatchObject({label: "brain-subplanes", column: "sub_plane", classes: ["trans-thalamic", "trans-cerebellum", "trans-ventricular"], mode: "fast", seed: 1, zeroShot: null});
    expect(report.curve.map((p: {patients: number; runs: number}) => [p.patients, p.runs])).toEqual([[4, 5], [64, 5]]);
    for (const p of report.curve) expect(Object.keys(p.perClass)).toEqual(report.classes);
    expect(report.full.confusion.counts.flat().reduce((x: number, y: number) => x + y, 0)).toBe(5 * report.splits.testImages);
    expect(report.full.macroF1).toBeGreaterThan(0.8);
    expect(r.stderr).toMatch(/few-shot brain-subplanes 64 patients: macro F1/);
  }, 60_000);

  it("fetalclip probe refuses a bad split file before any work, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "fetalclip-probe-cli-"));
    try {
      const bad = join(dir, "train_val_split.json");
      writeFileSync(bad, "{\"0\": [[\"P1\"]]}");
      const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), "probe", "--embeddings", file, "--label", "six-planes", "--splits", bad], {cwd: repoRoot, encoding: "utf8"});
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`--splits ${bad}: fold "0" should be [train_ids, val_ids]`);
      expect(r.stdout).toBe("");
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  }, 60_000);
});

// Encoded tables round-trip through the reader the CLI uses.
describe("readEmbeddingsFile", () => {
  it("reads an embeddings table written by encodeEmbeddingTable", () => {
    const dir = mkdtempSync(join(tmpdir(), "fetalclip-probe-table-"));
    try {
      const t = gaussianTable(binaryMeans(4, 1, "rt"), 2, 2, "rt", ["a", "b"]);
      const path = join(dir, "embeddings.arrow");
      writeFileSync(path, encodeEmbeddingTable(t));
      const back = readEmbeddingsFile(path);
      expect(back.ids).toEqual(t.ids);
      expect(Array.from(back.embeddings)).toEqual(Array.from(t.embeddings));
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
