// Zero-shot classification with prompt ensembles, as FetalCLIP's evaluation
// scripts score it (zero_shot_planes_db/test_five_planes.py): each class is the
// re-normalised mean of its normalised prompt embeddings; logits are 100 x cosine.

import {l2Normalize, matmulTransposed, softmax, topK} from "./vector.js";

/** CLIP's learnt temperature, exp(logit_scale) = 100 for FetalCLIP (the scripts hard-code 100.0). */
export const FETALCLIP_LOGIT_SCALE = 100;

/** One ranked class for one image. */
export interface ZeroShotPrediction {
  classIndex: number;
  label: string;
  /** The score it was ranked by (a probability when given zeroShotProbabilities). */
  score: number;
}

/**
 * Prompt-ensemble class embeddings: for each class, L2-normalise its prompt
 * embeddings, average them, and L2-normalise the mean.
 */
export function classEmbeddings(textEmbedsPerClass: readonly (readonly Float32Array[])[]): Float32Array[] {
  if (textEmbedsPerClass.length === 0) throw new Error("classEmbeddings: no classes given");
  const dim = textEmbedsPerClass[0]?.[0]?.length ?? 0;
  if (dim === 0) throw new Error("classEmbeddings: class 0 has no prompt embeddings");
  return textEmbedsPerClass.map((prompts, c) => {
    if (prompts.length === 0) throw new Error(`classEmbeddings: class ${c} has no prompt embeddings`);
    const mean = new Float64Array(dim);
    prompts.forEach((embed, p) => {
      if (embed.length !== dim) {
        throw new Error(`classEmbeddings: class ${c} prompt ${p} has ${embed.length} dims, expected ${dim}`);
      }
      const unit = l2Normalize(embed);
      for (let i = 0; i < dim; i++) mean[i] += unit[i]! / prompts.length;
    });
    return l2Normalize(mean);
  });
}

function flattenClasses(classEmbeds: readonly Float32Array[], fn: string): {flat: Float32Array; dim: number} {
  if (classEmbeds.length === 0) throw new Error(`${fn}: no class embeddings given`);
  const dim = classEmbeds[0]!.length;
  const flat = new Float32Array(classEmbeds.length * dim);
  classEmbeds.forEach((embed, c) => {
    if (embed.length !== dim) throw new Error(`${fn}: class embedding ${c} has ${embed.length} dims, expected ${dim}`);
    flat.set(embed, c * dim);
  });
  return {flat, dim};
}

/**
 * Logits [n, classes] (flat): logitScale x (normalised image embedding . class
 * embedding). imageEmbeds is a flat [n, dim] matrix (one image: just its embedding);
 * class embeddings are used as given (classEmbeddings already normalises them).
 */
export function zeroShotLogits(
  imageEmbeds: Float32Array,
  classEmbeds: readonly Float32Array[],
  logitScale: number = FETALCLIP_LOGIT_SCALE
): Float32Array {
  const {flat, dim} = flattenClasses(classEmbeds, "zeroShotLogits");
  const images = l2Normalize(imageEmbeds, dim);
  const logits = matmulTransposed(images, flat, dim);
  for (let i = 0; i < logits.length; i++) logits[i] *= logitScale;
  return logits;
}

/** Class probabilities [n, classes] (flat): softmax over classes of zeroShotLogits. */
export function zeroShotProbabilities(
  imageEmbeds: Float32Array,
  classEmbeds: readonly Float32Array[],
  logitScale: number = FETALCLIP_LOGIT_SCALE
): Float32Array {
  return softmax(zeroShotLogits(imageEmbeds, classEmbeds, logitScale), classEmbeds.length);
}

/** The k best classes of each image from flat [n, classes] scores, best first (ties: lower class index first). */
export function predictTopK(scores: Float32Array, classNames: readonly string[], k = 1): ZeroShotPrediction[][] {
  const numClasses = classNames.length;
  if (numClasses === 0 || scores.length % numClasses !== 0) {
    throw new Error(`predictTopK: scores of length ${scores.length} are not a flat [n, ${numClasses}] matrix`);
  }
  const rows = scores.length / numClasses;
  const out: ZeroShotPrediction[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = scores.subarray(r * numClasses, (r + 1) * numClasses);
    out.push(topK(row, k).map((classIndex) => ({classIndex, label: classNames[classIndex]!, score: row[classIndex]!})));
  }
  return out;
}
