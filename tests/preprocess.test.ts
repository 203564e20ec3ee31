import {readFileSync} from "node:fs";
import {encode as encodePng} from "fast-png";
import jpeg from "jpeg-js";
import {describe, expect, it} from "vitest";
import "../loaders/jpeg.js";
import {OPENAI_CLIP_MEAN, OPENAI_CLIP_STD} from "../src/lib/bundle.js";
import {toRgb8} from "../src/lib/image/convert.js";
import {centreCrop} from "../src/lib/image/crop.js";
import {roundHalfEven} from "../src/lib/rounding.js";
import {decodeImage} from "../src/lib/image/decode.js";
import {normalize} from "../src/lib/image/normalize.js";
import {padToSquare, squarePadding} from "../src/lib/image/pad.js";
import type {Rgb8Image} from "../src/lib/image/raster.js";
import {resampleBicubic8, resizeBicubic, resizeShorterSide} from "../src/lib/image/resize.js";
import {preprocessBatch, preprocessImage} from "../src/lib/preprocess.js";
import {describeShared, sharedPath} from "./shared.js";
import {absDiff} from "./support/absDiff.js";

const SPEC = {size: 224, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD};

/** 1-row or 1-column grey resize through the generic resampler. */
const resizeGrey = (values: number[], w: number, h: number, ow: number, oh: number) =>
  Array.from(resampleBicubic8(new Uint8Array(values), w, h, 1, ow, oh));

describe("PIL bicubic resampler", () => {
  it("keeps a constant image constant when shrinking and enlarging", () => {
    for (const [ow, oh] of [[10, 50], [224, 224], [3, 1], [37, 23]] as const) {
      const out = resampleBicubic8(new Uint8Array(37 * 23 * 3).fill(173), 37, 23, 3, ow, oh);
      expect(out.length).toBe(ow * oh * 3);
      expect(out.every((v) => v === 173)).toBe(true);
    }
  });

  it("returns the same pixels at the identity size", () => {
    const data = Uint8Array.from({length: 6 * 4 * 3}, (_, i) => (i * 37) % 256);
    const img: Rgb8Image = {width: 6, height: 4, data};
    expect(Array.from(resizeBicubic(img, 6, 4).data)).toEqual(Array.from(data));
  });

  it("keeps a full-range step edge monotone when shrinking: the cubic's ringing is clipped away", () => {
    const row = Array.from({length: 100}, (_, x) => (x < 50 ? 0 : 255));
    const out = resizeGrey(row, 100, 1, 17, 1);
    for (let i = 1; i < out.length; i++) expect(out[i]!).toBeGreaterThanOrEqual(out[i - 1]!);
    expect([out[0], out[8], out[16]]).toEqual([0, 128, 255]);
  });

  // Expected values: Pillow 9.4 Image.resize(size, Image.BICUBIC) on the same arrays.
  it("rings at a mid-grey step edge exactly as PIL does (undershoot 14, overshoot 237)", () => {
    const row = Array.from({length: 100}, (_, x) => (x < 43 ? 20 : 230));
    expect(resizeGrey(row, 100, 1, 17, 1)).toEqual([20, 20, 20, 20, 20, 20, 14, 164, 237, 230, 230, 230, 230, 230, 230, 230, 230]);
  });

  // Expected values: Pillow 9.4 Image.resize(size, Image.BICUBIC) on the same arrays.
  it("matches PIL on a halved step edge: 8 -> 3 gives [0, 127, 255]", () => {
    expect(resizeGrey([0, 0, 0, 0, 255, 255, 255, 255], 8, 1, 3, 1)).toEqual([0, 127, 255]);
  });

  it("matches PIL's clipped overshoot when enlarging a step 4 -> 9", () => {
    expect(resizeGrey([0, 0, 255, 255], 4, 1, 9, 1)).toEqual([0, 0, 0, 8, 128, 247, 255, 255, 255]);
  });

  it("matches PIL on a vertical downscale 7 -> 3 with the kernel widened 7/3 times", () => {
    expect(resizeGrey([10, 200, 30, 90, 250, 0, 0], 1, 7, 1, 3)).toEqual([90, 124, 52]);
  });

  it("matches PIL on a 2x2 RGB image enlarged to 3x3", () => {
    const img: Rgb8Image = {width: 2, height: 2, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])};
    expect(Array.from(resizeBicubic(img, 3, 3).data)).toEqual([
      255, 0, 0, 128, 128, 0, 0, 255, 0,
      128, 0, 128, 128, 128, 128, 128, 255, 128,
      0, 0, 255, 128, 128, 255, 255, 255, 255
    ]);
  });

  it("resizes the shorter side like torchvision Resize(int), truncating the longer", () => {
    const img = (width: number, height: number): Rgb8Image => ({width, height, data: new Uint8Array(width * height * 3)});
    expect([resizeShorterSide(img(300, 200), 224)].map((r) => [r.width, r.height])[0]).toEqual([336, 224]);
    expect([resizeShorterSide(img(200, 301), 224)].map((r) => [r.width, r.height])[0]).toEqual([224, 337]);
  });

  it("rejects a non-integer output size", () => {
    expect(() => resampleBicubic8(new Uint8Array(4), 2, 2, 1, 1.5, 2)).toThrow(/positive integers/);
  });
});

