// OpenCV 4.6's 8-bit sRGB <-> CIE L*a*b* (D65) conversions, byte for byte
// (modules/imgproc/src/color_lab.cpp RGB2Lab_b and Lab2RGBinteger, with the integer tables
// initLabTabs builds through core/src/softfloat.cpp). albumentations' CLAHE equalises the L
// channel of colour images through them; both agree with cv2 on all 2^24 inputs.
import {roundHalfEven} from "../rounding.js";

const f32 = Math.fround;

const fromRaw = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
};
// color_lab.cpp keeps these as raw doubles (0.412453 ... and 3.240479 ...) for bit-exactness.
const SRGB_TO_XYZ = ["3fda65a14488c60d", "3fd6e297396d0918", "3fc71819d2391d58", "3fcb38cda6e75ff6", "3fe6e297396d0918",
  "3fb279aae6c8f755", "3f93cc4ac6cdaf4b", "3fbe836eb4e98138", "3fee68427418d691"].map(fromRaw);
const XYZ_TO_SRGB = ["4009ec804102ff8f", "bff8982a9930be0e", "bfdfe7ff583a53b9", "bfef042528ae74f3", "3ffe040f23897204",
  "3fa546d3f9e7b80b", "3fac7de5082cf52c", "bfca1e14bdfd2631", "3ff0eabef06b3786"].map(fromRaw);
const D65 = [fromRaw("3fee6a22b3892ee8"), 1, fromRaw("3ff16b8950763a19")];

const LAB_SHIFT = 12;
const LAB_SHIFT2 = 15;
const BASE = 1 << 14;
const MIN_AB = -8145;
const INV_GAMMA_SIZE = 1 << 12;

interface LabTables {
  gamma: Uint16Array;
  cbrt: Uint16Array;
  invGamma: Uint16Array;
  yf: Uint16Array;
  abToXZ: Int32Array;
  toLab: Int32Array;
  toRgb: Int32Array;
}
let tables: LabTables | null = null;

const applyGamma = (x: number): number => f32(x <= 809 / 20000 ? x / (323 / 25) : Math.pow((x + 11 / 200) / (1 + 11 / 200), 12 / 5));
const applyInvGamma = (x: number): number => f32(x <= 7827 / 2500000 ? x * (323 / 25) : Math.pow(x, 1 / (12 / 5)) * (1 + 11 / 200) - 11 / 200);

const bits = new DataView(new ArrayBuffer(4));
// Turkowski's rational approximation on [0.125, 1), as OpenCV's softfloat f32_cbrt evaluates it.
const CBRT_P = ["4046a09e6653ba70", "406808f46c6116e0", "405dca97439cae14", "402add70d2827500", "3fc4f15f83f55d2d"].map(fromRaw);
const CBRT_Q = ["402d9e20660edb21", "4062ff15c0285815", "406510d06a8112ce", "4040fecbc9e2c375"].map(fromRaw);

/** softfloat cbrt (core/src/softfloat.cpp f32_cbrt) for a positive float32: the result's mantissa is truncated, not rounded. */
function cbrtF32(x: number): number {
  if (x === 0) return 0;
  bits.setFloat32(0, x);
  const u = bits.getUint32(0);
  let ex = ((u >>> 23) & 0xff) - 127;
  let shx = ex % 3;
  shx -= shx >= 0 ? 3 : 0;
  ex = (ex - shx) / 3 - 1;
  const fr = (1 + (u & 0x7fffff) / 2 ** 23) * 2 ** shx;
  const num = (((CBRT_P[0]! * fr + CBRT_P[1]!) * fr + CBRT_P[2]!) * fr + CBRT_P[3]!) * fr + CBRT_P[4]!;
  const den = (((CBRT_Q[0]! * fr + CBRT_Q[1]!) * fr + CBRT_Q[2]!) * fr + CBRT_Q[3]!) * fr + 1;
  // fr is in [0.5, 1): keep its top 24 significant bits.
  return Math.trunc((num / den) * 2 ** 24) * 2 ** (ex + 1 - 24);
}

