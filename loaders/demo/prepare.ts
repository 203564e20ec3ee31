// Training files for the demo CLIP (scripts/train_demo.py) from the phantom:
// captions per image (src/lib/captions.ts), a BPE vocabulary learnt from the
// training captions (src/lib/bpe/learnMerges.ts), their token ids from the
// project's tokenizer, and the images at the model's input size through the
// project's own preprocessing, so Python never re-implements either.
//
//   npx fetalclip demo prepare [--phantom data/phantom] [--train-phantom DIR] [--out data/cache/demo] [--size 112]
//
// Writes (little-endian): images.u8 [n, size, size] grey; tokens.i32 [n, variants,
// context]; eval-planes.i32, eval-subplanes.i32, eval-ga.i32 (FetalCLIP's prompts,
// tokenised); merges.txt; index.json (per-sample facts, what each caption states).
import {existsSync, mkdirSync, readFileSync, writeFileSync} from "node:fs";
import {join, relative, resolve} from "node:path";
import {formatMergesFile, learnMerges, vocabSizeFor} from "../../src/lib/bpe/learnMerges.js";
import {writeCaption, type Caption, type CaptionFacts, type CaptionStates} from "../../src/lib/captions.js";
import {formatSpacing, GA_BIN_DAYS, GA_PROMPT_TEMPLATES, gaPrompt, gaPrompts, pixelSpacingAfterResize} from "../../src/lib/gestationalAge.js";
import {BRAIN_SUB_PLANES, PHANTOM_PLANES, type BrainSubPlane, type PhantomPlane} from "../../src/lib/phantom/types.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS, SCORED_PLANES} from "../../src/lib/prompts.js";
import {createRng} from "../../src/lib/random.js";
import {Tokenizer} from "../../src/lib/tokenizer.js";
import {CACHE_DIR, REPO_ROOT} from "../paths.js";
import {generatePhantomDataset, readPhantomManifest, type PhantomManifestSample} from "../phantomDataset.js";
import "../jpeg.js"; // loads the JPEG decoder before any image is decoded

/** Where the training files go (gitignored). */
export const DEMO_DATA_DIR = join(CACHE_DIR, "demo");
/** FetalCLIP's text context length: the demo keeps it so prompts tokenise identically. */
export const DEMO_CONTEXT_LENGTH = 117;
/** The demo's image input side (FetalCLIP: 224); 112 px with 14 px patches gives an 8x8 grid. */
export const DEMO_IMAGE_SIZE = 112;

export interface PrepareOptions {
  phantomDir: string;
  /**
   * A second, larger phantom (another seed) to train on: all of its images become
   * training images and only the val/test patients of `phantomDir` are kept, so the
   * held-out patients stay those of the default phantom the tests evaluate.
   */
  trainPhantomDir?: string;
  outDir: string;
  imageSize?: number;
  /** Captions written per image; the trainer draws one per step. */
  variants?: number;
  maxMerges?: number;
  /** GA hard negatives per brain caption stating GA and spacing: the same words at other GAs. */
  gaAlternates?: number;
  seed?: number;
  log?: (message: string) => void;
}

type ManifestSample = PhantomManifestSample;

export interface DemoSample {
  id: string;
  patientId: string;
  split: string;
  plane: PhantomPlane;
  subPlane: BrainSubPlane | null;
  gaDays: number;
  hcMm: number;
  width: number;
  height: number;
  spacingMmPerPx: number;
  /** Spacing per model input pixel, as the captions and GA prompts state it. */
  promptSpacingMmPerPx: number;
  promptClass: PhantomPlane;
  subPlaneClass: BrainSubPlane | null;
  /** Row block of eval-ga.i32 holding this image's 875 GA prompts (val/test brain images). */
  gaSpacingIndex?: number;
}

