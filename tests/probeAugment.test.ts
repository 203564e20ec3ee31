// Probes on augmented copies (FetalCLIP's probing notebooks: N augmented copies of each
// training image, validation and test images as they are). The core trains on copies
// 1..N and tests on copy 0; a table missing copies is refused; the training pool is known
// from the table's columns before anything is embedded. `embed-dataset --augment` caches
// every copy (a rerun loads no model, more copies embed only the new ones) and
// `fetalclip probe --augment` embeds copies of the training pool only.
import {spawnSync} from "node:child_process";
import {createHash} from "node:crypto";
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {basename, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {openDataset} from "../loaders/datasets/registry.js";
import {pageProbeSettings} from "../loaders/probeResults.js";
import {DEMO_BUNDLE_DIR, ensureDemoBundle} from "../loaders/demo/bundle.js";
import {augmentRng, embedDataset, type EmbedDatasetResult} from "../loaders/embeddings/embedDataset.js";
import {readManifest} from "../loaders/bundles.js";
import {loadNodeModel} from "../loaders/nodeModel.js";
import {probeInputTensor} from "../src/lib/image/probeInput.js";
import {decodeEmbeddingTable, type EmbeddingTableData} from "../src/lib/embeddingTable.js";
import {probeTestPatients, probeTrainingPool, runProbe} from "../src/lib/probes/probe.js";
import {createRng} from "../src/lib/random.js";
import {cosine} from "../src/lib/vector.js";
import {describeShared, repoRoot} from "./shared.js";

const DIM = 8;

/**
 * Two classes of patients (4 images each) at +-2 along the first axis, and `copies`
 * augmented rows per image. With `swapped`, every copy sits at the other class's mean: a
 * head trained on the copies predicts the opposite class on the images themselves.
 */
function augmentedTable(patients: number, copies: number, swapped: boolean, seed = "aug-table"): EmbeddingTableData {
  const rng = createRng(seed);
  const ids: string[] = [], label: string[] = [], patient: string[] = [], copy: number[] = [];
  const values: number[] = [];
  const push = (id: string, cls: number, p: number, k: number, centre: number) => {
    ids.push(id);
    label.push(cls === 0 ? "normal" : "chd");
    patient.push(`Patient${String(p).padStart(5, "0")}`);
    copy.push(k);
    for (let d = 0; d < DIM; d++) values.push((d === 0 ? centre : 0) + 0.6 * rng.normal());
  };
  for (let p = 0; p < patients; p++) {
    const cls = p % 2;
    for (let j = 0; j < 4; j++) {
      const id = `img/${p}-${j}.png`;
      push(id, cls, p, 0, cls === 0 ? -2 : 2);
      for (let k = 1; k <= copies; k++) push(`${id}#${k}`, cls, p, k, (cls === 0) !== swapped ? -2 : 2);
    }
  }
  return {
    ids,
    embedDim: DIM,
    embeddings: Float32Array.from(values),
    columns: [
      {name: "diagnosis", type: "utf8", values: label},
      {name: "patient", type: "utf8", values: patient},
      {name: "augmentation", type: "float64", values: copy}
    ],
    metadata: {}
  };
}

const base = {label: "diagnosis", mode: "fast" as const, seed: 3, shots: [2, 4], resamples: 200};

describe("runProbe on a table with augmented copies", () => {
  it("trains on copies 1..N only and validates and tests on the images themselves", () => {
    const table = augmentedTable(40, 2, true);
    const plain = runProbe(table, {...base, augment: {full: 0, fewShot: 0}});
    const augmented = runProbe(table, {...base, augment: {full: 2, fewShot: 1}});
    // Trained on the images: the classes separate. Trained on the swapped copies and tested on
    // the images: every prediction is the other class. Had the test used copies, it would score high.
    expect(plain.full!.macroF1).toBeGreaterThan(0.95);
    expect(augmented.full!.macroF1).toBeLessThan(0.1);
    expect(augmented.curve.every((p) => p.mean < 0.3)).toBe(true);
    expect(augmented.protocol.augment).toEqual({full: 2, fewShot: 1});
    // Image counts: the task and the test set hold copy 0 only; training sets hold N copies per image.
    expect(augmented.data.images).toBe(160);
    expect(augmented.splits.testImages).toBe(plain.splits.testImages);
    expect(augmented.full!.trainImages).toBeCloseTo(2 * plain.full!.trainImages, 10);
    expect(augmented.curve.map((p) => p.trainImages)).toEqual(plain.curve.map((p) => p.trainImages));
    expect(plain.curve.map((p) => p.trainImages)).toEqual([8, 16]);
  });

  it("without an augment option, an augmented table trains on the official 5 / 10 copies as far as it holds them", () => {
    const table = augmentedTable(20, 3, false);
    const lines: string[] = [];
    const r = runProbe(table, {...base, curve: false, log: (m) => lines.push(m)});
    expect(r.protocol.augment).toEqual({full: 3, fewShot: 3});
    expect(lines.join("\n")).toMatch(/holds 3 augmented copies per image; training on 3 \(full data\) and 3 \(few-shot\)/);
    expect(() => runProbe(table, {...base, augment: {full: 5, fewShot: 10}})).toThrow(/5 augmented copies per training image asked for \(full data\); the table holds 3/);
    // A plain table has no copies to give.
    const plain = {...table, columns: table.columns.filter((c) => c.name !== "augmentation")};
    expect(() => runProbe(plain, {...base, augment: {full: 1, fewShot: 0}})).toThrow(/the table holds none/);
  });

  it("refuses a table whose training patients lack some copies, saying how many it holds", () => {
    const table = augmentedTable(20, 2, false);
    // Drop copy 2 of one image of a training patient.
    const test = probeTestPatients(table, base);
    const trainee = [...Array(20).keys()].find((p) => !test.has(String(p)))!;
    const keep = table.ids.map((id) => id !== `img/${trainee}-0.png#2`);
    const rows = keep.flatMap((k, i) => (k ? [i] : []));
    const filtered: EmbeddingTableData = {
      ...table,
      ids: rows.map((i) => table.ids[i]!),
      embeddings: Float32Array.from({length: rows.length * DIM}, (_, j) => table.embeddings[rows[Math.floor(j / DIM)]! * DIM + (j % DIM)]!),
      columns: table.columns.map((c) => ({...c, values: rows.map((i) => c.values[i]!)}))
    };
    expect(filtered.ids.length).toBe(table.ids.length - 1);
    expect(runProbe(filtered, {...base, augment: {full: 1, fewShot: 1}}).full!.macroF1).toBeGreaterThan(0.95);
    expect(() => runProbe(filtered, {...base, augment: {full: 2, fewShot: 2}})).toThrow(/holds \d+ augmented copies \(1\.\.2\) of \d+ training images, not \d+; embed them with `fetalclip embed-dataset --augment 2`/);
  });

  it("the training pool is every task image of the patients outside the test split, known from the columns alone", () => {
    const table = augmentedTable(20, 0, false);
    const columnsOnly: EmbeddingTableData = {...table, embedDim: 0, embeddings: new Float32Array(0)};
    const test = probeTestPatients(columnsOnly, base);
    const pool = probeTrainingPool(columnsOnly, base);
    expect(test.size).toBe(10); // the default test fraction, 0.5, of 20 patients
    expect(pool.size).toBe(40); // 10 patients x 4 images
    for (const id of pool) expect(test.has(String(Number(/^img\/(\d+)-/.exec(id)![1])))).toBe(false);
    // The probe draws the same test patients from the full table.
    const r = runProbe(augmentedTable(20, 1, false), {...base, augment: {full: 1, fewShot: 1}});
    expect(r.splits.testPatients).toBe(10);
    expect(r.splits.trainValPatients).toBe(10);
  });
});

const readTable = (path: string): EmbeddingTableData => decodeEmbeddingTable(new Uint8Array(readFileSync(path)));
const row = (t: EmbeddingTableData, i: number) => t.embeddings.subarray(i * t.embedDim, (i + 1) * t.embedDim);
const column = (t: EmbeddingTableData, name: string) => t.columns.find((c) => c.name === name)!.values;
const CLI = join(repoRoot, "loaders/cli.ts");

describe("embed-dataset --augment on the embedded default (demo model, phantom)", () => {
  let tmp = "";
  const quiet = () => {};
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "fetalclip-augment-"));
    await ensureDemoBundle({});
  }, 300_000);
  afterAll(() => rmSync(tmp, {recursive: true, force: true}));
  const run = (copies: number, seed: number | string, only?: ReadonlySet<string>, out = `aug-${copies}-${seed}`) =>
    embedDataset({model: DEMO_BUNDLE_DIR, dataset: openDataset("phantom", {limit: 24}), outDir: join(tmp, out), cacheDir: join(tmp, "cache"), batch: 16, augment: {copies, seed, ...(only ? {only} : {})}, log: quiet});

  it("one row per image and copy, each the model on probeInputTensor with that copy's seeded draws; copies differ; every copy is cached", async () => {
    const ids = openDataset("phantom", {limit: 24}).images.map((i) => i.id);
    const only = new Set(ids.slice(0, 10));
    const first = await run(2, 1, only);
    expect(first).toMatchObject({images: 24, rows: 24 + 2 * 10, embedded: 44, cached: 0, failed: [], modelLoaded: true});
    const table = readTable(first.out);
    expect(table.ids.slice(0, 3)).toEqual([ids[0], `${ids[0]}#1`, `${ids[0]}#2`]);
    expect(column(table, "augmentation").slice(0, 4)).toEqual([0, 1, 2, 0]);
    expect(column(table, "image_id").slice(0, 4)).toEqual([ids[0], ids[0], ids[0], ids[1]]);
    expect(table.metadata["fetalclip.pipeline"]).toMatch(/^fetalclip-probe-input\/1: /);
    expect(table.metadata).toMatchObject({"fetalclip.augment_copies": "2", "fetalclip.augment_seed": "1"});
    expect(JSON.parse(table.metadata["fetalclip.augmentation"]!)).toMatchObject({clahe: {p: 0.5}, shiftScaleRotate: {shiftLimit: 0.2, rotateLimitDeg: 20}});
    // Each row is the model on probeInputTensor of its image, with the copy's own seeded draws.
    const {model} = await loadNodeModel(DEMO_BUNDLE_DIR, {ep: "cpu"});
    const manifest = readManifest(DEMO_BUNDLE_DIR);
    const spec = {size: manifest.image.size, mean: manifest.image.mean, std: manifest.image.std};
    const at = (t: EmbeddingTableData, id: string) => row(t, t.ids.indexOf(id));
    try {
      const image = openDataset("phantom", {limit: 24}).images[0]!;
      const bytes = new Uint8Array(readFileSync(image.path));
      const hash = createHash("sha256").update(bytes).digest("hex");
      const inputs = [probeInputTensor(bytes, spec), probeInputTensor(bytes, spec, {rng: augmentRng(hash, 1, 1)}), probeInputTensor(bytes, spec, {rng: augmentRng(hash, 2, 1)})];
      const direct = (await model.encodeImages(inputs)).embeddings;
      [image.id, `${image.id}#1`, `${image.id}#2`].forEach((id, k) => {
        const got = at(table, id);
        expect(Math.max(...direct[k]!.map((v, d) => Math.abs(v - got[d]!)))).toBeLessThan(1e-4);
      });
    } finally {
      await model.imageSession.release();
      await model.textSession.release();
    }
    // Copies move away from the image; copy 0 is near the standard (PIL-resized) embedding.
    const standard = readTable((await embedDataset({model: DEMO_BUNDLE_DIR, dataset: openDataset("phantom", {limit: 24}), outDir: join(tmp, "standard"), cacheDir: join(tmp, "cache"), batch: 16, log: quiet})).out);
    let minSame = 1, maxCopy = -1;
    for (const id of ids) minSame = Math.min(minSame, cosine(at(table, id), at(standard, id)));
    for (const id of only) for (const k of [1, 2]) maxCopy = Math.max(maxCopy, cosine(at(table, `${id}#${k}`), at(table, id)));
    expect(minSame).toBeGreaterThan(0.99);
    expect(maxCopy).toBeLessThan(0.999);
    expect(cosine(at(table, `${ids[0]}#1`), at(table, `${ids[0]}#2`))).toBeLessThan(0.999);
    console.log(`augmented copies of 10 phantom images: cosine to the image <= ${maxCopy.toFixed(4)}; copy 0 (cv2 resize to ${spec.size}) vs standard pipeline (PIL) >= ${minSame.toFixed(5)}`);

    // Rerun: everything cached, no model loaded, the same bytes.
    const again = await run(2, 1, only);
    expect(again).toMatchObject({embedded: 0, cached: 44, modelLoaded: false});
    expect(readFileSync(again.out).equals(readFileSync(first.out))).toBe(true);
    // A third copy: only it is embedded; copies 1 and 2 are the same as before.
    const more = await run(3, 1, only);
    expect(more).toMatchObject({rows: 24 + 30, embedded: 10, cached: 44});
    const three = readTable(more.out);
    expect(Array.from(at(three, `${ids[3]}#2`))).toEqual(Array.from(at(table, `${ids[3]}#2`)));
    // Another seed: copy 0 does not depend on it (cached); the copies do.
    const reseeded = await run(2, "other", only);
    expect(reseeded).toMatchObject({embedded: 20, cached: 24});
    expect(cosine(at(readTable(reseeded.out), `${ids[0]}#1`), at(table, `${ids[0]}#1`))).toBeLessThan(0.999);
  }, 300_000);

  it("fetalclip embed-dataset --augment N prints the rows and writes the augmented table in OUT", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", CLI, "embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "6", "--augment", "2", "--augment-seed", "7", "--out", join(tmp, "cli-out"), "--cache", join(tmp, "cache")], {cwd: repoRoot, encoding: "utf8"});
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out).toMatchObject({images: 6, rows: 18, failed: [], out: join(tmp, "cli-out", "embeddings.arrow")});
    const table = readTable(out.out);
    expect(table.metadata).toMatchObject({"fetalclip.augment_copies": "2", "fetalclip.augment_seed": "7"});
    expect(column(table, "augmentation")).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    const bad = spawnSync(process.execPath, ["--import", "tsx", CLI, "embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--augment", "-1"], {cwd: repoRoot, encoding: "utf8"});
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--augment/);
  }, 120_000);

  it("refuses --augment with --patch-tokens and a copy count out of range, before any work", async () => {
    await expect(embedDataset({model: DEMO_BUNDLE_DIR, dataset: "phantom", outDir: join(tmp, "x"), patchTokens: true, augment: {copies: 2}})).rejects.toThrow(/--augment and --patch-tokens do not go together/);
    await expect(run(101, 0)).rejects.toThrow(/--augment takes 0 to 100 copies per image, got 101/);
  });
});

