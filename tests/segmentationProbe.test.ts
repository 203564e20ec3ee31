// The segmentation probe: a per-patch linear head on frozen patch tokens, bilinear
// upsampling, Dice pooled (FetalCLIP's test_dsc) and per image; HC18's outlines filled;
// the demo model on the phantom and on HC18 (FetalCLIP's released split files).
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {decode, encode} from "fast-png";
import {afterAll, describe, expect, it} from "vitest";
import {generatePhantomDataset} from "../loaders/phantomDataset.js";
import {hc18AnnotationPath, runSegmentProbe} from "../loaders/segmentation/segmentProbe.js";
import {decodeImage} from "../src/lib/image/decode.js";
import {padToSquare} from "../src/lib/image/pad.js";
import {resizeShorterSide} from "../src/lib/image/resize.js";
import {ellipsePerimeter} from "../src/lib/biometry.js";
import {
  diceFromCounts,
  iouFromCounts,
  scoreSegmentationHead,
  trainSegmentationHead,
  upsampleBilinear,
  type SegmentationSet
} from "../src/lib/probes/segmentation.js";
import {fillOutline, maskToInputSize, momentEllipse, outlinePixels} from "../src/lib/probes/segmentationMasks.js";
import {createRng} from "../src/lib/random.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

const tmp = mkdtempSync(join(tmpdir(), "segment-probe-test-"));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));
const demoModel = join(repoRoot, "models", "fetalclip-demo");

/** n images of grid x grid patches; each image's mask is a rectangle of whole patches, and token channel 0 says whether a patch is inside. */
function blockSet(n: number, grid: number, cellPx: number, dim: number, seed: string): SegmentationSet {
  const rng = createRng(seed);
  const size = grid * cellPx;
  const tokens = grid * grid;
  const values = new Float32Array(n * tokens * dim);
  const mask = new Uint8Array(n * size * size);
  for (let i = 0; i < n; i++) {
    const x0 = rng.int(0, grid - 3), y0 = rng.int(0, grid - 3);
    const x1 = rng.int(x0 + 2, grid - 1), y1 = rng.int(y0 + 2, grid - 1);
    for (let p = 0; p < tokens; p++) {
      const gx = p % grid, gy = Math.floor(p / grid);
      const inside = gx >= x0 && gx <= x1 && gy >= y0 && gy <= y1 ? 1 : 0;
      for (let d = 0; d < dim; d++) values[(i * tokens + p) * dim + d] = rng.normal(0, 0.2) + (d === 0 ? 2 * inside : 0);
      for (let y = 0; y < cellPx; y++) for (let x = 0; x < cellPx; x++) mask[i * size * size + (gy * cellPx + y) * size + gx * cellPx + x] = inside;
    }
  }
  return {features: {values, n, tokens, dim}, structures: ["block"], masks: [mask], size};
}

