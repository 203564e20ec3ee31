// The ONNX CLIP graphs built from weights, run in onnxruntime-node, against a
// plain float64 reference of open_clip's math and against open_clip itself.
import {mkdtempSync, readFileSync, rmSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import * as ort from "onnxruntime-node";
import {afterAll, describe, expect, it} from "vitest";
import {IMAGE_EMBEDS, IMAGE_INPUT, LN1_LAST, PATCH_EMBEDS, TEXT_EMBEDS, TEXT_INPUT, type OpenClipConfig} from "../src/lib/bundle.js";
import {openCheckpoint} from "../loaders/checkpoint/index.js";
import {buildImageGraph, buildTextGraph, weightsFromStateDict, type WeightSource} from "../loaders/onnx/clipGraphs.js";
import {float16BitsToFloat32, float32ToFloat16Bits} from "../loaders/onnx/float16.js";
import type {OnnxGraph} from "../loaders/onnx/model.js";
import {encodeVarint} from "../loaders/onnx/protobuf.js";
import {parseOpenClipConfig} from "../loaders/openClipConfig.js";
import {writeOnnx, type WriteOnnxOptions} from "../loaders/onnx/writeBundleGraphs.js";
import {describeShared, sharedPath} from "./shared.js";
import {maxAbsDiff, cosine} from "../src/lib/vector.js";

const tmp = mkdtempSync(join(tmpdir(), "onnx-graphs-"));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

// ---- a tiny open_clip model with seeded random weights ----

const TINY: OpenClipConfig = {
  embed_dim: 16,
  // head_width 32 gives 2 vision heads, so the head split/merge is exercised.
  vision_cfg: {image_size: 28, layers: 2, width: 64, patch_size: 14, head_width: 32, mlp_ratio: 4},
  text_cfg: {context_length: 8, vocab_size: 50, width: 32, heads: 2, layers: 2, mlp_ratio: 4}
};

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tinyStateDict(config: OpenClipConfig, seed = 7): Map<string, {shape: number[]; values: Float32Array}> {
  const random = mulberry32(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const tensors = new Map<string, {shape: number[]; values: Float32Array}>();
  const add = (name: string, shape: number[], scale: number, mean = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, {shape, values: Float32Array.from({length: n}, () => mean + scale * gaussian())});
  };
  const block = (prefix: string, width: number, mlp: number) => {
    for (const ln of ["ln_1", "ln_2"]) {
      add(`${prefix}.${ln}.weight`, [width], 0.2, 1);
      add(`${prefix}.${ln}.bias`, [width], 0.1);
    }
    add(`${prefix}.attn.in_proj_weight`, [3 * width, width], 0.25);
    add(`${prefix}.attn.in_proj_bias`, [3 * width], 0.1);
    add(`${prefix}.attn.out_proj.weight`, [width, width], 0.15);
    add(`${prefix}.attn.out_proj.bias`, [width], 0.1);
    add(`${prefix}.mlp.c_fc.weight`, [mlp, width], 0.15);
    add(`${prefix}.mlp.c_fc.bias`, [mlp], 0.1);
    add(`${prefix}.mlp.c_proj.weight`, [width, mlp], 0.08);
    add(`${prefix}.mlp.c_proj.bias`, [width], 0.1);
  };
  const v = config.vision_cfg;
  const grid = v.image_size / v.patch_size;
  add("visual.conv1.weight", [v.width, 3, v.patch_size, v.patch_size], 0.05);
  add("visual.class_embedding", [v.width], 0.5);
  add("visual.positional_embedding", [1 + grid * grid, v.width], 0.3);
  for (const ln of ["ln_pre", "ln_post"]) {
    add(`visual.${ln}.weight`, [v.width], 0.2, 1);
    add(`visual.${ln}.bias`, [v.width], 0.1);
  }
  for (let i = 0; i < v.layers; i++) block(`visual.transformer.resblocks.${i}`, v.width, v.width * 4);
  add("visual.proj", [v.width, config.embed_dim], 0.15);
  const t = config.text_cfg;
  add("token_embedding.weight", [t.vocab_size, t.width], 0.5);
  add("positional_embedding", [t.context_length, t.width], 0.3);
  for (let i = 0; i < t.layers; i++) block(`transformer.resblocks.${i}`, t.width, t.width * 4);
  add("ln_final.weight", [t.width], 0.2, 1);
  add("ln_final.bias", [t.width], 0.1);
  add("text_projection", [t.width, config.embed_dim], 0.2);
  add("logit_scale", [], 0);
  return tensors;
}

type Tensors = ReturnType<typeof tinyStateDict>;

function weightSource(tensors: Tensors): WeightSource {
  return {
    get(name) {
      const t = tensors.get(name);
      return t && {shape: t.shape, data: () => Float32Array.from(t.values)};
    }
  };
}

// ---- the reference: open_clip's forward pass in plain float64 loops ----

/** erf to ~1e-14: Maclaurin series near 0, continued fraction for erfc in the tails. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let fraction = 0;
  for (let k = 60; k >= 1; k--) fraction = k / 2 / (ax + fraction);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + fraction);
  return Math.sign(x) * (1 - erfc);
}

interface Ref {
  get(name: string): Float32Array;
}

function refFrom(tensors: Tensors, roundToFloat16 = false): Ref {
  return {
    get(name) {
      const t = tensors.get(name);
      if (!t) throw new Error(`reference: ${name} missing`);
      return roundToFloat16 ? t.values.map((v) => float16BitsToFloat32(float32ToFloat16Bits(v))) : t.values;
    }
  };
}

function layerNorm(x: Float64Array, rows: number, width: number, scale: Float32Array, bias: Float32Array): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < width; c++) mean += x[r * width + c];
    mean /= width;
    let variance = 0;
    for (let c = 0; c < width; c++) variance += (x[r * width + c] - mean) ** 2;
    variance /= width;
    const inv = 1 / Math.sqrt(variance + 1e-5);
    for (let c = 0; c < width; c++) out[r * width + c] = (x[r * width + c] - mean) * inv * scale[c] + bias[c];
  }
  return out;
}

/** nn.Linear: x [rows, inF] @ weight[outF, inF]^T + bias. */
function linear(x: Float64Array, rows: number, inF: number, weight: Float32Array, bias: Float32Array | null, outF: number): Float64Array {
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * weight[o * inF + i];
      out[r * outF + o] = s;
    }
  }
  return out;
}

