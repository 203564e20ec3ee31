// The probing notebooks' training augmentation (albumentations 2.0.8 ColorJitter, CLAHE,
// ShiftScaleRotate, then cv2 INTER_CUBIC resize) against OpenCV 4.6's own outputs:
// tests/fixtures/augment, made by scripts/augment_reference.py.
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import {OPENAI_CLIP_MEAN, OPENAI_CLIP_STD} from "../src/lib/bundle.js";
import {applyAugmentation, drawAugmentParams, OFFICIAL_PROBE_AUGMENTATION, type AugmentParams, type GreyOrRgb8} from "../src/lib/image/augment.js";
import {clahe, claheGrey} from "../src/lib/image/clahe.js";
import {rgbToLab8} from "../src/lib/image/labColour.js";
import {adjustColour, type JitterOp} from "../src/lib/image/colorJitter.js";
import {decodeImage} from "../src/lib/image/decode.js";
import {normalize} from "../src/lib/image/normalize.js";
import {padToSquareAny, probeInputImage, probeInputTensor, toGreyOrRgb8} from "../src/lib/image/probeInput.js";
import type {RasterImage} from "../src/lib/image/raster.js";
import {resizeCubicCv} from "../src/lib/image/resizeCubicCv.js";
import {shiftScaleRotateMatrix, warpAffineLinear, type Affine2x3} from "../src/lib/image/warpAffine.js";
import {createRng} from "../src/lib/random.js";
import {repoRoot} from "./shared.js";

const FIXTURES = join(repoRoot, "tests", "fixtures", "augment");

interface Case {
  source: string;
  file: string;
  op: string;
  width: number;
  height: number;
  channels: 1 | 3;
  params: Record<string, number | number[]>;
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as {opencv: string; sources: {name: string; file: string}[]; cases: Case[]};

function load(file: string): GreyOrRgb8 {
  const raster = decodeImage(new Uint8Array(readFileSync(join(FIXTURES, file))));
  if (raster.mode !== "L" && raster.mode !== "RGB") throw new Error(`${file}: unexpected mode ${raster.mode}`);
  return {width: raster.width, height: raster.height, channels: raster.mode === "L" ? 1 : 3, data: raster.data as Uint8Array};
}
const sources = new Map(manifest.sources.map((s) => [s.name, load(s.file)]));
const source = (c: Case) => sources.get(c.source)!;
const cases = (op: string) => manifest.cases.filter((c) => c.op === op);
const num = (c: Case, key: string) => c.params[key] as number;

/** Largest difference and the share of samples that agree exactly. */
function parity(ours: GreyOrRgb8, c: Case): {max: number; exact: number} {
  const ref = load(c.file);
  expect([ours.width, ours.height, ours.channels]).toEqual([ref.width, ref.height, ref.channels]);
  let max = 0, same = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(ours.data[i]! - ref.data[i]!);
    max = Math.max(max, d);
    if (d === 0) same++;
  }
  return {max, exact: same / ref.data.length};
}

/** Worst difference and exact share over every sample of several cases. */
function pooledParity(all: Case[], run: (c: Case) => GreyOrRgb8): {max: number; exact: number} {
  let max = 0, same = 0, total = 0;
  for (const c of all) {
    const out = run(c);
    const p = parity(out, c);
    max = Math.max(max, p.max);
    same += p.exact * out.data.length;
    total += out.data.length;
  }
  return {max, exact: same / total};
}

