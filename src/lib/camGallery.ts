// The CAM page's gallery, isomorphically: the archive's index (cam.zip: every (dataset,
// model)'s `fetalclip cam` artifacts, the images as the model sees them, the masks of
// the structures that score them), the overlay of a map on its image (colour maps,
// opacity), the structure's outline, and the per-image scores as CSV. The loader
// writes what this module reads; the page draws with it; the browser test checks the
// page's pixels against it.
import {interpolateInferno, interpolateTurbo, interpolateViridis, rgb} from "d3";
import {decode as decodePng} from "fast-png";
import type {CamArtifactIndex, CamMethod} from "./cam/camArtifact.js";
import {modelInputGrey} from "./image/inputView.js";
import type {SpriteSheetInfo} from "./embeddingMap.js";

export {modelInputGrey};

export const CAM_GALLERY_FORMAT = "fetalclip-explorer/cam-gallery@1";

/** How the page names the two methods. */
export const CAM_METHOD_NAMES: Readonly<Record<CamMethod, string>> = {scorecam: "ScoreCAM", similarity: "one-pass"};

export interface CamGalleryEntry {
  /** `${dataset}/${model}`: also the folder of this entry's members in cam.zip. */
  key: string;
  dataset: {id: string; name: string};
  model: {id: string; name: string};
  /** Model input side: maps, images and masks are imageSize x imageSize. */
  imageSize: number;
  gridSize: number;
  classes: string[];
  /** Member names of each method's artifact (METHOD.json, METHOD.grids.u8, as `fetalclip cam` writes them). */
  methods: Partial<Record<CamMethod, {index: string; grids: string}>>;
  /** The images as the model sees them (square-padded, resized to imageSize, grey), one sprite-sheet cell each: cell i is ids[i]. */
  images: {file: string; info: SpriteSheetInfo; ids: string[]};
  /** Bit-packed masks (packMask) of each image's target structure, image i (ids[i], explained as targets[i]) at i x bytesPerImage; all zero when it has none. */
  masks: {file: string; ids: string[]; targets: string[]; bytesPerImage: number};
  /** How the ScoreCAM subset was chosen, in words. */
  scorecamSubset: string;
  /** What each method cost on the build machine (null when every map came from the cache). */
  seconds: Partial<Record<CamMethod, number | null>>;
  failed: {method: CamMethod; id: string; error: string}[];
}

export interface CamGalleryIndex {
  format: typeof CAM_GALLERY_FORMAT;
  entries: CamGalleryEntry[];
  /** Configured (dataset, model) pairs that could not be built, and why. */
  skipped: {dataset: string; model: string; error: string}[];
}

export function checkCamGalleryIndex(value: unknown, where = "cam.zip index.json"): CamGalleryIndex {
  const v = value as Partial<CamGalleryIndex> | null;
  if (!v || typeof v !== "object" || v.format !== CAM_GALLERY_FORMAT) throw new Error(`${where}: not a ${CAM_GALLERY_FORMAT} file`);
  if (!Array.isArray(v.entries) || !Array.isArray(v.skipped)) throw new Error(`${where}: missing entries or skipped`);
  return v as CamGalleryIndex;
}

// ---------------------------------------------------------------------------
// Masks: one bit a pixel, row-major, most significant bit first.

export function maskBytes(pixels: number): number {
  return Math.ceil(pixels / 8);
}

