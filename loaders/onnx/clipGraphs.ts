// open_clip 2.26.1's CLIP image and text encoders as ONNX graphs, built from a
// state dict. The code follows open_clip's model.py / transformer.py:
// VisionTransformer.forward, CLIP.encode_text, ResidualAttentionBlock,
// nn.MultiheadAttention and Mlp (c_fc, exact GELU, c_proj).
import {
  IMAGE_EMBEDS,
  IMAGE_INPUT,
  LN1_LAST,
  PATCH_EMBEDS,
  TEXT_EMBEDS,
  TEXT_INPUT,
  type OpenClipConfig
} from "../../src/lib/bundle.js";
import type {StateDict} from "../checkpoint/stateDict.js";
import {GraphBuilder, MS_DOMAIN} from "./graphBuilder.js";
import {quantizeLinearWeightInt8, type QuantizedLinearWeight} from "./int8.js";
import type {OnnxGraph} from "./model.js";

/** One checkpoint tensor, materialised as float32 on demand. */
export interface WeightTensor {
  shape: readonly number[];
  data(): Float32Array;
}

export interface WeightSource {
  get(name: string): WeightTensor | undefined;
}

/** Adapts the checkpoint reader's StateDict (toFloat32) to a WeightSource (data). */
export function weightsFromStateDict(state: Pick<StateDict, "get">): WeightSource {
  return {
    get(name) {
      const t = state.get(name);
      return t && {shape: t.shape, data: () => t.toFloat32()};
    }
  };
}

export interface ClipGraphOptions {
  /**
   * Use com.microsoft contrib ops (Attention, Gelu): fewer, fused kernels on
   * onnxruntime-node's cpu/cuda EPs. Default false: standard opset-17 ops only,
   * which run on onnxruntime-node cpu and onnxruntime-web wasm + webgpu.
   */
  fused?: boolean;
  /**
   * "int8": every transformer Linear (attn in_proj / out_proj, mlp c_fc / c_proj,
   * both towers) runs as dynamic int8: weights int8 symmetric per output channel,
   * activations uint8 per tensor quantized at run time (DynamicQuantizeLinear ->
   * MatMulInteger -> Cast -> Mul -> Add, which onnxruntime's cpu EP fuses into
   * DynamicQuantizeMatMul; with `fused`, DynamicQuantizeMatMul and QAttention are
   * written directly). conv1, visual.proj, text_projection, LayerNorms, softmax
   * and the attention score matmuls stay float32. Default: float32 throughout.
   */
  quantize?: "int8";
}

const LN_EPS = 1e-5; // torch.nn.LayerNorm default, used by every open_clip LayerNorm
const DEFAULT_HEAD_WIDTH = 64; // open_clip CLIPVisionCfg.head_width
const DEFAULT_MLP_RATIO = 4; // open_clip CLIPVisionCfg / CLIPTextCfg.mlp_ratio

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Reads checkpoint tensors by key, checking each shape against what the config implies. */
class CheckedWeights {
  private readonly source: WeightSource;
  /** "<checkpoint path>: " when the source is a checkpoint, so errors name the file. */
  private readonly where: string;

  constructor(source: WeightSource | Pick<StateDict, "get">, private readonly configNote: string) {
    const path = (source as {path?: unknown}).path;
    this.where = typeof path === "string" ? `${path}: ` : "";
    this.source = {
      get(name) {
        const t = source.get(name) as WeightTensor | ReturnType<StateDict["get"]>;
        if (!t) return undefined;
        return "toFloat32" in t ? {shape: t.shape, data: () => t.toFloat32()} : t;
      }
    };
  }

  has(key: string): boolean {
    return this.source.get(key) !== undefined;
  }

  take(key: string, expected: number[]): WeightTensor {
    const t = this.source.get(key);
    if (!t) throw new Error(`${this.where}checkpoint key "${key}" is missing (expected shape ${shapeText(expected)} from ${this.configNote})`);
    const same = t.shape.length === expected.length && t.shape.every((d, i) => d === expected[i]);
    if (!same) {
      throw new Error(`${this.where}checkpoint key "${key}": expected shape ${shapeText(expected)} from ${this.configNote}, got ${shapeText(t.shape)}`);
    }
    return t;
  }

