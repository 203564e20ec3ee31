// The int8 variant of the CLIP graphs: weights int8 (7-bit range) per output channel,
// activations quantized at run time. Checked against the float32 graphs of the
// same weights, against open_clip itself on the micro fixture, and for the
// kernels onnxruntime actually runs (its fusion into DynamicQuantizeMatMul).
import {mkdtempSync, readFileSync, rmSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import * as ort from "onnxruntime-node";
import {afterAll, describe, expect, it} from "vitest";
import {IMAGE_EMBEDS, IMAGE_INPUT, LN1_LAST, PATCH_EMBEDS, TEXT_EMBEDS, TEXT_INPUT, type OpenClipConfig} from "../src/lib/bundle.js";
import {createRng} from "../src/lib/random.js";
import {importModel} from "../loaders/importer.js";
import {variantFiles} from "../src/lib/bundle.js";
import {loadNodeModel} from "../loaders/nodeModel.js";
import {buildImageGraph, buildTextGraph, type ClipGraphOptions, type WeightSource} from "../loaders/onnx/clipGraphs.js";
import {INT16_MAX, INT8_WEIGHT_MAX, UINT8_ACTIVATION_MAX, quantizeLinearWeightInt8} from "../loaders/onnx/int8.js";
import type {OnnxGraph} from "../loaders/onnx/model.js";
import {writeOnnx} from "../loaders/onnx/writeBundleGraphs.js";
import {openClipStateDictShapes} from "../loaders/testing/openClipShapes.js";
import {describeShared, sharedPath} from "./shared.js";
import {cosine} from "../src/lib/vector.js";

const tmp = mkdtempSync(join(tmpdir(), "onnx-int8-"));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

/** Row-wise cosines of two [rows, dim] buffers. */
function rowCosines(a: Float32Array, b: ArrayLike<number>[] | Float32Array, dim: number): number[] {
  const rows = a.length / dim;
  return Array.from({length: rows}, (_, i) => cosine(a.subarray(i * dim, (i + 1) * dim), Array.isArray(b) ? b[i] : b.subarray(i * dim, (i + 1) * dim)));
}

// ---- a minimal protobuf reader: the op types of the nodes in an .onnx file ----

/** Length-delimited fields (wire type 2) of one message, by field number. */
function lengthDelimited(buf: Uint8Array, wanted: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  const varint = () => {
    let value = 0;
    let factor = 1;
    let byte: number;
    do {
      byte = buf[pos++];
      value += (byte & 0x7f) * factor;
      factor *= 128;
    } while (byte & 0x80);
    return value;
  };
  while (pos < buf.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const length = varint();
      if (key >>> 3 === wanted) out.push(buf.subarray(pos, pos + length));
      pos += length;
    } else throw new Error(`protobuf: unexpected wire type ${wire}`);
  }
  return out;
}

/** ModelProto.graph (7) -> GraphProto.node (1) -> NodeProto.op_type (4), counted. */
function opTypeCounts(onnxFile: string): Record<string, number> {
  const model = new Uint8Array(readFileSync(onnxFile));
  const [graph] = lengthDelimited(model, 7);
  const counts: Record<string, number> = {};
  for (const node of lengthDelimited(graph, 1)) {
    const opType = new TextDecoder().decode(lengthDelimited(node, 4)[0]);
    counts[opType] = (counts[opType] ?? 0) + 1;
  }
  return counts;
}

// ---- a tiny open_clip model with seeded random weights ----

const TINY: OpenClipConfig = {
  embed_dim: 16,
  vision_cfg: {image_size: 28, layers: 2, width: 64, patch_size: 14, head_width: 32, mlp_ratio: 4},
  text_cfg: {context_length: 8, vocab_size: 50, width: 32, heads: 2, layers: 2, mlp_ratio: 4}
};

/** Every tensor of the config, Linear weights ~ N(0, 1/fan_in) so activations keep their scale; LayerNorm affine and biases perturbed. */
function randomWeights(config: OpenClipConfig, seed: number): WeightSource {
  const rng = createRng(seed);
  const tensors = new Map<string, {shape: number[]; values: Float32Array}>();
  for (const t of openClipStateDictShapes(config)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const fanIn = t.shape.length >= 2 ? t.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const sd = t.shape.length >= 2 && !t.name.includes("embedding") ? 1 / Math.sqrt(fanIn) : 0.5;
    const draw = {ones: () => rng.normal(1, 0.1), zeros: () => rng.normal(0, 0.05), logit_scale: () => Math.log(1 / 0.07), normal: () => rng.normal(0, sd)}[t.init];
    tensors.set(t.name, {shape: t.shape, values: Float32Array.from({length: n}, draw)});
  }
  return {
    get(name) {
      const t = tensors.get(name);
      return t && {shape: t.shape, data: () => t.values.slice()};
    }
  };
}

