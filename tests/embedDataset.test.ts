// fetalclip embed-dataset: the embedding store. Its embeddings are `fetalclip embed`'s,
// bad images are listed and skipped, a job SIGKILLed at random moments resumes to the
// same bytes without embedding any image twice, and a run with nothing new loads no model.
import {spawn, spawnSync} from "node:child_process";
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import * as aq from "arquero";
import {decode as decodePng, encode as encodePng} from "fast-png";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {openDataset} from "../loaders/datasets/registry.js";
import {DEMO_BUNDLE_DIR} from "../loaders/demo/bundle.js";
import {cacheKey, cacheKeyInputs, countShardRecords} from "../loaders/embeddings/cache.js";
import {readManifest} from "../loaders/bundles.js";
import {loadNodeModel} from "../loaders/nodeModel.js";
import {PHANTOM_DIR} from "../loaders/paths.js";
import {readPhantomManifest} from "../loaders/phantomDataset.js";
import {readProjectConfig} from "../loaders/projectConfig.js";
import {ensureEmbeddings, readEmbeddings} from "../loaders/embeddings/store.js";
import {decodeEmbeddingTable, type EmbeddingTableData} from "../src/lib/embeddingTable.js";
import {float16BitsToFloat32} from "../loaders/onnx/float16.js";
import {preprocessImage} from "../src/lib/preprocess.js";
import {createRng} from "../src/lib/random.js";
import {cosine} from "../src/lib/vector.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

let tmp = "";
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "fetalclip-embed-dataset-"));
});
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

const TSX = pathToFileURL(join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href;
const CLI = join(repoRoot, "loaders/cli.ts");
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ["--import", TSX, CLI, ...args], {cwd: tmp, encoding: "utf8", maxBuffer: 256 * 2 ** 20, env: {...process.env, ...env}});

interface JobOutput {
  images: number;
  embedded: number;
  cached: number;
  failed: {id: string; error: string}[];
  out: string;
}
const jobOutput = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!) as JobOutput;
const readTable = (path: string): EmbeddingTableData => decodeEmbeddingTable(new Uint8Array(readFileSync(path)));
const row = (t: EmbeddingTableData, i: number) => t.embeddings.subarray(i * t.embedDim, (i + 1) * t.embedDim);
const column = (t: EmbeddingTableData, name: string) => t.columns.find((c) => c.name === name)?.values;