/** x [rows, inF] @ proj [inF, outF] (open_clip's visual.proj / text_projection). */
function project(x: Float64Array, rows: number, inF: number, proj: Float32Array, outF: number): Float64Array {
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outF; o++) {
    let s = 0;
    for (let i = 0; i < inF; i++) s += x[r * inF + i] * proj[i * outF + o];
    out[r * outF + o] = s;
  }
  return out;
}

function attention(ref: Ref, prefix: string, x: Float64Array, len: number, width: number, heads: number, causal: boolean): Float64Array {
  const qkv = linear(x, len, width, ref.get(`${prefix}.in_proj_weight`), ref.get(`${prefix}.in_proj_bias`), 3 * width);
  const d = width / heads;
  const context = new Float64Array(len * width);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < len; i++) {
      const scores = new Float64Array(len);
      let max = -Infinity;
      for (let j = 0; j < len; j++) {
        if (causal && j > i) {
          scores[j] = -Infinity;
          continue;
        }
        let s = 0;
        for (let c = 0; c < d; c++) s += qkv[i * 3 * width + h * d + c] * qkv[j * 3 * width + width + h * d + c];
        scores[j] = s / Math.sqrt(d);
        max = Math.max(max, scores[j]);
      }
      let total = 0;
      for (let j = 0; j < len; j++) total += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j < len; j++) {
        const p = scores[j] / total;
        for (let c = 0; c < d; c++) context[i * width + h * d + c] += p * qkv[j * 3 * width + 2 * width + h * d + c];
      }
    }
  }
  return linear(context, len, width, ref.get(`${prefix}.out_proj.weight`), ref.get(`${prefix}.out_proj.bias`), width);
}

