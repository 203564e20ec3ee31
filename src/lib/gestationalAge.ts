// Zero-shot gestational age (GA) from a fetal head image, as FetalCLIP's HC18
// evaluation does it (zero_shot_hc18/test_ga_dot_prods_map.py and
// test_ga_postprocess_dot_prods.py): 5 prompt templates x 175 GA bins that state
// the image's pixel spacing, a median over the best-matching bins, and validity
// against the WHO head-circumference chart.

import {hcQuantileMm} from "./biometry.js";
import {l2Normalize} from "./vector.js";

/** FetalCLIP's GA prompt templates ({weeks}, {day}, {pixel_spacing} placeholders), verbatim. */
export const GA_PROMPT_TEMPLATES: readonly string[] = [
  "Ultrasound image at {weeks} weeks and {day} days gestation focusing on the fetal brain, highlighting anatomical structures with a pixel spacing of {pixel_spacing} mm/pixel.",
  "Fetal ultrasound image at {weeks} weeks, {day} days of gestation, focusing on the developing brain, with a pixel spacing of {pixel_spacing} mm/pixel, highlighting the structures of the fetal brain.",
  "Fetal ultrasound image at {weeks} weeks and {day} days gestational age, highlighting the developing brain structures with a pixel spacing of {pixel_spacing} mm/pixel, providing important visual insights for ongoing prenatal assessments.",
  "Ultrasound image at {weeks} weeks and {day} days gestation, highlighting the fetal brain structures with a pixel spacing of {pixel_spacing} mm/pixel.",
  "Fetal ultrasound at {weeks} weeks and {day} days, showing a clear view of the developing brain, with an image pixel spacing of {pixel_spacing} mm/pixel."
];

/** GA bins of the prompts: every day from 14w0d to 38w6d (the script's weeks range(14, 39)). */
export const GA_FIRST_WEEK = 14;
export const GA_LAST_WEEK = 38;

/** GA of each bin in days, ascending: 98 (14w0d) .. 272 (38w6d), 175 bins. */
export const GA_BIN_DAYS: readonly number[] = Array.from(
  {length: (GA_LAST_WEEK - GA_FIRST_WEEK + 1) * 7},
  (_, i) => GA_FIRST_WEEK * 7 + i
);

/** Bins whose dot products feed the median (TOP_N_PROBS in the official script). */
export const GA_TOP_BINS = 15;

/** Only images with true HC in this range are scored: the WHO median HC at 14 and 40 weeks (official script). */
export const HC_SCORED_MIN_MM = 100;
export const HC_SCORED_MAX_MM = 342;

/** Side of the square image the model sees; the spacing in the prompt is per model pixel. */
export const MODEL_INPUT_SIZE = 224;

/** Pixel spacing (mm per model pixel) once the zero-padded square image is resized to `size`: max(w, h) / size x pixel size. */
export function pixelSpacingAfterResize(width: number, height: number, pixelSizeMm: number, size = MODEL_INPUT_SIZE): number {
  for (const [name, value] of [["width", width], ["height", height], ["pixelSizeMm", pixelSizeMm], ["size", size]] as const) {
    if (!(value > 0) || !Number.isFinite(value)) throw new Error(`pixelSpacingAfterResize: ${name} must be positive, got ${value}`);
  }
  return (Math.max(width, height) / size) * pixelSizeMm;
}

/**
 * Spacing with 2 decimals exactly as Python's f"{x:.2f}" writes it. JS toFixed
 * rounds exact binary halves (x = m/8, m odd, e.g. 0.125) up where Python rounds
 * them to even; every other value rounds the same way in both.
 */
export function formatSpacing(spacingMmPerPx: number): string {
  if (!Number.isFinite(spacingMmPerPx) || spacingMmPerPx < 0) {
    throw new Error(`formatSpacing: spacing must be a non-negative finite number, got ${spacingMmPerPx}`);
  }
  const eighths = spacingMmPerPx * 8;
  if (Number.isInteger(eighths) && eighths % 2 === 1) {
    const hundredths = Math.floor(spacingMmPerPx * 100); // exact: 12.5 x odd m
    return ((hundredths % 2 === 0 ? hundredths : hundredths + 1) / 100).toFixed(2);
  }
  return spacingMmPerPx.toFixed(2);
}

/** One GA prompt: the template with weeks, day and the formatted spacing filled in. */
export function gaPrompt(template: string, weeks: number, day: number, spacingMmPerPx: number): string {
  return template
    .replaceAll("{weeks}", String(weeks))
    .replaceAll("{day}", String(day))
    .replaceAll("{pixel_spacing}", formatSpacing(spacingMmPerPx));
}