describe("segmentation head (core)", () => {
  it("upsamples as F.interpolate(bilinear, align_corners=False)", () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=4, mode="bilinear", align_corners=False)
    expect(Array.from(upsampleBilinear([0, 1, 2, 3], 2, 4))).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  });

  it("scores Dice and IoU as smp's Fscore and IoU (eps 1e-7), pooled over pixels", () => {
    expect(diceFromCounts(30, 10, 20)).toBe((60 + 1e-7) / (90 + 1e-7));
    expect(iouFromCounts(30, 10, 20)).toBe((30 + 1e-7) / (60 + 1e-7));
    // Both masks empty: 1 (eps / eps), as smp gives.
    expect(diceFromCounts(0, 0, 0)).toBe(1);
  });

  it("recovers a mask that the patch tokens encode (Dice near 1), deterministically for a seed, far above the mean-mask baseline", () => {
    const set = blockSet(90, 8, 4, 12, "blocks");
    const train = Array.from({length: 60}, (_, i) => i);
    const val = Array.from({length: 10}, (_, i) => 60 + i);
    const test = Array.from({length: 20}, (_, i) => 70 + i);
    const a = trainSegmentationHead(set, train, val, {epochs: 30, lossSize: 32}, 7);
    const b = trainSegmentationHead(set, train, val, {epochs: 30, lossSize: 32}, 7);
    expect(Array.from(a.head.weights)).toEqual(Array.from(b.head.weights));
    const c = trainSegmentationHead(set, train, val, {epochs: 30, lossSize: 32}, 8);
    expect(Array.from(c.head.weights)).not.toEqual(Array.from(a.head.weights));
    const {scores, images} = scoreSegmentationHead(a.head, set, train, test, {resamples: 200, seed: 1});
    const s = scores[0]!;
    expect(s.dice).toBeGreaterThan(0.97);
    expect(s.perImage.dice).toBeGreaterThan(0.97);
    expect(s.perImage.images).toBe(20);
    expect(s.diceCi95[0]).toBeLessThanOrEqual(s.dice);
    expect(s.diceCi95[1]).toBeGreaterThanOrEqual(s.dice);
    expect(s.dice).toBeGreaterThan(s.baseline.meanShapeDice + 0.2);
    // Pooled Dice is the counts' Dice, not the mean of the images'.
    const sum = images[0]!.reduce((acc, x) => ({tp: acc.tp + x.tp, fp: acc.fp + x.fp, fn: acc.fn + x.fn}), {tp: 0, fp: 0, fn: 0});
    expect(s.dice).toBeCloseTo(diceFromCounts(sum.tp, sum.fp, sum.fn), 12);
    // Validation loss kept: the kept epoch has the lowest one.
    expect(a.valLoss[a.epoch - 1]).toBe(Math.min(...a.valLoss));
  });

  it("learns nothing from tokens that carry no information about the mask (Dice of a noise head stays near the mean shape)", () => {
    const set = blockSet(90, 8, 4, 12, "noise");
    // Each image gets the mask of the image 16 further on: the masks no longer match their tokens.
    const per = 32 * 32;
    const rotated = new Uint8Array(set.masks[0]!.length);
    for (let i = 0; i < 90; i++) rotated.set(set.masks[0]!.subarray(((i + 16) % 90) * per, ((i + 16) % 90 + 1) * per), i * per);
    const shuffled = {...set, masks: [rotated]};
    const train = Array.from({length: 60}, (_, i) => i);
    const test = Array.from({length: 30}, (_, i) => 60 + i);
    const trained = trainSegmentationHead(shuffled, train, [], {epochs: 10, lossSize: 32}, 1);
    const s = scoreSegmentationHead(trained.head, shuffled, train, test, {resamples: 100}).scores[0]!;
    expect(s.dice).toBeLessThan(0.75);
  });
});

describe("masks in the encoder's geometry", () => {
  it("fill a closed outline (outline included) to the ellipse's area, and leak through an open one", () => {
    const w = 120, h = 90;
    const outline = new Uint8Array(w * h);
    const [cx, cy, a, b, angle] = [58.3, 44.1, 40, 25, 0.4];
    for (let k = 0; k < 4000; k++) {
      const t = (2 * Math.PI * k) / 4000;
      const x = cx + a * Math.cos(t) * Math.cos(angle) - b * Math.sin(t) * Math.sin(angle);
      const y = cy + a * Math.cos(t) * Math.sin(angle) + b * Math.sin(t) * Math.cos(angle);
      outline[Math.round(y) * w + Math.round(x)] = 1;
    }
    const filled = fillOutline(outline, w, h);
    const e = momentEllipse(filled, w);
    expect(e.area / (Math.PI * a * b)).toBeGreaterThan(0.98);
    expect(e.area / (Math.PI * a * b)).toBeLessThan(1.06);
    // The fill includes the one-pixel outline: axes within a pixel of the drawn ones.
    expect(Math.abs(e.a - a)).toBeLessThan(1);
    expect(Math.abs(e.b - b)).toBeLessThan(1);
    for (let i = 0; i < outline.length; i++) if (outline[i]) expect(filled[i]).toBe(1);
    // A gap in the outline: the outside flows in and almost nothing is inside.
    const open = outline.slice();
    for (let y = 0; y < h; y++) for (let x = 90; x < 120; x++) open[y * w + x] = 0;
    expect(momentEllipse(fillOutline(open, w, h), w).area).toBeLessThan(0.1 * e.area);
  });

  it("pad and resize a mask as the image is padded and resized (a white block lands where the mask says)", () => {
    const w = 200, h = 120;
    const grey = new Uint8Array(w * h * 3);
    const mask = new Uint8Array(w * h);
    for (let y = 30; y < 90; y++) for (let x = 120; x < 180; x++) {
      mask[y * w + x] = 1;
      grey.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    }
    const size = 100;
    const image = resizeShorterSide(padToSquare({width: w, height: h, data: grey}), size);
    const m = maskToInputSize(mask, w, h, size);
    let agree = 0, total = 0;
    for (let i = 0; i < size * size; i++) {
      const white = image.data[3 * i]! > 127 ? 1 : 0;
      if (white || m[i]) total++;
      if (white && m[i]) agree++;
    }
    expect(agree / total).toBeGreaterThan(0.9);
    // Same place: the white block's centroid and the mask's agree within half a pixel.
    const white = new Uint8Array(size * size).map((_, i) => (image.data[3 * i]! > 127 ? 1 : 0));
    const [cw, cm] = [momentEllipse(white, size), momentEllipse(m, size)];
    expect(Math.abs(cw.cx - cm.cx)).toBeLessThan(0.5);
    expect(Math.abs(cw.cy - cm.cy)).toBeLessThan(0.5);
    // Rows above the padded image's top stay empty: the 200 x 120 image is padded by 40 px top and bottom.
    expect(Array.from(m.subarray(0, Math.floor((40 / 200) * size) * size)).every((v) => v === 0)).toBe(true);
  });
});