  /** A checked tensor as a graph initializer named by its key, optionally reshaped (same data order). */
  param(g: GraphBuilder, key: string, expected: number[], storedShape: number[] = expected): string {
    const t = this.take(key, expected);
    return g.initializer(key, storedShape, () => t.data());
  }

  /**
   * A checked nn.Linear weight [rows = out, cols = in] as int8 W^T [cols, rows]
   * plus its per-output-channel float32 scale [rows]; quantized once, when written.
   */
  paramInt8Transposed(g: GraphBuilder, key: string, rows: number, cols: number): {weight: string; scale: string} {
    const t = this.take(key, [rows, cols]);
    const quantized = sharedLazy(() => quantizeLinearWeightInt8(t.data(), rows, cols), 2);
    const weight = g.initializer(`${key}.T.int8`, [cols, rows], () => quantized().weightT, {dtype: "int8"});
    // A constant: stays inline and float32 (never rounded by the fp16 writer); onnxruntime's fusions need it constant.
    const scale = g.initializer(`${key}.int8_scale`, [rows], () => quantized().scale, {role: "constant"});
    return {weight, scale};
  }

  /** A checked 2-D weight [rows, cols] stored transposed as [cols, rows], so that x @ W^T is one MatMul. */
  paramTransposed(g: GraphBuilder, key: string, rows: number, cols: number): string {
    const t = this.take(key, [rows, cols]);
    return g.initializer(`${key}.T`, [cols, rows], () => transpose(t.data(), rows, cols));
  }
}

/** `produce` runs once for `consumers` calls (the int8 weight and its scale), then its result is dropped. */
function sharedLazy(produce: () => QuantizedLinearWeight, consumers: number): () => QuantizedLinearWeight {
  let value: QuantizedLinearWeight | undefined;
  let left = 0;
  return () => {
    if (!value || left === 0) {
      value = produce();
      left = consumers;
    }
    const result = value;
    if (--left === 0) value = undefined;
    return result;
  };
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[row + c];
  }
  return out;
}

interface TransformerShape {
  width: number;
  heads: number;
  layers: number;
  mlpWidth: number;
  /** Causal (additive -inf above the diagonal) as in the text tower; none in the vision tower. */
  causalMask?: string;
  causal: boolean;
}

class ClipGraphBuilder {
  readonly int8: boolean;

  constructor(readonly g: GraphBuilder, readonly w: CheckedWeights, readonly fused: boolean, quantize?: ClipGraphOptions["quantize"]) {
    if (quantize !== undefined && quantize !== "int8") throw new Error(`ClipGraphOptions.quantize: expected "int8" or nothing, got ${JSON.stringify(quantize)}`);
    this.int8 = quantize === "int8";
  }

  layerNorm(prefix: string, x: string, width: number, options: {output?: string} = {}): string {
    const {g, w} = this;
    const scale = w.param(g, `${prefix}.weight`, [width]);
    const bias = w.param(g, `${prefix}.bias`, [width]);
    return g.op("LayerNormalization", [x, scale, bias], {axis: -1, epsilon: {float: LN_EPS}}, {output: options.output});
  }

  /** nn.Linear: x @ weight^T + bias. */
  linear(prefix: string, x: string, inFeatures: number, outFeatures: number, weightKey = `${prefix}.weight`, biasKey = `${prefix}.bias`): string {
    const {g, w} = this;
    if (this.int8) return this.linearInt8(x, inFeatures, outFeatures, weightKey, biasKey);
    const weightT = w.paramTransposed(g, weightKey, outFeatures, inFeatures);
    const bias = w.param(g, biasKey, [outFeatures]);
    return g.op("Add", [g.op("MatMul", [x, weightT]), bias]);
  }

