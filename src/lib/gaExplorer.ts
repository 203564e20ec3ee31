// The Gestational-age page's artifact (ga.zip), written by the loader in Node and read by
// the page in the browser with the same code: for each source (a model on a dataset, or
// FetalCLIP's released HC18 dot products), every image's true HC, its 175 GA dot products
// and, where one exists, its thumbnail. Scoring is the core's (tasks/gestationalAge.ts
// gaMetrics / gaPredictions); here: the format, exact compact dot products, and error by
// GA trimester.
import {GA_MIN_DAYS} from "./biometry.js";
import type {SpriteSheetInfo} from "./embeddingMap.js";
import type {GaDotProductRow, GaPrediction} from "./tasks/gestationalAge.js";

export const GA_EXPLORER_FORMAT = "fetalclip-explorer/ga@1";

/**
 * How the dot products are stored, little-endian, row-major [rows, bins]:
 * "f64": float64 as computed; "i32e5": round(100000 x value) as int32, used only when
 * every value has at most 5 decimals (the released file's), so decoding gives back the
 * exact doubles JSON.parse gave. For "i32e5" each row stores its first value and then the
 * differences between neighbouring bins (a curve moves little from one day to the next),
 * as four byte planes (all low bytes, then the next...): the zip's deflate then shrinks the
 * released 999 x 175 values to about 410 KB, against 575 KB for plain int32.
 */
export type DotProductEncoding = "f64" | "i32e5";

export interface GaSourceEntry {
  /** Folder of the source's members in ga.zip. */
  id: string;
  /** What the menu shows: model and dataset. */
  name: string;
  model: string;
  dataset: string;
  /** Where the numbers come from, in a sentence. */
  note: string;
  rows: number;
  /** GA of each bin in days (98..272 for FetalCLIP's 175 bins). */
  gaDays: number[];
  dotProducts: {file: string; encoding: DotProductEncoding};
  /** Member holding GaSourceImages (JSON). */
  images: string;
  /** The sprite sheet of the rows that have an image, or null. */
  thumbnails: ({file: string} & SpriteSheetInfo) | null;
  /** Rows with a thumbnail. */
  withImages: number;
  /** Whether the true GA is known (the phantom), not only the HC (HC18). */
  trueGa: boolean;
  /** A published result for these rows, shown beside ours (the paper's VPR), or null. */
  reported: {vpr: number; ci95: [number, number]; n: number; topBins: number; note: string} | null;
}

export interface GaExplorerIndex {
  format: typeof GA_EXPLORER_FORMAT;
  sources: GaSourceEntry[];
  /** Sources that could not be built, and why. */
  skipped: {source: string; error: string}[];
  /** What the artifact was built from (the reference folder's key): a stale cached copy is told apart by it. */
  key: string;
}

/** Per-row facts of a source, in row order. */
export interface GaSourceImages {
  /** Image id (path in its dataset), or null when the row names no file (HC18 rows without a local image). */
  ids: (string | null)[];
  trueHcMm: number[];
  /** True GA in days, null where unknown. */
  trueGaDays: (number | null)[];
  /** Thumbnail cell, -1 where none. */
  cell: number[];
}

const SCALE = 100_000;

/** Encodes dot-product rows compactly and exactly (see DotProductEncoding). */
export function encodeDotProducts(rows: readonly ArrayLike<number>[], bins: number): {bytes: Uint8Array; encoding: DotProductEncoding} {
  rows.forEach((row, i) => {
    if (row.length !== bins) throw new Error(`encodeDotProducts: row ${i} has ${row.length} values, expected ${bins}`);
  });
  let exact = true;
  for (const row of rows) {
    for (let j = 0; j < bins && exact; j++) {
      const v = row[j]!;
      const scaled = Math.round(v * SCALE);
      if (!Number.isFinite(v) || Math.abs(scaled) >= 2 ** 31 || scaled / SCALE !== v) exact = false;
    }
    if (!exact) break;
  }
  const n = rows.length * bins;
  if (exact) {
    const planes = new Uint8Array(4 * n);
    rows.forEach((row, i) => {
      let previous = 0;
      for (let j = 0; j < bins; j++) {
        const scaled = Math.round(row[j]! * SCALE);
        const delta = (scaled - previous) | 0;
        previous = scaled;
        const at = i * bins + j;
        for (let b = 0; b < 4; b++) planes[b * n + at] = (delta >>> (8 * b)) & 0xff;
      }
    });
    return {bytes: planes, encoding: "i32e5"};
  }
  const out = new Float64Array(n);
  rows.forEach((row, i) => {
    for (let j = 0; j < bins; j++) out[i * bins + j] = row[j]!;
  });
  const view = new DataView(new ArrayBuffer(8 * n));
  out.forEach((v, k) => view.setFloat64(8 * k, v, true));
  return {bytes: new Uint8Array(view.buffer), encoding: "f64"};
}