describe("segmentation probe on the phantom with the demo model", () => {
  it("reports Dice pooled and per image with CIs on held-out patients, above the mean-mask baseline", async () => {
    const report = await runSegmentProbe({
      model: demoModel, dataset: "phantom", structures: ["head"], limit: 900, seed: 3, settings: {epochs: 12}, resamples: 300, examples: 1,
      embeddingsDir: join(tmp, "phantom-patches"), log: () => {}
    });
    const head = report.structures[0]!;
    console.log(`phantom head (demo model, 900 images): Dice pooled ${head.dice.toFixed(3)} [${head.diceCi95.map((v) => v.toFixed(3)).join(", ")}], per image ${head.perImage.dice.toFixed(3)} [${head.perImage.diceCi95.map((v) => v.toFixed(3)).join(", ")}] (${head.perImage.images} heads), IoU ${head.iou.toFixed(3)}; baselines ${JSON.stringify(head.baseline)}`);
    expect(report.grid).toBe(8);
    expect(report.size).toBe(112);
    expect(report.split.source).toBe("split column");
    // The phantom's test patients, never trained on.
    const manifest = JSON.parse(readFileSync(join(repoRoot, "data", "phantom", "manifest.json"), "utf8")) as {samples: {id: string; split: string}[]};
    const firstIds = manifest.samples.map((s) => s.id).sort().slice(0, 900);
    const splitOf = new Map(manifest.samples.map((s) => [s.id, s.split]));
    expect(report.split.testImages).toBe(firstIds.filter((id) => splitOf.get(id) === "test").length);
    expect(head.testImages).toBe(report.split.testImages);
    expect(head.perImage.images).toBeGreaterThan(20);
    // Beats predicting the training set's mean mask.
    expect(head.dice).toBeGreaterThan(head.baseline.meanMaskDice);
    for (const [lo, hi, v] of [[...head.diceCi95, head.dice], [...head.perImage.diceCi95, head.perImage.dice], [...head.iouCi95, head.iou]]) {
      expect(lo).toBeLessThanOrEqual(v!);
      expect(hi).toBeGreaterThanOrEqual(v!);
      expect(lo).toBeGreaterThan(0);
      expect(hi).toBeLessThanOrEqual(1);
    }
    expect(head.iou).toBeLessThan(head.dice);
    const example = report.examples![0]!;
    for (const key of ["image", "mask", "prediction", "probability"] as const) {
      const png = decode(Buffer.from(example[key], "base64"));
      expect([png.width, png.height, png.channels]).toEqual([112, 112, 1]);
    }
  });
});