  /**
   * nn.Linear in dynamic int8: x quantized to uint8 per tensor (scale, zero
   * point from its min/max), integer matmul with the int8 W^T, then rescaled by
   * x_scale · w_scale[column] and biased. The standard-op form is the exact
   * pattern of onnxruntime's MatMulIntegerToFloat + DynamicQuantizeMatMul fusions
   * (scale Mul inputs in the order x_scale, w_scale; bias as Add's second input).
   */
  linearInt8(x: string, inFeatures: number, outFeatures: number, weightKey: string, biasKey: string): string {
    const {g, w} = this;
    const {weight, scale} = w.paramInt8Transposed(g, weightKey, outFeatures, inFeatures);
    const bias = w.param(g, biasKey, [outFeatures]);
    if (this.fused) return g.op("DynamicQuantizeMatMul", [x, weight, scale, "", bias], {}, {domain: MS_DOMAIN});
    const [xQuantized, xScale, xZeroPoint] = g.opN("DynamicQuantizeLinear", [x], 3);
    const accumulated = g.op("MatMulInteger", [xQuantized, weight, xZeroPoint]); // int32
    const outputScale = g.op("Mul", [xScale, scale]); // [out]
    return g.op("Add", [g.op("Mul", [g.op("Cast", [accumulated], {to: 1}), outputScale]), bias]);
  }

