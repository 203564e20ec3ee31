// Decoding image files to pixels, isomorphically (no canvas, no Buffer): PNG with
// fast-png, JPEG with libjpeg-turbo's WebAssembly (./jpeg.ts, loaded once by each
// edge with initJpeg), the two formats of the fetal ultrasound datasets.
import {decode as decodePng} from "fast-png";
import {decodeJpeg, jpegReady} from "./jpeg.js";
import type {PixelMode, RasterImage} from "./raster.js";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** Images above this many pixels are refused before decoding (a 380 KB PNG can declare 20000 x 20000). */
export const MAX_IMAGE_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Pixel budget: width x height above it is refused before any pixel is decoded. */
  maxPixels?: number;
}

/** Width and height declared by a PNG (IHDR) or JPEG (first SOF marker) header, without decoding; null when not found. */
export function imageDimensions(bytes: Uint8Array): {width: number; height: number} | null {
  if (startsWith(bytes, PNG_MAGIC)) {
    // The first chunk must be IHDR: length (4), "IHDR" (4), width (4), height (4).
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {width: view.getUint32(16), height: view.getUint32(20)};
  }
  const frame = jpegFrame(bytes);
  return frame && {width: frame.width, height: frame.height};
}

/** A JPEG's first SOF header: bits per sample, size, colour components (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK); null when not found. */
function jpegFrame(bytes: Uint8Array): {precision: number; width: number; height: number; components: number} | null {
  if (!startsWith(bytes, JPEG_MAGIC)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const length = view.getUint16(i + 2);
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc): precision (1), height (2), width (2), components (1).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {precision: bytes[i + 4]!, width: view.getUint16(i + 7), height: view.getUint16(i + 5), components: bytes[i + 9]!};
    }
    i += 2 + length;
  }
  return null;
}

/** Decodes a PNG or JPEG file (detected by its magic bytes) into PIL-mode pixels, within a pixel budget. */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): RasterImage {
  if (bytes.length === 0) throw new Error("decodeImage: the file is empty");
  const isPng = startsWith(bytes, PNG_MAGIC);
  const isJpeg = !isPng && startsWith(bytes, JPEG_MAGIC);
  if (!isPng && !isJpeg) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new Error(`decodeImage: unsupported image format (first bytes ${head}); expected PNG (89 50 4e 47) or JPEG (ff d8 ff)`);
  }
  const kind = isPng ? "PNG" : "JPEG";
  const dims = imageDimensions(bytes);
  if (!dims) throw new Error(`decodeImage: damaged ${kind}: no image size in its header`);
  const maxPixels = options.maxPixels ?? MAX_IMAGE_PIXELS;
  if (dims.width === 0 || dims.height === 0) throw new Error(`decodeImage: the ${kind} declares an empty image (${dims.width} x ${dims.height} px)`);
  if (dims.width * dims.height > maxPixels) {
    throw new Error(`decodeImage: the ${kind} declares ${dims.width} x ${dims.height} px, over the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels`);
  }
  if (isJpeg) {
    const {precision, components} = jpegFrame(bytes)!;
    // PIL reads 8-bit JPEGs only; its CMYK conversion is not libjpeg's, and ultrasound is never CMYK.
    if (precision !== 8) throw new Error(`decodeImage: ${precision}-bit JPEGs are not supported (8-bit only, as PIL)`);
    if (components === 4) throw new Error("decodeImage: CMYK JPEGs are not supported (ultrasound images are greyscale or RGB); save it as an RGB JPEG or a PNG");
    if (!jpegReady()) throw new Error("decodeImage: the JPEG decoder is not loaded yet; await initJpeg(wasm bytes) from src/lib/image/jpeg.ts first (loaders/jpeg.ts does it in Node)");
  }
  try {
    return isPng ? decodePngImage(bytes) : decodeJpegImage(bytes);
  } catch (error) {
    const message = String((error as Error)?.message ?? error).replace(/:\s*$/, "");
    throw new Error(`decodeImage: damaged or truncated ${kind} (${message || "decoder error"})`);
  }
}

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes, as PNG stores them). */
function unpackBits(packed: Uint8Array, width: number, height: number, depth: number, scale: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)]!;
      out[y * width + x] = ((byte >> (8 - depth - (bit & 7))) & mask) * scale;
    }
  }
  return out;
}

function decodePngImage(bytes: Uint8Array): RasterImage {
  const png = decodePng(bytes);
  const {width, height, depth, channels} = png;
  if (png.palette && channels === 1) {
    const indices = depth === 8 ? new Uint8Array(png.data as Uint8Array) : unpackBits(png.data as Uint8Array, width, height, depth, 1);
    // PIL keeps a 256-entry palette; entries the file leaves out read as black.
    const palette = new Uint8Array(256 * 3);
    png.palette.forEach((rgb, i) => palette.set(rgb.slice(0, 3), i * 3));
    return {width, height, mode: "P", data: indices, palette};
  }
  if (depth === 16) {
    const mode = ({1: "I;16", 2: "LA;16", 3: "RGB;16", 4: "RGBA;16"} as const)[channels as 1 | 2 | 3 | 4];
    if (!mode) throw new Error(`decodeImage: PNG with ${channels} channels is not supported`);
    return {width, height, mode, data: new Uint16Array(png.data as Uint16Array)};
  }
  if (depth < 8) {
    // Only greyscale (and palette, above) PNGs have sub-byte samples; PIL scales them to 0-255.
    return {width, height, mode: "L", data: unpackBits(png.data as Uint8Array, width, height, depth, 255 / ((1 << depth) - 1))};
  }
  const mode = ({1: "L", 2: "LA", 3: "RGB", 4: "RGBA"} as const)[channels as 1 | 2 | 3 | 4] as PixelMode | undefined;
  if (!mode) throw new Error(`decodeImage: PNG with ${channels} channels is not supported`);
  return {width, height, mode, data: new Uint8Array(png.data as Uint8Array)};
}

function decodeJpegImage(bytes: Uint8Array): RasterImage {
  // As PIL opens it: a greyscale JPEG is mode "L" (convert("RGB") replicates it), the rest RGB.
  const {width, height, channels, data} = decodeJpeg(bytes);
  return {width, height, mode: channels === 1 ? "L" : "RGB", data};
}