/**
 * The 875 GA prompts for an image, template-major as the official script
 * encodes them: index = template x 175 + bin, bins ascending in GA.
 */
export function gaPrompts(spacingMmPerPx: number): string[] {
  const prompts: string[] = [];
  for (const template of GA_PROMPT_TEMPLATES) {
    for (const gaDays of GA_BIN_DAYS) prompts.push(gaPrompt(template, Math.floor(gaDays / 7), gaDays % 7, spacingMmPerPx));
  }
  return prompts;
}

/** Anything that embeds texts in batches, as ClipModel.encodeTexts does. */
export interface PromptEncoder {
  encodeTexts(texts: string[], batchSize?: number): Promise<Float32Array[]>;
}

/**
 * Embeddings of an image's 875 GA prompts, one flat [bins, dim] matrix per template
 * (the shape gaDotProducts takes), encoded 125 at a time.
 */
export async function gaPromptEmbeddings(encoder: PromptEncoder, spacingMmPerPx: number): Promise<Float32Array[]> {
  const embeds = await encoder.encodeTexts(gaPrompts(spacingMmPerPx), 125);
  const bins = GA_BIN_DAYS.length;
  const dim = embeds[0]!.length;
  return GA_PROMPT_TEMPLATES.map((_, t) => {
    const block = new Float32Array(bins * dim);
    for (let b = 0; b < bins; b++) block.set(embeds[t * bins + b]!, b * dim);
    return block;
  });
}

/**
 * Prompt-averaged GA dot products: per template, 100 x (normalised image .
 * each normalised bin embedding), averaged over templates. textEmbedsPerTemplate
 * holds one flat [bins, dim] matrix per template (rows in GA_BIN_DAYS order).
 */
export function gaDotProducts(imageEmbed: Float32Array, textEmbedsPerTemplate: readonly Float32Array[]): Float64Array {
  const dim = imageEmbed.length;
  if (textEmbedsPerTemplate.length === 0) throw new Error("gaDotProducts: no template embeddings given");
  const bins = textEmbedsPerTemplate[0]!.length / dim;
  const image = l2Normalize(imageEmbed);
  const out = new Float64Array(bins);
  textEmbedsPerTemplate.forEach((embeds, t) => {
    if (embeds.length !== bins * dim || !Number.isInteger(bins)) {
      throw new Error(`gaDotProducts: template ${t} embeddings have ${embeds.length} values, expected [${bins}, ${dim}]`);
    }
    const text = l2Normalize(embeds, dim);
    for (let b = 0; b < bins; b++) {
      let sum = 0;
      for (let i = 0; i < dim; i++) sum += image[i]! * text[b * dim + i]!;
      out[b] += (100 * sum) / textEmbedsPerTemplate.length;
    }
  });
  return out;
}

/**
 * Predicted GA (days): the 15 bins with the highest dot product, re-sorted by
 * GA, and the middle one (index 7). A median over the top bins is robust to
 * isolated spikes in the similarity curve. Ties keep the lower bin first, as
 * Python's stable sorted(..., reverse=True) does.
 */
export function estimateGaDays(
  dotProds: ArrayLike<number>,
  gaDays: readonly number[] = GA_BIN_DAYS,
  topBins: number = GA_TOP_BINS
): number {
  if (dotProds.length !== gaDays.length) {
    throw new Error(`estimateGaDays: ${dotProds.length} dot products for ${gaDays.length} GA bins`);
  }
  if (!Number.isInteger(topBins) || topBins < 1 || topBins > gaDays.length) {
    throw new Error(`estimateGaDays: topBins must be an integer in [1, ${gaDays.length}], got ${topBins}`);
  }
  const ranked = Array.from({length: dotProds.length}, (_, i) => i);
  ranked.sort((i, j) => (dotProds[i]! > dotProds[j]! ? -1 : dotProds[i]! < dotProds[j]! ? 1 : i - j));
  const best = ranked.slice(0, topBins).sort((i, j) => i - j);
  return gaDays[best[Math.floor(topBins / 2)]!]!;
}

/** Whether a true HC is in the range FetalCLIP's GA evaluation scores ([100, 342] mm). */
export function isScoredHc(trueHcMm: number): boolean {
  return trueHcMm >= HC_SCORED_MIN_MM && trueHcMm <= HC_SCORED_MAX_MM;
}

/** A GA prediction is valid when the true HC lies within the WHO 2.5th..97.5th percentile HC at the predicted GA (inclusive). */
export function isValidGaPrediction(trueHcMm: number, predGaDays: number): boolean {
  return hcQuantileMm(predGaDays, 0.025) <= trueHcMm && trueHcMm <= hcQuantileMm(predGaDays, 0.975);
}
