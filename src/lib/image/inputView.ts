// An image as the model sees it, for display: the geometry of preprocessing (zero-pad
// to a centred square, open_clip's shorter-side bicubic resize and centre crop) without
// the normalisation, in grey. Maps and masks in the model's input geometry
// (camImageMap, maskToInputGeometry) line up with it pixel for pixel.
import {toRgb8} from "./convert.js";
import {centreCrop} from "./crop.js";
import {padToSquare} from "./pad.js";
import type {RasterImage} from "./raster.js";
import {resizeShorterSide} from "./resize.js";

/** size x size grey pixels (ITU-R 601 luma, as PIL's convert("L")) of the model's input view of an image. */
export function modelInputGrey(img: RasterImage, size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 1) throw new Error(`modelInputGrey: size must be a positive integer, got ${size}`);
  const view = centreCrop(resizeShorterSide(padToSquare(toRgb8(img)), size), size);
  const out = new Uint8Array(size * size);
  const d = view.data;
  for (let i = 0; i < out.length; i++) out[i] = Math.round((d[3 * i]! * 299 + d[3 * i + 1]! * 587 + d[3 * i + 2]! * 114) / 1000);
  return out;
}