describeShared("segmentation probe on HC18 (../shared/data/hc18)", () => {
  const root = sharedPath("data", "hc18");
  const labels = readFileSync(join(root, "labels.csv"), "utf8").trim().split("\n").slice(1).map((line) => line.split(","));

  it("fills each annotation's outline into the head whose perimeter is the labelled HC (within 2.5%)", () => {
    let worst = 0;
    for (const [file, pixelMm, hcMm] of labels.filter((_, i) => i % 5 === 0)) {
      const path = hc18AnnotationPath(root, join(root, "images", file!));
      const raster = decodeImage(new Uint8Array(readFileSync(path)));
      const channels = raster.data.length / (raster.width * raster.height);
      const outline = outlinePixels(raster.data, raster.width, raster.height, channels);
      const filled = fillOutline(outline, raster.width, raster.height);
      const e = momentEllipse(filled, raster.width);
      // The fill is an ellipse: its area is pi a b of its own moment axes, and it holds the whole outline.
      expect(Math.abs(e.area / (Math.PI * e.a * e.b) - 1)).toBeLessThan(0.02);
      for (let i = 0; i < outline.length; i++) if (outline[i] && !filled[i]) throw new Error(`${path}: outline pixel ${i} outside the fill`);
      const perimeterMm = ellipsePerimeter(e.a, e.b) * Number(pixelMm);
      worst = Math.max(worst, Math.abs(perimeterMm / Number(hcMm) - 1));
    }
    expect(worst).toBeLessThan(0.025);
  });

  it("trains on the official fold's subjects, tests on test_id.json's (ids as integers), and reports Dice", async () => {
    const report = await runSegmentProbe({model: demoModel, dataset: "hc18", seed: 0, settings: {epochs: 20}, resamples: 300, embeddingsDir: join(tmp, "hc18-patches"), log: () => {}});
    const head = report.structures[0]!;
    console.log(`HC18 head (demo model): Dice pooled ${head.dice.toFixed(3)} [${head.diceCi95.map((v) => v.toFixed(3)).join(", ")}], per image ${head.perImage.dice.toFixed(3)} [${head.perImage.diceCi95.map((v) => v.toFixed(3)).join(", ")}], ${report.split.testImages} test images; baselines ${JSON.stringify(head.baseline)}`);
    const ref = (f: string) => JSON.parse(readFileSync(sharedPath("reference", "fetalclip", f), "utf8"));
    const testIds = new Set(Object.keys(ref("segmentation_hc_probing_test_id.json")).map(Number));
    const [trainIds, valIds] = ref("segmentation_hc_probing_train_val_split.json")["0"] as [string[], string[]];
    const subjects = labels.map(([file]) => Number(/^(\d+)_/.exec(file!)![1]));
    expect(report.split.source).toBe("official files, fold 0");
    expect(report.split.testImages).toBe(subjects.filter((s) => testIds.has(s)).length);
    expect(report.split.trainImages).toBe(subjects.filter((s) => !testIds.has(s) && trainIds.map(Number).includes(s)).length);
    expect(report.split.valImages).toBe(subjects.filter((s) => !testIds.has(s) && valIds.map(Number).includes(s)).length);
    expect(head.perImage.images).toBe(report.split.testImages);
    expect(head.dice).toBeGreaterThan(0);
    expect(head.dice).toBeLessThanOrEqual(1);
    expect(head.diceCi95[0]).toBeLessThanOrEqual(head.dice);
    expect(head.diceCi95[1]).toBeGreaterThanOrEqual(head.dice);
    expect(report.head).toMatch(/linear per-patch head/);
  });
});

describe("untrusted masks", () => {
  it("refuses a mask that does not cover its image and a maskFile outside the dataset, naming the file", async () => {
    const dir = join(tmp, "tiny-phantom");
    await generatePhantomDataset({outDir: dir, seed: 5, count: 8, workers: 1});
    const manifestPath = join(dir, "manifest.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {samples: {maskFile: string}[]};
    const maskPath = join(dir, manifest.samples[0]!.maskFile);
    const original = readFileSync(maskPath);
    writeFileSync(maskPath, encode({width: 16, height: 16, data: new Uint8Array(256), channels: 1, depth: 8}));
    const run = () => runSegmentProbe({model: demoModel, dataset: dir, settings: {epochs: 1}, resamples: 10, embeddingsDir: join(tmp, "tiny-patches"), log: () => {}});
    await expect(run()).rejects.toThrow(`${maskPath}: the mask is 16 x 16 px but its image`);
    writeFileSync(maskPath, original);
    const edited = JSON.parse(readFileSync(manifestPath, "utf8"));
    edited.samples[1].maskFile = "../outside.png";
    writeFileSync(manifestPath, JSON.stringify(edited));
    await expect(run()).rejects.toThrow(`${manifestPath}: maskFile "../outside.png" of`);
  });
});

describe("fetalclip segment-probe", () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders", "cli.ts"), ...args], {cwd: repoRoot, encoding: "utf8"});

  it("prints one JSON line and writes example predictions; refuses datasets without masks and unknown structures by name", () => {
    const out = join(tmp, "chd-seg.json");
    const r = cli(["segment-probe", "--model", demoModel, "--dataset", "phantom-chd", "--structure", "lv", "septum", "--epochs", "3", "--limit", "120", "--resamples", "50", "--examples", "1", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary.structures.map((s: {structure: string}) => s.structure)).toEqual(["lv", "septum"]);
    expect(summary.examples).toBeUndefined();
    const full = JSON.parse(readFileSync(out, "utf8"));
    expect(full.examples).toHaveLength(2);
    expect(full.structures).toEqual(summary.structures);

    const folder = join(tmp, "plain");
    spawnSync("mkdir", ["-p", folder]);
    writeFileSync(join(folder, "a.png"), encode({width: 16, height: 16, data: new Uint8Array(256), channels: 1, depth: 8}));
    const noMasks = cli(["segment-probe", "--model", demoModel, "--dataset", folder]);
    expect(noMasks.status).toBe(1);
    expect(noMasks.stderr).toContain(`${folder}) has no segmentation masks`);
    const unknown = cli(["segment-probe", "--model", demoModel, "--dataset", "phantom-chd", "--structure", "spleen"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("--structure spleen: dataset phantom-chd has heart, lv, rv, la, ra, septum");
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(tmp).length).toBeGreaterThan(0);
  });
});