export function packMask(mask: ArrayLike<number>, out = new Uint8Array(maskBytes(mask.length))): Uint8Array {
  if (out.length !== maskBytes(mask.length)) throw new Error(`packMask: ${out.length} bytes for ${mask.length} pixels`);
  out.fill(0);
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

export function unpackMask(bytes: Uint8Array, pixels: number): Uint8Array {
  if (bytes.length !== maskBytes(pixels)) throw new Error(`unpackMask: ${bytes.length} bytes for ${pixels} pixels`);
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return out;
}

/**
 * The outline of a size x size mask as unit segments on pixel edges [x0, y0, x1, y1]
 * (pixel corners, 0..size): every edge between a mask pixel and a non-mask pixel or
 * the border. Drawn scaled, it traces the mask exactly, at any zoom.
 */
export function maskOutline(mask: ArrayLike<number>, size: number): number[] {
  if (mask.length !== size * size) throw new Error(`maskOutline: ${mask.length} pixels for ${size} x ${size}`);
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < size && y < size && Boolean(mask[y * size + x]);
  const segments: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      if (!inside(x, y - 1)) segments.push(x, y, x + 1, y);
      if (!inside(x, y + 1)) segments.push(x, y + 1, x + 1, y + 1);
      if (!inside(x - 1, y)) segments.push(x, y, x, y + 1);
      if (!inside(x + 1, y)) segments.push(x + 1, y, x + 1, y + 1);
    }
  }
  return segments;
}

/** The map's maximum, first in row-major order on ties: the pixel the pointing game checks (as localise). */
export function mapPeak(map: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i]! > map[best]!) best = i;
  return best;
}

// ---------------------------------------------------------------------------
// Colour maps and the overlay.

export type ColourMapName = "jet" | "turbo" | "viridis" | "inferno";
export const COLOUR_MAPS: readonly ColourMapName[] = ["jet", "turbo", "viridis", "inferno"];
export const COLOUR_MAP_NOTES: Readonly<Record<ColourMapName, string>> = {
  jet: "jet (grad-cam's default)",
  turbo: "turbo",
  viridis: "viridis",
  inferno: "inferno"
};

const clamp01 = (v: number) => Math.max(0, Math.min(1, v));

/** MATLAB's jet, the ramp OpenCV's COLORMAP_JET samples: blue, cyan, yellow, red. */
export function jetColour(t: number): [number, number, number] {
  const x = clamp01(t);
  const channel = (shift: number) => Math.round(255 * clamp01(Math.min(4 * x - shift, -4 * x + shift + 3)));
  return [channel(1.5), channel(0.5), channel(-0.5)];
}

const INTERPOLATORS: Record<Exclude<ColourMapName, "jet">, (t: number) => string> = {turbo: interpolateTurbo, viridis: interpolateViridis, inferno: interpolateInferno};
const luts = new Map<ColourMapName, Uint8Array>();

/** 256 RGB triplets: entry k is the colour of map value k / 255. */
export function colourMapLut(name: ColourMapName): Uint8Array {
  let lut = luts.get(name);
  if (lut) return lut;
  if (!COLOUR_MAPS.includes(name)) throw new Error(`colourMapLut: unknown colour map ${JSON.stringify(name)} (${COLOUR_MAPS.join(", ")})`);
  lut = new Uint8Array(256 * 3);
  for (let k = 0; k < 256; k++) {
    const t = k / 255;
    const c = name === "jet" ? jetColour(t) : (({r, g, b}) => [r, g, b])(rgb(INTERPOLATORS[name](t)));
    lut.set(c.map((v) => Math.max(0, Math.min(255, Math.round(v)))), 3 * k);
  }
  luts.set(name, lut);
  return lut;
}

/** A map value in [0, 1] to its colour-map entry: round(255 v), clamped. */
export function mapLevel(v: number): number {
  return v >= 1 ? 255 : v > 0 ? Math.round(255 * v) : 0;
}

/**
 * The overlay the page draws: each pixel (1 - opacity) x grey + opacity x colour of the
 * map, rounded, opaque. `grey` and `map` are the same size x size pixels (the model's
 * input view and camImageMap's map of it).
 */
