// The zero-shot gestational-age task, as FetalCLIP's HC18 evaluation runs it
// (zero_shot_hc18): for each image, 875 prompts that state its pixel spacing per
// model input pixel, the top-15 median GA, and validity against the WHO HC band.
// The prompt embeddings depend only on the spacing's 2-decimal text, so they are
// encoded once per spacing and cached: the Node evaluations and the live page
// share this cache logic.
import {
  estimateGaDays, formatSpacing, gaDotProducts, gaPromptEmbeddings, isScoredHc, isValidGaPrediction, pixelSpacingAfterResize,
  type PromptEncoder
} from "../gestationalAge.js";
import {validPredictionRate, type ValidPredictionRate} from "../metrics.js";

/** The GA prompt embeddings of one model, per pixel spacing as the prompts write it (2 decimals). */
export class GaPromptCache {
  private readonly bySpacing = new Map<string, Promise<Float32Array[]>>();

  /** `imageSize`: the model's input side, which the spacing in the prompts refers to. */
  constructor(readonly encoder: PromptEncoder, readonly imageSize: number) {}

  /** Distinct spacings encoded (or being encoded). */
  get size(): number {
    return this.bySpacing.size;
  }

  /** One flat [bins, dim] matrix per template for this spacing, encoded on first use. */
  templateEmbeddings(spacingMmPerPx: number): Promise<Float32Array[]> {
    const key = formatSpacing(spacingMmPerPx);
    let entry = this.bySpacing.get(key);
    if (!entry) {
      entry = gaPromptEmbeddings(this.encoder, spacingMmPerPx);
      this.bySpacing.set(key, entry);
      // A failed encoding is not remembered: the next request tries again.
      entry.catch(() => this.bySpacing.delete(key));
    }
    return entry;
  }
}

/** An image as the GA task needs it: its embedding and its size and pixel size as stored. */
export interface GaInput {
  embed: Float32Array;
  /** Width and height of the image file (px) and its pixel size (mm/px). */
  width: number;
  height: number;
  pixelSizeMm: number;
}

export interface GaEstimate {
  /** mm per model input pixel, as stated in the prompts (formatted to 2 decimals there). */
  spacingMmPerPx: number;
  /** Prompt-averaged 100 x cosine per GA bin (GA_BIN_DAYS order). */
  dotProducts: Float64Array;
  gaDays: number;
}

/** One image's zero-shot GA estimate. */
export async function estimateGa(cache: GaPromptCache, image: GaInput): Promise<GaEstimate> {
  const spacingMmPerPx = pixelSpacingAfterResize(image.width, image.height, image.pixelSizeMm, cache.imageSize);
  const dotProducts = gaDotProducts(image.embed, await cache.templateEmbeddings(spacingMmPerPx));
  return {spacingMmPerPx, dotProducts, gaDays: estimateGaDays(dotProducts)};
}

export interface GaImage extends GaInput {
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

/** A text encoder that knows its image input side (ClipModel is one). */
export interface GaModel extends PromptEncoder {
  readonly imageSize: number;
}

/**
 * FetalCLIP's zero-shot GA over a set of heads: images with true HC in [100, 342] mm are
 * scored; prompts are encoded once per distinct spacing.
 */
export async function zeroShotGa(model: GaModel, images: readonly GaImage[], log: (m: string) => void = () => {}): Promise<GaResult> {
  const scored = images.filter((im) => isScoredHc(im.trueHcMm));
  if (scored.length === 0) throw new Error("zeroShotGa: no image has a true HC in FetalCLIP's scored range [100, 342] mm");
  const cache = new GaPromptCache(model, model.imageSize);
  const validity: boolean[] = [];
  const predictedDays: number[] = [];
  let absError = 0;
  let withGa = 0;
  for (const [n, im] of scored.entries()) {
    const {gaDays} = await estimateGa(cache, im);
    predictedDays.push(gaDays);
    validity.push(isValidGaPrediction(im.trueHcMm, gaDays));
    if (im.trueGaDays !== undefined) {
      absError += Math.abs(gaDays - im.trueGaDays);
      withGa++;
    }
    if (n % 25 === 24) log(`  GA: ${n + 1}/${scored.length} images, ${cache.size} spacings encoded`);
  }
  return {
    vpr: validPredictionRate(validity),
    predictedDays,
    meanAbsErrorDays: withGa > 0 ? absError / withGa : null,
    scored: scored.length,
    distinctSpacings: cache.size
  };
}
