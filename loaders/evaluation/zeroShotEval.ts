// FetalCLIP's zero-shot evaluations over image files, in Node with any bundle:
// - planes / sub-planes: image embeddings against prompt-ensemble class
//   embeddings, top-1, confusion matrix and macro F1 (zero_shot_planes_db);
// - GA: 875 prompts stating the image's pixel spacing per model pixel, top-15
//   median and the WHO-band valid-prediction rate (zero_shot_hc18).
// Shared by the phantom acceptance test (loaders/demo/evaluate.ts) and the
// real-data report (loaders/evaluation/realData.ts).
import {readFileSync} from "node:fs";
import type {ClipModel} from "../../src/lib/clipModel.js";
import {
  estimateGaDays, formatSpacing, gaDotProducts, gaPromptEmbeddings, isScoredHc, isValidGaPrediction, pixelSpacingAfterResize
} from "../../src/lib/gestationalAge.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {classificationScores, confusionMatrix, validPredictionRate, type ClassificationScores, type ConfusionMatrix, type ValidPredictionRate} from "../../src/lib/metrics.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
import {classEmbeddings, predictTopK, zeroShotLogits} from "../../src/lib/zeroShot.js";

export interface EncodedImages {
  embeds: Float32Array[];
  /** Width and height of each file as decoded, px. */
  sizes: Array<[number, number]>;
}

/** Decodes, preprocesses (the bundle's size, mean, std) and embeds image files, 32 at a time. */
export async function encodeImageFiles(model: ClipModel, paths: readonly string[], log: (m: string) => void = () => {}): Promise<EncodedImages> {
  const {size, mean, std} = model.manifest.image;
  const embeds: Float32Array[] = [];
  const sizes: Array<[number, number]> = [];
  const batch = 32;
  for (let i = 0; i < paths.length; i += batch) {
    const pixels = paths.slice(i, i + batch).map((path) => {
      let raster;
      try {
        raster = decodeImage(new Uint8Array(readFileSync(path)));
      } catch (error) {
        throw new Error(`${path}: ${(error as Error).message}`);
      }
      sizes.push([raster.width, raster.height]);
      return preprocessImage(raster, {size, mean, std});
    });
    embeds.push(...(await model.encodeImages(pixels)).embeddings);
    if ((i / batch) % 5 === 4) log(`  ${Math.min(i + batch, paths.length)}/${paths.length} images encoded`);
  }
  return {embeds, sizes};
}

/** One class embedding per class: the normalised mean of its prompts' normalised embeddings. */
export async function promptClassEmbeds(model: ClipModel, classes: readonly string[], prompts: Readonly<Record<string, readonly string[]>>): Promise<Float32Array[]> {
  const perClass: Float32Array[][] = [];
  for (const c of classes) perClass.push(await model.encodeTexts([...prompts[c]!]));
  return classEmbeddings(perClass);
}

export interface ZeroShotResult {
  scores: ClassificationScores;
  confusion: ConfusionMatrix;
  predicted: string[];
}

/**
 * Top-1 zero-shot over `classes` (all prompt classes, distractors included) for images
 * whose true labels are given; scored over the true classes present.
 */
export async function zeroShotClassify(
  model: ClipModel,
  embeds: readonly Float32Array[],
  trueLabels: readonly string[],
  classes: readonly string[],
  prompts: Readonly<Record<string, readonly string[]>>
): Promise<ZeroShotResult> {
  if (embeds.length !== trueLabels.length) throw new Error(`zeroShotClassify: ${embeds.length} images but ${trueLabels.length} labels`);
  if (embeds.length === 0) throw new Error("zeroShotClassify: no images to classify");
  const classEmbeds = await promptClassEmbeds(model, classes, prompts);
  const dim = classEmbeds[0]!.length;
  const flat = new Float32Array(embeds.length * dim);
  embeds.forEach((e, i) => flat.set(e, i * dim));
  const predicted = predictTopK(zeroShotLogits(flat, classEmbeds), classes, 1).map((top) => top[0]!.label);
  const confusion = confusionMatrix(trueLabels, predicted, classes);
  return {scores: classificationScores(confusion), confusion, predicted};
}

export interface GaImage {
  embed: Float32Array;
  /** The file's width and height (px) and pixel size (mm/px), as the dataset states it. */
  width: number;
  height: number;
  pixelSizeMm: number;
  trueHcMm: number;
  /** True GA in days when known (the phantom); HC18 gives only HC. */
  trueGaDays?: number;
}

export interface GaResult {
  vpr: ValidPredictionRate;
  /** Predicted GA (days) per scored image, in input order of the scored ones. */
  predictedDays: number[];
  /** Mean |predicted - true| GA in days, where the true GA is known. */
  meanAbsErrorDays: number | null;
  scored: number;
  distinctSpacings: number;
}

/**
 * FetalCLIP's zero-shot GA: images with true HC in [100, 342] mm are scored; the prompts
 * state the spacing per model input pixel (images sharing its 2-decimal text share prompts).
 */
export async function zeroShotGa(model: ClipModel, images: readonly GaImage[], log: (m: string) => void = () => {}): Promise<GaResult> {
  const templateEmbeds = new Map<string, Float32Array[]>();
  const validity: boolean[] = [];
  const predictedDays: number[] = [];
  let absError = 0;
  let withGa = 0;
  const scored = images.filter((im) => isScoredHc(im.trueHcMm));
  if (scored.length === 0) throw new Error("zeroShotGa: no image has a true HC in FetalCLIP's scored range [100, 342] mm");
  for (const [n, im] of scored.entries()) {
    const spacing = pixelSpacingAfterResize(im.width, im.height, im.pixelSizeMm, model.imageSize);
    const key = formatSpacing(spacing);
    if (!templateEmbeds.has(key)) templateEmbeds.set(key, await gaPromptEmbeddings(model, spacing));
    const predicted = estimateGaDays(gaDotProducts(im.embed, templateEmbeds.get(key)!));
    predictedDays.push(predicted);
    validity.push(isValidGaPrediction(im.trueHcMm, predicted));
    if (im.trueGaDays !== undefined) {
      absError += Math.abs(predicted - im.trueGaDays);
      withGa++;
    }
    if (n % 25 === 24) log(`  GA: ${n + 1}/${scored.length} images, ${templateEmbeds.size} spacings encoded`);
  }
  return {
    vpr: validPredictionRate(validity),
    predictedDays,
    meanAbsErrorDays: withGa > 0 ? absError / withGa : null,
    scored: scored.length,
    distinctSpacings: templateEmbeds.size
  };
}

/** Median image-encoder latency at batch 1 (ms) over 30 runs after 3 warm-ups. */
export async function batch1LatencyMs(model: ClipModel): Promise<number> {
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