export function overlayRgba(grey: ArrayLike<number>, map: ArrayLike<number>, lut: Uint8Array, opacity: number, out = new Uint8ClampedArray(4 * grey.length)): Uint8ClampedArray {
  if (map.length !== grey.length) throw new Error(`overlayRgba: map has ${map.length} pixels, image ${grey.length}`);
  if (out.length !== 4 * grey.length) throw new Error(`overlayRgba: output holds ${out.length} values, need ${4 * grey.length}`);
  const a = clamp01(opacity);
  const b = 1 - a;
  for (let i = 0, o = 0; i < grey.length; i++, o += 4) {
    const g = b * grey[i]!;
    const k = 3 * mapLevel(map[i]!);
    out[o] = Math.round(g + a * lut[k]!);
    out[o + 1] = Math.round(g + a * lut[k + 1]!);
    out[o + 2] = Math.round(g + a * lut[k + 2]!);
    out[o + 3] = 255;
  }
  return out;
}

/** A grey sprite-sheet PNG (8 or 4 bits, as spriteSheetPng writes it) as one byte a pixel, 4-bit levels scaled to 0-255 (x 17) as PIL reads them. */
export function decodeGreySheet(png: Uint8Array): {width: number; height: number; data: Uint8Array} {
  const image = decodePng(png);
  const {width, height, depth, channels} = image;
  if (channels !== 1 || image.palette || (depth !== 8 && depth !== 4)) throw new Error(`decodeGreySheet: expected an 8- or 4-bit grey PNG, got ${channels} channel(s) of ${depth} bits`);
  if (depth === 8) return {width, height, data: new Uint8Array(image.data as Uint8Array)};
  const packed = image.data as Uint8Array;
  const stride = Math.ceil(width / 2);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = packed[y * stride + (x >> 1)]!;
      data[y * width + x] = (x & 1 ? byte & 15 : byte >> 4) * 17;
    }
  }
  return {width, height, data};
}

/** Cell i of a grey sprite sheet (decoded, one byte a pixel) as cell x cell pixels. */
export function sheetCell(sheet: Uint8Array, info: SpriteSheetInfo, i: number): Uint8Array {
  const {cell, columns, rows} = info;
  const width = columns * cell;
  if (sheet.length !== width * rows * cell) throw new Error(`sheetCell: the sheet holds ${sheet.length} pixels, expected ${width} x ${rows * cell}`);
  if (!Number.isInteger(i) || i < 0 || i >= columns * rows) throw new Error(`sheetCell: cell ${i} is not in [0, ${columns * rows})`);
  const x0 = (i % columns) * cell;
  const y0 = Math.floor(i / columns) * cell;
  const out = new Uint8Array(cell * cell);
  for (let y = 0; y < cell; y++) out.set(sheet.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + cell), y * cell);
  return out;
}

// ---------------------------------------------------------------------------
// Per-image scores.

export const CAM_SCORES_COLUMNS = [
  "dataset", "model", "method", "id", "label", "target", "structure", "predicted", "probability", "target_probability", "correct", "localisation", "pointing_hit", "uniform_baseline"
] as const;

function csvCell(value: string | number | boolean | null): string {
  if (value === null || (typeof value === "number" && Number.isNaN(value))) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvNumber = (v: number) => Number(v.toPrecision(7));

/** Every image of every given artifact, one row per (method, image), as CAM_SCORES_COLUMNS. */
export function camScoresCsv(entry: Pick<CamGalleryEntry, "dataset" | "model">, artifacts: readonly CamArtifactIndex[]): string {
  const lines = [CAM_SCORES_COLUMNS.join(",")];
  for (const a of artifacts) {
    for (const e of a.images) {
      const l = e.localisation;
      const row: (string | number | boolean | null)[] = [
        entry.dataset.id, entry.model.id, a.method, e.id, e.label, e.target, a.structures[e.target] ?? null, e.predicted, csvNumber(e.probability), csvNumber(e.targetProbability),
        e.label === null ? null : e.predicted === e.label, l ? csvNumber(l.share) : null, l ? l.hit : null, l ? csvNumber(l.uniform) : null
      ];
      lines.push(row.map(csvCell).join(","));
    }
  }
  return `${lines.join("\r\n")}\r\n`;
}
