// Stored element types -> float32, and strided (non-contiguous) tensors -> row-major arrays.
import {endianness} from "node:os";
import type {DType} from "./stateDict.js";

export const DTYPE_BYTES: Record<DType, number> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

// Typed-array views below read the host's byte order; checkpoints store little-endian.
if (endianness() !== "LE") throw new Error("checkpoint readers need a little-endian host");

let halfTable: Float32Array | undefined;

/** All 65536 IEEE half-precision values as float32 (256 KB, built once): a lookup beats bit twiddling per element. */
function float16Table(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  halfTable = table;
  return table;
}

/** Converts float32 to IEEE half bits (round to nearest even), for writers of float16 checkpoints. */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Element `i` of `bytes` (a fresh, aligned buffer) as a number, per dtype. */
function elementReader(bytes: Uint8Array, dtype: DType): (i: number) => number {
  const buffer = bytes.buffer;
  const offset = bytes.byteOffset;
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case "float64": { const a = new Float64Array(buffer, offset, count); return (i) => a[i]; }
    case "float32": { const a = new Float32Array(buffer, offset, count); return (i) => a[i]; }
    case "float16": { const a = new Uint16Array(buffer, offset, count); const t = float16Table(); return (i) => t[a[i]]; }
    case "bfloat16": {
      // bfloat16 is the top half of a float32.
      const a = new Uint16Array(buffer, offset, count);
      const word = new Uint32Array(1);
      const f = new Float32Array(word.buffer);
      return (i) => { word[0] = a[i] << 16; return f[0]; };
    }
    case "int64": {
      const a = new Int32Array(buffer, offset, count * 2);
      return (i) => a[2 * i + 1] * 4294967296 + (a[2 * i] >>> 0);
    }
    case "int32": { const a = new Int32Array(buffer, offset, count); return (i) => a[i]; }
    case "int16": { const a = new Int16Array(buffer, offset, count); return (i) => a[i]; }
    case "int8": { const a = new Int8Array(buffer, offset, count); return (i) => a[i]; }
    case "uint8": { const a = new Uint8Array(buffer, offset, count); return (i) => a[i]; }
    case "bool": { const a = new Uint8Array(buffer, offset, count); return (i) => (a[i] ? 1 : 0); }
  }
}

export function numelOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function contiguousStrides(shape: number[]): number[] {
  const stride = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = step;
    step *= shape[d];
  }
  return stride;
}

/** True when strides describe row-major order (size-1 dims may have any stride). */
export function isContiguous(shape: number[], stride: number[]): boolean {
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== step) return false;
    step *= shape[d];
  }
  return true;
}

/** Span of storage elements a view touches: [first, first + count). */
export function storageSpan(shape: number[], stride: number[], storageOffset: number): {first: number; count: number} {
  if (numelOf(shape) === 0) return {first: storageOffset, count: 0};
  let last = storageOffset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  return {first: storageOffset, count: last - storageOffset + 1};
}

/**
 * Materialises a (possibly strided) view as a contiguous row-major float32 array.
 * `read(byteStart, byteLength, into)` fills `into` with stored bytes relative to the storage start.
 */
export function materialiseFloat32(
  dtype: DType,
  shape: number[],
  stride: number[],
  storageOffset: number,
  read: (byteStart: number, into: Uint8Array) => void,
): Float32Array {
  const numel = numelOf(shape);
  const out = new Float32Array(numel);
  if (numel === 0) return out;
  const itemBytes = DTYPE_BYTES[dtype];
  const contiguous = isContiguous(shape, stride);
  // float32 contiguous: read straight into the result, no second copy of a large tensor.
  if (contiguous && dtype === "float32") {
    read(storageOffset * 4, new Uint8Array(out.buffer));
    return out;
  }
  const span = contiguous ? {first: storageOffset, count: numel} : storageSpan(shape, stride, storageOffset);
  const bytes = new Uint8Array(span.count * itemBytes);
  read(span.first * itemBytes, bytes);
  const at = elementReader(bytes, dtype);
  if (contiguous) {
    for (let i = 0; i < numel; i++) out[i] = at(i);
    return out;
  }
  // Odometer over all but the last dim; the last dim is a strided inner loop.
  const rank = shape.length;
  const inner = shape[rank - 1];
  const innerStride = stride[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  let base = 0;
  for (let o = 0; o < numel; o += inner) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) out[o + j] = at(s);
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      base += stride[d];
      if (index[d] < shape[d]) break;
      base -= index[d] * stride[d];
      index[d] = 0;
    }
  }
  return out;
}