  /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), in the op pattern onnxruntime fuses into one Gelu kernel. */
  gelu(x: string): string {
    const {g} = this;
    if (this.fused) return g.op("Gelu", [x], {}, {domain: MS_DOMAIN});
    const erf = g.op("Erf", [g.op("Div", [x, g.constFloat32("sqrt2", [Math.SQRT2], [])])]);
    const onePlus = g.op("Add", [erf, g.constFloat32("one", [1], [])]);
    return g.op("Mul", [g.op("Mul", [x, onePlus]), g.constFloat32("half", [0.5], [])]);
  }

  /** nn.MultiheadAttention(x, x, x) with in_proj_weight [3w, w] packing q, k, v. */
  attention(prefix: string, x: string, t: TransformerShape): string {
    const {g, w} = this;
    const {width, heads} = t;
    if (this.int8 && this.fused) {
      // com.microsoft QAttention: the int8 packed in_proj (per-column scales) on the uint8 input; scores, softmax and context in float32.
      const {weight, scale} = w.paramInt8Transposed(g, `${prefix}.in_proj_weight`, 3 * width, width);
      const bias = w.param(g, `${prefix}.in_proj_bias`, [3 * width]);
      const [xQuantized, xScale, xZeroPoint] = g.opN("DynamicQuantizeLinear", [x], 3);
      const context = g.op("QAttention", [xQuantized, weight, bias, xScale, scale, "", xZeroPoint], {num_heads: heads, unidirectional: t.causal ? 1 : 0}, {domain: MS_DOMAIN});
      return this.linear(`${prefix}.out_proj`, context, width, width);
    }
    if (this.int8) {
      const qkv = this.linear(prefix, x, width, 3 * width, `${prefix}.in_proj_weight`, `${prefix}.in_proj_bias`); // [b, l, 3w]
      return this.linear(`${prefix}.out_proj`, this.heads(qkv, t), width, width);
    }
    const inProjT = w.paramTransposed(g, `${prefix}.in_proj_weight`, 3 * width, width); // [w, 3w]: q | k | v columns
    const inProjBias = w.param(g, `${prefix}.in_proj_bias`, [3 * width]);
    let context: string;
    if (this.fused) {
      // com.microsoft Attention takes exactly this packed [w, 3w] weight; unidirectional = causal mask.
      context = g.op("Attention", [x, inProjT, inProjBias], {num_heads: heads, unidirectional: t.causal ? 1 : 0}, {domain: MS_DOMAIN});
    } else {
      const qkv = g.op("Add", [g.op("MatMul", [x, inProjT]), inProjBias]); // [b, l, 3w]
      context = this.heads(qkv, t);
    }
    return this.linear(`${prefix}.out_proj`, context, width, width);
  }

  /** Scaled dot-product attention over the packed q | k | v projections [b, l, 3w]; returns the merged heads [b, l, w]. */
  heads(qkv: string, t: TransformerShape): string {
    const {g} = this;
    const {width, heads} = t;
    const headDim = width / heads;
    const perHead = g.op("Transpose", [g.op("Reshape", [qkv, g.constInt64("qkv_shape", [0, 0, 3 * heads, headDim])])], {perm: [0, 2, 1, 3]}); // [b, 3h, l, d]
    const [q, k, v] = g.opN("Split", [perHead, g.constInt64("qkv_split", [heads, heads, heads])], 3, {axis: 1}); // [b, h, l, d] each
    const qScaled = g.op("Mul", [q, g.constFloat32("scale", [1 / Math.sqrt(headDim)], [])]);
    let scores = g.op("MatMul", [qScaled, g.op("Transpose", [k], {perm: [0, 1, 3, 2]})]); // [b, h, l, l]
    if (t.causalMask) scores = g.op("Add", [scores, t.causalMask]);
    const probs = g.op("Softmax", [scores], {axis: -1});
    const heads4d = g.op("MatMul", [probs, v]); // [b, h, l, d]
    return g.op("Reshape", [g.op("Transpose", [heads4d], {perm: [0, 2, 1, 3]}), g.constInt64("merge_heads", [0, 0, width])]);
  }

  mlp(prefix: string, x: string, t: TransformerShape): string {
    const hidden = this.gelu(this.linear(`${prefix}.c_fc`, x, t.width, t.mlpWidth));
    return this.linear(`${prefix}.c_proj`, hidden, t.mlpWidth, t.width);
  }

  /** ResidualAttentionBlock: x + attn(ln_1(x)), then + mlp(ln_2(x)). `ln1Output` names the ln_1 value. */
  residualBlock(prefix: string, x: string, t: TransformerShape, ln1Output?: string): string {
    if (this.w.has(`${prefix}.ls_1.gamma`)) throw new Error(`checkpoint key "${prefix}.ls_1.gamma": LayerScale blocks are not supported`);
    return this.g.scope(prefix, () => {
      const ln1 = this.layerNorm(`${prefix}.ln_1`, x, t.width, {output: ln1Output});
      const afterAttn = this.g.op("Add", [x, this.attention(`${prefix}.attn`, ln1, t)]);
      const ln2 = this.layerNorm(`${prefix}.ln_2`, afterAttn, t.width);
      return this.g.op("Add", [afterAttn, this.mlp(`${prefix}.mlp`, ln2, t)]);
    });
  }

  transformer(prefix: string, x: string, t: TransformerShape, layersKey: string, lastLn1Output?: string): string {
    const extra = `${prefix}.resblocks.${t.layers}`;
    if (this.w.has(`${extra}.ln_1.weight`)) {
      throw new Error(`checkpoint key "${extra}.ln_1.weight" exists: the checkpoint has more blocks than ${layersKey}=${t.layers}`);
    }
    for (let i = 0; i < t.layers; i++) {
      x = this.residualBlock(`${prefix}.resblocks.${i}`, x, t, i === t.layers - 1 ? lastLn1Output : undefined);
    }
    return x;
  }
}

function mlpWidth(width: number, ratio: number | undefined): number {
  return Math.trunc(width * (ratio ?? DEFAULT_MLP_RATIO)); // open_clip: int(width * mlp_ratio)
}

/**
 * The image encoder (open_clip VisionTransformer + proj). Input IMAGE_INPUT
 * float32 [batch, 3, size, size]; outputs IMAGE_EMBEDS [batch, embed_dim]
 * (encode_image, not normalised), PATCH_EMBEDS [batch, grid², embed_dim]
 * (ln_post + proj applied to the patch tokens) and LN1_LAST
 * [batch, 1 + grid², width] (the last block's ln_1 output).
 */
