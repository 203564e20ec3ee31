// The training-time augmentation of FetalCLIP's official probing and few-data notebooks
// (preprocess_data.ipynb), which albumentations 2.0.8 runs on each zero-padded square image:
//   A.ColorJitter(0.2, 0.2, 0.2, 0.2, p=0.5), A.CLAHE(p=0.5),
//   A.ShiftScaleRotate(shift_limit=0.2, scale_limit=0.0, rotate_limit=20, INTER_LINEAR, BORDER_CONSTANT, p=1)
// Draws follow albumentations' distributions (augmentations/pixel/transforms.py ColorJitter,
// CLAHE; geometric/transforms.py Affine, ShiftScaleRotate) from our seeded Rng: Python's
// random streams cannot be reproduced, the distributions and the pixel operations are.
import type {Rng} from "../random.js";
import {clahe} from "./clahe.js";
import {adjustColour, type JitterOp} from "./colorJitter.js";
import {checkGreyOrRgb8, type GreyOrRgb8} from "./greyOrRgb8.js";
import {shiftScaleRotateMatrix, warpAffineLinear} from "./warpAffine.js";

export type {GreyOrRgb8} from "./greyOrRgb8.js";

export interface AugmentationSpec {
  /** Brightness, contrast, saturation: factor uniform in [max(0, 1 - x), 1 + x]; hue: shift uniform in [-x, x] turns, x <= 0.5. */
  colorJitter: {brightness: number; contrast: number; saturation: number; hue: number; p: number};
  /** Clip limit uniform in [lo, hi] (albumentations' clip_limit=4.0 means [1, 4]); tileGrid x tileGrid tiles. */
  clahe: {clipLimit: [number, number]; tileGrid: number; p: number};
  /** Shift uniform in [-shiftLimit, shiftLimit] of the width/height, truncated to whole pixels; scale 1 + uniform(-scaleLimit, scaleLimit); angle uniform in degrees. */
  shiftScaleRotate: {shiftLimit: number; scaleLimit: number; rotateLimitDeg: number; p: number};
}

/**
 * The notebook's settings (FetalCLIP preprocess_data.ipynb AUGMENTATION). CLAHE is left at
 * albumentations' defaults: clip_limit=4.0, read as the range (1, 4), and an 8x8 grid.
 */
export const OFFICIAL_PROBE_AUGMENTATION: AugmentationSpec = Object.freeze({
  colorJitter: Object.freeze({brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.2, p: 0.5}),
  clahe: Object.freeze({clipLimit: [1, 4] as [number, number], tileGrid: 8, p: 0.5}),
  shiftScaleRotate: Object.freeze({shiftLimit: 0.2, scaleLimit: 0, rotateLimitDeg: 20, p: 1})
}) as AugmentationSpec;

/** What one augmentation drew; null for a transform its coin flip skipped. */
export interface AugmentParams {
  /** The image size the shifts were drawn for. */
  width: number;
  height: number;
  colorJitter: {brightness: number; contrast: number; saturation: number; hue: number; order: JitterOp[]} | null;
  clahe: {clipLimit: number; tileGrid: number} | null;
  /** Rotation in degrees (positive turns the picture anticlockwise), shifts in whole pixels. */
  shiftScaleRotate: {angleDeg: number; dx: number; dy: number; scale: number} | null;
}

