// cv2.resize(img, (w, h), interpolation=INTER_CUBIC) for 8-bit grey or RGB, as OpenCV 4.6
// computes it (modules/imgproc/src/resize.cpp: resize, resizeGeneric_, interpolateCubic,
// HResizeCubic, VResizeCubic with VResizeCubicVec_32s8u). This is albumentations 2.0.8's
// A.Resize(224, 224, INTER_CUBIC); it differs from PIL's bicubic in resize.ts (Keys a = -0.75
// instead of -0.5, no antialiasing when shrinking, weights in 11-bit fixed point).
import {roundHalfEven} from "../rounding.js";
import {checkGreyOrRgb8, checkOutputSize, type GreyOrRgb8} from "./greyOrRgb8.js";

const f32 = Math.fround;
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

/** OpenCV's interpolateCubic (A = -0.75), in float32 as OpenCV evaluates it. */
function cubicCoeffs(x: number, out: Float32Array): void {
  const A = -0.75;
  const x1 = f32(x + 1);
  out[0] = f32(f32(f32(f32(f32(f32(A * x1) - f32(5 * A)) * x1) + f32(8 * A)) * x1) - f32(4 * A));
  out[1] = f32(f32(f32(f32(f32(f32((A + 2) * x) - (A + 3)) * x) * x) + 1));
  const y = f32(1 - x);
  out[2] = f32(f32(f32(f32(f32(f32((A + 2) * y) - (A + 3)) * y) * y) + 1));
  out[3] = f32(f32(f32(1 - out[0]!) - out[1]!) - out[2]!);
}


/** Source positions and 11-bit weights along one axis: index of the first of 4 taps, clamped per tap. */
function axisTaps(srcSize: number, dstSize: number): {index: Int32Array; weight: Int32Array} {
  // cv::resize keeps inv_scale = dst/src and uses scale = 1/inv_scale.
  const scale = 1 / (dstSize / srcSize);
  const index = new Int32Array(dstSize * 4);
  const weight = new Int32Array(dstSize * 4);
  const c = new Float32Array(4);
  for (let d = 0; d < dstSize; d++) {
    let f = f32((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    f = f32(f - s);
    cubicCoeffs(f, c);
    for (let k = 0; k < 4; k++) {
      // Taps beyond the edge repeat the edge pixel (BORDER_REPLICATE).
      index[4 * d + k] = Math.min(Math.max(s - 1 + k, 0), srcSize - 1);
      weight[4 * d + k] = roundHalfEven(f32(c[k]! * COEF_SCALE));
    }
  }
  return {index, weight};
}

/**
 * cv2.resize with INTER_CUBIC to outWidth x outHeight. Rows are filtered horizontally to
 * integers, then columns vertically; as in OpenCV (resize.cpp is built for 128-bit SIMD), the
 * vertical pass runs in float32 for blocks of 8 values per row and in fixed point for the rest.
 */
export function resizeCubicCv(img: GreyOrRgb8, outWidth: number, outHeight: number): GreyOrRgb8 {
  const {width, height, channels, data} = img;
  checkGreyOrRgb8(img, "resizeCubicCv");
  checkOutputSize(outWidth, outHeight, "resizeCubicCv");
  if (outWidth === width && outHeight === height) return {width, height, channels, data: data.slice()};
  const xs = axisTaps(width, outWidth);
  const ys = axisTaps(height, outHeight);
  const rowLen = outWidth * channels;

  // Horizontal pass for every source row once (rows are reused by up to 4 output rows).
  const hrows = new Int32Array(height * rowLen);
  for (let y = 0; y < height; y++) {
    const src = y * width * channels;
    const dst = y * rowLen;
    for (let d = 0; d < outWidth; d++) {
      const t = 4 * d;
      const i0 = src + xs.index[t]! * channels, i1 = src + xs.index[t + 1]! * channels;
      const i2 = src + xs.index[t + 2]! * channels, i3 = src + xs.index[t + 3]! * channels;
      const w0 = xs.weight[t]!, w1 = xs.weight[t + 1]!, w2 = xs.weight[t + 2]!, w3 = xs.weight[t + 3]!;
      for (let c = 0; c < channels; c++) {
        hrows[dst + d * channels + c] = data[i0 + c]! * w0 + data[i1 + c]! * w1 + data[i2 + c]! * w2 + data[i3 + c]! * w3;
      }
    }
  }

  const out = new Uint8Array(outHeight * rowLen);
  const vectorEnd = rowLen - (rowLen % 8);
  const scale = f32(1 / (COEF_SCALE * COEF_SCALE));
  const half = 1 << (2 * COEF_BITS - 1);
  for (let d = 0; d < outHeight; d++) {
    const t = 4 * d;
    const r0 = ys.index[t]! * rowLen, r1 = ys.index[t + 1]! * rowLen;
    const r2 = ys.index[t + 2]! * rowLen, r3 = ys.index[t + 3]! * rowLen;
    const b0 = ys.weight[t]!, b1 = ys.weight[t + 1]!, b2 = ys.weight[t + 2]!, b3 = ys.weight[t + 3]!;
    const fb0 = f32(b0 * scale), fb1 = f32(b1 * scale), fb2 = f32(b2 * scale), fb3 = f32(b3 * scale);
    const o = d * rowLen;
    let x = 0;
    // VResizeCubicVec_32s8u: S0*b0 + (S1*b1 + (S2*b2 + S3*b3)) in float32, rounded half to even.
    for (; x < vectorEnd; x++) {
      const acc = f32(f32(hrows[r0 + x]! * fb0) + f32(f32(hrows[r1 + x]! * fb1) + f32(f32(hrows[r2 + x]! * fb2) + f32(hrows[r3 + x]! * fb3))));
      const v = roundHalfEven(acc);
      out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    // Scalar tail: FixedPtCast, (sum + 2^21) >> 22 then saturate.
    for (; x < rowLen; x++) {
      const v = Math.floor((hrows[r0 + x]! * b0 + hrows[r1 + x]! * b1 + hrows[r2 + x]! * b2 + hrows[r3 + x]! * b3 + half) / (1 << (2 * COEF_BITS)));
      out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return {width: outWidth, height: outHeight, channels, data: out};
}
