// The files `fetalclip cam --out DIR` writes and the CAM page reads: per method,
// METHOD.json (what was explained, per-image predictions and localisation, the
// summary) and METHOD.grids.u8 (every image's map at grid resolution, one byte per
// cell). Localisation is computed from the stored bytes, so a page that rebuilds a
// map with gridToImageMap(dequantizeGrid(...)) gets the very pixels that were scored.
import type {LocalisationReport, Localisation} from "./localisation.js";
import {gridToImageMap} from "./upsample.js";

export const CAM_ARTIFACT_FORMAT = "fetalclip-explorer/cam@1";
export type CamMethod = "scorecam" | "similarity";
export const CAM_METHODS: readonly CamMethod[] = ["scorecam", "similarity"];

/** File names of a method's artifact inside --out. */
export function camArtifactFiles(method: CamMethod): {index: string; grids: string} {
  return {index: `${method}.json`, grids: `${method}.grids.u8`};
}

export interface CamImageEntry {
  /** Dataset image id (as in embeddings.arrow). */
  id: string;
  /** The image's true class (dataset `plane`, or `sub_plane` for the sub-plane task); null when unlabelled. */
  label: string | null;
  /** The class the map explains (the true class, as FetalCLIP's scripts do; --class, or the prediction when the label is not a prompt class). */
  target: string;
  /** Top-1 zero-shot class of the unmasked image and its probability. */
  predicted: string;
  probability: number;
  /** Probability of the target class. */
  targetProbability: number;
  /** Against the mask of the target's defining structure; null when the image has none. */
  localisation: Localisation | null;
  /** Similarity maps: the smallest and largest raw patch cosine (the grid's bytes are min-max scaled). */
  cosineRange?: [number, number];
}

export interface CamArtifactIndex {
  format: typeof CAM_ARTIFACT_FORMAT;
  method: CamMethod;
  /** Bundle id, the embedding store's model key (weights, importer, variant, preprocessing; as in embeddings.arrow) and variant. */
  model: string;
  modelKey: string;
  variant: string;
  dataset: string;
  /** "planes" (FetalCLIP's 9 prompt classes) or "subplanes" (3 brain sub-planes). */
  task: string;
  classes: string[];
  /** Model input side (maps at image resolution are imageSize x imageSize) and the patch grid side. */
  imageSize: number;
  gridSize: number;
  /** The grids file beside this one: images.length x gridSize^2 bytes, image i at offset i * gridSize^2, value round(255 x grid). */
  grids: string;
  /** Structure each scored class is judged by. */
  structures: Record<string, string>;
  /** How the maps were made, in words (protocol, batch size, channels). */
  protocol: string;
  summary: LocalisationReport;
  images: CamImageEntry[];
}

/** A grid in [0, 1] as bytes: round(255 x v), clamped. */
export function quantizeGrid(grid: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(grid.length);
  for (let i = 0; i < grid.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(grid[i]! * 255)));
  return out;
}

/** Bytes back to a grid in [0, 1]. */
export function dequantizeGrid(bytes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 255;
  return out;
}

/** Image i's grid (g^2 values in [0, 1]) from a grids file. */
export function camGrid(index: Pick<CamArtifactIndex, "gridSize" | "images">, grids: Uint8Array, i: number): Float32Array {
  const cells = index.gridSize * index.gridSize;
  if (grids.length !== index.images.length * cells) throw new Error(`camGrid: the grids file holds ${grids.length} bytes, expected ${index.images.length} x ${cells}`);
  if (!Number.isInteger(i) || i < 0 || i >= index.images.length) throw new Error(`camGrid: image ${i} is not in [0, ${index.images.length})`);
  return dequantizeGrid(grids.subarray(i * cells, (i + 1) * cells));
}

/** Image i's map at the model's input size (imageSize^2 values in [0, 1]): what was scored, what the page overlays. */
export function camImageMap(index: Pick<CamArtifactIndex, "gridSize" | "imageSize" | "images">, grids: Uint8Array, i: number): Float32Array {
  return gridToImageMap(camGrid(index, grids, i), index.gridSize, index.imageSize);
}

/** Checks a parsed METHOD.json against the format (the page calls it on load). */
export function checkCamArtifact(value: unknown, where = "cam artifact"): CamArtifactIndex {
  const v = value as Partial<CamArtifactIndex> | null;
  if (!v || typeof v !== "object" || v.format !== CAM_ARTIFACT_FORMAT) throw new Error(`${where}: not a ${CAM_ARTIFACT_FORMAT} file`);
  if (!CAM_METHODS.includes(v.method as CamMethod)) throw new Error(`${where}: unknown method ${JSON.stringify(v.method)}`);
  if (!Number.isInteger(v.gridSize) || !Number.isInteger(v.imageSize) || !Array.isArray(v.images) || !Array.isArray(v.classes)) throw new Error(`${where}: missing gridSize, imageSize, classes or images`);
  return v as CamArtifactIndex;
}
