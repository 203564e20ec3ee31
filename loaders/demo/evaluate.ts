// The demo model's acceptance numbers, computed with the project's own TS
// pipeline (preprocess -> ONNX image/text encoders -> zero-shot / GA scoring)
// on the phantom's held-out patients, scored as FetalCLIP's scripts score them:
// - five planes: macro F1 over the 5 target planes, top-1 over 9 prompt classes;
// - brain sub-planes: macro F1 over the 3 sub-planes;
// - GA: valid-prediction rate of the 875-prompt method on brain images.
//
//   npx fetalclip demo evaluate [--bundle models/fetalclip-demo] [--phantom data/phantom] [--split test] [--out report.json]
//   npx fetalclip demo evaluate --source models/sources/fetalclip-demo   (imports into data/cache first)
import {join, resolve} from "node:path";
import {DEMO_TARGETS} from "../../src/lib/demoTargets.js";
import type {ClassificationScores, ConfusionMatrix, ValidPredictionRate} from "../../src/lib/metrics.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS, SCORED_PLANES} from "../../src/lib/prompts.js";
import {GA_BIN_DAYS, isScoredHc, isValidGaPrediction} from "../../src/lib/gestationalAge.js";
import {validPredictionRate} from "../../src/lib/metrics.js";
import {estimateGa, GaPromptCache} from "../../src/lib/tasks/gestationalAge.js";
import {promptClassEmbeddings, zeroShotClassify} from "../../src/lib/tasks/zeroShot.js";
import {zeroShotProbabilities} from "../../src/lib/zeroShot.js";
import {batch1LatencyMs, encodeImageFiles} from "../evaluation/imageFiles.js";
import {loadNodeModel} from "../nodeModel.js";
import {readPhantomManifest} from "../phantomDataset.js";

export {DEMO_TARGETS};

export interface DemoEvaluationOptions {
  bundleDir: string;
  phantomDir: string;
  split?: "train" | "val" | "test";
  threads?: number;
  log?: (message: string) => void;
  /** Also return every image's class probabilities and GA similarity curve (`details`). */
  details?: boolean;
}

/** One zero-shot task's per-image results, in the order of the images scored. */
export interface ZeroShotImages {
  /** Image ids (paths relative to the phantom folder). */
  ids: string[];
  trueLabels: string[];
  predicted: string[];
  /** Every prompt class, the columns of `probabilities`. */
  classes: string[];
  /** Softmax over `classes` of 100 x cosine, flat [images, classes]. */
  probabilities: Float32Array;
}

/** Per-image GA results of the scored heads (true HC in [100, 342] mm), in scoring order. */
export interface GaImages {
  ids: string[];
  trueHcMm: number[];
  trueGaDays: number[];
  /** mm per model pixel, as the prompts state it. */
  spacingMmPerPx: number[];
  binDays: number[];
  /** Prompt-averaged 100 x cosine per GA bin, one row per image. */
  dotProducts: Float64Array[];
  predictedDays: number[];
}

export interface DemoEvaluationDetails {
  planes: ZeroShotImages;
  subPlanes: ZeroShotImages;
  ga: GaImages;
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
  /** Per-image results, when asked for (`details: true`). */
  details?: DemoEvaluationDetails;
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
  const {embeds, sizes, failed} = await encodeImageFiles(model, samples.map((s) => join(phantomDir, s.file)), log);
  // The acceptance numbers need every held-out image: a damaged phantom is regenerated, not scored in part.
  if (failed.length > 0) {
    throw new Error(`${phantomDir}: ${failed.length} image(s) cannot be read (${failed.slice(0, 3).map((f) => `${f.path}: ${f.reason}`).join("; ")}); run "fetalclip phantom" again`);
  }

