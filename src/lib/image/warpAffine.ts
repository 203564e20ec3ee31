// Affine warps as albumentations 2.0.8's ShiftScaleRotate performs them: the matrix of
// augmentations/geometric/functional.py create_affine_transformation_matrix (ShiftScaleRotate
// is an Affine in 2.x, geometric/transforms.py), then cv2.warpAffine with INTER_LINEAR and
// BORDER_CONSTANT 0, following OpenCV 4.6 modules/imgproc/src/imgwarp.cpp
// (WarpAffineInvoker, remapBilinear): inverse map, coordinates in fixed point with
// AB_BITS = 10 and INTER_BITS = 5, bilinear weights from the 32x32 table scaled by
// INTER_REMAP_COEF_SCALE = 2^15.
import {checkGreyOrRgb8, checkOutputSize, type GreyOrRgb8} from "./greyOrRgb8.js";

/** A 2x3 forward affine matrix [a, b, c, d, e, f]: source (x, y) -> (a x + b y + c, d x + e y + f). */
export type Affine2x3 = [number, number, number, number, number, number];

type Mat3 = [number, number, number, number, number, number, number, number, number];

function mul3(p: Mat3, q: Mat3): Mat3 {
  const r = new Array(9).fill(0) as Mat3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) r[3 * i + j] = p[3 * i]! * q[j]! + p[3 * i + 1]! * q[3 + j]! + p[3 * i + 2]! * q[6 + j]!;
  }
  return r;
}

/**
 * The matrix ShiftScaleRotate hands to cv2.warpAffine: rotate by `angleDeg` (positive turns
 * the picture anticlockwise on screen) and scale about the pixel centre ((w-1)/2, (h-1)/2),
 * then shift by (dx, dy) whole pixels. Composed in albumentations' order,
 * shift_center @ translate @ shear @ rotate @ scale @ shift_topleft.
 */
export function shiftScaleRotateMatrix(width: number, height: number, angleDeg: number, dx: number, dy: number, scale = 1): Affine2x3 {
  const cx = width / 2 - 0.5;
  const cy = height / 2 - 0.5;
  // np.deg2rad(angle % 360): Python's % keeps the sign of the divisor.
  const rad = ((((angleDeg % 360) + 360) % 360) * Math.PI) / 180;
  const c = Math.cos(rad);
  const s = Math.sin(rad);
  const shiftTopLeft: Mat3 = [1, 0, -cx, 0, 1, -cy, 0, 0, 1];
  const scaling: Mat3 = [scale, 0, 0, 0, scale, 0, 0, 0, 1];
  const rotation: Mat3 = [c, s, 0, -s, c, 0, 0, 0, 1];
  const shear: Mat3 = [1, -0, 0, -0, 1, 0, 0, 0, 1];
  const translation: Mat3 = [1, 0, dx, 0, 1, dy, 0, 0, 1];
  const shiftCentre: Mat3 = [1, 0, cx, 0, 1, cy, 0, 0, 1];
  const m = [translation, shear, rotation, scaling, shiftTopLeft].reduce(mul3, shiftCentre);
  return [m[0], m[1], m[2], m[3], m[4], m[5]];
}

const INTER_BITS = 5;
const INTER_TAB_SIZE = 1 << INTER_BITS;
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;
const ROUND_DELTA = AB_SCALE / INTER_TAB_SIZE / 2;
const COEF_BITS = 15;

// Bilinear weights per 1/32-pixel offset: products of multiples of 1/32, exact in 2^15ths.
const WEIGHTS = (() => {
  const w = new Int32Array(INTER_TAB_SIZE * INTER_TAB_SIZE * 4);
  for (let fy = 0; fy < INTER_TAB_SIZE; fy++) {
    for (let fx = 0; fx < INTER_TAB_SIZE; fx++) {
      const k = (fy * INTER_TAB_SIZE + fx) * 4;
      const ax = fx / INTER_TAB_SIZE, ay = fy / INTER_TAB_SIZE;
      w[k] = Math.round((1 - ay) * (1 - ax) * (1 << COEF_BITS));
      w[k + 1] = Math.round((1 - ay) * ax * (1 << COEF_BITS));
      w[k + 2] = Math.round(ay * (1 - ax) * (1 << COEF_BITS));
      w[k + 3] = Math.round(ay * ax * (1 << COEF_BITS));
    }
  }
  return w;
})();