export function buildImageGraph(config: OpenClipConfig, weights: WeightSource | Pick<StateDict, "get">, options: ClipGraphOptions = {}): OnnxGraph {
  const v = config.vision_cfg;
  const headWidth = v.head_width ?? DEFAULT_HEAD_WIDTH;
  if (v.image_size % v.patch_size !== 0) throw new Error(`vision_cfg.image_size ${v.image_size} is not a multiple of patch_size ${v.patch_size}`);
  if (v.width % headWidth !== 0) throw new Error(`vision_cfg.width ${v.width} is not a multiple of head_width ${headWidth}`);
  const grid = v.image_size / v.patch_size;
  const tokens = 1 + grid * grid;
  const width = v.width;
  const embedDim = config.embed_dim;
  const t: TransformerShape = {width, heads: width / headWidth, layers: v.layers, mlpWidth: mlpWidth(width, v.mlp_ratio), causal: false};
  const note = `the config (embed_dim=${embedDim}, vision_cfg width=${width}, layers=${v.layers}, patch_size=${v.patch_size}, image_size=${v.image_size})`;
  const w = new CheckedWeights(weights, note);
  const int8Note = options.quantize === "int8" ? ", int8 dynamic-quantized Linears" : "";
  const g = new GraphBuilder("open_clip_visual", `open_clip VisionTransformer, ${v.layers} layers, width ${width}, patch ${v.patch_size}, ${v.image_size} px${int8Note}`);
  const clip = new ClipGraphBuilder(g, w, options.fused ?? false, options.quantize);

  const pixels = g.input(IMAGE_INPUT, "float32", ["batch", 3, v.image_size, v.image_size]);
  const embedded = g.scope("visual", () => {
    // conv1: patch embedding, a strided convolution without bias.
    const convWeight = w.param(g, "visual.conv1.weight", [width, 3, v.patch_size, v.patch_size]);
    const conv = g.op("Conv", [pixels, convWeight], {kernel_shape: [v.patch_size, v.patch_size], strides: [v.patch_size, v.patch_size]}); // [b, w, grid, grid]
    const patches = g.op("Transpose", [g.op("Reshape", [conv, g.constInt64("flatten", [0, width, grid * grid])])], {perm: [0, 2, 1]}); // [b, grid², w]
    // Prepend class_embedding, broadcast over the (dynamic) batch.
    const batch = g.op("Shape", [pixels], {start: 0, end: 1});
    const classShape = g.op("Concat", [batch, g.constInt64("class_token_shape", [1, width])], {axis: 0});
    const classEmbedding = w.param(g, "visual.class_embedding", [width], [1, 1, width]);
    const withClass = g.op("Concat", [g.op("Expand", [classEmbedding, classShape]), patches], {axis: 1}); // [b, 1 + grid², w]
    const positional = w.param(g, "visual.positional_embedding", [tokens, width]);
    return clip.layerNorm("visual.ln_pre", g.op("Add", [withClass, positional]), width);
  });
  const encoded = clip.transformer("visual.transformer", embedded, t, "vision_cfg.layers", LN1_LAST);
  g.scope("visual", () => {
    // ln_post on every token (final_ln_after_pool=False), then proj; token 0 is the pooled class token.
    const normed = clip.layerNorm("visual.ln_post", encoded, width);
    const projected = g.op("MatMul", [normed, w.param(g, "visual.proj", [width, embedDim])]); // [b, 1 + grid², e]
    g.op("Gather", [projected, g.constInt64("class_index", [0], [])], {axis: 1}, {output: IMAGE_EMBEDS});
    const end = g.constInt64("end", [tokens]);
    g.op("Slice", [projected, g.constInt64("patch_start", [1]), end, g.constInt64("token_axis", [1])], {}, {output: PATCH_EMBEDS});
  });
  g.output(IMAGE_EMBEDS, "float32", ["batch", embedDim]);
  g.output(PATCH_EMBEDS, "float32", ["batch", grid * grid, embedDim]);
  g.output(LN1_LAST, "float32", ["batch", tokens, width]);
  return g.build();
}

/**
 * The text encoder (open_clip CLIP.encode_text). Input TEXT_INPUT int64
 * [batch, sequence] token ids, sequence <= context_length (padded rows may be cut
 * after their longest EOT); output TEXT_EMBEDS [batch, embed_dim]
 * (not normalised), pooled at the EOT token (argmax of the ids).
 */
