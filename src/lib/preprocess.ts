// FetalCLIP's image preprocessing, as its official scripts run it: zero-pad to a
// centred square, then open_clip 2.26.1's eval transform (image_transform with
// resize_mode "shortest"): Resize(size, BICUBIC) on the PIL image, CenterCrop(size),
// convert("RGB"), ToTensor, Normalize(mean, std). Colour conversion is done first
// here; for grey and RGB inputs the order makes no difference to the pixels.
import {centreCrop} from "./image/crop.js";
import {toRgb8} from "./image/convert.js";
import {decodeImage} from "./image/decode.js";
import {normalize, type Rgb} from "./image/normalize.js";
import {padToSquare} from "./image/pad.js";
import type {RasterImage} from "./image/raster.js";
import {resizeShorterSide} from "./image/resize.js";

export interface PreprocessSpec {
  /** Input side of the image encoder in pixels (224 for FetalCLIP's ViT-L/14). */
  size: number;
  mean: Rgb;
  std: Rgb;
}

function checkSpec(spec: PreprocessSpec): void {
  if (!Number.isInteger(spec.size) || spec.size < 1) throw new Error(`preprocess: size must be a positive integer, got ${spec.size}`);
  for (const key of ["mean", "std"] as const) {
    const v = spec[key];
    if (!Array.isArray(v) || v.length !== 3 || v.some((x) => !Number.isFinite(x))) {
      throw new Error(`preprocess: ${key} must be 3 finite numbers, got ${JSON.stringify(v)}`);
    }
  }
  if (spec.std.some((x) => x === 0)) throw new Error(`preprocess: std must be non-zero, got ${JSON.stringify(spec.std)}`);
}

function preprocessInto(img: RasterImage | Uint8Array, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  const raster = img instanceof Uint8Array ? decodeImage(img) : img;
  const square = padToSquare(toRgb8(raster));
  const resized = resizeShorterSide(square, spec.size);
  normalize(centreCrop(resized, spec.size), spec.mean, spec.std, out, offset);
}

/** One image (decoded pixels, or PNG/JPEG file bytes) -> float32 CHW tensor of 3*size*size values. */
export function preprocessImage(img: RasterImage | Uint8Array, spec: PreprocessSpec): Float32Array {
  checkSpec(spec);
  const out = new Float32Array(3 * spec.size * spec.size);
  preprocessInto(img, spec, out, 0);
  return out;
}

/** Several images -> one float32 NCHW batch (n*3*size*size values, image i at i*3*size*size). */
export function preprocessBatch(images: (RasterImage | Uint8Array)[], spec: PreprocessSpec): Float32Array {
  checkSpec(spec);
  const per = 3 * spec.size * spec.size;
  const out = new Float32Array(images.length * per);
  images.forEach((img, i) => preprocessInto(img, spec, out, i * per));
  return out;
}
