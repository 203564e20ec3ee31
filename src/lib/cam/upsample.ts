// The resampling and scaling steps of pytorch-grad-cam 1.5.4 (the version FetalCLIP
// pins for cam/cam_five_planes.py), reproduced exactly so a map computed here lines
// up with the reference: torch's UpsamplingBilinear2d (align_corners=True) for the
// channel masks, OpenCV's cv2.resize INTER_LINEAR (half-pixel centres, edges
// clamped) for the final map, and scale_cam_image's min-max.

/** One axis of a bilinear resampling: for each output index, the two source indices and the weight of the second. */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

function checkGrid(values: ArrayLike<number>, height: number, width: number, outHeight: number, outWidth: number, fn: string): void {
  for (const [name, n] of [["height", height], ["width", width], ["output height", outHeight], ["output width", outWidth]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${n}`);
  }
  if (values.length !== height * width) throw new Error(`${fn}: ${values.length} values do not fill a ${height} x ${width} grid`);
}

/** torch.nn.UpsamplingBilinear2d: source = out * (in - 1) / (out - 1). */
function alignCornersTaps(inSize: number, outSize: number): AxisTaps {
  const taps = {i0: new Int32Array(outSize), i1: new Int32Array(outSize), w1: new Float32Array(outSize)};
  const scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  for (let o = 0; o < outSize; o++) {
    const src = o * scale;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    taps.i0[o] = i0;
    taps.i1[o] = Math.min(i0 + 1, inSize - 1);
    taps.w1[o] = src - i0;
  }
  return taps;
}

/**
 * cv2.resize INTER_LINEAR: source = (out + 0.5) * in / out - 0.5; a source before the
 * first pixel or after the last takes that edge pixel (OpenCV's resizeLinear for floats).
 */
function halfPixelTaps(inSize: number, outSize: number): AxisTaps {
  const taps = {i0: new Int32Array(outSize), i1: new Int32Array(outSize), w1: new Float32Array(outSize)};
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    let i0 = Math.floor(src);
    let w1 = src - i0;
    if (i0 < 0) {
      i0 = 0;
      w1 = 0;
    }
    if (i0 >= inSize - 1) {
      i0 = inSize - 1;
      w1 = 0;
    }
    taps.i0[o] = i0;
    taps.i1[o] = Math.min(i0 + 1, inSize - 1);
    taps.w1[o] = w1;
  }
  return taps;
}

function resample(values: ArrayLike<number>, height: number, width: number, rows: AxisTaps, cols: AxisTaps, out: Float32Array): Float32Array {
  const outHeight = rows.i0.length;
  const outWidth = cols.i0.length;
  for (let y = 0; y < outHeight; y++) {
    const r0 = rows.i0[y]! * width;
    const r1 = rows.i1[y]! * width;
    const wy = rows.w1[y]!;
    const o = y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const c0 = cols.i0[x]!;
      const c1 = cols.i1[x]!;
      const wx = cols.w1[x]!;
      const top = values[r0 + c0]! * (1 - wx) + values[r0 + c1]! * wx;
      const bottom = values[r1 + c0]! * (1 - wx) + values[r1 + c1]! * wx;
      out[o + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** A reusable align-corners upsampler for many grids of one shape (ScoreCAM upsamples every channel). */
export function alignCornersUpsampler(height: number, width: number, outHeight: number, outWidth: number): (grid: ArrayLike<number>, out?: Float32Array) => Float32Array {
  checkGrid({length: height * width}, height, width, outHeight, outWidth, "alignCornersUpsampler");
  const rows = alignCornersTaps(height, outHeight);
  const cols = alignCornersTaps(width, outWidth);
  return (grid, out = new Float32Array(outHeight * outWidth)) => {
    if (grid.length !== height * width) throw new Error(`alignCornersUpsampler: ${grid.length} values do not fill a ${height} x ${width} grid`);
    if (out.length !== outHeight * outWidth) throw new Error(`alignCornersUpsampler: output holds ${out.length} values, need ${outHeight * outWidth}`);
    return resample(grid, height, width, rows, cols, out);
  };
}

/** Bilinear upsampling with aligned corners, as torch.nn.UpsamplingBilinear2d (ScoreCAM's channel masks). */
export function upsampleAlignCorners(grid: ArrayLike<number>, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  return alignCornersUpsampler(height, width, outHeight, outWidth)(grid);
}

/** Bilinear resize with half-pixel centres and clamped edges, as cv2.resize(img, (w, h)) with its default INTER_LINEAR. */
export function resizeBilinear(grid: ArrayLike<number>, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  checkGrid(grid, height, width, outHeight, outWidth, "resizeBilinear");
  return resample(grid, height, width, halfPixelTaps(height, outHeight), halfPixelTaps(width, outWidth), new Float32Array(outHeight * outWidth));
}

/** grad-cam's scale_cam_image: v - min, then divided by (eps + max of that); a constant map becomes all zeros. */
export function minMaxScale(values: ArrayLike<number>, eps = 1e-7): Float32Array {
  if (values.length === 0) throw new Error("minMaxScale: no values");
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Float32Array(values.length);
  // float32 steps, as numpy runs them on grad-cam's float32 CAM: (img - min), then / (eps + max).
  const shifted = Math.fround(max - min);
  const denominator = Math.fround(eps + shifted);
  for (let i = 0; i < values.length; i++) out[i] = Math.fround(values[i]! - min) / denominator;
  return out;
}

/**
 * A map at grid resolution (g x g, already min-max scaled) to the model's input size,
 * as grad-cam's last steps do: cv2.resize to size x size, then min-max again. The CAM
 * page draws overlays with this function, so page and CLI show the same pixels.
 */
export function gridToImageMap(grid: ArrayLike<number>, gridSize: number, size: number): Float32Array {
  return minMaxScale(resizeBilinear(grid, gridSize, gridSize, size, size));
}
