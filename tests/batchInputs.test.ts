// Batches of user inputs: a bad item is reported and the rest goes on; names from a
// labels file stay inside the dataset folder; output files are checked before work.
import {spawnSync} from "node:child_process";
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readAfricanPlanes, readFetalPlanesDb, readHc18} from "../loaders/datasets/realDatasets.js";
import {DEMO_BUNDLE_DIR} from "../loaders/demo/bundle.js";
import {evaluateRealData} from "../loaders/evaluation/realData.js";
import {PHANTOM_DIR} from "../loaders/paths.js";
import {readPhantomManifest} from "../loaders/phantomDataset.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

let tmp = "";
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "fetalclip-batch-"));
});
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

// Run from a temporary working directory: tsx is loaded by its path.
const TSX = pathToFileURL(join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href;
const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, ["--import", TSX, join(repoRoot, "loaders/cli.ts"), ...args], {cwd: tmp, encoding: "utf8", input, maxBuffer: 64 * 2 ** 20});

describe("image names from a labels file stay inside the image folder", () => {
  it("refuses ../, absolute and folder names, naming the file and the row", () => {
    for (const name of ["../../etc/passwd", "/etc/passwd", "sub/x.png", ".."]) {
      const dir = join(tmp, `hc18-${Math.random().toString(36).slice(2)}`);
      mkdirSync(join(dir, "images"), {recursive: true});
      writeFileSync(join(dir, "labels.csv"), `filename,pixel size(mm),head circumference (mm)\nok.png,0.1,200\n${name},0.1,200\n`);
      expect(() => readHc18(dir)).toThrow(`${join(dir, "labels.csv")}: row 3: image name ${JSON.stringify(name)} is not a file name inside ${join(dir, "images")}`);
    }
    const planes = join(tmp, "planes");
    mkdirSync(join(planes, "images"), {recursive: true});
    writeFileSync(join(planes, "labels.csv"), "Image_name,Patient_num,Plane,Brain_plane\n../../secret,1,Fetal brain,Trans-thalamic\n");
    expect(() => readFetalPlanesDb(planes)).toThrow(/row 2: image name "\.\.\/\.\.\/secret\.png" is not a file name inside/);
    const african = join(tmp, "african");
    mkdirSync(join(african, "images"), {recursive: true});
    writeFileSync(join(african, "labels.csv"), "Patient_num,Plane,Center,Image_name\n1,Fetal brain,A,../x\n");
    expect(() => readAfricanPlanes(african)).toThrow(/row 2: image name "\.\.\/x\.png"/);
  });
});

