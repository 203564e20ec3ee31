// The four adjustments of albumentations 2.0.8's ColorJitter on 8-bit images, following
// augmentations/pixel/functional.py (adjust_brightness_torchvision, adjust_contrast_torchvision,
// adjust_saturation_torchvision, adjust_hue_torchvision) and albucore 0.0.24 functions.py
// (multiply_lut, multiply_add_lut): brightness and contrast are float32 look-up tables clipped
// to 0-255 and truncated (astype(uint8)), saturation is cv2.addWeighted with OpenCV's grey,
// hue shifts OpenCV's 8-bit HSV (H in 0-179). Saturation and hue leave grey images untouched,
// as albumentations does. Grey, HSV and addWeighted follow OpenCV 4.6 as its x86 wheels run
// them (color_rgb.simd.hpp, color_hsv.simd.hpp, arithm.simd.hpp with the AVX2 dispatch),
// including where that build truncates or fuses multiply-adds.
import {roundHalfEven} from "../rounding.js";
import type {GreyOrRgb8} from "./greyOrRgb8.js";

const f32 = Math.fround;

export type JitterOp = "brightness" | "contrast" | "saturation" | "hue";


function applyLut(img: GreyOrRgb8, lut: Uint8Array): GreyOrRgb8 {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = lut[img.data[i]!]!;
  return {...img, data: out};
}

/** cv2.cvtColor(rgb, COLOR_RGB2GRAY) on 8 bits in OpenCV 4.x: 15-bit weights, (9798 R + 19235 G + 3735 B + 2^14) >> 15. */
export function rgbToGrey8(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = (rgb[3 * i]! * 9798 + rgb[3 * i + 1]! * 19235 + rgb[3 * i + 2]! * 3735 + 16384) >> 15;
  return out;
}

/** Brightness: v * factor through a float32 table, clipped and truncated (albucore multiply_lut). */
export function adjustBrightness(img: GreyOrRgb8, factor: number): GreyOrRgb8 {
  if (factor === 0) return {...img, data: new Uint8Array(img.data.length)};
  if (factor === 1) return img;
  const f = f32(factor);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.min(255, Math.trunc(f32(v * f)));
  return applyLut(img, lut);
}

/** Mean grey level as albumentations takes it: of the image itself, or of OpenCV's grey conversion. */
export function meanGrey(img: GreyOrRgb8): number {
  const grey = img.channels === 1 ? img.data : rgbToGrey8(img.data);
  let sum = 0;
  for (let i = 0; i < grey.length; i++) sum += grey[i]!;
  return sum / grey.length;
}

/** Contrast: v * factor + mean * (1 - factor) through a float32 table, clipped and truncated (albucore multiply_add_lut). */
export function adjustContrast(img: GreyOrRgb8, factor: number): GreyOrRgb8 {
  if (factor === 1) return img;
  const mean = meanGrey(img);
  if (factor === 0) return {...img, data: new Uint8Array(img.data.length).fill(Math.trunc(mean + 0.5))};
  const f = f32(factor);
  const offset = f32(mean * (1 - factor));
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.min(255, Math.max(0, Math.trunc(f32(f32(v * f) + offset))));
  return applyLut(img, lut);
}

/** Saturation: cv2.addWeighted(rgb, factor, grey3, 1 - factor, 0); grey images are returned as they are. */
export function adjustSaturation(img: GreyOrRgb8, factor: number): GreyOrRgb8 {
  if (factor === 1 || img.channels === 1) return img;
  const grey = rgbToGrey8(img.data);
  const out = new Uint8Array(img.data.length);
  if (factor === 0) {
    for (let i = 0; i < out.length; i++) out[i] = grey[(i / 3) | 0]!;
    return {...img, data: out};
  }
  // addWeighted on 8 bits: fma(src1, alpha, fma(src2, beta, gamma = 0)) in float32 (OpenCV's
  // AVX2 code), rounded half to even; src1*alpha is exact in double, so the sum rounds once.
  const alpha = f32(factor);
  const beta = f32(1 - factor);
  for (let i = 0; i < out.length; i++) {
    const v = roundHalfEven(f32(img.data[i]! * alpha + f32(grey[(i / 3) | 0]! * beta)));
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return {...img, data: out};
}

const HSV_SHIFT = 12;
const S_DIV = new Int32Array(256);
const H_DIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  S_DIV[i] = roundHalfEven((255 << HSV_SHIFT) / i);
  H_DIV[i] = roundHalfEven((180 << HSV_SHIFT) / (6 * i));
}