function labTables(): LabTables {
  if (tables) return tables;
  const gamma = new Uint16Array(256);
  for (let i = 0; i < 256; i++) gamma[i] = roundHalfEven(f32(2040 * applyGamma(f32(i / 255))));
  const lthresh = f32(216 / 24389);
  const lscale = f32(841 / 108);
  const lbias = f32(16 / 116);
  const cbTabScale = f32(1 / 2040);
  const cbrt = new Uint16Array(3072);
  for (let i = 0; i < 3072; i++) {
    const x = f32(cbTabScale * i);
    cbrt[i] = roundHalfEven(f32((1 << LAB_SHIFT2) * (x < lthresh ? f32(x * lscale + lbias) : cbrtF32(x))));
  }
  const invGamma = new Uint16Array(INV_GAMMA_SIZE);
  for (let i = 0; i < INV_GAMMA_SIZE; i++) invGamma[i] = roundHalfEven(f32(255 * applyInvGamma(i / INV_GAMMA_SIZE)));
  const yf = new Uint16Array(512);
  for (let i = 0; i < 256; i++) {
    let y: number, ify: number;
    if (i <= 20) {
      y = roundHalfEven(f32(f32(i * BASE * 20 * 9) / f32(17 * 29 * 29 * 29)));
      ify = roundHalfEven(f32(BASE * f32(f32(16 / 116) + f32(f32(i * 5) / f32(3 * 17 * 29)))));
    } else {
      const fy = f32(f32(f32(i * 100 * BASE) / f32(255 * 116)) + f32(f32(16 * BASE) / f32(116)));
      ify = roundHalfEven(fy);
      y = roundHalfEven(f32(f32(f32(fy * fy) * fy) / f32(BASE * BASE)));
    }
    yf[2 * i] = y;
    yf[2 * i + 1] = ify;
  }
  const abToXZ = new Int32Array((BASE * 9) / 4);
  for (let i = MIN_AB; i < (BASE * 9) / 4 + MIN_AB; i++) {
    // C integer division truncates towards zero.
    abToXZ[i - MIN_AB] = i <= 3390 ? Math.trunc((i * 108) / 841) - 290 : Math.trunc((Math.trunc((i * i) / BASE) * i) / BASE);
  }
  const toLab = new Int32Array(9);
  const toRgb = new Int32Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      toLab[i * 3 + j] = roundHalfEven((4096 * SRGB_TO_XYZ[i * 3 + j]!) / D65[i]!);
      // Row j of XYZ->sRGB, column i scaled by the white point (RGB output order).
      toRgb[j * 3 + i] = roundHalfEven(4096 * XYZ_TO_SRGB[j * 3 + i]! * D65[i]!);
    }
  }
  tables = {gamma, cbrt, invGamma, yf, abToXZ, toLab, toRgb};
  return tables;
}

const descale = (v: number, n: number) => Math.floor((v + (1 << (n - 1))) / (1 << n));
const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** cv2.cvtColor(rgb, COLOR_RGB2LAB) for 8-bit RGB: L scaled to 0-255, a and b offset by 128. */
export function rgbToLab8(rgb: Uint8Array): Uint8Array {
  const {gamma, cbrt, toLab: c} = labTables();
  const out = new Uint8Array(rgb.length);
  const lScale = 296; // (116*255 + 50) / 100
  const lShift = -1336934; // -((16*255*(1 << 15) + 50) / 100)
  for (let i = 0; i < rgb.length; i += 3) {
    const R = gamma[rgb[i]!]!, G = gamma[rgb[i + 1]!]!, B = gamma[rgb[i + 2]!]!;
    const fX = cbrt[descale(R * c[0]! + G * c[1]! + B * c[2]!, LAB_SHIFT)]!;
    const fY = cbrt[descale(R * c[3]! + G * c[4]! + B * c[5]!, LAB_SHIFT)]!;
    const fZ = cbrt[descale(R * c[6]! + G * c[7]! + B * c[8]!, LAB_SHIFT)]!;
    out[i] = clampByte(descale(lScale * fY + lShift, LAB_SHIFT2));
    out[i + 1] = clampByte(descale(500 * (fX - fY) + 128 * (1 << LAB_SHIFT2), LAB_SHIFT2));
    out[i + 2] = clampByte(descale(200 * (fY - fZ) + 128 * (1 << LAB_SHIFT2), LAB_SHIFT2));
  }
  return out;
}

/** cv2.cvtColor(lab, COLOR_LAB2RGB) for 8-bit L*a*b* (OpenCV's bit-exact integer path). */
export function labToRgb8(lab: Uint8Array): Uint8Array {
  const {yf, abToXZ, invGamma, toRgb: c} = labTables();
  const out = new Uint8Array(lab.length);
  const shift = 14; // lab_shift + (base_shift - inv_gamma_shift)
  const last = INV_GAMMA_SIZE - 1;
  for (let i = 0; i < lab.length; i += 3) {
    const L = lab[i]!, a = lab[i + 1]!, b = lab[i + 2]!;
    const y = yf[2 * L]!;
    const ify = yf[2 * L + 1]!;
    const adiv = ((5 * a * 53687 + (1 << 7)) >> 13) - 4194; // a*BASE/500 - 128*BASE/500
    const bdiv = ((b * 41943 + (1 << 4)) >> 9) - 10485 + 1; // b*BASE/200 - 128*BASE/200
    const x = abToXZ[ify + adiv - MIN_AB]!;
    const z = abToXZ[ify - bdiv - MIN_AB]!;
    for (let k = 0; k < 3; k++) {
      const v = descale(c[3 * k]! * x + c[3 * k + 1]! * y + c[3 * k + 2]! * z, shift);
      out[i + k] = invGamma[v < 0 ? 0 : v > last ? last : v]!;
    }
  }
  return out;
}

