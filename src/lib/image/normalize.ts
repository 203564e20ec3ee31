// torchvision ToTensor + Normalize: uint8 HWC -> float32 CHW, (v / 255 - mean) / std,
// each step rounded to float32 as torch computes it, so tensors match bit for bit.
import type {Rgb8Image} from "./raster.js";

export type Rgb = [number, number, number];

/** Writes the normalised CHW tensor of `img` into `out` at `offset` (default: a new array). */
export function normalize(img: Rgb8Image, mean: Rgb, std: Rgb, out?: Float32Array, offset = 0): Float32Array {
  const plane = img.width * img.height;
  const target = out ?? new Float32Array(3 * plane);
  if (target.length < offset + 3 * plane) {
    throw new Error(`normalize: output has ${target.length} floats, needs ${offset + 3 * plane}`);
  }
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const m = f(mean[c]!);
    const s = f(std[c]!);
    // 256 possible inputs per channel: a lookup table is exact and fast.
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = f(f(f(v / 255) - m) / s);
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) target[base + i] = lut[img.data[3 * i + c]!]!;
  }
  return target;
}