/** The model-size grey image exactly as preprocessImage feeds the model (before mean/std), plus the file's size. */
function modelSizeGrey(bytes: Uint8Array, size: number, where: string): {grey: Uint8Array; width: number; height: number} {
  const raster = decodeImage(bytes);
  // mean 0, std 1 leaves value/255 in float32, which rounds back to the exact byte.
  const chw = preprocessImage(raster, {size, mean: [0, 0, 0], std: [1, 1, 1]});
  const plane = size * size;
  const grey = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) {
    const r = Math.round(chw[i]! * 255);
    if (r !== Math.round(chw[plane + i]! * 255) || r !== Math.round(chw[2 * plane + i]! * 255)) {
      throw new Error(`${where}: not a grey image (R, G, B differ at pixel ${i}); the demo trains on grey ultrasound`);
    }
    grey[i] = r;
  }
  return {grey, width: raster.width, height: raster.height};
}

function relativeToRepo(path: string): string {
  return relative(REPO_ROOT, resolve(path)) || ".";
}

/** Case- and space-insensitive key for comparing captions with prompts. */
function sentenceKey(text: string): string {
  return text.replace(/\s+/g, " ").trim().toLowerCase();
}

function int32File(rows: number[][], contextLength: number): Uint8Array {
  const out = new Int32Array(rows.length * contextLength);
  rows.forEach((row, i) => out.set(row, i * contextLength));
  return new Uint8Array(out.buffer);
}