describe("fetalclip probe --augment (demo model, a 30-patient phantom folder)", () => {
  let tmp = "";
  let dataset = "";
  beforeAll(async () => {
    await ensureDemoBundle({});
    tmp = mkdtempSync(join(tmpdir(), "fetalclip-probe-augment-"));
    dataset = join(tmp, "phantom30");
    mkdirSync(join(dataset, "images"), {recursive: true});
    const phantom = openDataset("phantom");
    const patients = [...new Set(phantom.images.map((i) => String(i.meta.patient)))].slice(0, 30);
    const lines = ["id,plane,sub_plane,patient,split"];
    for (const image of phantom.images.filter((i) => patients.includes(String(i.meta.patient)))) {
      copyFileSync(image.path, join(dataset, "images", basename(image.path)));
      lines.push([basename(image.path), image.meta.plane, image.meta.sub_plane ?? "", image.meta.patient, image.meta.split].join(","));
    }
    writeFileSync(join(dataset, "labels.csv"), lines.join("\n") + "\n");
  }, 300_000);
  afterAll(() => rmSync(tmp, {recursive: true, force: true}));
  const probe = (extra: string[]) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", CLI, "probe", "--model", DEMO_BUNDLE_DIR, "--dataset", dataset, "--label", "six-planes", "--mode", "fast", "--shots", "2,4", "--no-zero-shot", ...extra], {
      cwd: repoRoot,
      encoding: "utf8",
      env: {...process.env, FETALCLIP_CACHE: join(tmp, "cache")}
    });
    expect(r.status, r.stderr).toBe(0);
    return {report: JSON.parse(r.stdout.trim()), stderr: r.stderr};
  };

  it("embeds copies of the training pool only, trains on them and tests on the images as they are", () => {
    const plain = probe([]).report;
    const {report, stderr} = probe(["--augment", "2", "--augment-seed", "5"]);
    const images = plain.data.images as number;
    const testImages = plain.splits.testImages as number;
    expect(report.augmentation).toMatchObject({full: 2, fewShot: 2, seed: "5"});
    expect(report.augmentation.pipeline).toMatch(/^fetalclip-probe-input\/1/);
    expect(plain.augmentation).toBeNull();
    expect(report.protocol.augment).toEqual({full: 2, fewShot: 2});
    // Test patients' images are embedded once; every other task image three times (itself and 2 copies).
    expect(report.embeddings.rows).toBe(images + 2 * (images - testImages));
    expect(stderr).toMatch(new RegExp(`${images - testImages} training-pool images of ${images} get 2 augmented copies each`));
    expect(report.splits).toEqual(plain.splits);
    expect(report.data.images).toBe(images);
    expect(report.full.trainImages).toBeCloseTo(2 * plain.full.trainImages, 10);
    expect(report.curve.map((p: {trainImages: number}) => p.trainImages)).toEqual(plain.curve.map((p: {trainImages: number}) => 2 * p.trainImages));
    expect(report.full.macroF1).toBeGreaterThan(0.5);
    console.log(`30-patient phantom, six planes, fast: full macro F1 ${plain.full.macroF1.toFixed(4)} plain, ${report.full.macroF1.toFixed(4)} with 2 augmented copies; curve ${plain.curve.map((p: {mean: number}) => p.mean.toFixed(3)).join("/")} vs ${report.curve.map((p: {mean: number}) => p.mean.toFixed(3)).join("/")}`);
    // The augmented table is reused: a second run embeds nothing.
    const again = probe(["--augment", "2", "--augment-seed", "5"]);
    expect(again.stderr).toMatch(/are cached; no model loaded/);
    expect(again.report.full).toEqual(report.full);
  }, 300_000);

  it("the Probes page's loader (probeConfigured) gives the command's augmented report", async () => {
    const cli = probe(["--augment", "2", "--augment-seed", "5"]).report;
    const {probeConfigured, configuredModel} = await import("../loaders/probes.js");
    const report = await probeConfigured(configuredModel(DEMO_BUNDLE_DIR), {name: "phantom30-loader-test", dataset}, {label: "six-planes", mode: "fast", shots: [2, 4], zeroShot: false, augment: 2, augmentSeed: 5});
    // As JSON, as the command prints it (a class absent from the test set has F1 NaN, null in JSON).
    const json = JSON.parse(JSON.stringify(report));
    for (const key of ["augmentation", "protocol", "splits", "full", "curve"]) expect(json[key], key).toEqual(cli[key]);
  }, 300_000);

  it("--augment with a table that holds no copies says how to get them", () => {
    const plain = probe([]).report;
    const r = spawnSync(process.execPath, ["--import", "tsx", CLI, "probe", "--embeddings", plain.embeddings.file, "--label", "six-planes", "--augment", "paper", "--no-zero-shot"], {cwd: repoRoot, encoding: "utf8", env: {...process.env, FETALCLIP_CACHE: join(tmp, "cache")}});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`--augment: ${plain.embeddings.file} holds no augmented copies; give --model and --dataset`);
  }, 120_000);
});