async function open(graph: OnnxGraph, file: string, optimizedFile?: string) {
  const path = join(tmp, file);
  const written = writeOnnx(path, graph);
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: "all",
    ...(optimizedFile ? {optimizedModelFilePath: join(tmp, optimizedFile)} : {})
  });
  return {session, bytes: written.bytes};
}

const weights = randomWeights(TINY, 3);
const BATCH = 3;
const size = TINY.vision_cfg.image_size;
const pixelRng = createRng("int8 pixels");
const pixels = Float32Array.from({length: BATCH * 3 * size * size}, () => pixelRng.normal(0, 1));
const ids = [
  [48, 5, 17, 3, 49, 0, 0, 0],
  [48, 30, 2, 11, 47, 22, 8, 49],
  [48, 1, 49, 0, 0, 0, 0, 0]
];
const imageFeeds = () => ({[IMAGE_INPUT]: new ort.Tensor("float32", pixels, [BATCH, 3, size, size])});
const textFeeds = () => ({[TEXT_INPUT]: new ort.Tensor("int64", BigInt64Array.from(ids.flat().map(BigInt)), [ids.length, TINY.text_cfg.context_length])});

describe("int8 weight quantization (symmetric 7-bit, per output channel)", () => {
  it("scales each output channel by max|w|/64, stores W^T, and rounds every weight to within half a step", () => {
    expect(INT8_WEIGHT_MAX).toBe(64);
    // W [out=3, in=4]: a channel with its extreme negative, a positive one, and an all-zero one.
    const w = Float32Array.from([0.5, -1.28, 0.041, 0.3, 2.56, 1.0, -0.081, 0, 0, 0, 0, 0]);
    const {weightT, scale} = quantizeLinearWeightInt8(w, 3, 4);
    expect(Array.from(scale)).toEqual([Math.fround(Math.fround(1.28) / 64), Math.fround(Math.fround(2.56) / 64), 1]);
    // weightT is [in=4, out=3]: row i holds input i of every channel.
    expect(Array.from(weightT)).toEqual([25, 64, 0, -64, 25, 0, 2, -2, 0, 15, 0, 0]);
    const rng = createRng("quantize");
    const big = Float32Array.from({length: 64 * 48}, () => rng.normal(0, 0.02));
    const q = quantizeLinearWeightInt8(big, 64, 48);
    let worst = 0;
    for (let o = 0; o < 64; o++) {
      let maxQ = 0;
      for (let i = 0; i < 48; i++) {
        const back = q.weightT[i * 64 + o] * q.scale[o];
        worst = Math.max(worst, Math.abs(back - big[o * 48 + i]) / q.scale[o]);
        maxQ = Math.max(maxQ, Math.abs(q.weightT[i * 64 + o]));
      }
      expect(maxQ).toBe(INT8_WEIGHT_MAX); // the full range is used on every channel
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-6);
  });

  it("can never saturate onnxruntime's non-VNNI u8s8 kernel (vpmaddubsw: two u8·s8 products summed into an int16)", () => {
    // The bound: the largest pair sum over all uint8 activations and all weights in range.
    expect(2 * UINT8_ACTIVATION_MAX * INT8_WEIGHT_MAX).toBe(32640);
    expect(2 * UINT8_ACTIVATION_MAX * INT8_WEIGHT_MAX).toBeLessThanOrEqual(INT16_MAX);
    expect(2 * UINT8_ACTIVATION_MAX * 127).toBeGreaterThan(INT16_MAX); // the old full int8 range could saturate
    // Quantized weights never leave [-64, 64], whatever the input: outliers, ties at the edge, tiny and huge magnitudes.
    const rng = createRng("saturation");
    const rows = 40;
    const cols = 96;
    const w = Float32Array.from({length: rows * cols}, (_, k) => {
      const row = Math.floor(k / cols);
      const v = rng.normal(0, 0.05);
      if (row % 4 === 1 && k % cols === 7) return -3; // one negative outlier in the channel
      if (row % 4 === 2) return v * 1e-30; // tiny magnitudes
      if (row % 4 === 3) return (k % 2 ? 1 : -1) * 3e37 * Math.abs(v); // near float32's top
      return v;
    });
    const {weightT} = quantizeLinearWeightInt8(w, rows, cols);
    let maxQ = 0;
    for (const q of weightT) maxQ = Math.max(maxQ, Math.abs(q));
    expect(maxQ).toBe(INT8_WEIGHT_MAX);
    // vpmaddubsw pairs adjacent inputs k, k+1 of one output channel; the worst activations are 255 where the weight has the sign of the sum.
    let worstPair = 0;
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i + 1 < cols; i++) {
        const [b1, b2] = [weightT[i * rows + o], weightT[(i + 1) * rows + o]];
        for (const [a1, a2] of [[255, 255], [255, 0], [0, 255]]) worstPair = Math.max(worstPair, Math.abs(a1 * b1 + a2 * b2));
      }
    }
    expect(worstPair).toBeLessThanOrEqual(INT16_MAX);
  });

  it("names the expected size when the weight does not fit the shape", () => {
    expect(() => quantizeLinearWeightInt8(new Float32Array(10), 3, 4)).toThrow(/\[3, 4\] weight needs 12 values, got 10/);
  });
});