describe(`parity with OpenCV ${manifest.opencv} (scripts/augment_reference.py)`, () => {
  it("CLAHE matches cv2.createCLAHE(clip, (8, 8)).apply byte for byte, grid-divisible or not, at clip limits 1, 2.5 and 4", () => {
    const grey = cases("clahe").filter((c) => c.channels === 1);
    expect(grey).toHaveLength(9);
    for (const c of grey) {
      const img = source(c);
      const out = claheGrey(img.data, img.width, img.height, num(c, "clipLimit"));
      expect({file: c.file, ...parity({...img, data: out}, c)}).toEqual({file: c.file, max: 0, exact: 1});
    }
  });

  it("RGB images are equalised on the L channel of OpenCV's 8-bit L*a*b*, as albumentations does, byte for byte", () => {
    const [lab] = cases("rgb2lab");
    const img = source(lab!);
    expect(parity({...img, data: rgbToLab8(img.data)}, lab!)).toEqual({max: 0, exact: 1});
    const [c] = cases("clahe").filter((k) => k.channels === 3);
    expect(parity(clahe(img, num(c!, "clipLimit")), c!)).toEqual({max: 0, exact: 1});
  });

  it("the ShiftScaleRotate matrix is albumentations' (centre (w-1)/2, (h-1)/2; whole-pixel shift)", () => {
    for (const c of cases("warpAffine")) {
      const img = source(c);
      const m = shiftScaleRotateMatrix(img.width, img.height, num(c, "angleDeg"), num(c, "dx"), num(c, "dy"));
      const ref = c.params.matrix as number[];
      m.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 12));
    }
  });

  it("warpAffine (INTER_LINEAR, BORDER_CONSTANT 0) matches cv2 on every sample (100% exact), grey and RGB", () => {
    const all = cases("warpAffine");
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect(pooledParity(all, (c) => warpAffineLinear(source(c), c.params.matrix as Affine2x3))).toEqual({max: 0, exact: 1});
  });

  it("cv2.resize INTER_CUBIC (enlarging to 224 and shrinking) matches cv2 on every sample (100% exact), grey and RGB", () => {
    const all = cases("resizeCubic");
    expect(all.length).toBe(5);
    expect(pooledParity(all, (c) => resizeCubicCv(source(c), num(c, "width"), num(c, "height")))).toEqual({max: 0, exact: 1});
  });

  it("brightness and contrast match albumentations' truncating float32 tables exactly, grey and RGB", () => {
    const all = [...cases("brightness"), ...cases("contrast")];
    expect(all).toHaveLength(8);
    for (const c of all) {
      const p = parity(adjustColour(source(c), c.op as JitterOp, num(c, "factor")), c);
      expect({file: c.file, ...p}).toEqual({file: c.file, max: 0, exact: 1});
    }
  });

  it("saturation (cv2.addWeighted with OpenCV's grey) and hue (OpenCV 8-bit HSV, truncated in 32-pixel SIMD blocks, rounded in each row's tail) match byte for byte", () => {
    const all = [...cases("saturation"), ...cases("hue")];
    expect(all).toHaveLength(4);
    for (const c of all) {
      const p = parity(adjustColour(source(c), c.op as JitterOp, num(c, "factor")), c);
      expect({file: c.file, ...p}).toEqual({file: c.file, max: 0, exact: 1});
    }
  });

  it("a whole training view (pad, contrast, brightness, CLAHE, warp, cubic 224) matches the cv2 chain byte for byte", () => {
    const [c] = cases("pipeline");
    const padded = padToSquareAny(source(c!));
    const params: AugmentParams = {
      width: padded.width,
      height: padded.height,
      colorJitter: {brightness: num(c!, "brightness"), contrast: num(c!, "contrast"), saturation: 1, hue: 0, order: ["contrast", "brightness", "saturation", "hue"]},
      clahe: {clipLimit: num(c!, "clipLimit"), tileGrid: 8},
      shiftScaleRotate: {angleDeg: num(c!, "angleDeg"), dx: num(c!, "dx"), dy: num(c!, "dy"), scale: 1}
    };
    expect(parity(resizeCubicCv(applyAugmentation(padded, params), 224, 224), c!)).toEqual({max: 0, exact: 1});
  });
});