describeShared("probing pipeline on real FETAL_PLANES_DB images (../shared/data/planes)", () => {
  it("full-resolution scans: padded, augmented and resized with OpenCV's bicubic; copies differ from the image, copy 0 stays near the PIL pipeline's embedding", async () => {
    await ensureDemoBundle({});
    const tmp = mkdtempSync(join(tmpdir(), "fetalclip-augment-real-"));
    try {
      const dataset = openDataset("fetal-planes-db", {limit: 12});
      const opts = {model: DEMO_BUNDLE_DIR, dataset, cacheDir: join(tmp, "cache"), batch: 8, log: () => {}};
      const augmented: EmbedDatasetResult = await embedDataset({...opts, outDir: join(tmp, "aug"), augment: {copies: 2, seed: 0}});
      const standard = await embedDataset({...opts, outDir: join(tmp, "std")});
      expect(augmented).toMatchObject({images: 12, rows: 36, failed: []});
      const a = readTable(augmented.out), s = readTable(standard.out);
      const at = (t: EmbeddingTableData, id: string) => row(t, t.ids.indexOf(id));
      let copy0 = 1, copies = -1;
      for (const image of dataset.images) {
        copy0 = Math.min(copy0, cosine(at(a, image.id), at(s, image.id)));
        for (const k of [1, 2]) copies = Math.max(copies, cosine(at(a, `${image.id}#${k}`), at(a, image.id)));
      }
      // OpenCV's bicubic without antialiasing against PIL's antialiased one: close, not equal.
      expect(copy0).toBeGreaterThan(0.9);
      expect(copy0).toBeLessThan(0.99999);
      expect(copies).toBeLessThan(0.9999);
      console.log(`12 FETAL_PLANES_DB scans: copy 0 (cv2 resize) vs PIL pipeline cosine >= ${copy0.toFixed(4)}; augmented copies vs image <= ${copies.toFixed(4)}; ${augmented.seconds.toFixed(1)} s for 36 rows`);
    } finally {
      rmSync(tmp, {recursive: true, force: true});
    }
  }, 300_000);
});

describe("the Probes page's augmentation setting (FETALCLIP_PROBE_AUGMENT)", () => {
  it("none by default; paper gives the notebooks' 5 and 10 copies; N gives N; anything else is refused by name", () => {
    expect(pageProbeSettings({}).augment).toBeNull();
    expect(pageProbeSettings({}).note).toMatch(/; no augmentation$/);
    expect(pageProbeSettings({FETALCLIP_PROBE_AUGMENT: "none"}).augment).toBeNull();
    const paper = pageProbeSettings({FETALCLIP_PROBE_AUGMENT: "paper"});
    expect(paper.augment).toEqual({full: 5, fewShot: 10, seed: 0});
    expect(paper.note).toMatch(/trained on 5 \(full data\) and 10 \(few-shot\) augmented copies of each training image/);
    expect(pageProbeSettings({FETALCLIP_PROBE_AUGMENT: "3", FETALCLIP_PROBE_MODE: "fast"}).augment).toEqual({full: 3, fewShot: 3, seed: 0});
    expect(() => pageProbeSettings({FETALCLIP_PROBE_AUGMENT: "lots"})).toThrow("FETALCLIP_PROBE_AUGMENT=lots: expected paper, none or a number of copies from 1 to 100");
  });
});