describe("int8 CLIP graphs on a tiny random-weight model", () => {
  it("quantizes exactly the transformer Linears; conv1, projections and LayerNorms stay float32", () => {
    const graph = buildImageGraph(TINY, weights, {quantize: "int8"});
    const int8 = graph.initializers.filter((t) => t.dtype === "int8").map((t) => t.name);
    const perBlock = ["attn.in_proj_weight", "attn.out_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"];
    expect(int8.sort()).toEqual([0, 1].flatMap((i) => perBlock.map((k) => `visual.transformer.resblocks.${i}.${k}.T.int8`)).sort());
    const float32 = new Set(graph.initializers.filter((t) => t.dtype === "float32").map((t) => t.name));
    for (const name of ["visual.conv1.weight", "visual.proj", "visual.ln_post.weight", "visual.transformer.resblocks.0.ln_1.weight"]) expect(float32.has(name)).toBe(true);
    expect(graph.nodes.filter((n) => n.opType === "MatMulInteger")).toHaveLength(8);
    // The default graph has no integer ops at all.
    const plain = buildImageGraph(TINY, weights);
    expect(plain.initializers.some((t) => t.dtype === "int8")).toBe(false);
    expect(plain.nodes.some((n) => n.opType.includes("Integer") || n.opType.includes("Quantize"))).toBe(false);
  });

  it("standard-op int8 graphs are fused by onnxruntime into DynamicQuantizeMatMul, one per Linear", async () => {
    await open(buildImageGraph(TINY, weights, {quantize: "int8"}), "tiny.image.int8.onnx", "tiny.image.int8.optimized.onnx");
    await open(buildTextGraph(TINY, weights, {quantize: "int8"}), "tiny.text.int8.onnx", "tiny.text.int8.optimized.onnx");
    const image = opTypeCounts(join(tmp, "tiny.image.int8.optimized.onnx"));
    const text = opTypeCounts(join(tmp, "tiny.text.int8.optimized.onnx"));
    console.log("tiny int8 graphs after onnxruntime optimisation, op counts:", {image, text});
    expect(image.DynamicQuantizeMatMul).toBe(4 * TINY.vision_cfg.layers);
    expect(text.DynamicQuantizeMatMul).toBe(4 * TINY.text_cfg.layers);
    for (const counts of [image, text]) {
      for (const unfused of ["MatMulInteger", "DynamicQuantizeLinear", "MatMulIntegerToFloat"]) expect(counts[unfused] ?? 0).toBe(0);
    }
  });

  it.each([{fused: false}, {fused: true}] as const)("int8 outputs stay close to the float32 graph's (fused=$fused)", async ({fused}) => {
    const options: ClipGraphOptions = {fused, quantize: "int8"};
    const f32Image = await open(buildImageGraph(TINY, weights, {fused}), `tiny.image.f32.${fused}.onnx`);
    const q8Image = await open(buildImageGraph(TINY, weights, options), `tiny.image.q8.${fused}.onnx`);
    const f32Text = await open(buildTextGraph(TINY, weights, {fused}), `tiny.text.f32.${fused}.onnx`);
    const q8Text = await open(buildTextGraph(TINY, weights, options), `tiny.text.q8.${fused}.onnx`);
    // Each Linear weight element shrinks from 4 bytes to 1, plus one float32 scale per output channel.
    const v = TINY.vision_cfg;
    const linears = [[3 * v.width, v.width], [v.width, v.width], [4 * v.width, v.width], [v.width, 4 * v.width]];
    const expectedSaving = v.layers * linears.reduce((s, [rows, cols]) => s + 3 * rows * cols - 4 * rows, 0);
    const graphOverhead = expectedSaving - (f32Image.bytes - q8Image.bytes); // the int8 graph's extra nodes and names
    expect(Math.abs(graphOverhead)).toBeLessThan(12_000);
    const a = await f32Image.session.run(imageFeeds());
    const b = await q8Image.session.run(imageFeeds());
    expect(b[IMAGE_EMBEDS].dims).toEqual(a[IMAGE_EMBEDS].dims);
    expect(b[PATCH_EMBEDS].dims).toEqual(a[PATCH_EMBEDS].dims);
    const dim = TINY.embed_dim;
    const imageCos = rowCosines(b[IMAGE_EMBEDS].data as Float32Array, a[IMAGE_EMBEDS].data as Float32Array, dim);
    const patchCos = rowCosines(b[PATCH_EMBEDS].data as Float32Array, a[PATCH_EMBEDS].data as Float32Array, dim);
    const ln1Cos = rowCosines(b[LN1_LAST].data as Float32Array, a[LN1_LAST].data as Float32Array, TINY.vision_cfg.width);
    const textA = (await f32Text.session.run(textFeeds()))[TEXT_EMBEDS].data as Float32Array;
    const textB = (await q8Text.session.run(textFeeds()))[TEXT_EMBEDS].data as Float32Array;
    const textCos = rowCosines(textB, textA, dim);
    const min = {image: Math.min(...imageCos), patches: Math.min(...patchCos), ln1Last: Math.min(...ln1Cos), text: Math.min(...textCos)};
    console.log(`tiny int8 vs float32 (fused=${fused}), min cosine:`, min);
    for (const c of Object.values(min)) expect(c).toBeGreaterThan(0.995);
    // Not a no-op: quantization does move the numbers.
    expect(Math.min(...imageCos, ...textCos)).toBeLessThan(1 - 1e-7);
  });

  it("per-tensor activation scales make an image's int8 embedding depend slightly on its batch", async () => {
    const {session} = await open(buildImageGraph(TINY, weights, {quantize: "int8"}), "tiny.image.q8.batch.onnx");
    const per = 3 * size * size;
    const inBatch = (await session.run(imageFeeds()))[IMAGE_EMBEDS].data as Float32Array;
    const alone = (await session.run({[IMAGE_INPUT]: new ort.Tensor("float32", pixels.slice(0, per), [1, 3, size, size])}))[IMAGE_EMBEDS].data as Float32Array;
    const dim = TINY.embed_dim;
    const cos = cosine(alone, inBatch.subarray(0, dim));
    console.log(`tiny int8: image 0 alone vs in a batch of ${BATCH}, cosine ${cos}`);
    expect(cos).toBeGreaterThan(0.999);
  });
});