function checkSpec(spec: AugmentationSpec): void {
  const bad = (what: string, v: unknown) => new Error(`augmentation spec: ${what}, got ${JSON.stringify(v)}`);
  const prob = (p: number, where: string) => {
    if (!(p >= 0 && p <= 1)) throw bad(`${where}.p must be in [0, 1]`, p);
  };
  const j = spec.colorJitter;
  for (const key of ["brightness", "contrast", "saturation", "hue"] as const) {
    if (!(Number.isFinite(j[key]) && j[key] >= 0)) throw bad(`colorJitter.${key} must be a finite number >= 0`, j[key]);
  }
  if (j.hue > 0.5) throw bad("colorJitter.hue must be <= 0.5 (a half turn)", j.hue);
  prob(j.p, "colorJitter");
  const c = spec.clahe;
  if (!Array.isArray(c.clipLimit) || c.clipLimit.length !== 2 || !(c.clipLimit[0] >= 1 && c.clipLimit[1] >= c.clipLimit[0] && Number.isFinite(c.clipLimit[1]))) {
    throw bad("clahe.clipLimit must be [lo, hi] with 1 <= lo <= hi", c.clipLimit);
  }
  if (!(Number.isInteger(c.tileGrid) && c.tileGrid >= 1)) throw bad("clahe.tileGrid must be a positive integer", c.tileGrid);
  prob(c.p, "clahe");
  const s = spec.shiftScaleRotate;
  if (!(s.shiftLimit >= 0 && s.shiftLimit <= 1)) throw bad("shiftScaleRotate.shiftLimit must be in [0, 1]", s.shiftLimit);
  if (!(s.scaleLimit >= 0 && s.scaleLimit < 1)) throw bad("shiftScaleRotate.scaleLimit must be in [0, 1)", s.scaleLimit);
  if (!(Number.isFinite(s.rotateLimitDeg) && s.rotateLimitDeg >= 0)) throw bad("shiftScaleRotate.rotateLimitDeg must be a finite number >= 0", s.rotateLimitDeg);
  prob(s.p, "shiftScaleRotate");
}

/** Draws one augmentation for a width x height image, in albumentations' order: jitter, CLAHE, shift-scale-rotate. */
export function drawAugmentParams(rng: Rng, width: number, height: number, spec: AugmentationSpec = OFFICIAL_PROBE_AUGMENTATION): AugmentParams {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`drawAugmentParams: width and height must be positive integers, got ${width}x${height}`);
  }
  checkSpec(spec);
  const j = spec.colorJitter;
  let colorJitter: AugmentParams["colorJitter"] = null;
  if (rng.chance(j.p)) {
    const factor = (x: number) => rng.uniform(Math.max(0, 1 - x), 1 + x);
    const brightness = factor(j.brightness);
    const contrast = factor(j.contrast);
    const saturation = factor(j.saturation);
    const hue = rng.uniform(-j.hue, j.hue);
    const order = rng.shuffle<JitterOp>(["brightness", "contrast", "saturation", "hue"]);
    colorJitter = {brightness, contrast, saturation, hue, order};
  }
  const c = spec.clahe;
  const claheParams = rng.chance(c.p) ? {clipLimit: rng.uniform(c.clipLimit[0], c.clipLimit[1]), tileGrid: c.tileGrid} : null;
  const s = spec.shiftScaleRotate;
  let shiftScaleRotate: AugmentParams["shiftScaleRotate"] = null;
  if (rng.chance(s.p)) {
    // Affine._get_translate_params: int(fraction * size), truncating towards zero.
    const dx = Math.trunc(rng.uniform(-s.shiftLimit, s.shiftLimit) * width);
    const dy = Math.trunc(rng.uniform(-s.shiftLimit, s.shiftLimit) * height);
    const scale = rng.uniform(1 - s.scaleLimit, 1 + s.scaleLimit);
    const angleDeg = rng.uniform(-s.rotateLimitDeg, s.rotateLimitDeg);
    shiftScaleRotate = {angleDeg, dx, dy, scale};
  }
  return {width, height, colorJitter, clahe: claheParams, shiftScaleRotate};
}

/** Applies drawn parameters: jitter ops in their drawn order, then CLAHE, then the affine warp (fill 0). */
export function applyAugmentation(img: GreyOrRgb8, params: AugmentParams): GreyOrRgb8 {
  checkGreyOrRgb8(img, "applyAugmentation");
  if (params.width !== img.width || params.height !== img.height) {
    throw new Error(`applyAugmentation: parameters were drawn for ${params.width}x${params.height}, the image is ${img.width}x${img.height}`);
  }
  let out = img;
  if (params.colorJitter) {
    for (const op of params.colorJitter.order) out = adjustColour(out, op, params.colorJitter[op]);
  }
  if (params.clahe) out = clahe(out, params.clahe.clipLimit, params.clahe.tileGrid);
  const ssr = params.shiftScaleRotate;
  if (ssr && !(ssr.angleDeg === 0 && ssr.dx === 0 && ssr.dy === 0 && ssr.scale === 1)) {
    out = warpAffineLinear(out, shiftScaleRotateMatrix(out.width, out.height, ssr.angleDeg, ssr.dx, ssr.dy, ssr.scale));
  }
  return out === img ? {...img, data: img.data.slice()} : out;
}
