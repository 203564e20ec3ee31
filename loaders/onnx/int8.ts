// Symmetric per-output-channel int8 quantization of nn.Linear weights, the
// weight half of dynamic quantization (onnxruntime.quantization's
// quantize_dynamic with per_channel=True, weight_type=QInt8, reduce_range=True):
// the activations are quantized to uint8 at run time by DynamicQuantizeLinear.
import {roundHalfEven} from "../../src/lib/rounding.js";

/** The largest uint8 activation DynamicQuantizeLinear produces. */
export const UINT8_ACTIVATION_MAX = 255;
/** x86 AVX2/AVX-512 without VNNI: vpmaddubsw adds two u8·s8 products into an int16 that saturates at ±32767 (-32768). */
export const INT16_MAX = 32767;

/**
 * Weight range: symmetric [-64, 64] (7-bit, onnxruntime's reduce_range), not [-127, 127].
 * Why (onnxruntime quantization docs): its u8s8 GEMM on AVX2/AVX-512 without VNNI uses
 * vpmaddubsw, which saturates (2·255·127 = 64770 > 32767); reduce_range avoids that while
 * keeping the fast u8s8 kernels (u8u8, the other remedy, measured 1.2-1.8x slower here on VNNI).
 * 2·255·64 = 32640 <= 32767, so no pair of products can ever saturate, on any CPU.
 */
export const INT8_WEIGHT_MAX = 64;

export interface QuantizedLinearWeight {
  /** W^T quantized, [inFeatures, outFeatures] row-major: column o holds output channel o. */
  weightT: Int8Array;
  /** One scale per output channel (column of weightT): max |W[o, :]| / INT8_WEIGHT_MAX; W ≈ scale[o] · q. */
  scale: Float32Array;
}


/**
 * Quantizes an nn.Linear weight [outFeatures, inFeatures] (row-major, as in the
 * state dict) to int8 in [-INT8_WEIGHT_MAX, INT8_WEIGHT_MAX], one scale per output channel, and stores it transposed so
 * that x @ W^T is one MatMulInteger. An all-zero channel gets scale 1 (q = 0).
 */
export function quantizeLinearWeightInt8(weight: Float32Array, outFeatures: number, inFeatures: number): QuantizedLinearWeight {
  if (weight.length !== outFeatures * inFeatures) {
    throw new Error(`int8 quantization: a [${outFeatures}, ${inFeatures}] weight needs ${outFeatures * inFeatures} values, got ${weight.length}`);
  }
  const weightT = new Int8Array(weight.length);
  const scale = new Float32Array(outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    const row = o * inFeatures;
    let maxAbs = 0;
    for (let i = 0; i < inFeatures; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[row + i]));
    if (!Number.isFinite(maxAbs)) throw new Error(`int8 quantization: output channel ${o} holds a non-finite weight`);
    scale[o] = maxAbs > 0 ? maxAbs / INT8_WEIGHT_MAX : 1;
    const s = scale[o]; // the float32 scale as stored, so q · s is what the graph computes with
    for (let i = 0; i < inFeatures; i++) {
      const q = roundHalfEven(weight[row + i] / s);
      weightT[i * outFeatures + o] = Math.max(-INT8_WEIGHT_MAX, Math.min(INT8_WEIGHT_MAX, q));
    }
  }
  return {weightT, scale};
}
