// The zero-shot classification task, as FetalCLIP's evaluation scripts run it
// (zero_shot_planes_db/test_five_planes.py): prompt-ensemble class embeddings,
// top-1 over every prompt class (distractors included), a confusion matrix and
// macro F1 over the true classes present. Runs wherever a text encoder does:
// the Node evaluations and the live page call the same code.
import type {PromptEncoder} from "../gestationalAge.js";
import {classificationScores, confusionMatrix, type ClassificationScores, type ConfusionMatrix} from "../metrics.js";
import {classEmbeddings, predictTopK, zeroShotLogits} from "../zeroShot.js";

/** Prompt texts per class name (FIVE_PLANES_PROMPTS, BRAIN_SUBPLANE_PROMPTS). */
export type PromptEnsembles = Readonly<Record<string, readonly string[]>>;

/**
 * One embedding per class: the normalised mean of its prompts' normalised embeddings.
 * Each class's prompts go to the encoder as one batch, one class after the other
 * (never concurrent runs on one session).
 */
export async function promptClassEmbeddings(encoder: PromptEncoder, classes: readonly string[], prompts: PromptEnsembles): Promise<Float32Array[]> {
  const perClass: Float32Array[][] = [];
  for (const c of classes) {
    const texts = prompts[c];
    if (!texts || texts.length === 0) throw new Error(`promptClassEmbeddings: class "${c}" has no prompts`);
    perClass.push(await encoder.encodeTexts([...texts]));
  }
  return classEmbeddings(perClass);
}

export interface ZeroShotResult {
  scores: ClassificationScores;
  confusion: ConfusionMatrix;
  predicted: string[];
}

/** Top-1 label of each image embedding against class embeddings (in `classes` order). */
export function predictLabels(embeds: readonly Float32Array[], classEmbeds: readonly Float32Array[], classes: readonly string[]): string[] {
  if (embeds.length === 0) return [];
  const dim = classEmbeds[0]!.length;
  const flat = new Float32Array(embeds.length * dim);
  embeds.forEach((e, i) => {
    if (e.length !== dim) throw new Error(`predictLabels: image ${i} has ${e.length} dims, the classes ${dim}`);
    flat.set(e, i * dim);
  });
  return predictTopK(zeroShotLogits(flat, classEmbeds), classes, 1).map((top) => top[0]!.label);
}

/**
 * Top-1 zero-shot over `classes` (all prompt classes, distractors included) for images
 * whose true labels are given; scored over the true classes present.
 */
export async function zeroShotClassify(
  encoder: PromptEncoder,
  embeds: readonly Float32Array[],
  trueLabels: readonly string[],
  classes: readonly string[],
  prompts: PromptEnsembles
): Promise<ZeroShotResult> {
  if (embeds.length !== trueLabels.length) throw new Error(`zeroShotClassify: ${embeds.length} images but ${trueLabels.length} labels`);
  if (embeds.length === 0) throw new Error("zeroShotClassify: no images to classify");
  const predicted = predictLabels(embeds, await promptClassEmbeddings(encoder, classes, prompts), classes);
  const confusion = confusionMatrix(trueLabels, predicted, classes);
  return {scores: classificationScores(confusion), confusion, predicted};
}
