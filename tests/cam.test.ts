// Where the model looks: ScoreCAM against PyTorch (the open_clip micro fixture,
// grad-cam 1.5.4's steps re-typed in scripts/cam_reference.py), the one-pass map
// against cosines computed by hand, localisation on synthetic maps with known masks,
// and `fetalclip cam` on the embedded default (demo model, phantom test split).
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {loadNodeModel, type NodeModel} from "../loaders/nodeModel.js";
import {camImageMap, checkCamArtifact, type CamArtifactIndex} from "../src/lib/cam/camArtifact.js";
import {labelMask, localise, maskAreaShare, maskToInputGeometry, PHANTOM_CLASS_STRUCTURES, summariseLocalisation} from "../src/lib/cam/localisation.js";
import {maskedChannelScores, scoreCam, targetActivations, type CamImageEncoder} from "../src/lib/cam/scoreCam.js";
import {similarityMap} from "../src/lib/cam/similarityMap.js";
import {gridToImageMap, minMaxScale, resizeBilinear, upsampleAlignCorners} from "../src/lib/cam/upsample.js";
import {decodeImage} from "../src/lib/image/decode.js";
import {FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../src/lib/prompts.js";
import {promptClassEmbeddings} from "../src/lib/tasks/zeroShot.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= a.length;
  mb /= b.length;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function cli(args: string[]): {code: number; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), ...args], {cwd: repoRoot, encoding: "utf8", env: {...process.env, FETALCLIP_CACHE: join(tmpdir(), "fetalclip-cam-unused")}});
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}

