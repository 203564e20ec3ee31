// torchvision CenterCrop on a PIL image (functional.center_crop).
import {roundHalfEven} from "../rounding.js";
import type {Rgb8Image} from "./raster.js";

/** Crops the centre height x width: top = round((H - h) / 2), left = round((W - w) / 2), Python rounding. */
export function centreCrop(img: Rgb8Image, width: number, height: number = width): Rgb8Image {
  if (width > img.width || height > img.height) {
    throw new Error(`centreCrop: crop ${width}x${height} is larger than the image ${img.width}x${img.height}`);
  }
  if (width === img.width && height === img.height) return img;
  const top = roundHalfEven((img.height - height) / 2);
  const left = roundHalfEven((img.width - width) / 2);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * img.width + left) * 3;
    out.set(img.data.subarray(from, from + width * 3), y * width * 3);
  }
  return {width, height, data: out};
}