/** cv2.cvtColor(rgb, COLOR_RGB2HSV) on 8 bits: H in 0-180 (half degrees), S and V in 0-255, integer tables. */
export function rgbToHsv8(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  const round = 1 << (HSV_SHIFT - 1);
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]!, g = rgb[i + 1]!, b = rgb[i + 2]!;
    const v = Math.max(r, g, b);
    const diff = v - Math.min(r, g, b);
    const s = (diff * S_DIV[v]! + round) >> HSV_SHIFT;
    let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
    h = (h * H_DIV[diff]! + round) >> HSV_SHIFT;
    if (h < 0) h += 180;
    out[i] = Math.min(h, 255);
    out[i + 1] = s;
    out[i + 2] = v;
  }
  return out;
}

const SECTORS = [[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]] as const;

// OpenCV's AVX2 build (what the pip wheels dispatch to on current x86 CPUs) converts HSV to
// RGB in blocks of 32 pixels per row and truncates there; the rest of each row is rounded.
const HSV_BLOCK = 32;

/**
 * cv2.cvtColor(hsv, COLOR_HSV2RGB) on 8 bits, row by row: OpenCV's float32 HSV2RGB, truncated
 * to an integer in the SIMD blocks and rounded half to even in each row's tail.
 */
export function hsvToRgb8(hsv: Uint8Array, width = hsv.length / 3): Uint8Array {
  if (!Number.isInteger(width) || width < 1 || hsv.length % (3 * width) !== 0) {
    throw new Error(`hsvToRgb8: ${hsv.length} samples do not make rows of ${width} pixels`);
  }
  const out = new Uint8Array(hsv.length);
  const hscale = f32(6 / 180);
  const inv255 = f32(1 / 255);
  const tab = new Float32Array(4);
  const blocked = Math.floor(width / HSV_BLOCK) * HSV_BLOCK;
  const toByte = (x: number, truncate: boolean) => {
    const v = truncate ? Math.trunc(x) : roundHalfEven(x);
    return v < 0 ? 0 : v > 255 ? 255 : v;
  };
  for (let i = 0, p = 0; i < hsv.length; i += 3, p++) {
    const s = f32(hsv[i + 1]! * inv255);
    const v = f32(hsv[i + 2]! * inv255);
    let r: number, g: number, b: number;
    if (s === 0) {
      r = g = b = v;
    } else {
      let h = f32(hsv[i]! * hscale) % 6;
      let sector = Math.floor(h);
      h = f32(h - sector);
      if (sector < 0 || sector >= 6) {
        sector = 0;
        h = 0;
      }
      // OpenCV's AVX2 build contracts 1 - s*h into one FMA (here: in double, then float32), and
      // 1 - s*(1 - h) too inside the SIMD blocks but not in the scalar tail.
      const h1 = f32(1 - h);
      tab[0] = v;
      tab[1] = f32(v * f32(1 - s));
      tab[2] = f32(v * f32(1 - s * h));
      tab[3] = f32(v * f32(1 - (p % width < blocked ? s * h1 : f32(s * h1))));
      const [bi, gi, ri] = SECTORS[sector]!;
      b = tab[bi]!;
      g = tab[gi]!;
      r = tab[ri]!;
    }
    const truncate = p % width < blocked;
    out[i] = toByte(f32(r * 255), truncate);
    out[i + 1] = toByte(f32(g * 255), truncate);
    out[i + 2] = toByte(f32(b * 255), truncate);
  }
  return out;
}

/** Hue: H' = floor((H + 180 * factor) mod 180) in OpenCV's 8-bit HSV; grey images are returned as they are. */
export function adjustHue(img: GreyOrRgb8, factor: number): GreyOrRgb8 {
  if (img.channels === 1 || factor === 0) return img;
  const hsv = rgbToHsv8(img.data);
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const m = (v + 180 * factor) % 180;
    lut[v] = Math.trunc(m < 0 ? m + 180 : m);
  }
  for (let i = 0; i < hsv.length; i += 3) hsv[i] = lut[hsv[i]!]!;
  return {...img, data: hsvToRgb8(hsv, img.width)};
}

/** One ColorJitter adjustment by name. */
export function adjustColour(img: GreyOrRgb8, op: JitterOp, factor: number): GreyOrRgb8 {
  switch (op) {
    case "brightness":
      return adjustBrightness(img, factor);
    case "contrast":
      return adjustContrast(img, factor);
    case "saturation":
      return adjustSaturation(img, factor);
    case "hue":
      return adjustHue(img, factor);
  }
}
