// Sprite sheets of a chosen list of images (the phantom's test split, the HC18 images at
// hand), through the Embeddings page's cached sheet builder: one PNG per page, no request
// per image, and a rebuild with nothing changed decodes nothing.
import type {Dataset} from "../datasets/registry.js";
import {datasetSpriteSheet, type SpriteSheet} from "../embeddingMaps/thumbnails.js";

export interface SheetImage {
  id: string;
  /** Absolute path of the file. */
  path: string;
}

/**
 * The sheet of `images` in this order (cell i = images[i]), cached under
 * FETALCLIP_CACHE/thumbnails/<name>/ (a name of its own per list: the cache keeps one sheet per name).
 */
export function imageSheet(name: string, images: readonly SheetImage[], options: {cell: number; bits: 4 | 8; log?: (m: string) => void}): SpriteSheet {
  const dataset: Dataset = {name, layout: "folder", root: "", columns: [], images: images.map((im) => ({id: im.id, path: im.path, meta: {}})), warnings: []};
  return datasetSpriteSheet(dataset, options);
}
