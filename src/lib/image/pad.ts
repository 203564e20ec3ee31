// Zero padding to a centred square, FetalCLIP's step before open_clip's transform
// (make_image_square_with_zero_padding in the FetalCLIP scripts): the image is
// pasted at ((side - width) // 2, (side - height) // 2) on a black square.
import type {Rgb8Image} from "./raster.js";

export interface SquarePadding {
  side: number;
  left: number;
  top: number;
}

/** Where padToSquare puts the image: floor division, so an odd margin leaves the extra pixel right/bottom. */
export function squarePadding(width: number, height: number): SquarePadding {
  const side = Math.max(width, height);
  return {side, left: Math.floor((side - width) / 2), top: Math.floor((side - height) / 2)};
}

export function padToSquare(img: Rgb8Image): Rgb8Image {
  const {side, left, top} = squarePadding(img.width, img.height);
  if (side === img.width && side === img.height) return img;
  const out = new Uint8Array(side * side * 3);
  const rowBytes = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((top + y) * side + left) * 3);
  }
  return {width: side, height: side, data: out};
}
