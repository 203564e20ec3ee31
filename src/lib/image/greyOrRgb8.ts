// The 8-bit images the augmentation works on: grey scans stay one channel, as PIL opens
// them and albumentations augments them; colour ones are RGB.

/** 8-bit pixels, interleaved and row-major, one (grey) or three (RGB) samples per pixel. */
export interface GreyOrRgb8 {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Throws, naming the caller, when an image's channels or sample count are wrong. */
export function checkGreyOrRgb8(img: GreyOrRgb8, where: string): void {
  const {width, height, channels, data} = img;
  if (channels !== 1 && channels !== 3) throw new Error(`${where}: expects 1 or 3 channels, got ${channels}`);
  if (data.length !== width * height * channels) throw new Error(`${where}: ${width}x${height}x${channels} needs ${width * height * channels} samples, got ${data.length}`);
}

/** Throws, naming the caller, unless width x height is a positive whole size. */
export function checkOutputSize(width: number, height: number, where: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`${where}: output size must be positive integers, got ${width}x${height}`);
}