describe("fetalclip embed: bad images are reported, the rest embedded", () => {
  const phantomImages = () => readPhantomManifest(PHANTOM_DIR).slice(0, 5).map((s) => join(PHANTOM_DIR, s.file));

  it("prints the embeddings it made and a failed list, and exits 1", () => {
    const [a, b] = phantomImages();
    const broken = join(tmp, "broken.png");
    writeFileSync(broken, readFileSync(a!).subarray(0, 100));
    const r = cli(["embed", "--model", DEMO_BUNDLE_DIR, "--images", a!, broken, join(tmp, "missing.png"), b!, "--batch", "2"]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as {images: {path: string; embedding: number[]}[]; failed: {path: string; reason: string}[]};
    expect(out.images.map((i) => i.path)).toEqual([a, b]);
    expect(out.images.every((i) => i.embedding.length === 128 && i.embedding.every(Number.isFinite))).toBe(true);
    expect(out.failed).toEqual([
      {path: broken, reason: expect.stringMatching(/damaged or truncated PNG/)},
      {path: join(tmp, "missing.png"), reason: expect.stringMatching(/cannot read image/)}
    ]);
    expect(r.stderr).toContain("2 of 4 images failed");
  });

  it("takes folders and a list file (or standard input) instead of a long argument list", () => {
    const images = phantomImages();
    const folder = join(tmp, "folder");
    mkdirSync(folder);
    images.forEach((path, i) => copyFileSync(path, join(folder, `img-${i}.png`)));
    writeFileSync(join(folder, "notes.txt"), "not an image");
    const fromFolder = cli(["embed", "--model", DEMO_BUNDLE_DIR, "--images", folder]);
    expect(fromFolder.status).toBe(0);
    expect((JSON.parse(fromFolder.stdout) as {images: unknown[]}).images).toHaveLength(5);
    // 300 lines: the same five images over and over, a comment and blank lines.
    const lines = ["# phantom images", ...Array.from({length: 300}, (_, i) => images[i % 5]!), ""];
    writeFileSync(join(tmp, "list.txt"), lines.join("\n"));
    const fromList = cli(["embed", "--model", DEMO_BUNDLE_DIR, "--images-from", "list.txt", "--batch", "32"]);
    expect(fromList.status).toBe(0);
    const listed = JSON.parse(fromList.stdout) as {images: {path: string; embedding: number[]}[]};
    expect(listed.images).toHaveLength(300);
    expect(listed.images[5]!.embedding).toEqual(listed.images[0]!.embedding);
    const fromStdin = cli(["embed", "--model", DEMO_BUNDLE_DIR, "--images-from", "-"], images.slice(0, 2).join("\n"));
    expect(fromStdin.status).toBe(0);
    expect((JSON.parse(fromStdin.stdout) as {images: unknown[]}).images).toHaveLength(2);
  }, 120_000);
});

describe("fetalclip evaluate checks --out before the work", () => {
  it("refuses an unwritable --out or a folder at once, before loading the model", () => {
    for (const [out, message] of [["/proc/x.json", "cannot be written"], [tmp, "is a folder"], [join(tmp, "no-such-dir", "r.json"), "cannot be written"]] as const) {
      const started = Date.now();
      const r = cli(["evaluate", "--model", DEMO_BUNDLE_DIR, "--hc18", join(tmp, "none"), "--out", out]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`--out ${out}: ${message}`);
      expect(Date.now() - started).toBeLessThan(15_000);
    }
  });
});

describeShared("fetalclip evaluate skips unreadable images and says so", () => {
  it("scores the readable HC18 heads and lists the missing and damaged ones", async () => {
    const dir = join(tmp, "hc18-partial");
    mkdirSync(join(dir, "images"), {recursive: true});
    const inRange = (row: string) => Number(row.split(",")[2]) >= 100 && Number(row.split(",")[2]) <= 342;
    const all = readFileSync(sharedPath("data", "hc18", "labels.csv"), "utf8").trim().split("\n").slice(1);
    const rows = [...all.filter(inRange).slice(0, 6), ...all.filter((r) => !inRange(r)).slice(0, 2)];
    for (const row of rows) copyFileSync(sharedPath("data", "hc18", "images", row.split(",")[0]!), join(dir, "images", row.split(",")[0]!));
    writeFileSync(join(dir, "images", "damaged.png"), "not a png");
    writeFileSync(join(dir, "labels.csv"), ["filename,pixel size(mm),head circumference (mm)", ...rows, "damaged.png,0.1,200", "gone.png,0.1,200"].join("\n") + "\n");
    const report = await evaluateRealData({bundleDir: DEMO_BUNDLE_DIR, hc18Dir: dir, threads: 2});
    const hc18 = report.datasets.hc18!;
    expect(hc18.ga.images).toBe(10);
    expect(hc18.skipped.map((s) => s.path)).toEqual([join(dir, "images", "damaged.png"), join(dir, "images", "gone.png")]);
    expect(hc18.skipped[0]!.reason).toMatch(/unsupported image format/);
    expect(hc18.skipped[1]!.reason).toBe("the file does not exist");
    expect(hc18.ga.scored).toBe(6);
  }, 120_000);
});