describe("resampling as torch and OpenCV do it", () => {
  test("align-corners upsampling keeps the corners and interpolates between them (UpsamplingBilinear2d)", () => {
    // 2x2 -> 3x3: the centre is the mean of the four, edges the mean of two.
    expect(Array.from(upsampleAlignCorners([0, 1, 2, 3], 2, 2, 3, 3))).toEqual([0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
  });

  test("cv2-style resize samples at half-pixel centres and clamps the edges (INTER_LINEAR)", () => {
    // 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    const out = resizeBilinear([0, 1, 2, 3], 2, 2, 4, 4);
    expect(Array.from(out.slice(0, 4))).toEqual([0, 0.25, 0.75, 1]);
    expect(Array.from(out.slice(12, 16))).toEqual([2, 2.25, 2.75, 3]);
    expect(Array.from([out[0], out[4], out[8], out[12]])).toEqual([0, 0.5, 1.5, 2]);
  });

  test("min-max scaling is grad-cam's (v - min) / (eps + max - min); a constant map becomes zeros", () => {
    const s = minMaxScale([2, 4, 6]);
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(0.5, 6);
    expect(s[2]).toBeCloseTo(1, 6);
    expect(Array.from(minMaxScale([3, 3, 3]))).toEqual([0, 0, 0]);
  });
});

describe("localisation on synthetic maps with known masks", () => {
  // A 10 x 10 image whose mask is the left 2 columns: 20 % of the area.
  const mask = new Uint8Array(100).map((_, i) => (i % 10 < 2 ? 1 : 0));

  test("a map all inside the mask scores 1 and hits; a uniform map scores the area share", () => {
    const inside = Float32Array.from(mask);
    expect(localise(inside, mask)).toEqual({share: 1, hit: true, uniform: 0.2});
    const uniform = new Float32Array(100).fill(0.7);
    const u = localise(uniform, mask);
    expect(u.share).toBeCloseTo(0.2, 12);
    expect(u.uniform).toBe(0.2);
    expect(maskAreaShare(mask)).toBe(0.2);
  });

  test("mass share is the weighted sum inside over the total; the pointing game looks at the maximum only", () => {
    // 3 inside (20 pixels) and 1 outside (80): 60 / 140; the maximum, 5, sits outside.
    const map = new Float32Array(100).map((_, i) => (mask[i] ? 3 : 1));
    map[55] = 5;
    const l = localise(map, mask);
    expect(l.share).toBeCloseTo(60 / 144, 12);
    expect(l.hit).toBe(false);
    map[55] = 1;
    map[30] = 5; // column 0: inside
    expect(localise(map, mask).hit).toBe(true);
  });

  test("a map with no mass scores as the uniform map; negative values are refused", () => {
    expect(localise(new Float32Array(100), mask).share).toBe(0.2);
    const bad = new Float32Array(100);
    bad[3] = -0.1;
    expect(() => localise(bad, mask)).toThrow(/pixel 3 is negative/);
  });

  test("per-class summaries average shares, hits and area shares", () => {
    const r = summariseLocalisation([
      {label: "brain", localisation: {share: 0.5, hit: true, uniform: 0.3}},
      {label: "brain", localisation: {share: 0.7, hit: false, uniform: 0.1}},
      {label: "femur", localisation: {share: 0.1, hit: true, uniform: 0.02}}
    ]);
    expect(r.images).toBe(3);
    expect(r.meanLocalisation).toBeCloseTo(1.3 / 3, 12);
    expect(r.pointingGame).toBeCloseTo(2 / 3, 12);
    expect(r.perClass.brain).toEqual({images: 2, meanLocalisation: 0.6, pointingGame: 0.5, uniformBaseline: 0.2});
    expect(r.perClass.femur!.uniformBaseline).toBe(0.02);
  });

  test("masks follow the image into the model's geometry: centred zero padding, then nearest-neighbour resize", () => {
    // A 4 x 2 image (wide): padded to 4 x 4 with one empty row above and below, then to 2 x 2.
    const m = Uint8Array.from([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(maskToInputGeometry(m, 4, 2, 4))).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(maskToInputGeometry(m, 4, 2, 2))).toEqual([0, 0, 1, 0]);
    expect(Array.from(labelMask([0, 1, 2, 3, 1], [1, 3]))).toEqual([0, 1, 0, 1, 1]);
  });
});

describeShared("ScoreCAM on the open_clip micro fixture equals PyTorch (grad-cam 1.5.4 protocol)", () => {
  const fixture = (...p: string[]) => sharedPath("fixtures", "openclip-micro", ...p);
  interface RefImage {image: string; target: string; probabilities: number[]; channelScores: number[]; weights: number[]; grid: number[]}
  const ref = JSON.parse(readFileSync(join(repoRoot, "tests/fixtures/cam/scorecam-micro.json"), "utf8")) as {classes: string[]; imageSize: number; gridSize: number; images: RefImage[]};
  const refMaps = new Uint8Array(readFileSync(join(repoRoot, "tests/fixtures/cam/scorecam-micro.maps.u8")));
  let tmp: string;
  let loaded: NodeModel;
  let classEmbeds: Float32Array[];
  let encode: CamImageEncoder;
  const input = (name: string) => {
    const bytes = readFileSync(fixture("images", `${name}.input.f32`));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "fetalclip-cam-micro-"));
    const bundle = join(tmp, "micro");
    const r = cli(["import", "--weights", fixture("weights.pt"), "--config", fixture("config.json"), "--vocab", sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz"), "--out", bundle]);
    if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
    loaded = await loadNodeModel(bundle, {ep: "cpu", threads: 1});
    classEmbeds = await promptClassEmbeddings(loaded.model, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
    encode = (pixels, o) => loaded.model.encodeImages(pixels, o);
  });
  afterAll(async () => {
    await loaded?.model.imageSession.release();
    await loaded?.model.textSession.release();
    rmSync(tmp, {recursive: true, force: true});
  });

  test("the reference explains FetalCLIP's 9 prompt classes in the project's order", () => {
    expect(ref.classes).toEqual([...FIVE_PLANES_CLASSES]);
    expect(ref.images.length).toBe(4);
    expect(refMaps.length).toBe(4 * ref.imageSize * ref.imageSize);
  });

  test("channel scores, weights, grid and final map match PyTorch for each image (map correlation >= 0.999)", async () => {
    const size = ref.imageSize;
    for (const [i, r] of ref.images.entries()) {
      const target = FIVE_PLANES_CLASSES.indexOf(r.target as never);
      const result = await scoreCam(encode, input(r.image), {classEmbeds, imageSize: size, targets: [target]});
      expect(result.gridSize).toBe(ref.gridSize);
      expect(result.channels).toBe(128);
      expect(maxAbs(result.probabilities, r.probabilities)).toBeLessThan(1e-4);
      // Every class's probability for every channel-masked input (128 x 9).
      expect(maxAbs(result.channelScores, r.channelScores)).toBeLessThan(1e-4);
      const map = result.maps[0]!;
      expect(maxAbs(map.weights, r.weights)).toBeLessThan(1e-6);
      const gridCorrelation = pearson(map.grid, r.grid);
      const image = gridToImageMap(map.grid, result.gridSize, size);
      const expected = Float32Array.from(refMaps.subarray(i * size * size, (i + 1) * size * size), (v) => v / 255);
      const mapCorrelation = pearson(image, expected);
      console.log(`scorecam micro ${r.image} -> ${r.target}: grid r=${gridCorrelation.toFixed(6)}, map r=${mapCorrelation.toFixed(6)}, max |diff| ${(maxAbs(image, expected) * 255).toFixed(2)}/255`);
      expect(gridCorrelation).toBeGreaterThanOrEqual(0.999);
      expect(mapCorrelation).toBeGreaterThanOrEqual(0.999);
      expect(maxAbs(image, expected)).toBeLessThan(3 / 255);
    }
  });

  test("raw scores as weights (not the library's softmax) would not match: the comparison can fail", async () => {
    const r = ref.images[1]!; // 500_HC: the target's probability varies most across channels
    const target = FIVE_PLANES_CLASSES.indexOf(r.target as never);
    const result = await scoreCam(encode, input(r.image), {classEmbeds, imageSize: ref.imageSize, targets: [target]});
    const activations = targetActivations((await encode([input(r.image)], {ln1Last: true})).ln1Last![0]!);
    const raw = new Float32Array(activations.gridSize ** 2);
    for (let t = 0; t < raw.length; t++) {
      let s = 0;
      for (let c = 0; c < activations.channels; c++) s += result.channelScores[c * 9 + target]! * activations.values[t * activations.channels + c]!;
      raw[t] = Math.max(0, s);
    }
    expect(pearson(minMaxScale(raw), r.grid)).toBeLessThan(0.999);
  });

  test("a resumed image and other batch sizes give the same scores as one uninterrupted run", async () => {
    const pixels = input(ref.images[0]!.image);
    const activations = targetActivations((await encode([pixels], {ln1Last: true})).ln1Last![0]!);
    const whole = await maskedChannelScores(encode, pixels, activations, {classEmbeds, imageSize: ref.imageSize});
    let saved: {channels: number; scores: Float32Array} | null = null;
    const abort = new AbortController();
    await expect(
      maskedChannelScores(encode, pixels, activations, {
        classEmbeds, imageSize: ref.imageSize, signal: abort.signal,
        onBatch: (done, scores) => {
          if (done === 64) {
            saved = {channels: done, scores: scores.slice()};
            abort.abort();
          }
        }
      })
    ).rejects.toThrow();
    expect(saved!.channels).toBe(64);
    expect(Number.isNaN(saved!.scores[64 * 9])).toBe(true);
    const resumed = await maskedChannelScores(encode, pixels, activations, {classEmbeds, imageSize: ref.imageSize, resume: saved!});
    expect(maxAbs(resumed, whole)).toBeLessThan(1e-6);
    const one = await maskedChannelScores(encode, pixels, activations, {classEmbeds, imageSize: ref.imageSize, batchSize: 1, channelLimit: 32});
    expect(maxAbs(one.subarray(0, 32 * 9), whole.subarray(0, 32 * 9))).toBeLessThan(1e-6);
    expect(Number.isNaN(one[32 * 9])).toBe(true);
  });

  test("the one-pass map is the cosine of each patch embedding with the class embedding, computed by hand", async () => {
    const {patchEmbeddings, embeddings} = await encode([input("500_HC.png")], {patchEmbeddings: true});
    const patches = patchEmbeddings![0]!;
    expect(patches.dims).toEqual([256, 48]);
    expect(embeddings[0]!.length).toBe(48);
    for (const k of [0, 1, 8]) {
      const m = similarityMap(patches, classEmbeds, k);
      const c = classEmbeds[k]!;
      const byHand = Array.from({length: 256}, (_, t) => {
        let d = 0;
        let pp = 0;
        let cc = 0;
        for (let j = 0; j < 48; j++) {
          const p = patches.data[t * 48 + j]!;
          d += p * c[j]!;
          pp += p * p;
          cc += c[j]! * c[j]!;
        }
        return d / Math.sqrt(pp * cc);
      });
      expect(maxAbs(m.cosines, byHand)).toBeLessThan(1e-6);
      const lo = Math.min(...byHand);
      const hi = Math.max(...byHand);
      expect(maxAbs(m.grid, byHand.map((v) => (v - lo) / (hi - lo)))).toBeLessThan(1e-5);
      expect(m.gridSize).toBe(16);
    }
  });
});

describe("fetalclip cam on the embedded default (demo model, phantom test split)", () => {
  let tmp: string;
  const run = (args: string[]) => {
    const r = cli(["cam", "--model", join(repoRoot, "models/fetalclip-demo"), "--dataset", "phantom", "--ep", "cpu", "--cache", join(tmp, "cache"), "--out", join(tmp, "out"), ...args]);
    if (r.code !== 0) throw new Error(`fetalclip cam failed (${r.code}): ${r.stderr}`);
    return {json: JSON.parse(r.stdout) as Record<string, any>, stderr: r.stderr};
  };
  const artifact = (method: string) => {
    const index = checkCamArtifact(JSON.parse(readFileSync(join(tmp, "out", `${method}.json`), "utf8")));
    return {index, grids: new Uint8Array(readFileSync(join(tmp, "out", `${method}.grids.u8`)))};
  };
  /** Area share of each image's target-structure mask, read straight from the phantom's mask PNG. */
  const manifest = JSON.parse(readFileSync(join(repoRoot, "data/phantom/manifest.json"), "utf8")) as {samples: {file: string; maskFile: string; split: string}[]};
  const areaShare = (id: string, target: string, size: number): number | null => {
    const labels = PHANTOM_CLASS_STRUCTURES[target];
    if (!labels) return null;
    const sample = manifest.samples.find((s) => s.file === id)!;
    const png = decodeImage(new Uint8Array(readFileSync(join(repoRoot, "data/phantom", sample.maskFile))));
    const mask = maskToInputGeometry(labelMask(png.data, labels), png.width, png.height, size);
    return mask.some((v) => v) ? maskAreaShare(mask) : null;
  };

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "fetalclip-cam-cli-"));
  });
  afterAll(() => rmSync(tmp, {recursive: true, force: true}));

  for (const [method, limit] of [["scorecam", 16], ["similarity", 60]] as const) {
    test(`${method}: the JSON line and the artifact agree, and the uniform baseline is the masks' area share`, () => {
      const {json} = run(["--method", method, "--limit", String(limit)]);
      for (const key of ["method", "images", "meanLocalisation", "pointingGame", "uniformBaseline", "perClass"]) expect(json).toHaveProperty(key);
      expect(json.method).toBe(method);
      expect(json.images).toBe(limit);
      expect(json.computed).toBe(limit);
      const {index, grids} = artifact(method);
      const testIds = manifest.samples.filter((s) => s.split === "test").map((s) => s.file).sort().slice(0, limit);
      expect(index.images.map((e) => e.id)).toEqual(testIds);
      expect(index.gridSize).toBe(8);
      expect(index.imageSize).toBe(112);
      expect(grids.length).toBe(limit * 64);
      let scored = 0;
      let uniformSum = 0;
      let shareSum = 0;
      for (const [i, e] of index.images.entries()) {
        const area = areaShare(e.id, e.target, 112);
        if (area === null) {
          expect(e.localisation).toBeNull();
          continue;
        }
        scored++;
        expect(e.localisation!.uniform).toBe(area);
        uniformSum += area;
        // The page's path (bytes -> gridToImageMap) gives the very numbers scored.
        const sample = manifest.samples.find((s) => s.file === e.id)!;
        const png = decodeImage(new Uint8Array(readFileSync(join(repoRoot, "data/phantom", sample.maskFile))));
        const mask = maskToInputGeometry(labelMask(png.data, PHANTOM_CLASS_STRUCTURES[e.target]!), png.width, png.height, 112);
        const again = localise(camImageMap(index, grids, i), mask);
        expect(again).toEqual(e.localisation);
        shareSum += again.share;
        expect(e.target).toBe(e.label); // true class explained, as FetalCLIP's scripts do
      }
      expect(scored).toBeGreaterThan(0);
      expect(json.scored).toBe(scored);
      expect(json.uniformBaseline).toBeCloseTo(uniformSum / scored, 12);
      expect(json.meanLocalisation).toBeCloseTo(shareSum / scored, 12);
      expect(json.meanLocalisation).toBeGreaterThan(0);
      expect(json.meanLocalisation).toBeLessThan(1);
      expect(json.pointingGame).toBeGreaterThanOrEqual(0);
      const perClassImages = Object.values(json.perClass as Record<string, {images: number}>).reduce((s, c) => s + c.images, 0);
      expect(perClassImages).toBe(scored);
      console.log(`cam ${method} (demo, first ${limit} test images): localisation ${json.meanLocalisation.toFixed(3)}, pointing ${json.pointingGame.toFixed(3)}, uniform ${json.uniformBaseline.toFixed(3)}; ${JSON.stringify(json.perClass)}`);
    });
  }

  test("a ScoreCAM job stopped mid-image resumes from its saved channels and writes the maps of an uninterrupted run", async () => {
    const {runCamJob} = await import("../loaders/cam/camJob.js");
    const ids = ["images/P00011-01.png"];
    const base = {model: join(repoRoot, "models/fetalclip-demo"), dataset: "phantom", method: "scorecam" as const, ids, ep: "cpu" as const, threads: 1, progressSeconds: 0, partialSeconds: 0};
    const stop = new AbortController();
    const lines: string[] = [];
    await expect(
      runCamJob({...base, cacheDir: join(tmp, "resume-cache"), outDir: join(tmp, "resume-out"), signal: stop.signal, log: (m) => {
        lines.push(m);
        if (m.includes(" 64/128 channels")) stop.abort();
      }})
    ).rejects.toThrow();
    const keyDir = readdirSync(join(tmp, "resume-cache")).map((d) => join(tmp, "resume-cache", d))[0]!;
    expect(readdirSync(keyDir).filter((f) => f.endsWith(".partial")).length).toBe(1);
    expect(readdirSync(keyDir).filter((f) => f.endsWith(".cam")).length).toBe(0);
    const resumedLog: string[] = [];
    const resumed = await runCamJob({...base, cacheDir: join(tmp, "resume-cache"), outDir: join(tmp, "resume-out"), log: (m) => resumedLog.push(m)});
    expect(resumedLog.some((m) => /resuming after 64 of 128 channels/.test(m))).toBe(true);
    expect(readdirSync(keyDir).filter((f) => f.endsWith(".partial")).length).toBe(0);
    const fresh = await runCamJob({...base, cacheDir: join(tmp, "fresh-cache"), outDir: join(tmp, "fresh-out")});
    expect(resumed.computed).toBe(1);
    expect(readFileSync(join(tmp, "resume-out", "scorecam.grids.u8"))).toEqual(readFileSync(join(tmp, "fresh-out", "scorecam.grids.u8")));
    expect(resumed.meanLocalisation).toBe(fresh.meanLocalisation);
  });

  if (existsSync(sharedPath("data", "hc18", "annotations"))) {
    test("HC18 heads are scored against their filled ellipse (scanline fill of the outline, in the input geometry)", () => {
      const {json} = run(["--dataset", "hc18", "--split", "all", "--limit", "3", "--method", "similarity", "--out", join(tmp, "hc18")]);
      expect(json.images).toBe(3);
      expect(json.scored).toBe(3);
      const index = checkCamArtifact(JSON.parse(readFileSync(join(tmp, "hc18", "similarity.json"), "utf8")));
      for (const e of index.images) {
        expect(e.target).toBe("brain");
        const png = decodeImage(new Uint8Array(readFileSync(sharedPath("data", "hc18", "annotations", e.id.replace(/^images\//, "").replace(/\.png$/, "_Annotation.png")))));
        const ch = png.data.length / (png.width * png.height);
        // An ellipse is convex: each row is inside between its leftmost and rightmost outline pixels.
        const fill = new Uint8Array(png.width * png.height);
        for (let y = 0; y < png.height; y++) {
          let lo = -1;
          let hi = -1;
          for (let x = 0; x < png.width; x++) {
            if (png.data[(y * png.width + x) * ch]! > 127) {
              if (lo < 0) lo = x;
              hi = x;
            }
          }
          for (let x = lo; lo >= 0 && x <= hi; x++) fill[y * png.width + x] = 1;
        }
        expect(e.localisation!.uniform).toBeCloseTo(maskAreaShare(maskToInputGeometry(fill, png.width, png.height, 112)), 3);
      }
    });
  }

  test("a second run loads no model, a removed record is recomputed alone, and --ids / --class choose what is explained", () => {
    const again = run(["--method", "scorecam", "--limit", "16"]);
    expect(again.json.computed).toBe(0);
    expect(again.stderr).toMatch(/no model loaded/);
    const cacheDir = join(tmp, "cache");
    const keyDir = readdirSync(cacheDir).map((d) => join(cacheDir, d)).find((d) => existsSync(join(d, "key.json")) && JSON.parse(readFileSync(join(d, "key.json"), "utf8")).method === "scorecam")!;
    const records = readdirSync(keyDir).filter((f) => f.endsWith(".cam"));
    expect(records.length).toBe(16);
    unlinkSync(join(keyDir, records[0]!));
    expect(run(["--method", "scorecam", "--limit", "16"]).json.computed).toBe(1);
    const {index} = artifact("scorecam");
    const ids = [index.images[3]!.id, index.images[0]!.id];
    const chosen = run(["--method", "scorecam", "--ids", ...ids, "--class", "femur"]);
    expect(chosen.json.computed).toBe(0); // every class's map is in the record
    const picked: CamArtifactIndex = artifact("scorecam").index;
    expect(picked.images.map((e) => e.id)).toEqual(ids);
    expect(picked.images.every((e) => e.target === "femur")).toBe(true);
    const r = cli(["cam", "--model", join(repoRoot, "models/fetalclip-demo"), "--dataset", "phantom", "--method", "scorecam", "--ids", "images/nope.png", "--out", join(tmp, "out"), "--cache", cacheDir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/images\/nope\.png/);
  });
});
