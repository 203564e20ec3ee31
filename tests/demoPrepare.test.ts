import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {DEMO_CONTEXT_LENGTH, prepareDemoData} from "../loaders/demo/prepare.js";
import {generatePhantomDataset} from "../loaders/phantomDataset.js";
import {OPENAI_CLIP_MEAN, OPENAI_CLIP_STD} from "../src/lib/bundle.js";
import {gaPrompts, pixelSpacingAfterResize} from "../src/lib/gestationalAge.js";
import {preprocessImage} from "../src/lib/preprocess.js";
import {BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../src/lib/prompts.js";
import {Tokenizer} from "../src/lib/tokenizer.js";

const SIZE = 112;
let root: string;
let out: string;
let index: any;
let tokenizer: Tokenizer;

function int32Rows(file: string): Int32Array {
  const bytes = readFileSync(join(out, file));
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "demo-prepare-"));
  // A small phantom at 160 x 128 px, so padding to a square and resizing to 112 px both happen.
  await generatePhantomDataset({outDir: join(root, "phantom"), seed: 5, count: 60, width: 160, height: 128, workers: 1});
  out = join(root, "demo");
  await prepareDemoData({phantomDir: join(root, "phantom"), outDir: out, imageSize: SIZE, variants: 4, seed: 3});
  index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
  tokenizer = Tokenizer.fromMerges(readFileSync(join(out, "merges.txt"), "utf8"));
});

afterAll(() => rmSync(root, {recursive: true, force: true}));

describe("prepareDemoData", () => {
  it("writes a merges file the project's tokenizer reads, with the vocabulary size the index states", () => {
    const text = readFileSync(join(out, "merges.txt"), "utf8");
    expect(text.startsWith("#version: 0.2\n")).toBe(true);
    expect(tokenizer.vocabSize).toBe(index.vocabSize);
    expect(tokenizer.vocabSize).toBe(512 + text.split("\n").length - 1 + 2);
  });

  it("stores each image as the grey bytes that preprocessImage normalises, at the model's input size", () => {
    const images = readFileSync(join(out, "images.u8"));
    expect(images.length).toBe(60 * SIZE * SIZE);
    for (const i of [0, 17, 59]) {
      const s = index.samples[i];
      const file = readFileSync(join(root, "phantom", "images", `${s.id}.png`));
      const tensor = preprocessImage(new Uint8Array(file), {size: SIZE, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD});
      let worst = 0;
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < SIZE * SIZE; p += 7) {
          const fromBytes = (images[i * SIZE * SIZE + p]! / 255 - OPENAI_CLIP_MEAN[c]!) / OPENAI_CLIP_STD[c]!;
          worst = Math.max(worst, Math.abs(fromBytes - tensor[c * SIZE * SIZE + p]!));
        }
      }
      expect(worst).toBeLessThan(1e-5);
      expect(s.promptSpacingMmPerPx).toBeCloseTo(pixelSpacingAfterResize(160, 128, s.spacingMmPerPx, SIZE), 12);
      expect(s.promptSpacingMmPerPx).toBeCloseTo((160 / 112) * s.spacingMmPerPx, 12);
    }
  });

  it("tokenises every caption whole, and its tokens spell the caption", () => {
    const tokens = int32Rows("tokens.i32");
    expect(tokens.length).toBe(60 * 4 * DEMO_CONTEXT_LENGTH);
    const row = (k: number) => Array.from(tokens.subarray(k * DEMO_CONTEXT_LENGTH, (k + 1) * DEMO_CONTEXT_LENGTH));
    const first = row(0);
    expect(first[0]).toBe(tokenizer.sot);
    const eotAt = first.indexOf(tokenizer.eot);
    expect(first.slice(eotAt + 1).every((id) => id === 0)).toBe(true);
    const spelt = tokenizer.decode(first.slice(1, eotAt)).replace(/\s+/g, "");
    expect(spelt).toBe(index.exampleCaptions[0][0].toLowerCase().replace(/\s+/g, ""));
  });

  it("never trains on an evaluation prompt and marks what each caption states", () => {
    const evalPrompts = new Set([...Object.values(FIVE_PLANES_PROMPTS).flat(), ...Object.values(BRAIN_SUBPLANE_PROMPTS).flat()].map((t) => t.toLowerCase()));
    for (const captions of index.exampleCaptions) for (const c of captions) expect(evalPrompts.has(c.toLowerCase())).toBe(false);
    expect(index.variantFacts).toHaveLength(60);
    expect(index.variantFacts[0]).toHaveLength(4);
    expect(Object.keys(index.variantFacts[0][0]).sort()).toEqual(["ga", "spacing", "subPlane"]);
  });

  it("tokenises FetalCLIP's prompts: 9x5 plane prompts and 875 GA prompts per distinct spacing", () => {
    const planes = int32Rows("eval-planes.i32");
    expect(planes.length).toBe(FIVE_PLANES_CLASSES.length * 5 * DEMO_CONTEXT_LENGTH);
    const ga = int32Rows("eval-ga.i32");
    const spacings: string[] = index.eval.ga.spacings;
    expect(ga.length).toBe(spacings.length * 875 * DEMO_CONTEXT_LENGTH);
    const brain = index.samples.find((s: any) => s.gaSpacingIndex !== undefined);
    expect(brain).toBeDefined();
    const k = brain.gaSpacingIndex * 875 + 3 * 175 + 40; // template 3, bin 40 (19w5d)
    const expected = tokenizer.tokenize([gaPrompts(brain.promptSpacingMmPerPx)[3 * 175 + 40]!], DEMO_CONTEXT_LENGTH)[0];
    expect(Array.from(ga.subarray(k * DEMO_CONTEXT_LENGTH, (k + 1) * DEMO_CONTEXT_LENGTH))).toEqual(expected);
  });
});

describe("prepareDemoData with a separate training phantom", () => {
  it("trains on every image of the training phantom and keeps only the held-out patients of the main one", async () => {
    const extra = join(root, "phantom-train");
    await generatePhantomDataset({outDir: extra, seed: 11, count: 30, width: 128, height: 128, workers: 1});
    const outTwo = join(root, "demo-two");
    await prepareDemoData({phantomDir: join(root, "phantom"), trainPhantomDir: extra, outDir: outTwo, imageSize: SIZE, variants: 2, seed: 3});
    const two = JSON.parse(readFileSync(join(outTwo, "index.json"), "utf8"));
    const main = index.samples.filter((s: any) => s.split !== "train");
    const train = two.samples.filter((s: any) => s.split === "train");
    expect(train).toHaveLength(30);
    expect(train.every((s: any) => s.id.startsWith("train-") && s.patientId.startsWith("train-"))).toBe(true);
    expect(two.samples.filter((s: any) => s.split !== "train").map((s: any) => s.id)).toEqual(main.map((s: any) => s.id));
    // No patient id is shared between the training images and the held-out ones.
    const held = new Set(main.map((s: any) => s.patientId));
    expect(train.some((s: any) => held.has(s.patientId))).toBe(false);
    expect(two.dataCard.source).toContain("training images from");
    expect(readFileSync(join(outTwo, "images.u8")).length).toBe(two.samples.length * SIZE * SIZE);
  });
});