/** saturate_cast<int>(double): round half to even. */
function cvRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * cv2.warpAffine(img, M, (outWidth, outHeight), flags=INTER_LINEAR, borderMode=BORDER_CONSTANT,
 * borderValue=0) for 8-bit grey or RGB; `matrix` is the forward map, inverted as OpenCV does.
 */
export function warpAffineLinear(img: GreyOrRgb8, matrix: Affine2x3, outWidth = img.width, outHeight = img.height): GreyOrRgb8 {
  const {width, height, channels, data} = img;
  checkGreyOrRgb8(img, "warpAffineLinear");
  checkOutputSize(outWidth, outHeight, "warpAffineLinear");
  if (matrix.length !== 6 || matrix.some((v) => !Number.isFinite(v))) {
    throw new Error(`warpAffineLinear: the matrix must be 6 finite numbers, got ${JSON.stringify(matrix)}`);
  }
  // Inverse map, in the same operation order as cv::warpAffine.
  const M = [...matrix];
  let D = M[0]! * M[4]! - M[1]! * M[3]!;
  D = D !== 0 ? 1 / D : 0;
  const A11 = M[4]! * D, A22 = M[0]! * D;
  M[0] = A11;
  M[1] = M[1]! * -D;
  M[3] = M[3]! * -D;
  M[4] = A22;
  const b1 = -M[0] * M[2]! - M[1] * M[5]!;
  const b2 = -M[3] * M[2]! - M[4] * M[5]!;
  M[2] = b1;
  M[5] = b2;

  const adelta = new Int32Array(outWidth);
  const bdelta = new Int32Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    adelta[x] = cvRound(M[0] * x * AB_SCALE);
    bdelta[x] = cvRound(M[3] * x * AB_SCALE);
  }
  const out = new Uint8Array(outWidth * outHeight * channels);
  const rowStride = width * channels;
  const half = 1 << (COEF_BITS - 1);
  for (let y = 0; y < outHeight; y++) {
    const X0 = cvRound((M[1] * y + M[2]) * AB_SCALE) + ROUND_DELTA;
    const Y0 = cvRound((M[4] * y + M[5]) * AB_SCALE) + ROUND_DELTA;
    let o = y * outWidth * channels;
    for (let x = 0; x < outWidth; x++, o += channels) {
      const X = (X0 + adelta[x]!) >> (AB_BITS - INTER_BITS);
      const Y = (Y0 + bdelta[x]!) >> (AB_BITS - INTER_BITS);
      const sx = X >> INTER_BITS;
      const sy = Y >> INTER_BITS;
      const k = ((Y & (INTER_TAB_SIZE - 1)) * INTER_TAB_SIZE + (X & (INTER_TAB_SIZE - 1))) * 4;
      const w0 = WEIGHTS[k]!, w1 = WEIGHTS[k + 1]!, w2 = WEIGHTS[k + 2]!, w3 = WEIGHTS[k + 3]!;
      if (sx >= 0 && sy >= 0 && sx < width - 1 && sy < height - 1) {
        const p = sy * rowStride + sx * channels;
        for (let c = 0; c < channels; c++) {
          const v = data[p + c]! * w0 + data[p + channels + c]! * w1 + data[p + rowStride + c]! * w2 + data[p + rowStride + channels + c]! * w3;
          out[o + c] = Math.min(255, (v + half) >> COEF_BITS);
        }
      } else if (sx >= width || sx + 1 < 0 || sy >= height || sy + 1 < 0) {
        // Wholly outside: the border value, 0 (the output is already zero).
      } else {
        // Straddling the edge: neighbours outside read as the border value 0.
        const inX0 = sx >= 0 && sx < width, inX1 = sx + 1 >= 0 && sx + 1 < width;
        const inY0 = sy >= 0 && sy < height, inY1 = sy + 1 >= 0 && sy + 1 < height;
        for (let c = 0; c < channels; c++) {
          const v00 = inY0 && inX0 ? data[sy * rowStride + sx * channels + c]! : 0;
          const v01 = inY0 && inX1 ? data[sy * rowStride + (sx + 1) * channels + c]! : 0;
          const v10 = inY1 && inX0 ? data[(sy + 1) * rowStride + sx * channels + c]! : 0;
          const v11 = inY1 && inX1 ? data[(sy + 1) * rowStride + (sx + 1) * channels + c]! : 0;
          out[o + c] = Math.min(255, (v00 * w0 + v01 * w1 + v10 * w2 + v11 * w3 + half) >> COEF_BITS);
        }
      }
    }
  }
  return {width: outWidth, height: outHeight, channels, data: out};
}
