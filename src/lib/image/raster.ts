// In-memory images for preprocessing: decoded pixels in PIL's mode vocabulary, so
// each conversion can follow what PIL does to the same file.

/**
 * Pixel layout of a decoded image, named after the PIL mode the same file opens as:
 * L (8-bit grey; 1/2/4-bit grey scaled to 0-255 as PIL unpacks it), LA, RGB, RGBA,
 * P (8-bit palette indices), I;16 (16-bit grey). The ";16" colour modes hold the
 * full 16-bit samples of 16-bit PNGs, which PIL reduces to 8 bits on load.
 */
export type PixelMode = "L" | "LA" | "RGB" | "RGBA" | "P" | "I;16" | "LA;16" | "RGB;16" | "RGBA;16";

export interface RasterImage {
  width: number;
  height: number;
  mode: PixelMode;
  /** Interleaved samples, row-major, channelsOf(mode) per pixel (Uint16Array for the 16-bit modes). */
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  /** Mode P only: RGB triplets, index i at 3*i. */
  palette?: Uint8Array;
}

/** 8-bit RGB, interleaved and row-major: what preprocessing works on (PIL mode "RGB"). */
export interface Rgb8Image {
  width: number;
  height: number;
  data: Uint8Array;
}

const CHANNELS: Record<PixelMode, number> = {
  L: 1, LA: 2, RGB: 3, RGBA: 4, P: 1, "I;16": 1, "LA;16": 2, "RGB;16": 3, "RGBA;16": 4
};

export function channelsOf(mode: PixelMode): number {
  const n = CHANNELS[mode];
  if (n === undefined) throw new Error(`unknown pixel mode ${JSON.stringify(mode)}; expected one of ${Object.keys(CHANNELS).join(", ")}`);
  return n;
}

/** Throws a clear error when an image's size, mode and sample count disagree. */
export function checkRaster(img: RasterImage, where = "image"): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new Error(`${where}: width and height must be positive integers, got ${img.width}x${img.height}`);
  }
  const expected = img.width * img.height * channelsOf(img.mode);
  if (img.data.length !== expected) {
    throw new Error(`${where}: mode ${img.mode} at ${img.width}x${img.height} needs ${expected} samples, got ${img.data.length}`);
  }
  const sixteen = img.mode.endsWith(";16");
  if (sixteen !== img.data instanceof Uint16Array) {
    throw new Error(`${where}: mode ${img.mode} needs a ${sixteen ? "Uint16Array" : "Uint8Array"}, got ${img.data.constructor.name}`);
  }
  if (img.mode === "P" && !img.palette) throw new Error(`${where}: mode P needs a palette`);
}
