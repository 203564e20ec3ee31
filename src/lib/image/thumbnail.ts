// Thumbnails for the Embeddings page, isomorphically: an image shrunk to a square
// grey cell (letterboxed as the model's square padding does, box-filtered so speckle
// averages out instead of aliasing) and many cells packed into one sprite-sheet PNG,
// so a page fetches one file instead of one request per image.
import {encode as encodePng} from "fast-png";
import type {SpriteSheetInfo} from "../embeddingMap.js";
import {toRgb8} from "./convert.js";
import type {RasterImage} from "./raster.js";

/** Grey cell x cell thumbnail: the image fitted inside (black bars), each output pixel the mean of the source pixels it covers. */
export function thumbnailGray(img: RasterImage, cell: number): Uint8Array {
  const rgb = toRgb8(img);
  const {width, height, data} = rgb;
  const scale = Math.max(width, height) / cell; // source pixels per thumbnail pixel
  const ox = (cell - width / scale) / 2, oy = (cell - height / scale) / 2;
  const sum = new Float64Array(cell * cell);
  const count = new Float64Array(cell * cell);
  for (let sy = 0; sy < height; sy++) {
    const ty = Math.floor(oy + (sy + 0.5) / scale);
    if (ty < 0 || ty >= cell) continue;
    for (let sx = 0; sx < width; sx++) {
      const tx = Math.floor(ox + (sx + 0.5) / scale);
      if (tx < 0 || tx >= cell) continue;
      const k = 3 * (sy * width + sx);
      // ITU-R 601 luma, as PIL's convert("L").
      sum[ty * cell + tx]! += (data[k]! * 299 + data[k + 1]! * 587 + data[k + 2]! * 114) / 1000;
      count[ty * cell + tx]! += 1;
    }
  }
  const out = new Uint8Array(cell * cell);
  for (let i = 0; i < out.length; i++) out[i] = count[i]! > 0 ? Math.round(sum[i]! / count[i]!) : 0;
  return out;
}

/** The sprite sheet's layout for `count` cells: as square as possible. */
export function spriteSheetLayout(count: number, cell: number, bits: 4 | 8 = 4): SpriteSheetInfo {
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  return {cell, columns, rows: Math.max(1, Math.ceil(count / columns)), bits};
}

/**
 * One grey PNG holding every thumbnail, cell i at column i % columns, row floor(i / columns);
 * a missing thumbnail (null) stays black. With 4 bits, grey levels round to the nearest of 16
 * (v = 17 k), which the browser decodes back to 17 k.
 */
export function spriteSheetPng(thumbnails: readonly (Uint8Array | null)[], layout: SpriteSheetInfo): Uint8Array {
  const {cell, columns, rows, bits} = layout;
  if (thumbnails.length > columns * rows) throw new Error(`spriteSheetPng: ${thumbnails.length} thumbnails do not fit ${columns} x ${rows} cells`);
  const width = columns * cell, height = rows * cell;
  const grey = new Uint8Array(width * height);
  thumbnails.forEach((t, i) => {
    if (!t) return;
    if (t.length !== cell * cell) throw new Error(`spriteSheetPng: thumbnail ${i} has ${t.length} pixels, expected ${cell} x ${cell}`);
    const x0 = (i % columns) * cell, y0 = Math.floor(i / columns) * cell;
    for (let y = 0; y < cell; y++) grey.set(t.subarray(y * cell, (y + 1) * cell), (y0 + y) * width + x0);
  });
  if (bits === 8) return encodePng({width, height, data: grey, channels: 1, depth: 8});
  const stride = Math.ceil(width / 2);
  const packed = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const level = Math.round(grey[y * width + x]! / 17);
      packed[y * stride + (x >> 1)]! |= x & 1 ? level : level << 4;
    }
  }
  return encodePng({width, height, data: packed, channels: 1, depth: 4});
}