function residualBlock(ref: Ref, prefix: string, x: Float64Array, len: number, width: number, heads: number, causal: boolean) {
  const ln1 = layerNorm(x, len, width, ref.get(`${prefix}.ln_1.weight`), ref.get(`${prefix}.ln_1.bias`));
  const a = attention(ref, `${prefix}.attn`, ln1, len, width, heads, causal);
  const y = x.map((v, i) => v + a[i]);
  const ln2 = layerNorm(y, len, width, ref.get(`${prefix}.ln_2.weight`), ref.get(`${prefix}.ln_2.bias`));
  const hidden = linear(ln2, len, width, ref.get(`${prefix}.mlp.c_fc.weight`), ref.get(`${prefix}.mlp.c_fc.bias`), 4 * width);
  const gelu = hidden.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
  const m = linear(gelu, len, 4 * width, ref.get(`${prefix}.mlp.c_proj.weight`), ref.get(`${prefix}.mlp.c_proj.bias`), width);
  return {out: y.map((v, i) => v + m[i]), ln1};
}

function referenceImage(config: OpenClipConfig, ref: Ref, pixels: Float32Array) {
  const {image_size: size, patch_size: p, width, layers} = config.vision_cfg;
  const heads = width / (config.vision_cfg.head_width ?? 64);
  const grid = size / p;
  const len = 1 + grid * grid;
  const conv = ref.get("visual.conv1.weight");
  const cls = ref.get("visual.class_embedding");
  const pos = ref.get("visual.positional_embedding");
  let x: Float64Array = new Float64Array(len * width);
  for (let c = 0; c < width; c++) x[c] = cls[c] + pos[c];
  for (let gy = 0; gy < grid; gy++) for (let gx = 0; gx < grid; gx++) {
    const token = 1 + gy * grid + gx;
    for (let c = 0; c < width; c++) {
      let s = 0;
      for (let ch = 0; ch < 3; ch++) for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) {
        s += conv[((c * 3 + ch) * p + ky) * p + kx] * pixels[(ch * size + gy * p + ky) * size + gx * p + kx];
      }
      x[token * width + c] = s + pos[token * width + c];
    }
  }
  x = layerNorm(x, len, width, ref.get("visual.ln_pre.weight"), ref.get("visual.ln_pre.bias"));
  let ln1Last = x;
  for (let i = 0; i < layers; i++) {
    const block = residualBlock(ref, `visual.transformer.resblocks.${i}`, x, len, width, heads, false);
    x = block.out;
    ln1Last = block.ln1;
  }
  const normed = layerNorm(x, len, width, ref.get("visual.ln_post.weight"), ref.get("visual.ln_post.bias"));
  const projected = project(normed, len, width, ref.get("visual.proj"), config.embed_dim);
  return {embeds: projected.slice(0, config.embed_dim), patches: projected.slice(config.embed_dim), ln1Last};
}

function referenceText(config: OpenClipConfig, ref: Ref, ids: number[]): Float64Array {
  const {context_length: len, width, heads, layers} = config.text_cfg;
  const table = ref.get("token_embedding.weight");
  const pos = ref.get("positional_embedding");
  let x: Float64Array = new Float64Array(len * width);
  for (let i = 0; i < len; i++) for (let c = 0; c < width; c++) x[i * width + c] = table[ids[i] * width + c] + pos[i * width + c];
  for (let i = 0; i < layers; i++) x = residualBlock(ref, `transformer.resblocks.${i}`, x, len, width, heads, true).out;
  x = layerNorm(x, len, width, ref.get("ln_final.weight"), ref.get("ln_final.bias"));
  const eot = ids.indexOf(Math.max(...ids)); // torch.argmax: first maximum
  return project(x.slice(eot * width, (eot + 1) * width), 1, width, ref.get("text_projection"), config.embed_dim);
}

// ---- running the graphs ----

type OptimizationLevel = "disabled" | "all";