/** `fetalclip embed --images` on these files: path -> embedding. */
function embedWithCli(model: string, paths: string[]): Map<string, number[]> {
  const listFile = join(tmp, `list-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(listFile, paths.join("\n"));
  const r = cli(["embed", "--model", model, "--images-from", listFile, "--batch", "16"]);
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as {images: {path: string; embedding: number[]}[]};
  return new Map(out.images.map((i) => [i.path, i.embedding]));
}

function minCosine(table: EmbeddingTableData, reference: Map<string, number[]>, pathOf: (id: string) => string): number {
  let min = 1;
  table.ids.forEach((id, i) => {
    const ref = reference.get(pathOf(id));
    expect(ref, `fetalclip embed has no embedding of ${id}`).toBeDefined();
    min = Math.min(min, cosine(row(table, i), ref!));
  });
  return min;
}

describe("embed-dataset on the embedded default (phantom + demo model)", () => {
  const samples = () => readPhantomManifest(PHANTOM_DIR).sort((a, b) => (a.file < b.file ? -1 : 1)).slice(0, 60);
  let first: JobOutput;
  let firstBytes: Buffer;

  it("embeds the first 60 phantom images as `fetalclip embed` does, with the manifest's metadata", () => {
    const r = cli(["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "60", "--out", "out-phantom", "--cache", "cache-phantom", "--batch", "16"]);
    expect(r.status, r.stderr).toBe(0);
    first = jobOutput(r.stdout);
    expect(first).toMatchObject({images: 60, embedded: 60, cached: 0, failed: []});
    expect(r.stderr).toMatch(/embed-dataset: 60\/60 images embedded \(\d+\.\d img\/s, ETA 0s\)/);
    firstBytes = readFileSync(join(tmp, "out-phantom", "embeddings.arrow"));
    const table = decodeEmbeddingTable(new Uint8Array(firstBytes));
    const expected = samples();
    expect(table.ids).toEqual(expected.map((s) => s.file));
    expect(table.embedDim).toBe(128);
    expect(table.columns.map((c) => c.name)).toEqual(["plane", "sub_plane", "patient", "split", "ga_days", "hc_mm", "spacing_mm"]);
    expect(column(table, "plane")).toEqual(expected.map((s) => s.plane));
    expect(column(table, "ga_days")).toEqual(expected.map((s) => s.gaDays));
    expect(column(table, "spacing_mm")).toEqual(expected.map((s) => s.spacingMmPerPx));
    expect(column(table, "sub_plane")).toEqual(expected.map((s) => s.subPlane ?? null));
    expect(table.metadata).toMatchObject({"fetalclip.model": "fetalclip-demo", "fetalclip.variant": "fp32", "fetalclip.dataset": "phantom"});
    const reference = embedWithCli(DEMO_BUNDLE_DIR, expected.map((s) => join(PHANTOM_DIR, s.file)));
    expect(minCosine(table, reference, (id) => join(PHANTOM_DIR, id))).toBeGreaterThanOrEqual(0.9999);
    // Not normalised: open_clip's encode_image output.
    expect(Math.abs(Math.hypot(...row(table, 0)) - 1)).toBeGreaterThan(1e-3);
  });

  it("is readable by arquero: one row per image, the embedding a 128-value list", () => {
    const dt = aq.fromArrow(firstBytes);
    expect(dt.numRows()).toBe(60);
    expect(dt.columnNames().slice(0, 3)).toEqual(["id", "embedding", "plane"]);
    const table = decodeEmbeddingTable(new Uint8Array(firstBytes));
    expect(Array.from(dt.get("embedding", 7) as Float32Array)).toEqual(Array.from(row(table, 7)));
    expect(dt.get("hc_mm", 3)).toBe(column(table, "hc_mm")![3]);
    // Arrow IPC file framing: magic at both ends, the footer's length before the closing magic.
    expect(firstBytes.subarray(0, 6).toString("latin1")).toBe("ARROW1");
    expect(firstBytes.subarray(firstBytes.length - 6).toString("latin1")).toBe("ARROW1");
    expect(firstBytes.readInt32LE(firstBytes.length - 10)).toBeGreaterThan(0);
  });

  it("a second run with nothing changed embeds nothing, loads no model and writes the same bytes", () => {
    const started = Date.now();
    const r = cli(["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "60", "--out", "out-phantom", "--cache", "cache-phantom", "--batch", "16"]);
    expect(r.status, r.stderr).toBe(0);
    expect(jobOutput(r.stdout)).toMatchObject({images: 60, embedded: 0, cached: 60, failed: []});
    expect(r.stderr).toContain("all 60 readable images are cached; no model loaded");
    // No inference session: onnxruntime-node logs every session it opens.
    expect(r.stderr).not.toContain("onnxruntime-node:");
    expect(readFileSync(join(tmp, "out-phantom", "embeddings.arrow")).equals(firstBytes)).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("--patch-tokens adds the projected patch tokens (float16) and keeps the cached embeddings", async () => {
    const r = cli(["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "6", "--out", "out-patches", "--cache", "cache-phantom", "--patch-tokens"]);
    expect(r.status, r.stderr).toBe(0);
    // The embeddings are cached, the patch tokens are not: the six images run again, their cached embeddings stay.
    expect(jobOutput(r.stdout)).toMatchObject({images: 6, embedded: 6, failed: []});
    const table = readTable(join(tmp, "out-patches", "embeddings.arrow"));
    const first60 = decodeEmbeddingTable(new Uint8Array(firstBytes));
    expect(Array.from(table.embeddings)).toEqual(Array.from(first60.embeddings.subarray(0, 6 * 128)));
    const grid = (112 / 14) ** 2;
    expect(table.patchEmbeddings!.tokens).toBe(grid);
    expect(table.patchEmbeddings!.values.length).toBe(6 * grid * 128);
    const {model} = await loadNodeModel(DEMO_BUNDLE_DIR, {threads: 1});
    const m = readManifest(DEMO_BUNDLE_DIR);
    const pixels = preprocessImage(new Uint8Array(readFileSync(join(PHANTOM_DIR, table.ids[2]!))), {size: m.image.size, mean: m.image.mean, std: m.image.std});
    const direct = (await model.encodeImages([pixels], {patchEmbeddings: true})).patchEmbeddings![0]!.data;
    const stored = Float32Array.from(table.patchEmbeddings!.values.subarray(2 * grid * 128, 3 * grid * 128), float16BitsToFloat32);
    let maxRel = 0;
    direct.forEach((v, i) => (maxRel = Math.max(maxRel, Math.abs(v - stored[i]!) / Math.max(1e-3, Math.abs(v)))));
    expect(maxRel).toBeLessThan(1e-3); // float16 keeps 11 significant bits
    expect(cosine(direct, stored)).toBeGreaterThan(0.99999);
    const dt = aq.fromArrow(readFileSync(join(tmp, "out-patches", "embeddings.arrow")));
    expect(dt.columnNames()).toContain("patch_embeddings");
    await model.imageSession.release();
    await model.textSession.release();
  });
});

describe("embed-dataset: two jobs at once, and the site's API", () => {
  it("two jobs started together on one cache embed each image once (the second waits for the lock)", async () => {
    const job = (out: string) =>
      new Promise<{status: number | null; stdout: string}>((done) => {
        const child = spawn(process.execPath, ["--import", TSX, CLI, "embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "30", "--out", out, "--cache", "cache-concurrent", "--batch", "4"], {cwd: tmp});
        let stdout = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.on("close", (status) => done({status, stdout}));
      });
    const [a, b] = await Promise.all([job("out-a"), job("out-b")]);
    expect([a.status, b.status]).toEqual([0, 0]);
    const [ra, rb] = [jobOutput(a.stdout), jobOutput(b.stdout)];
    expect(ra.embedded + rb.embedded).toBe(30);
    const keyDir = join(tmp, "cache-concurrent", cacheKey(cacheKeyInputs(readManifest(DEMO_BUNDLE_DIR), "fp32")));
    expect(countShardRecords(keyDir).records).toBe(30);
    expect(readFileSync(join(tmp, "out-a", "embeddings.arrow")).equals(readFileSync(join(tmp, "out-b", "embeddings.arrow")))).toBe(true);
  });

  it("ensureEmbeddings makes the table of a configured model and dataset, readEmbeddings reads it back", async () => {
    const [model] = readProjectConfig({env: {FETALCLIP_DATASETS: "phantom", FETALCLIP_BUNDLES: "fetalclip-demo"}}).models;
    const dataset = {name: "phantom", dataset: "phantom"};
    const options = {limit: 5, cacheDir: join(tmp, "cache-site"), outDir: join(tmp, "out-site"), log: () => {}};
    const made = await ensureEmbeddings(model!, dataset, options);
    expect(made).toMatchObject({images: 5, embedded: 5, cached: 0, failed: [], modelLoaded: true});
    const again = await ensureEmbeddings(model!, dataset, options);
    expect(again).toMatchObject({embedded: 0, cached: 5, modelLoaded: false, ep: null});
    const table = readEmbeddings(again.out);
    expect(table.ids).toHaveLength(5);
    expect(table.embeddings).toHaveLength(5 * 128);
    expect(table.ids[0]).toBe(readPhantomManifest(PHANTOM_DIR).map((s) => s.file).sort()[0]);
  });
});

/** A PNG whose header declares `width` x `height` and nothing else. */
function headerOnlyPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write("IHDR", 4, "latin1");
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 0, 0, 0, 0], 16);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
}

describe("embed-dataset on a folder with bad files, killed at random moments", () => {
  const dir = () => join(tmp, "mixed");
  const goodIds: string[] = [];
  /** The phantom image each re-encoded PNG (16-bit grey, palette, grey+alpha) was made from. */
  const madeFrom = new Map<string, string>();
  let badNumberId = "";
  const args = (cache: string, out: string) => ["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", dir(), "--cache", cache, "--out", out, "--batch", "2", "--progress", "0"];
  let reference: Buffer;

  beforeAll(() => {
    const images = join(dir(), "images");
    mkdirSync(images, {recursive: true});
    const samples = readPhantomManifest(PHANTOM_DIR).slice(100, 140);
    const rows = ["filename,plane,patient,ga_days"];
    for (const s of samples) {
      const name = s.file.split("/").pop()!;
      copyFileSync(join(PHANTOM_DIR, s.file), join(images, name));
      rows.push(`${name},${s.plane},${s.patientId},${s.gaDays}`);
      goodIds.push(`images/${name}`);
    }
    // The same pixels in three other PNG kinds: decoded as PIL does, they must embed as the original.
    const source = samples[0]!;
    const grey = readFileSync(join(PHANTOM_DIR, source.file));
    const png = decodePng(grey);
    expect([png.channels, png.depth]).toEqual([1, 8]); // the phantom is 8-bit greyscale
    const pixels = {width: png.width, height: png.height, data: png.data as Uint8Array};
    const kinds: [string, Buffer][] = [
      ["grey16.png", Buffer.from(encodePng({width: pixels.width, height: pixels.height, channels: 1, depth: 16, data: Uint16Array.from(pixels.data)}))],
      ["palette.png", Buffer.from(encodePng({width: pixels.width, height: pixels.height, channels: 1, depth: 8, data: pixels.data, palette: Array.from({length: 256}, (_, v) => [v, v, v])}))],
      ["grey-alpha.png", Buffer.from(encodePng({width: pixels.width, height: pixels.height, channels: 2, depth: 8, data: Uint8Array.from({length: 2 * pixels.data.length}, (_, i) => (i % 2 ? (i * 7) % 256 : pixels.data[i >> 1]!))}))]
    ];
    for (const [name, bytes] of kinds) {
      writeFileSync(join(images, name), bytes);
      rows.push(`${name},${source.plane},${source.patientId},${source.gaDays}`);
      goodIds.push(`images/${name}`);
      madeFrom.set(`images/${name}`, `images/${source.file.split("/").pop()!}`);
    }
    // Bad files, each listed with its reason; a missing file; a bad number; a name leaving the folder.
    writeFileSync(join(images, "zero.png"), "");
    writeFileSync(join(images, "truncated.png"), grey.subarray(0, 200));
    writeFileSync(join(images, "notes.png"), "this is a text file, not an image\n");
    writeFileSync(join(images, "huge.png"), headerOnlyPng(60_000, 60_000));
    writeFileSync(join(images, "deep.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 12, 0, 16, 0, 16, 1, 1, 0x11, 0, 0xff, 0xd9]));
    rows.push("zero.png,brain,X,100", "truncated.png,brain,X,100", "notes.png,brain,X,100", "huge.png,brain,X,100", "deep.jpg,brain,X,100", "gone.png,brain,X,100");
    rows.push("../escape.png,brain,X,100");
    rows[1] = rows[1]!.replace(/,(\d+)$/, ",not-a-number");
    badNumberId = goodIds[0]!;
    writeFileSync(join(dir(), "labels.csv"), rows.join("\n") + "\n");
    goodIds.sort();
  });

  it("lists every bad file with its reason, embeds the rest as `fetalclip embed` does, and exits 1", () => {
    const r = cli(args("cache-reference", "out-reference"));
    expect(r.status, r.stderr).toBe(1);
    const out = jobOutput(r.stdout);
    expect(out.images).toBe(goodIds.length + 6);
    expect(out.embedded).toBe(goodIds.length);
    expect(out.failed.map((f) => f.id)).toEqual(["images/deep.jpg", "images/gone.png", "images/huge.png", "images/notes.png", "images/truncated.png", "images/zero.png"]);
    const reason = Object.fromEntries(out.failed.map((f) => [f.id.replace("images/", ""), f.error]));
    expect(reason["zero.png"]).toMatch(/empty/);
    expect(reason["truncated.png"]).toMatch(/damaged or truncated PNG/);
    expect(reason["notes.png"]).toMatch(/unsupported image format/);
    expect(reason["huge.png"]).toMatch(/60000 x 60000 px, over the limit/);
    expect(reason["deep.jpg"]).toMatch(/12-bit/);
    expect(reason["gone.png"]).toBe("the file does not exist");
    expect(r.stderr).toContain("row 2: ga_days \"not-a-number\" is not a number; left empty");
    expect(r.stderr).toMatch(/row \d+: image name "\.\.\/escape\.png" is not a path inside the dataset; skipped/);
    expect(r.stderr).toContain("images/grey16.png is a 16-bit greyscale PNG: decoded as PIL (open_clip's loader) does, values above 255 saturate to white");
    reference = readFileSync(join(tmp, "out-reference", "embeddings.arrow"));
    const table = decodeEmbeddingTable(new Uint8Array(reference));
    expect(table.ids).toEqual(goodIds);
    expect(table.columns.map((c) => c.name)).toEqual(["plane", "patient", "ga_days"]);
    const gaDays = column(table, "ga_days")!;
    expect(gaDays[table.ids.indexOf(badNumberId)]).toBeNull();
    expect(gaDays.filter((v) => v === null)).toHaveLength(1);
    const summary = JSON.parse(readFileSync(join(tmp, "out-reference", "embeddings.json"), "utf8")) as {failed: unknown[]; rows: number};
    expect(summary).toMatchObject({rows: goodIds.length, failed: out.failed});
    const cliEmbeddings = embedWithCli(DEMO_BUNDLE_DIR, goodIds.map((id) => join(dir(), id)));
    expect(minCosine(table, cliEmbeddings, (id) => join(dir(), id))).toBeGreaterThanOrEqual(0.9999);
    // Again with nothing changed: the bad files are tried and listed again, without loading the model.
    const again = cli(args("cache-reference", "out-reference"));
    expect(again.status).toBe(1);
    expect(jobOutput(again.stdout)).toMatchObject({embedded: 0, cached: goodIds.length, failed: out.failed});
    expect(again.stderr).not.toContain("onnxruntime-node:");
    expect(readFileSync(join(tmp, "out-reference", "embeddings.arrow")).equals(reference)).toBe(true);
    // 16-bit grey, palette and grey+alpha PNGs of the same pixels embed as the 8-bit original.
    for (const [id, original] of madeFrom) {
      expect(cosine(row(table, table.ids.indexOf(id)), row(table, table.ids.indexOf(original))), id).toBeGreaterThan(0.99999);
    }
  });

  it("SIGKILLed at random moments, then finished: the same bytes, and every image embedded exactly once", async () => {
    const rng = createRng("embed-dataset kills");
    const cacheRoot = join(tmp, "cache-killed");
    const keyDir = join(cacheRoot, cacheKey(cacheKeyInputs(readManifest(DEMO_BUNDLE_DIR), "fp32")));
    const records = () => (existsSync(keyDir) ? countShardRecords(keyDir).records : 0);
    let kills = 0;
    let finished: {output: JobOutput; recordsBefore: number} | null = null;
    for (let run = 0; run < 40 && !finished; run++) {
      const recordsBefore = records();
      const killAfter = rng.int(1, 3); // progress lines (one per committed batch of 2)
      const delayMs = rng.uniform(0, 8); // short: a fast machine still gets killed mid-job, not after it
      const result = await new Promise<{signal: NodeJS.Signals | null; status: number | null; stdout: string}>((done) => {
        const child = spawn(process.execPath, ["--import", TSX, CLI, ...args(cacheRoot, "out-killed")], {cwd: tmp});
        let stdout = "";
        let lines = 0;
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => {
          const before = lines;
          lines += (d.toString().match(/images embedded \(/g) ?? []).length;
          if (before < killAfter && lines >= killAfter) setTimeout(() => child.kill("SIGKILL"), delayMs);
        });
        child.on("close", (status, signal) => done({signal, status, stdout}));
      });
      if (result.signal === "SIGKILL") kills++;
      else {
        expect(result.status).toBe(1); // the bad files
        finished = {output: jobOutput(result.stdout), recordsBefore};
      }
    }
    process.stderr.write(`embed-dataset kill test: ${kills} SIGKILLs before the finishing run\n`);
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(finished).not.toBeNull();
    expect(readFileSync(join(tmp, "out-killed", "embeddings.arrow")).equals(reference)).toBe(true);
    // Every image's record written once across all runs: the finished run embedded exactly what the killed ones had not.
    const {records: total, hashes} = countShardRecords(keyDir);
    expect(total).toBe(goodIds.length);
    expect(new Set(hashes).size).toBe(goodIds.length);
    expect(finished!.output.embedded).toBe(goodIds.length - finished!.recordsBefore);
    expect(finished!.recordsBefore).toBeGreaterThan(0);
    // Nothing of the killed runs is left behind: no temporary file, no lock.
    expect(readdirSync(keyDir).filter((n) => n.startsWith(".tmp-") || n === "lock")).toEqual([]);
  }, 300_000);

  it("refuses to replace an embeddings.arrow it did not write, and leaves it untouched", () => {
    const out = join(tmp, "foreign");
    mkdirSync(out);
    writeFileSync(join(out, "embeddings.arrow"), "someone else's file");
    writeFileSync(join(out, "notes.txt"), "unrelated");
    const r = cli(["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "2", "--out", out, "--cache", "cache-phantom"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("embeddings.arrow is there and was not written by fetalclip embed-dataset");
    expect(readFileSync(join(out, "embeddings.arrow"), "utf8")).toBe("someone else's file");
    writeFileSync(join(tmp, "a-file"), "x");
    const onFile = cli(["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "2", "--out", "a-file", "--cache", "cache-phantom"]);
    expect(onFile.stderr).toContain("--out a-file: is a file");
    // An unrelated folder is fine: only embeddings.arrow and embeddings.json are written.
    rmSync(join(out, "embeddings.arrow"));
    const ok = cli(["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", "phantom", "--limit", "2", "--out", out, "--cache", "cache-phantom"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["embeddings.arrow", "embeddings.json", "notes.txt"]);
  });
});

describeShared("embed-dataset on the real datasets in ../shared/data (open_clip micro fixture model)", () => {
  const micro = () => join(tmp, "micro");
  // An empty FETALCLIP_DATA: the registry names must fall back to the copies in ../shared/data.
  const env = () => ({FETALCLIP_DATA: join(tmp, "no-data")});
  const csv = (dataset: string) => {
    const [header, ...lines] = readFileSync(sharedPath("data", dataset, "labels.csv"), "utf8").trim().split("\n");
    const names = header!.split(",");
    return lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [names[i]!, v])));
  };

  beforeAll(() => {
    const fixture = (...p: string[]) => sharedPath("fixtures", "openclip-micro", ...p);
    const r = cli(["import", "--weights", fixture("weights.pt"), "--config", fixture("config.json"), "--vocab", sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz"), "--out", micro()]);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);

  it("FETAL_PLANES_DB, African planes and HC18 by registry name: `fetalclip embed`'s embeddings and the labels' metadata", () => {
    const runs = [
      {name: "fetal-planes-db", folder: "planes", limit: 30, columns: ["plane", "sub_plane", "patient", "split", "operator", "machine"]},
      {name: "african-planes", folder: "african", limit: 16, columns: ["plane", "patient", "split", "centre"]},
      {name: "hc18", folder: "hc18", limit: 16, columns: ["plane", "patient", "split", "hc_mm", "spacing_mm"]}
    ];
    const tables = runs.map((run) => {
      const r = cli(["embed-dataset", "--model", micro(), "--dataset", run.name, "--limit", String(run.limit), "--out", `out-${run.name}`, "--cache", "cache-real"], env());
      expect(r.status, r.stderr).toBe(0);
      expect(jobOutput(r.stdout)).toMatchObject({images: run.limit, embedded: run.limit, cached: 0, failed: []});
      const table = readTable(join(tmp, `out-${run.name}`, "embeddings.arrow"));
      expect(table.embedDim).toBe(48);
      expect(table.columns.map((c) => c.name)).toEqual(run.columns);
      return table;
    });
    const root = (i: number) => sharedPath("data", runs[i]!.folder);
    const reference = embedWithCli(micro(), tables.flatMap((t, i) => t.ids.map((id) => join(root(i), id))));
    tables.forEach((t, i) => expect(minCosine(t, reference, (id) => join(root(i), id)), runs[i]!.name).toBeGreaterThanOrEqual(0.9999));

    // Metadata from the labels, under the shared names.
    const [planes, african, hc18] = tables as [EmbeddingTableData, EmbeddingTableData, EmbeddingTableData];
    const planesRows = new Map(csv("planes").map((r) => [`images/${r.Image_name}`, r]));
    const byClass: Record<string, string> = {"Fetal abdomen": "abdomen", "Fetal brain": "brain", "Fetal femur": "femur", "Fetal thorax": "heart", "Maternal cervix": "cervix", Other: "other"};
    planes.ids.forEach((id, i) => {
      const r = planesRows.get(id)!;
      expect([column(planes, "plane")![i], column(planes, "patient")![i], column(planes, "operator")![i], column(planes, "machine")![i], column(planes, "split")![i]]).toEqual([
        byClass[r.Plane!], r.Patient_num, r.Operator, r.US_Machine, r.Train === "1" ? "train" : "test"
      ]);
    });
    const africanRows = new Map(csv("african").map((r) => [`images/${r.Image_name}.png`, r]));
    african.ids.forEach((id, i) => expect([column(african, "centre")![i], column(african, "patient")![i]]).toEqual([africanRows.get(id)!.Center, `${africanRows.get(id)!.Center}-${africanRows.get(id)!.Patient_num}`]));
    const hcRows = new Map(csv("hc18").map((r) => [`images/${r.filename}`, r]));
    hc18.ids.forEach((id, i) => {
      expect(column(hc18, "hc_mm")![i]).toBe(Number(hcRows.get(id)!["head circumference (mm)"]));
      expect(column(hc18, "spacing_mm")![i]).toBe(Number(hcRows.get(id)!["pixel size(mm)"]));
    });
  }, 300_000);

  it("FETAL_PLANES_DB in its released layout (FETAL_PLANES_DB_data.csv, Images/) with a damaged scan: detected, the damaged one listed", () => {
    const dir = join(tmp, "planes-release");
    mkdirSync(join(dir, "Images"), {recursive: true});
    const rows = csv("planes").slice(0, 6);
    for (const r of rows) copyFileSync(sharedPath("data", "planes", "images", r.Image_name!), join(dir, "Images", r.Image_name!));
    const damaged = rows[2]!.Image_name!;
    writeFileSync(join(dir, "Images", damaged), readFileSync(sharedPath("data", "planes", "images", damaged)).subarray(0, 5000));
    const header = "Image_name;Patient_num;Plane;Brain_plane;Operator;US_Machine;Train ";
    writeFileSync(join(dir, "FETAL_PLANES_DB_data.csv"), [header, ...rows.map((r) => [r.Image_name!.replace(/\.png$/, ""), r.Patient_num, r.Plane, r.Brain_plane, r.Operator, r.US_Machine, r.Train].join(";"))].join("\n") + "\n");
    expect(openDataset(dir).layout).toBe("fetal-planes-db");
    const r = cli(["embed-dataset", "--model", micro(), "--dataset", dir, "--out", "out-release", "--cache", "cache-real"]);
    expect(r.status).toBe(1);
    const out = jobOutput(r.stdout);
    expect(out.images).toBe(6);
    expect(out.embedded + out.cached).toBe(5);
    expect(out.failed).toEqual([{id: `Images/${damaged}`, error: expect.stringMatching(/damaged or truncated PNG/)}]);
    // Again: the damaged scan is tried and listed again, the five others come from the cache without a model.
    const again = cli(["embed-dataset", "--model", micro(), "--dataset", dir, "--out", "out-release", "--cache", "cache-real"]);
    expect(jobOutput(again.stdout)).toMatchObject({images: 6, embedded: 0, cached: 5, failed: out.failed});
    expect(again.stderr).not.toContain("onnxruntime-node:");
    expect(column(readTable(join(tmp, "out-release", "embeddings.arrow")), "split")).toEqual(rows.filter((x) => x.Image_name !== damaged).map((x) => (x.Train === "1" ? "train" : "test")));
  });
});

describe("embed-dataset on a folder of JPEGs", () => {
  it("loads the JPEG decoder itself and embeds every JPEG kind as `fetalclip embed` does; CMYK is listed", () => {
    const dir = join(tmp, "jpegs");
    mkdirSync(dir);
    const fixtures = join(repoRoot, "tests", "fixtures", "jpeg");
    const names = readdirSync(fixtures).filter((name) => name.endsWith(".jpg")).sort();
    for (const name of names) copyFileSync(join(fixtures, name), join(dir, name));
    // The job runs first, in a fresh process: nothing else has loaded the decoder for it.
    const r = cli(["embed-dataset", "--model", DEMO_BUNDLE_DIR, "--dataset", dir, "--cache", join(tmp, "cache-jpegs"), "--out", join(tmp, "out-jpegs"), "--progress", "0"]);
    const out = jobOutput(r.stdout);
    expect(out.failed.map((f) => f.id)).toEqual(["cmyk-adobe.jpg"]);
    expect(out.embedded).toBe(names.length - 1);
    const table = readTable(out.out);
    const reference = embedWithCli(DEMO_BUNDLE_DIR, names.filter((n) => n !== "cmyk-adobe.jpg").map((n) => join(dir, n)));
    expect(minCosine(table, reference, (id) => join(dir, id))).toBeGreaterThanOrEqual(0.9999);
  });
});

describe("dataset registry and project config", () => {
  it("a plain folder: its PNG/JPEG files at any depth, ids relative with '/', hidden and other files left out", () => {
    const dir = join(tmp, "plain");
    mkdirSync(join(dir, "b", "c"), {recursive: true});
    mkdirSync(join(dir, ".hidden"));
    const png = readFileSync(join(PHANTOM_DIR, readPhantomManifest(PHANTOM_DIR)[0]!.file));
    for (const name of ["z.png", "b/a.PNG", "b/c/x.jpg", ".hidden/y.png", ".dot.png"]) writeFileSync(join(dir, name), png);
    writeFileSync(join(dir, "readme.txt"), "x");
    const dataset = openDataset(dir);
    expect(dataset).toMatchObject({name: "plain", layout: "folder", columns: []});
    expect(dataset.images.map((i) => i.id)).toEqual(["b/a.PNG", "b/c/x.jpg", "z.png"]);
    expect(openDataset(dir, {limit: 2}).images).toHaveLength(2);
    expect(() => openDataset(join(tmp, "nowhere"))).toThrow(/neither a dataset name \(phantom, phantom-chd, fetal-planes-db, hc18, african-planes\) nor an existing folder/);
  });

  it("the project config: phantom + demo model by default, a file, and environment overrides", () => {
    const none = readProjectConfig({env: {}, file: undefined});
    expect(none.datasets).toEqual([{name: "phantom", dataset: "phantom"}]);
    expect(none.models).toEqual([{name: "fetalclip-demo", dir: DEMO_BUNDLE_DIR, variant: "fp32"}]);
    const file = join(tmp, "fetalclip.config.json");
    writeFileSync(file, JSON.stringify({datasets: ["phantom", "hc18", {name: "mine", path: "scans"}], models: ["fetalclip-demo", {bundle: "fetalclip", variant: "int8"}, "./local/bundle"]}));
    const config = readProjectConfig({file, env: {}});
    expect(config.datasets).toEqual([{name: "phantom", dataset: "phantom"}, {name: "hc18", dataset: "hc18"}, {name: "mine", dataset: join(tmp, "scans")}]);
    expect(config.models.map((m) => [m.name, m.variant])).toEqual([["fetalclip-demo", "fp32"], ["fetalclip-int8", "int8"], ["bundle", "fp32"]]);
    expect(config.models[2]!.dir).toBe(join(tmp, "local", "bundle"));
    const overridden = readProjectConfig({file, env: {FETALCLIP_DATASETS: "african-planes, fetal-planes-db", FETALCLIP_BUNDLES: "fetalclip:fp16"}});
    expect(overridden.datasets.map((d) => d.name)).toEqual(["african-planes", "fetal-planes-db"]);
    expect(overridden.models.map((m) => [m.name, m.variant])).toEqual([["fetalclip-fp16", "fp16"]]);
    expect(overridden.sources).toEqual({datasets: "FETALCLIP_DATASETS", models: "FETALCLIP_BUNDLES"});
    writeFileSync(file, JSON.stringify({models: [{bundle: "x", variant: "int4"}]}));
    expect(() => readProjectConfig({file, env: {}})).toThrow(/models\[0\]: variant "int4" is not one of fp32, fp16, int8/);
    writeFileSync(file, JSON.stringify({datasets: ["phantom", "phantom"]}));
    expect(() => readProjectConfig({file, env: {}})).toThrow(/two datasets are named "phantom"/);
  });
});
