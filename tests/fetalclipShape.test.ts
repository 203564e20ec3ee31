// The real FetalCLIP shape (ViT-L/14 image encoder, 12-layer text transformer,
// 427M parameters): a random-weight checkpoint of exactly that shape, written by
// the project (1.7 GB, never committed), imports and embeds an image and a prompt.
import {mkdtempSync, readFileSync, rmSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, expect, test} from "vitest";
import {importModel} from "../loaders/importer.js";
import {loadNodeModel, preprocessImageFile} from "../loaders/nodeModel.js";
import {readOpenClipConfig} from "../loaders/openClipConfig.js";
import {writeRandomCheckpoint} from "../loaders/testing/randomCheckpoint.js";
import type {ModelManifest} from "../src/lib/bundle.js";
import {describeShared, sharedPath} from "./shared.js";

describeShared("a FetalCLIP-shaped checkpoint (ViT-L/14 + 12-layer text)", () => {
  let tmp: string;
  let manifest: ModelManifest;
  const configPath = () => sharedPath("reference", "fetalclip", "FetalCLIP_config.json");

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "fetalclip-shape-"));
    const weights = join(tmp, "FetalCLIP_random.pt");
    writeRandomCheckpoint(weights, readOpenClipConfig(configPath()));
    manifest = await importModel({weights, config: configPath(), vocab: sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz"), outDir: join(tmp, "bundle")});
    rmSync(weights);
  }, 600_000);
  afterAll(() => rmSync(tmp, {recursive: true, force: true}));

  test("imports with FetalCLIP's parameter count and graph sizes", () => {
    expect(manifest.config.vision_cfg).toMatchObject({image_size: 224, layers: 24, width: 1024, patch_size: 14});
    expect(manifest.config.text_cfg).toMatchObject({context_length: 117, layers: 12, width: 768});
    // ViT-L/14 image tower 303.97M (+0.79M projection), text tower 123.7M: 427.6M in all.
    expect(manifest.params.total / 1e6).toBeGreaterThan(427);
    expect(manifest.params.total / 1e6).toBeLessThan(428.5);
    expect(manifest.params.image / 1e6).toBeCloseTo(304.3, 0);
    const imageBytes = statSync(join(tmp, "bundle", "image.onnx")).size;
    expect(imageBytes / (manifest.params.image * 4)).toBeGreaterThan(0.99);
    expect(imageBytes / (manifest.params.image * 4)).toBeLessThan(1.01);
  });

  test("embeds a real HC18 image and a prompt into 768-d vectors", async () => {
    const {model} = await loadNodeModel(join(tmp, "bundle"), {ep: "cpu", threads: 2});
    const pixels = preprocessImageFile(sharedPath("fixtures", "openclip-micro", "images", "010_HC.png"), model);
    const {embeddings, patchEmbeddings, ln1Last} = await model.encodeImages([pixels], {patchEmbeddings: true, ln1Last: true});
    expect(embeddings[0]).toHaveLength(768);
    expect(patchEmbeddings![0]!.dims).toEqual([16 * 16, 768]);
    expect(patchEmbeddings![0]!.data).toHaveLength(16 * 16 * 768);
    expect(ln1Last![0]!.dims).toEqual([257, 1024]);
    expect(ln1Last![0]!.data).toHaveLength(257 * 1024);
    expect(embeddings[0].every(Number.isFinite)).toBe(true);
    const [text] = await model.encodeTexts(["Ultrasound image of the fetal brain at 20 weeks."]);
    expect(text).toHaveLength(768);
    expect(text.every(Number.isFinite)).toBe(true);
    // Random weights still give distinct outputs for distinct inputs.
    const [other] = (await model.encodeImages([pixels.map((v) => -v)])).embeddings;
    expect(other.some((v, i) => Math.abs(v - embeddings[0][i]) > 1e-4)).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, "bundle", "model.json"), "utf8")).id).toBe("bundle");
  }, 300_000);
});
