// The zero-shot gestational-age task, as FetalCLIP's HC18 evaluation runs it
// (zero_shot_hc18): for each image, 875 prompts that state its pixel spacing per
// model input pixel, the top-15 median GA, and validity against the WHO HC band.
// The prompt embeddings depend only on the spacing's 2-decimal text, so they are
// encoded once per spacing and cached: the Node evaluations and the live page
// share this cache logic.
import {gaFromHcMm} from "../biometry.js";
import {
  estimateGaDays, formatSpacing, GA_BIN_DAYS, GA_TOP_BINS, gaDotProducts, gaPromptEmbeddings, isScoredHc, isValidGaPrediction,
  pixelSpacingAfterResize, type PromptEncoder
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

/** One image's prompt-averaged GA dot products (175 bins, GA_BIN_DAYS order) and its true HC. */
export interface GaDotProductRow {
  trueHcMm: number;
  dotProducts: ArrayLike<number>;
}

/** One image's GA prediction from its dot products. */
export interface GaPrediction {
  /** Row index in the input. */
  index: number;
  trueHcMm: number;
  /** True HC in FetalCLIP's scored range [100, 342] mm: only these count in VPR and MAE. */
  scored: boolean;
  /** Median GA of the top-N bins. */
  predictedGaDays: number;
  /** True HC within the WHO 2.5th..97.5th percentile HC at the predicted GA (counted only when scored). */
  valid: boolean;
  /**
   * GA at which the WHO median HC equals the true HC (days, fractional). Meaningful only when
   * scored: the scored range [100, 342] mm is the WHO median from 14 to 40 weeks; outside it
   * gaFromHcMm clamps to 70 or 308 days.
   */
  whoMedianGaDays: number;
  /** predictedGaDays - whoMedianGaDays (meaningful only when scored). */
  errorDays: number;
}

/** GA predictions of every row: the top-N median bin, its validity, its error against the WHO median GA of the true HC. */
export function gaPredictions(rows: readonly GaDotProductRow[], gaDays: readonly number[] = GA_BIN_DAYS, topBins: number = GA_TOP_BINS): GaPrediction[] {
  return rows.map((row, index) => {
    const predictedGaDays = estimateGaDays(row.dotProducts, gaDays, topBins);
    const whoMedianGaDays = gaFromHcMm(row.trueHcMm);
    return {
      index,
      trueHcMm: row.trueHcMm,
      scored: isScoredHc(row.trueHcMm),
      predictedGaDays,
      valid: isValidGaPrediction(row.trueHcMm, predictedGaDays),
      whoMedianGaDays,
      errorDays: predictedGaDays - whoMedianGaDays
    };
  });
}

/** What `fetalclip metrics ga` prints: FetalCLIP's zero-shot GA scored from dot products. */
export interface GaMetrics {
  /** Bins in the median. */
  topBins: number;
  /** Rows given. */
  total: number;
  /** Rows scored (true HC in [100, 342] mm). */
  n: number;
  valid: number;
  /** Valid-prediction rate over the scored rows. */
  vpr: number;
  /** Bootstrap 95% CI of the VPR. */
  ci95: [number, number];
  /** Mean |predicted GA - WHO median GA of the true HC| over the scored rows, in days. */
  maeDays: number;
  bootstrap: {resamples: number; seed: string | number};
  /** Every row, scored or not (see `scored`). */
  predictions: GaPrediction[];
}

export interface GaMetricsOptions {
  /** GA of each dot-product bin in days (default GA_BIN_DAYS: 98..272). */
  gaDays?: readonly number[];
  /** Bins in the median (default 15, as the official script). */
  topBins?: number;
  /** Bootstrap resamples (default 10,000) and seed (default 42), as the official script (the generator is the project's own). */
  resamples?: number;
  seed?: string | number;
}

/**
 * FetalCLIP's zero-shot GA evaluation (zero_shot_hc18/test_ga_postprocess_dot_prods.py)
 * from per-image dot products: predicted GA = the median of the top-N bins; valid when the
 * true HC lies in the WHO 2.5..97.5 percentile band at that GA; only true HC in [100, 342] mm
 * is scored; VPR with a percentile bootstrap CI; MAE against the WHO median GA.
 */
export function gaMetrics(rows: readonly GaDotProductRow[], options: GaMetricsOptions = {}): GaMetrics {
  const {gaDays = GA_BIN_DAYS, topBins = GA_TOP_BINS, resamples = 10_000, seed = 42} = options;
  const predictions = gaPredictions(rows, gaDays, topBins);
  const scored = predictions.filter((p) => p.scored);
  if (scored.length === 0) throw new Error("gaMetrics: no row has a true HC in FetalCLIP's scored range [100, 342] mm");
  const vpr = validPredictionRate(scored.map((p) => p.valid), {resamples, seed});
  return {
    topBins,
    total: rows.length,
    n: vpr.count,
    valid: vpr.valid,
    vpr: vpr.rate,
    ci95: vpr.ci95,
    maeDays: scored.reduce((sum, p) => sum + Math.abs(p.errorDays), 0) / scored.length,
    bootstrap: {resamples, seed},
    predictions
  };
}