/** Writes and opens a graph. "disabled" runs the ops as written; "all" lets onnxruntime fuse them (its default). */
async function session(graph: OnnxGraph, file: string, options: WriteOnnxOptions = {}, level: OptimizationLevel = "all") {
  const path = join(tmp, file);
  const written = writeOnnx(path, graph, options);
  return {written, session: await ort.InferenceSession.create(path, {intraOpNumThreads: 1, graphOptimizationLevel: level})};
}

const tensors = tinyStateDict(TINY);
const BATCH = 2;
const imageSize = TINY.vision_cfg.image_size;
const pixelRandom = mulberry32(11);
const pixels = Float32Array.from({length: BATCH * 3 * imageSize * imageSize}, () => 4 * pixelRandom() - 2);
// SOT = 48, EOT = 49 (the largest id); one padded prompt, one that fills the context.
const ids = [
  [48, 5, 17, 3, 49, 0, 0, 0],
  [48, 30, 2, 11, 47, 22, 8, 49]
];
const idsTensor = () => new ort.Tensor("int64", BigInt64Array.from(ids.flat().map(BigInt)), [ids.length, TINY.text_cfg.context_length]);

async function runImage(s: ort.InferenceSession) {
  const out = await s.run({[IMAGE_INPUT]: new ort.Tensor("float32", pixels, [BATCH, 3, imageSize, imageSize])});
  return {embeds: out[IMAGE_EMBEDS], patches: out[PATCH_EMBEDS], ln1Last: out[LN1_LAST]};
}

function referenceImages(ref: Ref) {
  const per = 3 * imageSize * imageSize;
  const results = Array.from({length: BATCH}, (_, b) => referenceImage(TINY, ref, pixels.subarray(b * per, (b + 1) * per)));
  const cat = (key: "embeds" | "patches" | "ln1Last") => Float64Array.from(results.flatMap((r) => Array.from(r[key])));
  return {embeds: cat("embeds"), patches: cat("patches"), ln1Last: cat("ln1Last")};
}

const reference = referenceImages(refFrom(tensors));
const referenceTextEmbeds = Float64Array.from(ids.flatMap((row) => Array.from(referenceText(TINY, refFrom(tensors), row))));