function tokenizeChecked(tokenizer: Tokenizer, texts: string[], where: string): number[][] {
  const rows = tokenizer.tokenize(texts, DEMO_CONTEXT_LENGTH);
  rows.forEach((row, i) => {
    // A truncated text has EOT in the last slot; the captions must fit whole.
    if (row[DEMO_CONTEXT_LENGTH - 1] !== 0) throw new Error(`${where}: text ${i} does not fit ${DEMO_CONTEXT_LENGTH} tokens: ${texts[i]}`);
  });
  return rows;
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

export interface PrepareSummary {
  samples: number;
  merges: number;
  vocabSize: number;
  gaSpacings: number;
  seconds: number;
}

export async function prepareDemoData(options: PrepareOptions): Promise<PrepareSummary> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const size = options.imageSize ?? DEMO_IMAGE_SIZE;
  const variants = options.variants ?? 8;
  const gaAlternates = options.gaAlternates ?? 8;
  const seed = options.seed ?? 1;
  const phantomDir = resolve(options.phantomDir);
  const outDir = resolve(options.outDir);
  if (!existsSync(join(phantomDir, "manifest.json"))) {
    log(`no phantom at ${phantomDir}: generating the default one`);
    await generatePhantomDataset({outDir: phantomDir});
  }
  let manifest: Array<ManifestSample & {dir: string}> = readPhantomManifest(phantomDir).map((m) => ({...m, dir: phantomDir}));
  log(`${manifest.length} phantom images from ${phantomDir}`);
  if (options.trainPhantomDir) {
    const trainDir = resolve(options.trainPhantomDir);
    const extra = readPhantomManifest(trainDir);
    // Ids and patient ids get a prefix: the two phantoms number their patients alike.
    manifest = [
      ...extra.map((m) => ({...m, id: `train-${m.id}`, patientId: `train-${m.patientId}`, split: "train" as const, dir: trainDir})),
      ...manifest.filter((m) => m.split !== "train")
    ];
    log(`training on all ${extra.length} images of ${trainDir}; evaluating on ${manifest.length - extra.length} val/test images of ${phantomDir}`);
  }

  const evalPromptTexts = [...Object.values(FIVE_PLANES_PROMPTS).flat(), ...Object.values(BRAIN_SUBPLANE_PROMPTS).flat()];
  const images = new Uint8Array(manifest.length * size * size);
  const samples: DemoSample[] = [];
  const captions: Caption[][] = [];
  const altGa: number[][] = []; // [sample][variant]: first row in alternates, or -1
  const altGaDays: number[][][] = [];
  const altSub: number[][] = [];
  const alternateTexts: string[] = [];
  manifest.forEach((m, i) => {
    const path = join(m.dir, m.file);
    const {grey, width, height} = modelSizeGrey(new Uint8Array(readFileSync(path)), size, path);
    images.set(grey, i * size * size);
    const promptSpacingMmPerPx = pixelSpacingAfterResize(width, height, m.spacingMmPerPx, size);
    samples.push({
      id: m.id, patientId: m.patientId, split: m.split, plane: m.plane, subPlane: m.subPlane ?? null, gaDays: m.gaDays, hcMm: m.hcMm,
      width, height, spacingMmPerPx: m.spacingMmPerPx, promptSpacingMmPerPx, promptClass: m.plane, subPlaneClass: m.subPlane ?? null
    });
    // Never train on an evaluation prompt verbatim: the plane, sub-plane and this image's own GA prompts.
    const weeks = Math.floor(Math.round(m.gaDays) / 7);
    const ownGaPrompts = GA_PROMPT_TEMPLATES.map((t) => gaPrompt(t, weeks, Math.round(m.gaDays) % 7, promptSpacingMmPerPx));
    const excluded = new Set([...evalPromptTexts, ...ownGaPrompts].map(sentenceKey));
    const facts: CaptionFacts = {plane: m.plane, subPlane: m.subPlane ?? null, gaDays: m.gaDays, inputSpacingMmPerPx: promptSpacingMmPerPx};
    const seen = new Set<string>();
    const row: Caption[] = [];
    altGa.push([]);
    altGaDays.push([]);
    altSub.push([]);
    for (let v = 0; v < variants; v++) {
      // One seed per caption: the same seed with other facts gives the same wording (hard negatives).
      let key = "";
      let caption: Caption | undefined;
      for (let attempt = 0; attempt < 50 && !caption; attempt++) {
        key = `fetalclip-demo-captions:${seed}/${m.id}/${v}/${attempt}`;
        const c = writeCaption(facts, createRng(key).next);
        if (!excluded.has(sentenceKey(c.text)) && !seen.has(sentenceKey(c.text))) caption = c;
      }
      caption ??= writeCaption(facts, createRng(key).next); // wording space exhausted: allow a repeat
      seen.add(sentenceKey(caption.text));
      row.push(caption);
      // GA hard negatives: same words, other GAs spread over the prompts' range (stratified).
      if (m.plane === "brain" && caption.states.ga && caption.states.spacing) {
        const offset = createRng(`${key}/alt`).next();
        const days = Array.from({length: gaAlternates}, (_, k) => Math.round(GA_BIN_DAYS[0]! + ((k + offset) / gaAlternates) * (GA_BIN_DAYS.length - 1)));
        altGa[i]!.push(alternateTexts.length);
        altGaDays[i]!.push(days);
        for (const d of days) alternateTexts.push(writeCaption({...facts, gaDays: d}, createRng(key).next).text);
      } else {
        altGa[i]!.push(-1);
        altGaDays[i]!.push([]);
      }
      // Sub-plane hard negatives: same words naming the two other sub-planes.
      if (m.subPlane && caption.states.subPlane) {
        altSub[i]!.push(alternateTexts.length);
        for (const other of BRAIN_SUB_PLANES.filter((b) => b !== m.subPlane)) {
          alternateTexts.push(writeCaption({...facts, subPlane: other}, createRng(key).next).text);
        }
      } else {
        altSub[i]!.push(-1);
      }
    }
    captions.push(row);
    if ((i + 1) % 1000 === 0) log(`  ${i + 1} images preprocessed`);
  });

  const trainTexts = captions.filter((_, i) => samples[i]!.split === "train").flat().map((c) => c.text);
  if (trainTexts.length === 0) throw new Error(`${phantomDir}/manifest.json: no samples with split "train"`);
  const merges = learnMerges(trainTexts, {maxMerges: options.maxMerges ?? 2000});
  const mergesText = formatMergesFile(merges);
  const tokenizer = Tokenizer.fromMerges(mergesText);
  if (tokenizer.vocabSize !== vocabSizeFor(merges.length)) {
    throw new Error(`merges: the tokenizer reads ${tokenizer.vocabSize} tokens, expected ${vocabSizeFor(merges.length)}`);
  }
  log(`${merges.length} BPE merges from ${trainTexts.length} training captions: vocabulary ${tokenizer.vocabSize}`);

  const captionRows = tokenizeChecked(tokenizer, captions.flat().map((c) => c.text), "captions");
  const planeRows = tokenizeChecked(tokenizer, FIVE_PLANES_CLASSES.flatMap((c) => [...FIVE_PLANES_PROMPTS[c]]), "five-planes prompts");
  const subRows = tokenizeChecked(tokenizer, BRAIN_SUBPLANE_CLASSES.flatMap((c) => [...BRAIN_SUBPLANE_PROMPTS[c]]), "sub-plane prompts");
  // GA prompts depend on the spacing only through its 2-decimal text: one block per distinct text.
  const spacingTexts: string[] = [];
  for (const s of samples) {
    if (s.split === "train" || s.plane !== "brain") continue;
    const text = formatSpacing(s.promptSpacingMmPerPx);
    let index = spacingTexts.indexOf(text);
    if (index < 0) index = spacingTexts.push(text) - 1;
    s.gaSpacingIndex = index;
  }
  const gaRows = tokenizeChecked(tokenizer, spacingTexts.flatMap((t) => gaPrompts(Number(t))), "GA prompts");
  const alternateRows = tokenizeChecked(tokenizer, alternateTexts, "hard-negative captions");

  mkdirSync(outDir, {recursive: true});
  writeFileSync(join(outDir, "images.u8"), images);
  writeFileSync(join(outDir, "tokens.i32"), int32File(captionRows, DEMO_CONTEXT_LENGTH));
  writeFileSync(join(outDir, "eval-planes.i32"), int32File(planeRows, DEMO_CONTEXT_LENGTH));
  writeFileSync(join(outDir, "eval-subplanes.i32"), int32File(subRows, DEMO_CONTEXT_LENGTH));
  writeFileSync(join(outDir, "eval-ga.i32"), int32File(gaRows, DEMO_CONTEXT_LENGTH));
  writeFileSync(join(outDir, "alternates.i32"), int32File(alternateRows, DEMO_CONTEXT_LENGTH));
  writeFileSync(join(outDir, "merges.txt"), mergesText);
  const variantFacts: CaptionStates[][] = captions.map((cs) => cs.map((c) => c.states));
  const index = {
    format: "fetalclip-explorer/demo-train@1",
    imageSize: size,
    contextLength: DEMO_CONTEXT_LENGTH,
    variants,
    vocabSize: tokenizer.vocabSize,
    files: {images: "images.u8", tokens: "tokens.i32", alternates: "alternates.i32", merges: "merges.txt"},
    // Hard negatives, per [sample][variant]: first row in alternates.i32 or -1; GA ones with their GA (days).
    alternates: {ga: altGa, gaDays: altGaDays, subPlane: altSub, subPlaneOrder: BRAIN_SUB_PLANES},
    eval: {
      planes: {file: "eval-planes.i32", classes: FIVE_PLANES_CLASSES, scoredClasses: SCORED_PLANES},
      subPlanes: {file: "eval-subplanes.i32", classes: BRAIN_SUBPLANE_CLASSES},
      ga: {file: "eval-ga.i32", gaDays: GA_BIN_DAYS, templates: GA_PROMPT_TEMPLATES.length, spacings: spacingTexts}
    },
    dataCard: {
      source: options.trainPhantomDir
        ? `procedural ultrasound phantom (src/lib/phantom): training images from ${relativeToRepo(options.trainPhantomDir)}, val/test from ${relativeToRepo(phantomDir)}`
        : `procedural ultrasound phantom (src/lib/phantom), ${relativeToRepo(phantomDir)}`,
      images: samples.length,
      bySplit: countBy(samples, (s) => s.split),
      byPlane: countBy(samples, (s) => s.plane),
      patients: new Set(samples.map((s) => s.patientId)).size,
      captionSeed: seed,
      captionsPerImage: variants,
      merges: merges.length,
      vocabSize: tokenizer.vocabSize,
      spacingDefinition: `max(width, height) / ${size} x pixel spacing (mm per model input pixel), 2 decimals`
    },
    samples,
    variantFacts,
    exampleCaptions: captions.slice(0, 3).map((cs) => cs.map((c) => c.text))
  };
  writeFileSync(join(outDir, "index.json"), JSON.stringify(index));
  const seconds = (Date.now() - started) / 1000;
  log(`wrote ${outDir} in ${seconds.toFixed(1)} s`);
  return {samples: samples.length, merges: merges.length, vocabSize: tokenizer.vocabSize, gaSpacings: spacingTexts.length, seconds};
}