export function buildTextGraph(config: OpenClipConfig, weights: WeightSource | Pick<StateDict, "get">, options: ClipGraphOptions = {}): OnnxGraph {
  const tc = config.text_cfg;
  if (tc.width % tc.heads !== 0) throw new Error(`text_cfg.width ${tc.width} is not a multiple of text_cfg.heads ${tc.heads}`);
  const context = tc.context_length;
  const width = tc.width;
  const embedDim = config.embed_dim;
  const note = `the config (embed_dim=${embedDim}, text_cfg width=${width}, layers=${tc.layers}, context_length=${context}, vocab_size=${tc.vocab_size})`;
  const w = new CheckedWeights(weights, note);
  const int8Note = options.quantize === "int8" ? ", int8 dynamic-quantized Linears" : "";
  const g = new GraphBuilder("open_clip_text", `open_clip text transformer, ${tc.layers} layers, width ${width}, ${tc.heads} heads, context ${context}${int8Note}`);
  const fused = options.fused ?? false;
  const clip = new ClipGraphBuilder(g, w, fused, options.quantize);

  // Sequence length up to context_length: the mask is causal and pooling takes the EOT token, so
  // dropping the all-padding tail columns leaves every embedding exactly as at full length.
  const ids = g.input(TEXT_INPUT, "int64", ["batch", "sequence"]);
  const sequence = g.op("Shape", [ids], {start: 1, end: 2}); // [1]
  const tokenEmbedding = w.param(g, "token_embedding.weight", [tc.vocab_size, width]);
  const positional = g.op("Slice", [w.param(g, "positional_embedding", [context, width]), g.constInt64("seq_start", [0]), sequence, g.constInt64("seq_axis", [0])]);
  const embedded = g.op("Add", [g.op("Gather", [tokenEmbedding, ids], {axis: 0}), positional]);
  // open_clip's build_causal_mask: -inf above the diagonal, 0 elsewhere (the fused Attention / QAttention ops apply their own).
  const causalMask = fused
    ? undefined
    : g.op("Slice", [
        g.initializer("attn_mask", [context, context], () => causalMaskData(context), {role: "constant"}),
        g.constInt64("mask_start", [0, 0]),
        g.op("Concat", [sequence, sequence], {axis: 0}),
        g.constInt64("mask_axes", [0, 1])
      ]);
  const t: TransformerShape = {width, heads: tc.heads, layers: tc.layers, mlpWidth: mlpWidth(width, tc.mlp_ratio), causal: true, causalMask};
  const encoded = clip.transformer("transformer", embedded, t, "text_cfg.layers");
  // text_global_pool 'argmax': the EOT token has the largest id. ids are cast to
  // float32 (exact below 2^24) because ArgMax on int64 is missing in some EPs.
  const eot = g.op("ArgMax", [g.op("Cast", [ids], {to: 1})], {axis: -1, keepdims: 1}); // [b, 1]
  const batch = g.op("Shape", [ids], {start: 0, end: 1});
  const gatherShape = g.op("Concat", [batch, g.constInt64("pool_shape", [1, width])], {axis: 0});
  const index = g.op("Expand", [g.op("Unsqueeze", [eot, g.constInt64("pool_axes", [2])]), gatherShape]); // [b, 1, w]
  const pooled = g.op("Reshape", [g.op("GatherElements", [encoded, index], {axis: 1}), g.constInt64("pooled_shape", [-1, width])]); // [b, w]
  // ln_final is per token, so pooling before it equals open_clip's ln_final-then-pool.
  const normed = clip.layerNorm("ln_final", pooled, width);
  g.op("MatMul", [normed, w.param(g, "text_projection", [width, embedDim])], {}, {output: TEXT_EMBEDS});
  g.output(TEXT_EMBEDS, "float32", ["batch", embedDim]);
  return g.build();
}

function causalMaskData(context: number): Float32Array {
  const mask = new Float32Array(context * context);
  for (let i = 0; i < context; i++) for (let j = i + 1; j < context; j++) mask[i * context + j] = -Infinity;
  return mask;
}