describe("ONNX CLIP graphs on a tiny random-weight model", () => {
  it.each(["disabled", "all"] as const)("image graph matches the float64 reference: embeds, projected patch tokens and last ln_1 (optimisation %s)", async (level) => {
    const {session: s} = await session(buildImageGraph(TINY, weightSource(tensors)), `image.${level}.onnx`, {}, level);
    const out = await runImage(s);
    expect(out.embeds.dims).toEqual([BATCH, TINY.embed_dim]);
    expect(out.patches.dims).toEqual([BATCH, 4, TINY.embed_dim]);
    expect(out.ln1Last.dims).toEqual([BATCH, 5, TINY.vision_cfg.width]);
    const diffs = {
      embeds: maxAbsDiff(out.embeds.data as Float32Array, reference.embeds),
      patches: maxAbsDiff(out.patches.data as Float32Array, reference.patches),
      ln1Last: maxAbsDiff(out.ln1Last.data as Float32Array, reference.ln1Last)
    };
    console.log(`tiny image graph (optimisation ${level}), max |onnx - reference|:`, diffs);
    expect(Math.max(...reference.embeds.map(Math.abs))).toBeGreaterThan(0.1); // the check is not vacuous
    expect(diffs.embeds).toBeLessThan(2e-5);
    expect(diffs.patches).toBeLessThan(2e-5);
    expect(diffs.ln1Last).toBeLessThan(2e-5);
  });

  it.each(["disabled", "all"] as const)("text graph matches the reference with a causal mask and EOT (argmax) pooling (optimisation %s)", async (level) => {
    const {session: s} = await session(buildTextGraph(TINY, weightSource(tensors)), `text.${level}.onnx`, {}, level);
    const out = (await s.run({[TEXT_INPUT]: idsTensor()}))[TEXT_EMBEDS];
    expect(out.dims).toEqual([ids.length, TINY.embed_dim]);
    const diff = maxAbsDiff(out.data as Float32Array, referenceTextEmbeds);
    console.log(`tiny text graph (optimisation ${level}), max |onnx - reference|:`, diff);
    expect(diff).toBeLessThan(2e-5);
    // Changing a token after the EOT must not change the embedding (causal mask + EOT pooling).
    const padded = ids[0].slice();
    padded[6] = 33;
    const moved = (await s.run({[TEXT_INPUT]: new ort.Tensor("int64", BigInt64Array.from(padded.map(BigInt)), [1, 8])}))[TEXT_EMBEDS];
    expect(maxAbsDiff(moved.data as Float32Array, (out.data as Float32Array).subarray(0, TINY.embed_dim))).toBeLessThan(1e-6);
  });

  it("fused graphs (com.microsoft Attention + Gelu) match the same reference", async () => {
    // Optimisation disabled, so the contrib kernels themselves are checked, not onnxruntime's rewrites.
    const image = await runImage((await session(buildImageGraph(TINY, weightSource(tensors), {fused: true}), "image.fused.onnx", {}, "disabled")).session);
    const text = await (await session(buildTextGraph(TINY, weightSource(tensors), {fused: true}), "text.fused.onnx", {}, "disabled")).session.run({[TEXT_INPUT]: idsTensor()});
    const diffs = {
      embeds: maxAbsDiff(image.embeds.data as Float32Array, reference.embeds),
      patches: maxAbsDiff(image.patches.data as Float32Array, reference.patches),
      ln1Last: maxAbsDiff(image.ln1Last.data as Float32Array, reference.ln1Last),
      text: maxAbsDiff(text[TEXT_EMBEDS].data as Float32Array, referenceTextEmbeds)
    };
    console.log("tiny fused graphs, max |onnx - reference|:", diffs);
    for (const d of Object.values(diffs)) expect(d).toBeLessThan(2e-5);
  });

  it("float16-weight variant is half the size and computes in float32 with the weights rounded to half", async () => {
    const full = await session(buildImageGraph(TINY, weightSource(tensors)), "image.f32.onnx");
    const half = await session(buildImageGraph(TINY, weightSource(tensors)), "image.fp16.onnx", {fp16: true});
    expect(half.written.bytes / full.written.bytes).toBeLessThan(0.55); // ~0.5 plus the graph itself
    expect(half.session.inputNames).toEqual([IMAGE_INPUT]);
    const out = await runImage(half.session);
    expect(out.embeds.type).toBe("float32");
    const rounded = referenceImages(refFrom(tensors, true));
    const vsRounded = maxAbsDiff(out.embeds.data as Float32Array, rounded.embeds);
    const vsFull = maxAbsDiff(out.embeds.data as Float32Array, reference.embeds);
    const cos = Math.min(...[0, 1].map((b) => cosine((out.embeds.data as Float32Array).subarray(b * 16, b * 16 + 16), reference.embeds.subarray(b * 16, b * 16 + 16))));
    console.log("tiny fp16-weight image graph: max diff vs fp16-rounded reference", vsRounded, "vs float32 reference", vsFull, "min cosine", cos);
    expect(vsRounded).toBeLessThan(2e-5);
    expect(cos).toBeGreaterThan(0.999);
    const text = await (await session(buildTextGraph(TINY, weightSource(tensors)), "text.fp16.onnx", {fp16: true})).session.run({[TEXT_INPUT]: idsTensor()});
    const roundedText = Float64Array.from(ids.flatMap((row) => Array.from(referenceText(TINY, refFrom(tensors, true), row))));
    expect(maxAbsDiff(text[TEXT_EMBEDS].data as Float32Array, roundedText)).toBeLessThan(2e-5);
  });

  it("external-data variant writes the weights beside the model and gives identical outputs", async () => {
    const inline = await runImage((await session(buildImageGraph(TINY, weightSource(tensors)), "inline.onnx")).session);
    const ext = await session(buildImageGraph(TINY, weightSource(tensors)), "external.onnx", {externalData: true});
    expect(ext.written.externalDataFile).toBe(join(tmp, "external.onnx.data"));
    expect(ext.written.modelBytes).toBe(statSync(join(tmp, "external.onnx")).size);
    expect(ext.written.modelBytes).toBeLessThan(30_000); // the graph alone; ~500 kB of weights live in the .data file
    expect(statSync(ext.written.externalDataFile!).size).toBeGreaterThan(400_000);
    const out = await runImage(ext.session);
    expect(Array.from(out.embeds.data as Float32Array)).toEqual(Array.from(inline.embeds.data as Float32Array));
    expect(Array.from(out.patches.data as Float32Array)).toEqual(Array.from(inline.patches.data as Float32Array));
    expect(Array.from(out.ln1Last.data as Float32Array)).toEqual(Array.from(inline.ln1Last.data as Float32Array));
    const fp16ext = await session(buildTextGraph(TINY, weightSource(tensors)), "text.fp16.external.onnx", {fp16: true, externalData: true});
    const fp16inline = await session(buildTextGraph(TINY, weightSource(tensors)), "text.fp16.inline.onnx", {fp16: true});
    const a = (await fp16ext.session.run({[TEXT_INPUT]: idsTensor()}))[TEXT_EMBEDS].data as Float32Array;
    const b = (await fp16inline.session.run({[TEXT_INPUT]: idsTensor()}))[TEXT_EMBEDS].data as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("dynamic batch: one image alone gives the same outputs as inside a batch", async () => {
    const {session: s} = await session(buildImageGraph(TINY, weightSource(tensors)), "image.batch.onnx");
    const one = await s.run({[IMAGE_INPUT]: new ort.Tensor("float32", pixels.slice(3 * imageSize * imageSize), [1, 3, imageSize, imageSize])});
    expect(maxAbsDiff(one[IMAGE_EMBEDS].data as Float32Array, reference.embeds.subarray(16))).toBeLessThan(2e-5);
  });
});

describe("checking weights against the config", () => {
  it("a wrong vision width names the key with the expected and actual shapes", () => {
    const wrong: OpenClipConfig = {...TINY, vision_cfg: {...TINY.vision_cfg, width: 96}};
    expect(() => buildImageGraph(wrong, weightSource(tensors))).toThrow(/checkpoint key "visual\.conv1\.weight": expected shape \[96, 3, 14, 14\].*got \[64, 3, 14, 14\]/);
  });

  it("too many layers in the config names the missing key", () => {
    const wrong: OpenClipConfig = {...TINY, text_cfg: {...TINY.text_cfg, layers: 3}};
    expect(() => buildTextGraph(wrong, weightSource(tensors))).toThrow(/checkpoint key "transformer\.resblocks\.2\.ln_1\.weight" is missing \(expected shape \[32\]/);
  });

  it("too few layers in the config names the first unused block", () => {
    const wrong: OpenClipConfig = {...TINY, vision_cfg: {...TINY.vision_cfg, layers: 1}};
    expect(() => buildImageGraph(wrong, weightSource(tensors))).toThrow(/"visual\.transformer\.resblocks\.1\.ln_1\.weight" exists: the checkpoint has more blocks than vision_cfg\.layers=1/);
  });

  it("a wrong context length names positional_embedding and both shapes", () => {
    const wrong: OpenClipConfig = {...TINY, text_cfg: {...TINY.text_cfg, context_length: 77}};
    expect(() => buildTextGraph(wrong, weightSource(tensors))).toThrow(/checkpoint key "positional_embedding": expected shape \[77, 32\].*got \[8, 32\]/);
  });
});

describe("wire-format and float16 helpers", () => {
  it("encodes varints as protobuf does, negatives as 10-byte two's complement", () => {
    expect(Array.from(encodeVarint(1))).toEqual([1]);
    expect(Array.from(encodeVarint(300))).toEqual([0xac, 0x02]);
    expect(Array.from(encodeVarint(2 ** 32))).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(Array.from(encodeVarint(-1))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it("rounds float32 to half precision to nearest even, with overflow to infinity and subnormals", () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(float16BitsToFloat32(0x3555)).toBeCloseTo(0.333251953125, 12);
  });
});

// ---- parity with the real open_clip 2.26.1 on the FetalCLIP-shaped micro model ----

describeShared("ONNX CLIP graphs vs open_clip 2.26.1 (openclip-micro fixture)", () => {
  const dir = sharedPath("fixtures", "openclip-micro");

  interface Expected {
    images: {image: string; features: number[]}[];
    text_features: number[][];
  }

  it.each([
    {fused: false, level: "disabled"},
    {fused: false, level: "all"},
    {fused: true, level: "disabled"}
  ] as const)("image and text features match open_clip to cosine >= 0.99999 (fused=$fused, optimisation $level)", async ({fused, level}) => {
    const config = parseOpenClipConfig(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")), "config.json");
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Expected;
    const tokens = JSON.parse(readFileSync(join(dir, "tokens.json"), "utf8")) as {context_length: number; ids: number[][]};
    const state = openCheckpoint(join(dir, "weights.pt"));
    let imageSession: ort.InferenceSession;
    let textSession: ort.InferenceSession;
    try {
      const weights = weightsFromStateDict(state);
      imageSession = (await session(buildImageGraph(config, weights, {fused}), `micro.image.${fused}.${level}.onnx`, {}, level)).session;
      textSession = (await session(buildTextGraph(config, weights, {fused}), `micro.text.${fused}.${level}.onnx`, {}, level)).session;
    } finally {
      state.close();
    }

    const size = config.vision_cfg.image_size;
    const per = 3 * size * size;
    const batch = new Float32Array(expected.images.length * per);
    expected.images.forEach((img, i) => {
      const raw = readFileSync(join(dir, "images", `${img.image}.input.f32`));
      expect(raw.byteLength).toBe(per * 4);
      batch.set(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), i * per);
    });
    const imageOut = await imageSession.run({[IMAGE_INPUT]: new ort.Tensor("float32", batch, [expected.images.length, 3, size, size])});
    const embeds = imageOut[IMAGE_EMBEDS].data as Float32Array;
    const dim = config.embed_dim;
    const imageCos = expected.images.map((img, i) => cosine(embeds.subarray(i * dim, (i + 1) * dim), img.features));
    const imageDiff = Math.max(...expected.images.map((img, i) => maxAbsDiff(embeds.subarray(i * dim, (i + 1) * dim), img.features)));
    const grid = size / config.vision_cfg.patch_size;
    expect(imageOut[PATCH_EMBEDS].dims).toEqual([expected.images.length, grid * grid, dim]);
    expect(imageOut[LN1_LAST].dims).toEqual([expected.images.length, 1 + grid * grid, config.vision_cfg.width]);

    const flat = BigInt64Array.from(tokens.ids.flat().map(BigInt));
    const textOut = (await textSession.run({[TEXT_INPUT]: new ort.Tensor("int64", flat, [tokens.ids.length, tokens.context_length])}))[TEXT_EMBEDS].data as Float32Array;
    expect(expected.text_features.length).toBe(64);
    const textCos = expected.text_features.map((f, i) => cosine(textOut.subarray(i * dim, (i + 1) * dim), f));
    const textDiff = Math.max(...expected.text_features.map((f, i) => maxAbsDiff(textOut.subarray(i * dim, (i + 1) * dim), f)));
    console.log(
      `openclip-micro (fused=${fused}, optimisation ${level}): image min cosine ${Math.min(...imageCos)}, max |diff| ${imageDiff}; ` +
        `text (64) min cosine ${Math.min(...textCos)}, max |diff| ${textDiff}`
    );
    for (const c of imageCos) expect(c).toBeGreaterThanOrEqual(0.99999);
    for (const c of textCos) expect(c).toBeGreaterThanOrEqual(0.99999);
  });
});
