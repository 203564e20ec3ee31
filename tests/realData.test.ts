// The real-data report (loaders/evaluation/realData.ts) on the ../shared/data subsets
// with the embedded demo model: every labelled image is scored once, in the right
// confusion-matrix row, and the CLI's `evaluate` gives clear errors for bad input.
import {spawnSync} from "node:child_process";
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {csvParse} from "d3-dsv";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {readAfricanPlanes, readFetalPlanesDb, readHc18} from "../loaders/datasets/realDatasets.js";
import {ensureDemoBundle} from "../loaders/demo/bundle.js";
import {realDataCardSection} from "../loaders/demo/realDataCard.js";
import {evaluateRealData, type RealDataReport} from "../loaders/evaluation/realData.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

const labels = (dataset: string) => csvParse(readFileSync(sharedPath("data", dataset, "labels.csv"), "utf8"));
const rowSums = (counts: number[][]) => counts.map((row) => row.reduce((a, b) => a + b, 0));

describeShared("real-data zero-shot report on ../shared/data", () => {
  let report: RealDataReport;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "real-data-"));
    const bundleDir = await ensureDemoBundle({});
    report = await evaluateRealData({
      bundleDir, planesDbDir: sharedPath("data", "planes"), africanDir: sharedPath("data", "african"), hc18Dir: sharedPath("data", "hc18"), threads: 1
    });
  }, 600_000);
  afterAll(() => rmSync(tmp, {recursive: true, force: true}));

  test("FETAL_PLANES_DB: every non-Other image is scored once, in its own row", () => {
    const rows = labels("planes");
    const planes = report.datasets.planesDb!.planes;
    const byClass = {abdomen: "Fetal abdomen", brain: "Fetal brain", femur: "Fetal femur", heart: "Fetal thorax", cervix: "Maternal cervix"} as const;
    expect(planes.images).toBe(rows.filter((r) => r.Plane !== "Other").length);
    expect(planes.confusion.trueClasses).toEqual(["abdomen", "brain", "femur", "heart", "cervix"]);
    expect(rowSums(planes.confusion.counts)).toEqual(planes.confusion.trueClasses.map((c) => rows.filter((r) => r.Plane === byClass[c as keyof typeof byClass]).length));
    // Predictions range over all nine prompt classes, distractors included.
    expect(planes.confusion.predictedClasses).toHaveLength(9);
    expect(planes.macroF1).toBeGreaterThanOrEqual(0);
    expect(planes.macroF1).toBeLessThanOrEqual(1);
    const sub = report.datasets.planesDb!.subPlanes!;
    const brainLabels = {"Trans-thalamic": "trans-thalamic", "Trans-cerebellum": "trans-cerebellum", "Trans-ventricular": "trans-ventricular"} as const;
    expect(sub.images).toBe(rows.filter((r) => r.Plane === "Fetal brain" && r.Brain_plane! in brainLabels).length);
  });

  test("African planes: 188 images over four planes", () => {
    const planes = report.datasets.african!.planes;
    expect(planes.images).toBe(labels("african").length);
    expect(planes.confusion.trueClasses.sort()).toEqual(["abdomen", "brain", "femur", "heart"]);
  });

  test("HC18: GA is scored on the heads with HC in [100, 342] mm, prompting their own spacings", () => {
    const rows = labels("hc18");
    const ga = report.datasets.hc18!.ga;
    const inRange = rows.filter((r) => Number(r["head circumference (mm)"]) >= 100 && Number(r["head circumference (mm)"]) <= 342).length;
    expect(ga.images).toBe(rows.length);
    expect(ga.scored).toBe(inRange);
    expect(ga.vpr.count).toBe(inRange);
    expect(ga.distinctSpacings).toBeGreaterThan(10);
    expect(ga.vpr.ci95[0]).toBeLessThanOrEqual(ga.vpr.rate);
    expect(ga.vpr.ci95[1]).toBeGreaterThanOrEqual(ga.vpr.rate);
  });

  test("the model card's section quotes the measured numbers in its domain-gap sentence", () => {
    const section = realDataCardSection(report, {planesMacroF1: 0.95, subPlanesMacroF1: 0.8, gaValidRate: 0.85});
    expect(section.planesDbPlanesMacroF1).toBe(report.datasets.planesDb!.planes.macroF1);
    expect(section.domainGap).toContain(report.datasets.planesDb!.planes.macroF1.toFixed(2));
    expect(section.domainGap).toContain(report.datasets.hc18!.ga.vpr.rate.toFixed(2));
    expect(section.domainGap).toContain("phantom 0.95");
  });

  test("fetalclip evaluate: a clear error without datasets or with a folder lacking labels.csv", () => {
    const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), "evaluate", ...args], {cwd: repoRoot, encoding: "utf8"});
    const none = run(["--model", "models/fetalclip-demo"]);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain("give at least one dataset folder");
    const missing = run(["--model", "models/fetalclip-demo", "--hc18", tmp]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(join(tmp, "labels.csv"));
  });
});

describe("dataset readers", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "readers-"));
  });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  test("FETAL_PLANES_DB as released: semicolon-separated FETAL_PLANES_DB_data.csv and Images/", () => {
    const root = join(dir, "planes");
    mkdirSync(join(root, "Images"), {recursive: true});
    writeFileSync(join(root, "FETAL_PLANES_DB_data.csv"),
      "Image_name;Patient_num;Plane;Brain_plane;Operator;US_Machine;Train \n" +
      "Patient00001_Plane1_1_of_15;1;Other;Not A Brain;Other;Aloka;1\n" +
      "Patient00002_Plane3_1_of_2;2;Fetal brain;Trans-thalamic;Op. 1;Voluson E6;0\n" +
      "Patient00003_Plane6_1_of_3;3;Fetal thorax;Not A Brain;Op. 2;Voluson S10;1\n");
    const images = readFetalPlanesDb(root);
    expect(images.map((i) => [i.patientId, i.plane, i.subPlane])).toEqual([["1", null, null], ["2", "brain", "trans-thalamic"], ["3", "heart", null]]);
    expect(images[1]!.path).toBe(join(root, "Images", "Patient00002_Plane3_1_of_2.png"));
  });

  test("HC18 as released: training_set_pixel_size_and_HC.csv and training_set/", () => {
    const root = join(dir, "hc18");
    mkdirSync(join(root, "training_set"), {recursive: true});
    writeFileSync(join(root, "training_set_pixel_size_and_HC.csv"), "filename,pixel size(mm),head circumference (mm)\n000_HC.png,0.0691358041432,44.3\n");
    expect(readHc18(root)).toEqual([{path: join(root, "training_set", "000_HC.png"), pixelSizeMm: 0.0691358041432, hcMm: 44.3}]);
  });

  test("a folder without a labels file: the error names every file looked for", () => {
    const root = join(dir, "empty");
    mkdirSync(root);
    expect(() => readHc18(root)).toThrow(/labels\.csv is missing \(looked for labels\.csv, training_set_pixel_size_and_HC\.csv/);
    expect(() => readAfricanPlanes(root)).toThrow(/labels\.csv is missing/);
  });
});
