// JPEGs decode to PIL's pixels, byte for byte: open_clip opens images with PIL, whose
// JPEG decoder is libjpeg-turbo (ISLOW IDCT, fancy upsampling, fixed-point YCbCr->RGB).
// The references are PIL's Image.open(jpg).convert("RGB"), made once by
// scripts/make_jpeg_reference.py and committed in tests/fixtures/jpeg/.
import {readdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {decode as decodePng} from "fast-png";
import jpeg from "jpeg-js";
import {describe, expect, it, vi} from "vitest";
import "../loaders/jpeg.js";
import {toRgb8} from "../src/lib/image/convert.js";
import {decodeImage} from "../src/lib/image/decode.js";
import {repoRoot} from "./shared.js";
import {absDiff} from "./support/absDiff.js";

const DIR = join(repoRoot, "tests", "fixtures", "jpeg");
const CASES = readdirSync(DIR)
  .filter((f) => f.endsWith(".png"))
  .map((f) => f.slice(0, -".png".length));
const jpegBytes = (name: string) => new Uint8Array(readFileSync(join(DIR, `${name}.jpg`)));
const pilPixels = (name: string) => decodePng(readFileSync(join(DIR, `${name}.png`))).data as Uint8Array;


describe("decodeImage on JPEG vs PIL's decode", () => {
  it("has the fixtures: 4:2:0, 4:2:2, 4:4:4, 1x2, 4x1, progressive, grey, odd sizes, colour edges, restarts, arithmetic", () => {
    expect(CASES.length).toBe(17);
  });

  for (const name of CASES) {
    it(`${name}: every byte equals PIL's convert("RGB") (max |diff| 0)`, () => {
      const raster = decodeImage(jpegBytes(name));
      const rgb = toRgb8(raster);
      const ref = pilPixels(name);
      expect(rgb.data.length).toBe(ref.length);
      expect(raster.mode).toBe(name.startsWith("grey") ? "L" : "RGB");
      expect(absDiff(rgb.data, ref)).toEqual({max: 0, mean: 0});
    });
  }

  it("jpeg-js, the decoder this replaced, misses PIL by over 100 levels on red/blue edges (so the check can fail)", () => {
    for (const name of ["checker-red-blue-420", "progressive-checker-420"]) {
      const old = jpeg.decode(jpegBytes(name), {useTArray: true, formatAsRGBA: false});
      const {max, mean} = absDiff(old.data, pilPixels(name));
      expect(max, name).toBeGreaterThan(100);
      expect(mean, name).toBeGreaterThan(20);
    }
  });
});

describe("decodeImage on JPEGs it must refuse", () => {
  it("refuses a CMYK (Adobe) JPEG by name, before decoding", () => {
    expect(() => decodeImage(jpegBytes("cmyk-adobe"))).toThrow(/CMYK JPEGs are not supported.*RGB JPEG or a PNG/);
  });

  it("refuses a JPEG whose header declares more pixels than the budget, before decoding", () => {
    const bytes = jpegBytes("baseline-420");
    const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
    const huge = bytes.slice();
    new DataView(huge.buffer).setUint16(sof + 5, 20_000); // height
    new DataView(huge.buffer).setUint16(sof + 7, 20_000); // width
    expect(() => decodeImage(huge)).toThrow(/JPEG declares 20000 x 20000 px, over the limit of 100 megapixels/);
    expect(() => decodeImage(bytes, {maxPixels: 64 * 47})).toThrow(/64 x 48 px, over the limit/);
    expect(decodeImage(bytes, {maxPixels: 64 * 48}).width).toBe(64);
  });

  it("reports truncated and damaged files as such, and decodes the next good file exactly", () => {
    const good = jpegBytes("progressive-420");
    const garbled = good.slice();
    for (let i = 700; i < garbled.length - 2; i++) garbled[i] = (i * 37) & 0xff;
    for (let k = 0; k < 20; k++) {
      expect(() => decodeImage(good.subarray(0, 1000))).toThrow(/^decodeImage: damaged or truncated JPEG \(libjpeg-turbo could not decode it\)$/);
      expect(() => decodeImage(garbled)).toThrow(/damaged or truncated JPEG/);
    }
    expect(() => decodeImage(good.subarray(0, 6))).toThrow(/damaged JPEG: no image size in its header/);
    expect(absDiff(toRgb8(decodeImage(good)).data, pilPixels("progressive-420")).max).toBe(0);
  });

  it("refuses a JPEG on which libjpeg only warns, which PIL opens (a known gap: the wasm wrapper treats warnings as errors)", () => {
    const bytes = jpegBytes("baseline-420");
    // Five zero bytes before EOI: libjpeg warns "Corrupt JPEG data: 2 extraneous bytes before marker 0xd9", PIL decodes it.
    const padded = new Uint8Array([...bytes.subarray(0, -2), 0, 0, 0, 0, 0, 0xff, 0xd9]);
    expect(() => decodeImage(padded)).toThrow(/damaged or truncated JPEG/);
  });

  it("says how to load the decoder when no edge has (a fresh core, without loaders/jpeg.ts)", async () => {
    vi.resetModules();
    const fresh = await import("../src/lib/image/decode.js");
    expect(() => fresh.decodeImage(jpegBytes("grey"))).toThrow(/JPEG decoder is not loaded yet; await initJpeg/);
    const {initJpeg} = await import("../src/lib/image/jpeg.js");
    await initJpeg(readFileSync(join(repoRoot, "node_modules", "@cornerstonejs", "codec-libjpeg-turbo-8bit", "dist", "libjpegturbowasm_decode.wasm")));
    expect(fresh.decodeImage(jpegBytes("grey")).mode).toBe("L");
  });
});