describe("drawAugmentParams: the notebook's distributions", () => {
  const N = 4000;
  const rng = createRng("augment-draws");
  const draws = Array.from({length: N}, () => drawAugmentParams(rng, 960, 720));

  it("colour jitter fires about half the time, with factors in [0.8, 1.2], hue in [-0.2, 0.2] and all four ops in a random order", () => {
    const jitter = draws.flatMap((d) => (d.colorJitter ? [d.colorJitter] : []));
    expect(jitter.length / N).toBeGreaterThan(0.46);
    expect(jitter.length / N).toBeLessThan(0.54);
    for (const j of jitter) {
      for (const f of [j.brightness, j.contrast, j.saturation]) {
        expect(f).toBeGreaterThanOrEqual(0.8);
        expect(f).toBeLessThanOrEqual(1.2);
      }
      expect(Math.abs(j.hue)).toBeLessThanOrEqual(0.2);
      expect([...j.order].sort()).toEqual(["brightness", "contrast", "hue", "saturation"]);
    }
    const firsts = new Set(jitter.map((j) => j.order[0]));
    expect(firsts.size).toBe(4);
    // Uniform, not clustered: the mean factor sits near 1 and both hue signs occur.
    const meanBrightness = jitter.reduce((s, j) => s + j.brightness, 0) / jitter.length;
    expect(meanBrightness).toBeCloseTo(1, 1);
    expect(jitter.some((j) => j.hue < -0.15) && jitter.some((j) => j.hue > 0.15)).toBe(true);
  });

  it("CLAHE fires about half the time with a clip limit uniform in [1, 4]", () => {
    const clips = draws.flatMap((d) => (d.clahe ? [d.clahe.clipLimit] : []));
    expect(clips.length / N).toBeGreaterThan(0.46);
    expect(clips.length / N).toBeLessThan(0.54);
    expect(Math.min(...clips)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...clips)).toBeLessThanOrEqual(4);
    expect(clips.reduce((s, v) => s + v, 0) / clips.length).toBeCloseTo(2.5, 1);
    expect(draws.every((d) => d.clahe === null || d.clahe.tileGrid === 8)).toBe(true);
  });

  it("shift-scale-rotate always fires: angle in [-20, 20] degrees, whole-pixel shifts within 20% of the size, both signs, no scaling", () => {
    const ssr = draws.map((d) => d.shiftScaleRotate!);
    expect(ssr.every((s) => s !== null)).toBe(true);
    for (const s of ssr) {
      expect(Math.abs(s.angleDeg)).toBeLessThanOrEqual(20);
      expect(Number.isInteger(s.dx) && Number.isInteger(s.dy)).toBe(true);
      expect(Math.abs(s.dx)).toBeLessThanOrEqual(0.2 * 960);
      expect(Math.abs(s.dy)).toBeLessThanOrEqual(0.2 * 720);
      expect(s.scale).toBe(1);
    }
    expect(ssr.some((s) => s.dx < -150) && ssr.some((s) => s.dx > 150)).toBe(true);
    expect(ssr.some((s) => s.dy < -110) && ssr.some((s) => s.dy > 110)).toBe(true);
    expect(ssr.some((s) => s.angleDeg < -18) && ssr.some((s) => s.angleDeg > 18)).toBe(true);
  });

  it("the official spec is the notebook's, frozen", () => {
    expect(OFFICIAL_PROBE_AUGMENTATION).toEqual({
      colorJitter: {brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.2, p: 0.5},
      clahe: {clipLimit: [1, 4], tileGrid: 8, p: 0.5},
      shiftScaleRotate: {shiftLimit: 0.2, scaleLimit: 0, rotateLimitDeg: 20, p: 1}
    });
    expect(Object.isFrozen(OFFICIAL_PROBE_AUGMENTATION)).toBe(true);
  });

  it("refuses a spec outside albumentations' ranges", () => {
    const r = createRng(1);
    const spec = OFFICIAL_PROBE_AUGMENTATION;
    expect(() => drawAugmentParams(r, 10, 10, {...spec, colorJitter: {...spec.colorJitter, hue: 0.7}})).toThrow(/hue must be <= 0.5/);
    expect(() => drawAugmentParams(r, 10, 10, {...spec, clahe: {...spec.clahe, clipLimit: [0.5, 4]}})).toThrow(/clipLimit/);
    expect(() => drawAugmentParams(r, 10, 10, {...spec, shiftScaleRotate: {...spec.shiftScaleRotate, p: 2}})).toThrow(/p must be in \[0, 1\]/);
    expect(() => drawAugmentParams(r, 0, 10)).toThrow(/positive integers/);
  });
});

/** A grey fan-like raster (mode L) of any size. */
function greyRaster(width: number, height: number): RasterImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = (x * 7 + y * 13 + ((x * y) % 17) * 5) % 256;
  return {width, height, mode: "L", data};
}

