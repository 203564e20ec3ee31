// PIL's Image.resize(size, Image.BICUBIC) for 8-bit images (libImaging/Resample.c,
// unchanged since Pillow 4.3): separable convolution with the a = -0.5 cubic kernel,
// its support widened by the downscale factor (antialiasing), coefficients
// normalised per output pixel then held in fixed point (PRECISION_BITS = 22), and
// the result rounded and clipped to uint8 after each pass: horizontal first, over
// only the source rows the vertical pass reads, then vertical.
import type {Rgb8Image} from "./raster.js";

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2;

/** Keys' cubic convolution kernel with a = -0.5 (PIL bicubic_filter). */
export function bicubicKernel(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface AxisCoefficients {
  /** Taps per output pixel (PIL ksize). */
  ksize: number;
  /** First source index per output pixel. */
  start: Int32Array;
  /** Number of taps used per output pixel. */
  count: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  weights: Int32Array;
}

/** PIL precompute_coeffs + normalize_coeffs_8bpc for the full box [0, inSize). */
function axisCoefficients(inSize: number, outSize: number): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0); // C (int) cast truncates
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicKernel((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return {ksize, start, count, weights};
}

/** PIL clip8: drop the fraction bits (arithmetic shift) and saturate to 0..255. */
function clip8(acc: number): number {
  const v = Math.floor(acc / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Resamples interleaved 8-bit pixels (any channel count) exactly as PIL's bicubic resize does. */
export function resampleBicubic8(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number
): Uint8Array {
  if (!(Number.isInteger(outWidth) && Number.isInteger(outHeight) && outWidth > 0 && outHeight > 0)) {
    throw new Error(`resize: output size must be positive integers, got ${outWidth}x${outHeight}`);
  }
  if (data.length !== width * height * channels) {
    throw new Error(`resize: ${width}x${height}x${channels} needs ${width * height * channels} samples, got ${data.length}`);
  }
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  const vert = axisCoefficients(height, outHeight);
  // Source rows the vertical pass reads: the horizontal pass only produces these.
  const rowFirst = vert.start[0]!;
  const rowLast = vert.start[outHeight - 1]! + vert.count[outHeight - 1]!;

  let src = data;
  let srcWidth = width;
  let rowOffset = 0; // row of `src` that vertical bound 0 refers to
  if (needHorizontal) {
    const horiz = axisCoefficients(width, outWidth);
    const rows = rowLast - rowFirst;
    const tmp = new Uint8Array(outWidth * rows * channels);
    for (let y = 0; y < rows; y++) {
      const inRow = (y + rowFirst) * width * channels;
      const outRow = y * outWidth * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = horiz.start[xx]!;
        const n = horiz.count[xx]!;
        const kOff = xx * horiz.ksize;
        for (let c = 0; c < channels; c++) {
          let acc = HALF;
          for (let x = 0; x < n; x++) acc += data[inRow + (xmin + x) * channels + c]! * horiz.weights[kOff + x]!;
          tmp[outRow + xx * channels + c] = clip8(acc);
        }
      }
    }
    src = tmp;
    srcWidth = outWidth;
    rowOffset = rowFirst;
  }
  if (!needVertical) return needHorizontal ? src : new Uint8Array(src);

  const out = new Uint8Array(srcWidth * outHeight * channels);
  const stride = srcWidth * channels;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = vert.start[yy]! - rowOffset;
    const n = vert.count[yy]!;
    const kOff = yy * vert.ksize;
    const outRow = yy * stride;
    for (let i = 0; i < stride; i++) {
      let acc = HALF;
      for (let y = 0; y < n; y++) acc += src[(ymin + y) * stride + i]! * vert.weights[kOff + y]!;
      out[outRow + i] = clip8(acc);
    }
  }
  return out;
}

/** PIL img.resize((width, height), Image.BICUBIC) on an RGB image. */
export function resizeBicubic(img: Rgb8Image, width: number, height: number): Rgb8Image {
  if (width === img.width && height === img.height) return {width, height, data: new Uint8Array(img.data)};
  return {width, height, data: resampleBicubic8(img.data, img.width, img.height, 3, width, height)};
}

/**
 * torchvision Resize(size) on a PIL image: the shorter side becomes `size`, the
 * longer int(size * long / short) (truncated), then PIL bicubic resize.
 */
export function resizeShorterSide(img: Rgb8Image, size: number): Rgb8Image {
  const {width: w, height: h} = img;
  const [short, long] = w <= h ? [w, h] : [h, w];
  const newLong = Math.trunc((size * long) / short);
  const [outW, outH] = w <= h ? [size, newLong] : [newLong, size];
  return resizeBicubic(img, outW, outH);
}