describe("padding, cropping and normalising", () => {
  it("pads to a centred square with floor offsets, as FetalCLIP's scripts paste", () => {
    expect(squarePadding(788, 545)).toEqual({side: 788, left: 0, top: 121});
    expect(squarePadding(2, 5)).toEqual({side: 5, left: 1, top: 0});
    const padded = padToSquare({width: 3, height: 1, data: new Uint8Array([1, 1, 1, 2, 2, 2, 3, 3, 3])});
    expect(padded.width).toBe(3);
    expect(Array.from(padded.data)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("centre-crops with Python's half-to-even rounding, like torchvision CenterCrop", () => {
    expect([0.5, 1.5, 2.5, 3].map(roundHalfEven)).toEqual([0, 2, 2, 3]);
    const row = (w: number): Rgb8Image => ({width: w, height: 1, data: Uint8Array.from({length: w * 3}, (_, i) => Math.floor(i / 3))});
    expect(Array.from(centreCrop(row(5), 2, 1).data)).toEqual([2, 2, 2, 3, 3, 3]); // left = round(1.5) = 2
    expect(Array.from(centreCrop(row(7), 2, 1).data)).toEqual([2, 2, 2, 3, 3, 3]); // left = round(2.5) = 2
    expect(() => centreCrop(row(3), 4, 1)).toThrow(/larger than the image/);
  });

  it("normalises to float32 CHW as torch computes (0 -> -1.7922625541687012 in red)", () => {
    const img: Rgb8Image = {width: 2, height: 1, data: new Uint8Array([0, 128, 255, 255, 0, 64])};
    const t = normalize(img, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD);
    expect(t.length).toBe(6);
    expect(t[0]).toBe(-1.7922625541687012);
    const f = Math.fround;
    expect(t[1]).toBe(f(f(f(255 / 255) - f(OPENAI_CLIP_MEAN[0])) / f(OPENAI_CLIP_STD[0]))); // red of pixel 1
    expect(t[2]).toBe(f(f(f(128 / 255) - f(OPENAI_CLIP_MEAN[1])) / f(OPENAI_CLIP_STD[1]))); // green of pixel 0
  });
});

describe("decoding PNG and JPEG to PIL-mode pixels", () => {
  const decodeRgb = (png: Parameters<typeof encodePng>[0]) => {
    const img = decodeImage(encodePng(png));
    return {mode: img.mode, rgb: Array.from(toRgb8(img).data)};
  };

  it("saturates 16-bit grey at 255, as PIL's I;16 -> RGB conversion does", () => {
    const {mode, rgb} = decodeRgb({width: 4, height: 1, channels: 1, depth: 16, data: new Uint16Array([0, 200, 256, 65535])});
    expect(mode).toBe("I;16");
    expect(rgb).toEqual([0, 0, 0, 200, 200, 200, 255, 255, 255, 255, 255, 255]);
  });

  it("keeps the high byte of 16-bit RGB and grey+alpha, as PIL's loader does", () => {
    const rgb16 = decodeRgb({width: 1, height: 1, channels: 3, depth: 16, data: new Uint16Array([0x12ff, 0xff00, 0x00ff])});
    expect(rgb16).toEqual({mode: "RGB;16", rgb: [0x12, 0xff, 0x00]});
    const la16 = decodeRgb({width: 1, height: 1, channels: 2, depth: 16, data: new Uint16Array([0xab01, 0x0000])});
    expect(la16).toEqual({mode: "LA;16", rgb: [0xab, 0xab, 0xab]});
  });

  it("expands 8-bit and 2-bit palettes, ignoring palette alpha", () => {
    const palette = [[10, 20, 30, 0], [200, 100, 0, 255], [1, 2, 255, 128]];
    const p8 = decodeRgb({width: 3, height: 1, channels: 1, depth: 8, palette, data: new Uint8Array([2, 0, 1])});
    expect(p8).toEqual({mode: "P", rgb: [1, 2, 255, 10, 20, 30, 200, 100, 0]});
    const p2 = decodeRgb({width: 3, height: 1, channels: 1, depth: 2, palette, data: new Uint8Array([0b10000100])});
    expect(p2.rgb).toEqual([1, 2, 255, 10, 20, 30, 200, 100, 0]);
  });

  it("drops alpha from RGBA and grey+alpha without compositing", () => {
    const rgba = decodeRgb({width: 1, height: 1, channels: 4, depth: 8, data: new Uint8Array([9, 8, 7, 0])});
    expect(rgba).toEqual({mode: "RGBA", rgb: [9, 8, 7]});
    const la = decodeRgb({width: 1, height: 1, channels: 2, depth: 8, data: new Uint8Array([77, 3])});
    expect(la).toEqual({mode: "LA", rgb: [77, 77, 77]});
  });

  it("scales 1-, 2- and 4-bit grey to 0..255 as PIL unpacks them", () => {
    expect(decodeRgb({width: 3, height: 1, channels: 1, depth: 1, data: new Uint8Array([0b10100000])}).rgb.filter((_, i) => i % 3 === 0)).toEqual([255, 0, 255]);
    expect(decodeRgb({width: 4, height: 1, channels: 1, depth: 2, data: new Uint8Array([0b00011011])}).rgb.filter((_, i) => i % 3 === 0)).toEqual([0, 85, 170, 255]);
    expect(decodeRgb({width: 3, height: 1, channels: 1, depth: 4, data: new Uint8Array([0x0f, 0x70])}).rgb.filter((_, i) => i % 3 === 0)).toEqual([0, 255, 119]);
  });

  it("decodes a baseline JPEG to RGB within two levels of a flat colour", () => {
    const w = 16, h = 8;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([120, 60, 200, 255], i * 4);
    const file = new Uint8Array(jpeg.encode({width: w, height: h, data: rgba}, 100).data);
    const img = decodeImage(file);
    expect([img.mode, img.width, img.height]).toEqual(["RGB", w, h]);
    const px = Array.from(img.data.subarray(0, 3));
    px.forEach((v, c) => expect(Math.abs(v - [120, 60, 200][c]!)).toBeLessThanOrEqual(2));
  });

  it("names the expected formats when the bytes are neither PNG nor JPEG", () => {
    expect(() => decodeImage(new Uint8Array([0x47, 0x49, 0x46, 0x38]))).toThrow(/unsupported image format \(first bytes 47 49 46 38\).*PNG.*JPEG/);
  });

  it("reports a pixel buffer that does not fit the stated size", () => {
    expect(() => toRgb8({width: 2, height: 2, mode: "RGB", data: new Uint8Array(11)})).toThrow(/needs 12 samples, got 11/);
  });
});

describe("preprocessBatch", () => {
  it("stacks the per-image tensors in order", () => {
    const grey = {width: 30, height: 20, mode: "L" as const, data: Uint8Array.from({length: 600}, (_, i) => i % 251)};
    const rgb = {width: 9, height: 13, mode: "RGB" as const, data: Uint8Array.from({length: 351}, (_, i) => (i * 7) % 256)};
    const spec = {size: 16, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD};
    const batch = preprocessBatch([grey, rgb], spec);
    expect(batch.length).toBe(2 * 3 * 16 * 16);
    expect(Array.from(batch.subarray(0, 768))).toEqual(Array.from(preprocessImage(grey, spec)));
    expect(Array.from(batch.subarray(768))).toEqual(Array.from(preprocessImage(rgb, spec)));
  });
});

describeShared("preprocessImage vs the tensors open_clip fed the model", () => {
  const dir = sharedPath("fixtures", "openclip-micro", "images");
  const expected = JSON.parse(readFileSync(sharedPath("fixtures", "openclip-micro", "expected.json"), "utf8")) as {
    images: {image: string; pixel_mean: number; pixel_std: number; pixel_first: number[]}[];
  };
  const reference = (name: string) => {
    const b = readFileSync(`${dir}/${name}.input.f32`);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const diff = absDiff;

  for (const {image, pixel_mean, pixel_std, pixel_first} of expected.images) {
    it(`${image}: our tensor equals open_clip's bit for bit (max and mean |diff| = 0)`, () => {
      const ours = preprocessImage(new Uint8Array(readFileSync(`${dir}/${image}`)), SPEC);
      const ref = reference(image);
      expect(ours.length).toBe(3 * 224 * 224);
      expect(ref.length).toBe(3 * 224 * 224);
      const {max, mean} = diff(ours, ref);
      expect(max).toBeLessThanOrEqual(0.05);
      expect(mean).toBeLessThanOrEqual(0.005);
      expect(max).toBe(0);
      // expected.json's summary statistics (torch float32 reductions).
      const m = ours.reduce((s, v) => s + v, 0) / ours.length;
      const sd = Math.sqrt(ours.reduce((s, v) => s + (v - m) ** 2, 0) / (ours.length - 1));
      expect(Math.abs(m - pixel_mean)).toBeLessThan(1e-5);
      expect(Math.abs(sd - pixel_std)).toBeLessThan(1e-5);
      expect(Array.from(ours.subarray(0, 8))).toEqual(pixel_first);
    });
  }

  it("500_HC.png (788x545, odd margin 243) tells the padding conventions apart: floor matches, ceil does not", () => {
    const bytes = new Uint8Array(readFileSync(`${dir}/500_HC.png`));
    const rgb = toRgb8(decodeImage(bytes));
    const tensorWithTop = (top: number) => {
      const side = 788;
      const data = new Uint8Array(side * side * 3);
      data.set(rgb.data, top * side * 3);
      const square = {width: side, height: side, data};
      return normalize(centreCrop(resizeShorterSide(square, 224), 224), SPEC.mean, SPEC.std);
    };
    const ref = reference("500_HC.png");
    expect(diff(tensorWithTop(121), ref).max).toBe(0);
    expect(diff(tensorWithTop(122), ref).max).toBeGreaterThan(0.05);
  });
});
