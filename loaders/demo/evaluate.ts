// The demo model's acceptance numbers, computed with the project's own TS
// pipeline (preprocess -> ONNX image/text encoders -> zero-shot / GA scoring)
// on the phantom's held-out patients, scored as FetalCLIP's scripts score them:
// - five planes: macro F1 over the 5 target planes, top-1 over 9 prompt classes;
// - brain sub-planes: macro F1 over the 3 sub-planes;
// - GA: valid-prediction rate of the 875-prompt method on brain images.
//
//   npx tsx loaders/demo/evaluate.ts --bundle models/fetalclip-demo [--phantom data/phantom] [--split test] [--out report.json]
//   npx tsx loaders/demo/evaluate.ts --source models/sources/fetalclip-demo   (imports into data/cache first)
import {readFileSync, writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {parseArgs} from "node:util";
import type {ClipModel} from "../../src/lib/clipModel.js";
import {
  estimateGaDays, formatSpacing, GA_PROMPT_TEMPLATES, gaDotProducts, gaPrompts, isScoredHc, isValidGaPrediction, pixelSpacingAfterResize
} from "../../src/lib/gestationalAge.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {classificationScores, confusionMatrix, validPredictionRate, type ClassificationScores, type ConfusionMatrix, type ValidPredictionRate} from "../../src/lib/metrics.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {classEmbeddings, predictTopK, zeroShotLogits} from "../../src/lib/zeroShot.js";
import {importModel} from "../importer.js";
import {loadNodeModel} from "../nodeModel.js";
import {readPhantomManifest} from "../phantomDataset.js";
import {SCORED_PLANES} from "./prepare.js";

/** Acceptance targets of the embedded demo model (on held-out phantom patients). */
export const DEMO_TARGETS = {planesMacroF1: 0.9, subPlanesMacroF1: 0.75, gaValidRate: 0.8} as const;

export interface DemoEvaluationOptions {
  bundleDir: string;
  phantomDir: string;
  split?: "train" | "val" | "test";
  threads?: number;
  log?: (message: string) => void;
}

export interface DemoEvaluation {
  bundle: string;
  split: string;
  images: number;
  planes: {scores: ClassificationScores; confusion: ConfusionMatrix};
  subPlanes: {scores: ClassificationScores; confusion: ConfusionMatrix};
  ga: {vpr: ValidPredictionRate; meanAbsErrorDays: number; distinctSpacings: number};
  /** Median image-encoder latency at batch 1 (ms) in onnxruntime-node on this machine. */
  imageEncoderMsBatch1: number;
  pass: {planes: boolean; subPlanes: boolean; ga: boolean};
  seconds: number;
}

async function encodeImageFiles(model: ClipModel, paths: string[], log: (m: string) => void): Promise<{embeds: Float32Array[]; sizes: [number, number][]}> {
  const {size, mean, std} = model.manifest.image;
  const embeds: Float32Array[] = [];
  const sizes: [number, number][] = [];
  const batch = 32;
  for (let i = 0; i < paths.length; i += batch) {
    const pixels = paths.slice(i, i + batch).map((path) => {
      const raster = decodeImage(new Uint8Array(readFileSync(path)));
      sizes.push([raster.width, raster.height]);
      return preprocessImage(raster, {size, mean, std});
    });
    embeds.push(...(await model.encodeImages(pixels)).embeddings);
    if ((i / batch) % 5 === 4) log(`  ${Math.min(i + batch, paths.length)}/${paths.length} images encoded`);
  }
  return {embeds, sizes};
}

function zeroShot(model: ClipModel, embeds: Float32Array[], classEmbeds: Float32Array[], classes: readonly string[]): string[] {
  const dim = classEmbeds[0]!.length;
  const flat = new Float32Array(embeds.length * dim);
  embeds.forEach((e, i) => flat.set(e, i * dim));
  return predictTopK(zeroShotLogits(flat, classEmbeds), classes, 1).map((top) => top[0]!.label);
}

async function promptClassEmbeds(model: ClipModel, classes: readonly string[], prompts: Readonly<Record<string, readonly string[]>>): Promise<Float32Array[]> {
  const perClass: Float32Array[][] = [];
  for (const c of classes) perClass.push(await model.encodeTexts([...prompts[c]!]));
  return classEmbeddings(perClass);
}

async function batch1LatencyMs(model: ClipModel): Promise<number> {
  const size = model.imageSize;
  const x = new Float32Array(3 * size * size).map((_, i) => Math.sin(i));
  for (let i = 0; i < 3; i++) await model.encodeImages([x]);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await model.encodeImages([x]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function evaluateDemo(options: DemoEvaluationOptions): Promise<DemoEvaluation> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const split = options.split ?? "test";
  const phantomDir = resolve(options.phantomDir);
  const samples = readPhantomManifest(phantomDir).filter((s) => s.split === split);
  if (samples.length === 0) throw new Error(`${phantomDir}/manifest.json: no samples in split "${split}"`);
  const {model} = await loadNodeModel(options.bundleDir, {ep: "cpu", threads: options.threads});
  log(`${samples.length} ${split} images; bundle ${model.manifest.id} (${model.imageSize} px)`);
  const {embeds, sizes} = await encodeImageFiles(model, samples.map((s) => join(phantomDir, s.file)), log);

  // Five planes: images of the 5 target planes, predictions over all 9 prompt classes.
  const planeRows = samples.flatMap((s, i) => ((SCORED_PLANES as readonly string[]).includes(s.plane) ? [i] : []));
  const planeEmbeds = await promptClassEmbeds(model, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  const planePred = zeroShot(model, planeRows.map((i) => embeds[i]!), planeEmbeds, FIVE_PLANES_CLASSES);
  const planeConfusion = confusionMatrix(planeRows.map((i) => samples[i]!.plane), planePred, FIVE_PLANES_CLASSES);

  const brainRows = samples.flatMap((s, i) => (s.plane === "brain" && s.subPlane ? [i] : []));
  const subEmbeds = await promptClassEmbeds(model, BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS);
  const subPred = zeroShot(model, brainRows.map((i) => embeds[i]!), subEmbeds, BRAIN_SUBPLANE_CLASSES);
  const subConfusion = confusionMatrix(brainRows.map((i) => samples[i]!.subPlane!), subPred, BRAIN_SUBPLANE_CLASSES);

  // GA: the prompts state the spacing per model input pixel; images sharing its 2-decimal text share prompts.
  const gaRows = brainRows.filter((i) => isScoredHc(samples[i]!.hcMm));
  const templateEmbeds = new Map<string, Float32Array[]>();
  const validity: boolean[] = [];
  let absError = 0;
  for (const [n, i] of gaRows.entries()) {
    const s = samples[i]!;
    const [w, h] = sizes[i]!;
    const spacing = pixelSpacingAfterResize(w, h, s.spacingMmPerPx, model.imageSize);
    const key = formatSpacing(spacing);
    if (!templateEmbeds.has(key)) {
      const texts = gaPrompts(spacing);
      const flat = await model.encodeTexts(texts, 125);
      const bins = texts.length / GA_PROMPT_TEMPLATES.length;
      const dim = flat[0]!.length;
      templateEmbeds.set(key, GA_PROMPT_TEMPLATES.map((_, t) => {
        const block = new Float32Array(bins * dim);
        for (let b = 0; b < bins; b++) block.set(flat[t * bins + b]!, b * dim);
        return block;
      }));
    }
    const predicted = estimateGaDays(gaDotProducts(embeds[i]!, templateEmbeds.get(key)!));
    validity.push(isValidGaPrediction(s.hcMm, predicted));
    absError += Math.abs(predicted - s.gaDays);
    if (n % 25 === 24) log(`  GA: ${n + 1}/${gaRows.length} images, ${templateEmbeds.size} spacings encoded`);
  }
  const vpr = validPredictionRate(validity);
  const planes = classificationScores(planeConfusion);
  const subPlanes = classificationScores(subConfusion);
  const imageEncoderMsBatch1 = await batch1LatencyMs(model);
  return {
    bundle: resolve(options.bundleDir),
    split,
    images: samples.length,
    planes: {scores: planes, confusion: planeConfusion},
    subPlanes: {scores: subPlanes, confusion: subConfusion},
    ga: {vpr, meanAbsErrorDays: absError / Math.max(1, gaRows.length), distinctSpacings: templateEmbeds.size},
    imageEncoderMsBatch1,
    pass: {
      planes: planes.macroF1 >= DEMO_TARGETS.planesMacroF1,
      subPlanes: subPlanes.macroF1 >= DEMO_TARGETS.subPlanesMacroF1,
      ga: vpr.rate >= DEMO_TARGETS.gaValidRate
    },
    seconds: (Date.now() - started) / 1000
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({
    options: {
      bundle: {type: "string"},
      source: {type: "string"},
      phantom: {type: "string", default: "data/phantom"},
      split: {type: "string", default: "test"},
      threads: {type: "string", default: "2"},
      out: {type: "string"}
    }
  });
  const log = (m: string) => console.error(m);
  let bundleDir = values.bundle;
  if (!bundleDir) {
    if (!values.source) throw new Error("give --bundle DIR (an imported bundle) or --source DIR (weights.pt, config.json, merges.txt)");
    bundleDir = resolve("data/cache/demo-eval-bundle");
    await importModel({
      weights: join(values.source, "weights.pt"), config: join(values.source, "config.json"), vocab: join(values.source, "merges.txt"),
      outDir: bundleDir, id: "fetalclip-demo-eval", log
    });
  }
  const result = await evaluateDemo({
    bundleDir, phantomDir: values.phantom!, split: values.split as DemoEvaluationOptions["split"], threads: Number(values.threads), log
  });
  const summary = {
    split: result.split,
    planesMacroF1: result.planes.scores.macroF1,
    planesF1: Object.fromEntries(result.planes.scores.classes.map((c, i) => [c, result.planes.scores.f1[i]])),
    subPlanesMacroF1: result.subPlanes.scores.macroF1,
    gaValidRate: result.ga.vpr.rate,
    gaCi95: result.ga.vpr.ci95,
    gaScored: result.ga.vpr.count,
    gaMeanAbsErrorDays: result.ga.meanAbsErrorDays,
    imageEncoderMsBatch1: result.imageEncoderMsBatch1,
    pass: result.pass,
    seconds: result.seconds
  };
  console.log(JSON.stringify(summary, null, 2));
  if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
}
