// The one-pass map: each patch token, projected into the joint space (the bundle's
// patch_embeds: ln_post + proj on every patch token), against a class's text
// embedding, as a grid of cosines. One forward per image instead of ScoreCAM's
// 1 + channels, so it runs over whole datasets and live in the browser. Not a
// FetalCLIP output: open_clip trains only the class token against text, so patch
// cosines are a proxy (MaskCLIP-style), shown beside ScoreCAM, not instead of it.
import type {Tensor} from "../tensor.js";
import {minMaxScale} from "./upsample.js";

export interface SimilarityMap {
  classIndex: number;
  gridSize: number;
  /** Cosine of each patch (row-major on the grid) with the class embedding. */
  cosines: Float32Array;
  /** The cosines min-max scaled to [0, 1) (grad-cam's scale_cam_image), ready for gridToImageMap like a ScoreCAM grid. */
  grid: Float32Array;
}

/** Cosines [grid^2] of patch embeddings [grid^2, dim] with one class embedding (any length; it is normalised here). */
export function patchCosines(patchEmbeds: Tensor, classEmbed: ArrayLike<number>): Float32Array {
  if (patchEmbeds.dims.length !== 2) throw new Error(`patchCosines: expected patch embeddings as [grid^2, dim], got dims [${patchEmbeds.dims.join(", ")}]`);
  const [tokens, dim] = patchEmbeds.dims as [number, number];
  if (classEmbed.length !== dim) throw new Error(`patchCosines: class embedding has ${classEmbed.length} dims, patches ${dim}`);
  let classNorm = 0;
  for (let k = 0; k < dim; k++) classNorm += classEmbed[k]! * classEmbed[k]!;
  classNorm = Math.sqrt(classNorm);
  const out = new Float32Array(tokens);
  const data = patchEmbeds.data;
  for (let t = 0; t < tokens; t++) {
    let dotSum = 0;
    let sq = 0;
    const row = t * dim;
    for (let k = 0; k < dim; k++) {
      const v = data[row + k]!;
      dotSum += v * classEmbed[k]!;
      sq += v * v;
    }
    const denominator = Math.sqrt(sq) * classNorm;
    out[t] = denominator > 0 ? dotSum / denominator : 0;
  }
  return out;
}

/** The one-pass map of one image for one class. */
export function similarityMap(patchEmbeds: Tensor, classEmbeds: readonly Float32Array[], classIndex: number): SimilarityMap {
  const classEmbed = classEmbeds[classIndex];
  if (!classEmbed) throw new Error(`similarityMap: class index ${classIndex} is not in [0, ${classEmbeds.length})`);
  const tokens = patchEmbeds.dims[0] ?? 0;
  const gridSize = Math.round(Math.sqrt(tokens));
  if (gridSize < 1 || gridSize * gridSize !== tokens) throw new Error(`similarityMap: ${tokens} patch tokens are not a square grid`);
  const cosines = patchCosines(patchEmbeds, classEmbed);
  return {classIndex, gridSize, cosines, grid: minMaxScale(cosines)};
}
