// Contrast-limited adaptive histogram equalisation as OpenCV 4.6 computes it for 8-bit
// images (modules/imgproc/src/clahe.cpp: CLAHE_Impl::apply, CLAHE_CalcLut_Body,
// CLAHE_Interpolation_Body), and albumentations 2.0.8's CLAHE around it
// (augmentations/pixel/functional.py clahe: grey images directly, RGB through the L
// channel of OpenCV's 8-bit L*a*b*, ./labColour.ts). Float steps are rounded to float32
// where OpenCV computes in float.
import {roundHalfEven} from "../rounding.js";
import type {GreyOrRgb8} from "./greyOrRgb8.js";
import {labToRgb8, rgbToLab8} from "./labColour.js";

const f32 = Math.fround;


/** OpenCV's BORDER_REFLECT_101 index (gfedcb|abcdefgh|gfedcba), valid for any overshoot. */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/**
 * cv2.createCLAHE(clipLimit, (tilesX, tilesY)).apply(grey) on an 8-bit single-channel image,
 * byte for byte. A size that is not a multiple of the grid is handled as OpenCV does: the
 * histograms come from the image padded with BORDER_REFLECT_101 by tiles - size % tiles on
 * the right and bottom (a whole extra tile when one side already divides).
 */
export function claheGrey(src: Uint8Array, width: number, height: number, clipLimit: number, tilesX = 8, tilesY = 8): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`claheGrey: width and height must be positive integers, got ${width}x${height}`);
  }
  if (src.length !== width * height) throw new Error(`claheGrey: ${width}x${height} needs ${width * height} samples, got ${src.length}`);
  if (!Number.isInteger(tilesX) || !Number.isInteger(tilesY) || tilesX < 1 || tilesY < 1) {
    throw new Error(`claheGrey: the tile grid must be positive integers, got ${tilesX}x${tilesY}`);
  }
  if (!Number.isFinite(clipLimit)) throw new Error(`claheGrey: clipLimit must be finite, got ${clipLimit}`);

  const divides = width % tilesX === 0 && height % tilesY === 0;
  const extW = divides ? width : width + tilesX - (width % tilesX);
  const extH = divides ? height : height + tilesY - (height % tilesY);
  const tileW = extW / tilesX;
  const tileH = extH / tilesY;
  const colOf = new Int32Array(extW);
  for (let x = 0; x < extW; x++) colOf[x] = reflect101(x, width);

  const tileArea = tileW * tileH;
  const lutScale = f32(255 / tileArea);
  // static_cast<int>(clipLimit * tileArea / 256), at least 1; 0 turns clipping off.
  const clip = clipLimit > 0 ? Math.max(Math.trunc((clipLimit * tileArea) / 256), 1) : 0;

  const luts = new Uint8Array(tilesX * tilesY * 256);
  const hist = new Int32Array(256);
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      hist.fill(0);
      for (let y = ty * tileH; y < (ty + 1) * tileH; y++) {
        const row = reflect101(y, height) * width;
        for (let x = tx * tileW; x < (tx + 1) * tileW; x++) hist[src[row + colOf[x]!]!]!++;
      }
      if (clip > 0) {
        let clipped = 0;
        for (let i = 0; i < 256; i++) {
          if (hist[i]! > clip) {
            clipped += hist[i]! - clip;
            hist[i] = clip;
          }
        }
        // OpenCV spreads the excess evenly, then the remainder one by one at a fixed stride.
        const batch = Math.trunc(clipped / 256);
        let residual = clipped - batch * 256;
        for (let i = 0; i < 256; i++) hist[i]! += batch;
        if (residual !== 0) {
          const step = Math.max(Math.trunc(256 / residual), 1);
          for (let i = 0; i < 256 && residual > 0; i += step, residual--) hist[i]!++;
        }
      }
      const base = (ty * tilesX + tx) * 256;
      let sum = 0;
      for (let i = 0; i < 256; i++) {
        sum += hist[i]!;
        luts[base + i] = Math.min(255, Math.max(0, roundHalfEven(f32(sum * lutScale))));
      }
    }
  }

  // Bilinear blend of the four nearest tile tables, with OpenCV's float32 weights.
  const invTw = f32(1 / tileW);
  const ind1 = new Int32Array(width);
  const ind2 = new Int32Array(width);
  const xa = new Float32Array(width);
  const xa1 = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const txf = f32(f32(x * invTw) - 0.5);
    const tx1 = Math.floor(txf);
    xa[x] = f32(txf - tx1);
    xa1[x] = f32(1 - xa[x]!);
    ind1[x] = Math.max(tx1, 0) * 256;
    ind2[x] = Math.min(tx1 + 1, tilesX - 1) * 256;
  }
  const out = new Uint8Array(width * height);
  const invTh = f32(1 / tileH);
  for (let y = 0; y < height; y++) {
    const tyf = f32(f32(y * invTh) - 0.5);
    const ty1 = Math.floor(tyf);
    const ya = f32(tyf - ty1);
    const ya1 = f32(1 - ya);
    const plane1 = Math.max(ty1, 0) * tilesX * 256;
    const plane2 = Math.min(ty1 + 1, tilesY - 1) * tilesX * 256;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = src[row + x]!;
      const i1 = ind1[x]! + v;
      const i2 = ind2[x]! + v;
      const w1 = xa1[x]!;
      const w2 = xa[x]!;
      const top = f32(f32(luts[plane1 + i1]! * w1) + f32(luts[plane1 + i2]! * w2));
      const bottom = f32(f32(luts[plane2 + i1]! * w1) + f32(luts[plane2 + i2]! * w2));
      const res = f32(f32(top * ya1) + f32(bottom * ya));
      out[row + x] = Math.min(255, Math.max(0, roundHalfEven(res)));
    }
  }
  return out;
}

/**
 * albumentations 2.0.8 CLAHE on a grey or RGB image: grey goes straight through
 * OpenCV's CLAHE; RGB is equalised on the L channel of OpenCV's 8-bit L*a*b*.
 */
export function clahe(img: GreyOrRgb8, clipLimit: number, tileGrid = 8): GreyOrRgb8 {
  const {width, height, channels, data} = img;
  if (channels === 1) return {width, height, channels, data: claheGrey(data, width, height, clipLimit, tileGrid, tileGrid)};
  if (channels !== 3) throw new Error(`clahe: expects 1 or 3 channels, got ${channels}`);
  const lab = rgbToLab8(data);
  const n = width * height;
  const lightness = new Uint8Array(n);
  for (let i = 0; i < n; i++) lightness[i] = lab[3 * i]!;
  const equalised = claheGrey(lightness, width, height, clipLimit, tileGrid, tileGrid);
  for (let i = 0; i < n; i++) lab[3 * i] = equalised[i]!;
  return {width, height, channels, data: labToRgb8(lab)};
}