// ---- against the real open_clip 2.26.1 on the FetalCLIP-shaped micro model ----

describeShared("int8 bundle vs open_clip 2.26.1 (openclip-micro fixture)", () => {
  const dir = sharedPath("fixtures", "openclip-micro");

  interface Expected {
    images: {image: string; features: number[]}[];
    text_features: number[][];
  }

  it("the importer's --int8 variant gives image and text features within cosine 0.99 of open_clip's", async () => {
    const bundle = join(tmp, "micro-int8");
    const manifest = await importModel({
      weights: join(dir, "weights.pt"),
      config: join(dir, "config.json"),
      vocab: sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz"),
      outDir: bundle,
      int8: true
    });
    expect(manifest.files).toMatchObject({image: "image.onnx", text: "text.onnx", imageInt8: "image.int8.onnx", textInt8: "text.int8.onnx"});
    expect(variantFiles(manifest, "int8", bundle)).toEqual({image: "image.int8.onnx", text: "text.int8.onnx"});
    expect(() => variantFiles(manifest, "fp16", bundle)).toThrow(/has no fp16 variant \(import it with --fp16\)/);
    const sizeRatio = statSync(join(bundle, "image.int8.onnx")).size / statSync(join(bundle, "image.onnx")).size;

    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Expected;
    const tokens = JSON.parse(readFileSync(join(dir, "tokens.json"), "utf8")) as {ids: number[][]};
    const {model} = await loadNodeModel(bundle, {ep: "cpu", threads: 1, variant: "int8"});
    const pixels = expected.images.map((img) => {
      const raw = readFileSync(join(dir, "images", `${img.image}.input.f32`));
      return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    });
    const {embeddings} = await model.encodeImages(pixels);
    const imageCos = embeddings.map((e, i) => cosine(e, expected.images[i].features));
    const text = await model.encodeTokens(tokens.ids);
    expect(text).toHaveLength(expected.text_features.length);
    const textCos = text.map((e, i) => cosine(e, expected.text_features[i]));
    console.log(
      `openclip-micro int8 bundle: image.int8.onnx is ${sizeRatio.toFixed(3)} of image.onnx; ` +
        `image min cosine ${Math.min(...imageCos)} (${imageCos.map((c) => c.toFixed(5)).join(", ")}); text (${textCos.length}) min cosine ${Math.min(...textCos)}, mean ${textCos.reduce((a, b) => a + b, 0) / textCos.length}`
    );
    expect(sizeRatio).toBeLessThan(0.5);
    for (const c of imageCos) expect(c).toBeGreaterThanOrEqual(0.99);
    for (const c of textCos) expect(c).toBeGreaterThanOrEqual(0.99);
  });
});