describe("probeInputImage / probeInputTensor", () => {
  it("the same seed gives identical augmented pixels; another seed gives others", () => {
    const raster = greyRaster(90, 70);
    const a = probeInputImage(raster, 64, {rng: createRng("same")});
    const b = probeInputImage(raster, 64, {rng: createRng("same")});
    const c = probeInputImage(raster, 64, {rng: createRng("other")});
    expect(a.params).toEqual(b.params);
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
    expect(Buffer.from(a.image.data).equals(Buffer.from(c.image.data))).toBe(false);
  });

  it("a grey raster stays grey through augmentation (R = G = B), with saturation and hue no-ops", () => {
    const raster = greyRaster(80, 50);
    const rng = createRng("grey");
    let jittered = 0;
    for (let k = 0; k < 12; k++) {
      const {image, params} = probeInputImage(raster, 48, {rng});
      if (params!.colorJitter) jittered++;
      let coloured = 0;
      for (let i = 0; i < image.data.length; i += 3) if (image.data[i + 1] !== image.data[i] || image.data[i + 2] !== image.data[i]) coloured++;
      expect(coloured).toBe(0);
    }
    expect(jittered).toBeGreaterThan(0);
    const g = toGreyOrRgb8(raster);
    expect(adjustColour(g, "saturation", 0.8).data).toBe(g.data);
    expect(adjustColour(g, "hue", 0.1).data).toBe(g.data);
  });

  it("without augmentation a 224x224 input comes back pixel for pixel (no pad, no resize), grey replicated", () => {
    const raster = greyRaster(224, 224);
    const {image, params} = probeInputImage(raster, 224);
    expect(params).toBeUndefined();
    const grey = Uint8Array.from({length: 224 * 224 * 3}, (_, i) => raster.data[(i / 3) | 0]!);
    expect(Buffer.from(image.data).equals(Buffer.from(grey))).toBe(true);
    const rgb: RasterImage = {width: 224, height: 224, mode: "RGB", data: Uint8Array.from({length: 224 * 224 * 3}, (_, i) => (i * 31) % 256)};
    expect(Buffer.from(probeInputImage(rgb, 224).image.data).equals(Buffer.from(rgb.data))).toBe(true);
  });

  it("pads to a centred square first: a 97x61 scan becomes 97x97 with 18 black rows above, 18 below", () => {
    const img = padToSquareAny(sources.get("grey97x61")!);
    expect([img.width, img.height]).toEqual([97, 97]);
    expect(img.data.subarray(0, 18 * 97).every((v) => v === 0)).toBe(true);
    expect(img.data.subarray(79 * 97).every((v) => v === 0)).toBe(true);
    expect(Array.from(img.data.subarray(18 * 97, 79 * 97))).toEqual(Array.from(sources.get("grey97x61")!.data));
  });

  it("the tensor is normalize() of the image (what open_clip does to the stored 224 PNG), for rasters and file bytes", () => {
    const spec = {size: 224, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD};
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, "grey97x61.png")));
    const raster = decodeImage(bytes);
    const tensor = probeInputTensor(bytes, spec);
    expect(tensor.length).toBe(3 * 224 * 224);
    const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
    expect(same(tensor, normalize(probeInputImage(raster, 224).image, spec.mean, spec.std))).toBe(true);
    const augmented = probeInputTensor(raster, spec, {rng: createRng(5)});
    expect(same(augmented, normalize(probeInputImage(raster, 224, {rng: createRng(5)}).image, spec.mean, spec.std))).toBe(true);
    expect(same(augmented, tensor)).toBe(false);
  });

  it("refuses bad sizes, channel counts and mismatched parameters with clear errors", () => {
    const raster = greyRaster(20, 10);
    expect(() => probeInputImage(raster, 0)).toThrow(/size must be a positive integer/);
    expect(() => probeInputImage({...raster, data: new Uint8Array(5)}, 8)).toThrow(/needs 200 samples, got 5/);
    const img = toGreyOrRgb8(raster);
    const params = drawAugmentParams(createRng(2), 30, 30);
    expect(() => applyAugmentation(img, params)).toThrow(/drawn for 30x30, the image is 20x10/);
    const twoChannel = {...img, channels: 2 as unknown as 1, data: new Uint8Array(400)};
    expect(() => resizeCubicCv(twoChannel, 4, 4)).toThrow(/1 or 3 channels/);
    expect(() => warpAffineLinear(img, [1, 0, 0, 0, 1] as unknown as Affine2x3)).toThrow(/6 finite numbers/);
    expect(() => claheGrey(img.data, 20, 11, 2)).toThrow(/needs 220 samples/);
    expect(() => probeInputTensor(raster, {size: 8, mean: OPENAI_CLIP_MEAN, std: [1, 0, 1]})).toThrow(/std must be non-zero/);
  });
});
