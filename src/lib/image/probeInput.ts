// The image input of FetalCLIP's official probes (preprocess_data.ipynb): PIL opens the file
// (grey PNGs as mode L, colour as RGB), make_image_square_with_zero_padding centres it on a
// black square at full resolution, training images are augmented (./augment.ts), and every
// image is resized with cv2 INTER_CUBIC to 224 and stored; open_clip's transform at load
// time then only converts to RGB and normalises. Unlike preprocess.ts (PIL bicubic with
// antialiasing), the resize here is OpenCV's.
import type {PreprocessSpec} from "../preprocess.js";
import type {Rng} from "../random.js";
import {applyAugmentation, drawAugmentParams, type AugmentationSpec, type AugmentParams, type GreyOrRgb8} from "./augment.js";
import {toRgb8} from "./convert.js";
import {decodeImage} from "./decode.js";
import {normalize} from "./normalize.js";
import {squarePadding} from "./pad.js";
import {checkRaster, type RasterImage, type Rgb8Image} from "./raster.js";
import {resizeCubicCv} from "./resizeCubicCv.js";

export {OFFICIAL_PROBE_AUGMENTATION} from "./augment.js";

/** Names this pipeline in cache keys and table metadata; bump the version when its pixels change. */
export const PROBE_PIPELINE = "fetalclip-probe-input/1: zero-pad to square, albumentations 2.0.8 augmentation of training copies, cv2 INTER_CUBIC resize";

export interface ProbeAugment {
  rng: Rng;
  spec?: AugmentationSpec;
}

/** Grey modes stay one channel with the grey value toRgb8 would replicate; everything else becomes RGB. */
export function toGreyOrRgb8(raster: RasterImage): GreyOrRgb8 {
  checkRaster(raster, "toGreyOrRgb8");
  const {width, height, mode, data} = raster;
  const n = width * height;
  const grey = (f: (i: number) => number): GreyOrRgb8 => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = f(i);
    return {width, height, channels: 1, data: out};
  };
  switch (mode) {
    case "L":
      return grey((i) => data[i]!);
    case "LA":
      return grey((i) => data[2 * i]!);
    case "I;16":
      return grey((i) => Math.min(data[i]!, 255));
    case "LA;16":
      return grey((i) => data[2 * i]! >> 8);
    default:
      return {width, height, channels: 3, data: toRgb8(raster).data};
  }
}

/** Centred zero padding to a square (FetalCLIP's make_image_square_with_zero_padding) for grey or RGB. */
export function padToSquareAny(img: GreyOrRgb8): GreyOrRgb8 {
  const {side, left, top} = squarePadding(img.width, img.height);
  if (side === img.width && side === img.height) return img;
  const ch = img.channels;
  const out = new Uint8Array(side * side * ch);
  const rowBytes = img.width * ch;
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((top + y) * side + left) * ch);
  }
  return {width: side, height: side, channels: ch, data: out};
}

function toRgb(img: GreyOrRgb8): Rgb8Image {
  if (img.channels === 3) return {width: img.width, height: img.height, data: img.data};
  const out = new Uint8Array(img.data.length * 3);
  for (let i = 0; i < img.data.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = img.data[i]!;
  return {width: img.width, height: img.height, data: out};
}

/**
 * One probe input image: pad to a square, augment when asked (training images), cv2 cubic
 * resize to size x size, RGB (grey replicated). Returns the drawn parameters with it.
 */
export function probeInputImage(raster: RasterImage, size: number, augment?: ProbeAugment): {image: Rgb8Image; params?: AugmentParams} {
  if (!Number.isInteger(size) || size < 1) throw new Error(`probeInputImage: size must be a positive integer, got ${size}`);
  let img = padToSquareAny(toGreyOrRgb8(raster));
  let params: AugmentParams | undefined;
  if (augment) {
    params = drawAugmentParams(augment.rng, img.width, img.height, augment.spec);
    img = applyAugmentation(img, params);
  }
  const image = toRgb(resizeCubicCv(img, size, size));
  return params ? {image, params} : {image};
}

/**
 * The normalised float32 CHW tensor (3*size*size values) of probeInputImage, for decoded
 * pixels or PNG/JPEG bytes, as preprocessImage returns it for the zero-shot path. Call
 * probeInputImage directly to see the drawn augmentation parameters.
 */
export function probeInputTensor(img: RasterImage | Uint8Array, spec: PreprocessSpec, augment?: ProbeAugment): Float32Array {
  for (const key of ["mean", "std"] as const) {
    const v = spec[key];
    if (!Array.isArray(v) || v.length !== 3 || v.some((x) => !Number.isFinite(x))) {
      throw new Error(`probeInputTensor: ${key} must be 3 finite numbers, got ${JSON.stringify(v)}`);
    }
  }
  if (spec.std.some((x) => x === 0)) throw new Error(`probeInputTensor: std must be non-zero, got ${JSON.stringify(spec.std)}`);
  const raster = img instanceof Uint8Array ? decodeImage(img) : img;
  return normalize(probeInputImage(raster, spec.size, augment).image, spec.mean, spec.std);
}
