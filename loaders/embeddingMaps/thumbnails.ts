// A dataset's thumbnail sprite sheet (one grey PNG, cell i = the dataset's i-th image
// by id), cached under FETALCLIP_CACHE/thumbnails/<dataset>/ and keyed by every image's
// id, size and modification time, so a rebuild with nothing changed decodes nothing.
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";
import type {SpriteSheetInfo} from "../../src/lib/embeddingMap.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import "../jpeg.js"; // loads the JPEG decoder before any image is decoded
import {spriteSheetLayout, spriteSheetPng, thumbnailGray} from "../../src/lib/image/thumbnail.js";
import type {Dataset} from "../datasets/registry.js";
import {writeFileAtomic} from "../embeddings/cache.js";
import {CACHE_DIR} from "../paths.js";
import {pruneOtherKeys, sourceKey} from "./sourceKey.js";

export const THUMBNAILS_DIR = join(CACHE_DIR, "thumbnails");
/** 48 px cells at 16 grey levels: ~0.6 KB a thumbnail once compressed, 6 MB for 10,000. */
export const THUMBNAIL_CELL = 48;
export const THUMBNAIL_BITS = 4;
const THUMBNAILS_VERSION = 1;
/** The modules whose code shapes a sheet: editing one rebuilds it. */
const SHEET_CODE = ["src/lib/image/thumbnail.ts", "src/lib/image/convert.ts"];

export interface SpriteSheet {
  png: Uint8Array;
  info: SpriteSheetInfo;
  /** The cell of each image id. */
  cellOf: Map<string, number>;
  /** Images whose thumbnail could not be made (their cell stays black). */
  failed: {id: string; error: string}[];
  /** Whether it came from the cache. */
  cached: boolean;
}

function sheetKey(dataset: Dataset, cell: number, bits: number): string {
  const hash = createHash("sha256").update(`thumbnails@${THUMBNAILS_VERSION} code ${sourceKey(SHEET_CODE)} cell=${cell} bits=${bits}\n`);
  for (const image of dataset.images) {
    let stamp = "missing";
    try {
      const s = statSync(image.path);
      stamp = `${s.size} ${Math.round(s.mtimeMs)}`;
    } catch {
      // a missing file gets a black cell; its stamp still keys the sheet
    }
    hash.update(`${image.id}\t${stamp}\n`);
  }
  return hash.digest("hex").slice(0, 24);
}

export function datasetSpriteSheet(dataset: Dataset, options: {cell?: number; bits?: 4 | 8; log?: (m: string) => void} = {}): SpriteSheet {
  const cell = options.cell ?? THUMBNAIL_CELL;
  const bits = options.bits ?? THUMBNAIL_BITS;
  const log = options.log ?? (() => {});
  const dir = join(THUMBNAILS_DIR, dataset.name);
  const key = sheetKey(dataset, cell, bits);
  const pngFile = join(dir, `sheet-${key}.png`);
  const jsonFile = join(dir, `sheet-${key}.json`);
  const cellOf = new Map(dataset.images.map((image, i) => [image.id, i]));
  if (existsSync(jsonFile) && existsSync(pngFile)) {
    const meta = JSON.parse(readFileSync(jsonFile, "utf8")) as {info: SpriteSheetInfo; failed: {id: string; error: string}[]};
    return {png: new Uint8Array(readFileSync(pngFile)), info: meta.info, cellOf, failed: meta.failed, cached: true};
  }
  const started = performance.now();
  const failed: {id: string; error: string}[] = [];
  const thumbnails = dataset.images.map((image) => {
    try {
      return thumbnailGray(decodeImage(new Uint8Array(readFileSync(image.path))), cell);
    } catch (error) {
      failed.push({id: image.id, error: (error as Error).message});
      return null;
    }
  });
  const info = spriteSheetLayout(thumbnails.length, cell, bits);
  const png = spriteSheetPng(thumbnails, info);
  mkdirSync(dir, {recursive: true});
  writeFileAtomic(dir, `sheet-${key}.png`, [png]);
  writeFileAtomic(dir, `sheet-${key}.json`, [new TextEncoder().encode(JSON.stringify({info, failed, images: dataset.images.length}))]);
  pruneOtherKeys(dir, key, /^(sheet)-([0-9a-f]{24})\.(png|json)$/);
  log(`thumbnails: ${dataset.name}: ${thumbnails.length} cells of ${cell} px in ${((performance.now() - started) / 1000).toFixed(1)} s, ${(png.length / 1e6).toFixed(2)} MB`);
  return {png, info, cellOf, failed, cached: false};
}