/** Decodes encodeDotProducts' bytes into one Float64Array per row. */
export function decodeDotProducts(bytes: Uint8Array, encoding: DotProductEncoding, rows: number, bins: number, what = "dot products"): Float64Array[] {
  const width = encoding === "i32e5" ? 4 : encoding === "f64" ? 8 : 0;
  if (!width) throw new Error(`${what}: unknown encoding ${JSON.stringify(encoding)}`);
  if (bytes.length !== rows * bins * width) throw new Error(`${what}: ${bytes.length} bytes, expected ${rows} x ${bins} values of ${width} bytes`);
  const n = rows * bins;
  if (encoding === "i32e5") {
    return Array.from({length: rows}, (_, i) => {
      const row = new Float64Array(bins);
      let value = 0;
      for (let j = 0; j < bins; j++) {
        const at = i * bins + j;
        const delta = bytes[at]! | (bytes[n + at]! << 8) | (bytes[2 * n + at]! << 16) | (bytes[3 * n + at]! << 24);
        value = (value + delta) | 0;
        row[j] = value / SCALE;
      }
      return row;
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({length: rows}, (_, i) => Float64Array.from({length: bins}, (_, j) => view.getFloat64(8 * (i * bins + j), true)));
}

/** The rows gaMetrics takes, from a source's images and decoded dot products. */
export function gaRows(images: GaSourceImages, dotProducts: readonly Float64Array[]): GaDotProductRow[] {
  if (images.trueHcMm.length !== dotProducts.length) throw new Error(`gaRows: ${images.trueHcMm.length} images but ${dotProducts.length} dot-product rows`);
  return dotProducts.map((row, i) => ({trueHcMm: images.trueHcMm[i]!, dotProducts: row}));
}

/** Trimesters by GA (ACOG): the first ends at 13w6d, the second at 27w6d. */
export const TRIMESTERS = [
  {name: "first", label: "first (< 14 w)", fromDays: 0, toDays: GA_MIN_DAYS},
  {name: "second", label: "second (14–27 w)", fromDays: GA_MIN_DAYS, toDays: 28 * 7},
  {name: "third", label: "third (≥ 28 w)", fromDays: 28 * 7, toDays: Infinity}
] as const;

export interface TrimesterError {
  trimester: (typeof TRIMESTERS)[number]["name"];
  label: string;
  /** Scored images whose reference GA falls in the trimester. */
  n: number;
  /** Mean |predicted - reference| GA, days (NaN when n = 0). */
  maeDays: number;
  /** Mean signed error (predicted - reference), days: above 0 the model dates heads older. */
  biasDays: number;
  /** Share of valid predictions. */
  vpr: number;
}

/**
 * Error by trimester over the scored predictions. The reference GA is the true GA where
 * it is known (`trueGaDays`), else the WHO median GA of the true HC (the core's
 * whoMedianGaDays, the error gaMetrics' MAE uses).
 */
export function errorByTrimester(predictions: readonly GaPrediction[], trueGaDays?: readonly (number | null)[]): TrimesterError[] {
  return TRIMESTERS.map((t) => {
    let n = 0, abs = 0, signed = 0, valid = 0;
    for (const p of predictions) {
      if (!p.scored) continue;
      const reference = trueGaDays?.[p.index] ?? p.whoMedianGaDays;
      if (reference < t.fromDays || reference >= t.toDays) continue;
      const error = p.predictedGaDays - reference;
      n++;
      abs += Math.abs(error);
      signed += error;
      if (p.valid) valid++;
    }
    return {trimester: t.name, label: t.label, n, maeDays: n ? abs / n : Number.NaN, biasDays: n ? signed / n : Number.NaN, vpr: n ? valid / n : Number.NaN};
  });
}

/**
 * Bins of the top-N dot products, ascending by GA, and the one the median picks (index
 * floor(N / 2) of them), with estimateGaDays' ranking (ties: the lower bin first).
 */
export function topBins(dotProducts: ArrayLike<number>, topN: number): {bins: number[]; median: number} {
  if (!Number.isInteger(topN) || topN < 1 || topN > dotProducts.length) throw new Error(`topBins: N must be an integer in [1, ${dotProducts.length}], got ${topN}`);
  const ranked = Array.from({length: dotProducts.length}, (_, i) => i);
  ranked.sort((i, j) => (dotProducts[i]! > dotProducts[j]! ? -1 : dotProducts[i]! < dotProducts[j]! ? 1 : i - j));
  const bins = ranked.slice(0, topN).sort((i, j) => i - j);
  return {bins, median: bins[Math.floor(topN / 2)]!};
}

/** "22w 3d" from days. */
export function formatGa(days: number): string {
  const whole = Math.round(days);
  return `${Math.floor(whole / 7)}w ${whole % 7}d`;
}