  // Five planes: images of the 5 target planes, predictions over all 9 prompt classes.
  const planeRows = samples.flatMap((s, i) => ((SCORED_PLANES as readonly string[]).includes(s.plane) ? [i] : []));
  const planeResult = await zeroShotClassify(model, planeRows.map((i) => embeds[i]!), planeRows.map((i) => samples[i]!.plane), FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  const brainRows = samples.flatMap((s, i) => (s.plane === "brain" && s.subPlane ? [i] : []));
  const subResult = await zeroShotClassify(model, brainRows.map((i) => embeds[i]!), brainRows.map((i) => samples[i]!.subPlane!), BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS);
  // GA as zeroShotGa scores it (heads with a true HC in [100, 342] mm, prompts encoded once
  // per spacing), image by image here so each similarity curve can be kept.
  const gaCache = new GaPromptCache(model, model.imageSize);
  const gaRows = brainRows.filter((i) => isScoredHc(samples[i]!.hcMm));
  if (gaRows.length === 0) throw new Error("evaluateDemo: no brain image has a true HC in FetalCLIP's scored range [100, 342] mm");
  const gaImages: GaImages = {ids: [], trueHcMm: [], trueGaDays: [], spacingMmPerPx: [], binDays: [...GA_BIN_DAYS], dotProducts: [], predictedDays: []};
  for (const [n, i] of gaRows.entries()) {
    const s = samples[i]!;
    const estimate = await estimateGa(gaCache, {embed: embeds[i]!, width: sizes[i]![0], height: sizes[i]![1], pixelSizeMm: s.spacingMmPerPx});
    gaImages.ids.push(s.file);
    gaImages.trueHcMm.push(s.hcMm);
    gaImages.trueGaDays.push(s.gaDays);
    gaImages.spacingMmPerPx.push(estimate.spacingMmPerPx);
    gaImages.dotProducts.push(estimate.dotProducts);
    gaImages.predictedDays.push(estimate.gaDays);
    if (n % 25 === 24) log(`  GA: ${n + 1}/${gaRows.length} images, ${gaCache.size} spacings encoded`);
  }
  const vpr = validPredictionRate(gaImages.predictedDays.map((days, k) => isValidGaPrediction(gaImages.trueHcMm[k]!, days)));
  const meanAbsErrorDays = gaImages.predictedDays.reduce((sum, days, k) => sum + Math.abs(days - gaImages.trueGaDays[k]!), 0) / gaRows.length;
  const planes = planeResult.scores;
  const subPlanes = subResult.scores;
  const imageEncoderMsBatch1 = await batch1LatencyMs(model);
  return {
    bundle: resolve(options.bundleDir),
    split,
    images: samples.length,
    planes: {scores: planes, confusion: planeResult.confusion},
    subPlanes: {scores: subPlanes, confusion: subResult.confusion},
    ga: {vpr, meanAbsErrorDays, distinctSpacings: gaCache.size},
    imageEncoderMsBatch1,
    pass: {
      planes: planes.macroF1 >= DEMO_TARGETS.planesMacroF1,
      subPlanes: subPlanes.macroF1 >= DEMO_TARGETS.subPlanesMacroF1,
      ga: vpr.rate >= DEMO_TARGETS.gaValidRate
    },
    seconds: (Date.now() - started) / 1000,
    ...(options.details
      ? {
          details: {
            planes: await zeroShotImages(model, planeRows, planeResult.predicted, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS, "plane"),
            subPlanes: await zeroShotImages(model, brainRows, subResult.predicted, BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, "subPlane"),
            ga: gaImages
          }
        }
      : {})
  };

  // Probabilities from the same class embeddings zeroShotClassify scored with: its top-1 is their argmax.
  async function zeroShotImages(
    encoder: typeof model, rows: number[], predicted: string[], classes: readonly string[], prompts: Parameters<typeof promptClassEmbeddings>[2], key: "plane" | "subPlane"
  ): Promise<ZeroShotImages> {
    const classEmbeds = await promptClassEmbeddings(encoder, classes, prompts);
    const dim = classEmbeds[0]!.length;
    const flat = new Float32Array(rows.length * dim);
    rows.forEach((i, k) => flat.set(embeds[i]!, k * dim));
    return {
      ids: rows.map((i) => samples[i]!.file),
      trueLabels: rows.map((i) => samples[i]![key]!),
      predicted,
      classes: [...classes],
      probabilities: zeroShotProbabilities(flat, classEmbeds)
    };
  }
}

/** The headline numbers of a demo evaluation, as `fetalclip demo evaluate` prints them. */
export function summariseDemoEvaluation(result: DemoEvaluation) {
  return {
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
}
