// Image files through a bundle's image encoder, in Node: decode, preprocess as the
// browser does, embed in batches. The zero-shot and GA tasks that score the
// embeddings live in the isomorphic core (src/lib/tasks).
import {readFileSync} from "node:fs";
import type {ClipModel} from "../../src/lib/clipModel.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
import "../jpeg.js"; // loads the JPEG decoder before any image is decoded

/** A file that could not be used, and why. */
export interface ImageFailure {
  path: string;
  reason: string;
}

export interface EncodedImages {
  /** Embeddings of the files that could be read, in input order (ok[k] is the input index of embeds[k]). */
  embeds: Float32Array[];
  /** Width and height of each embedded file as decoded, px. */
  sizes: Array<[number, number]>;
  ok: number[];
  /** Missing, unreadable or undecodable files: reported, skipped, never fatal to the batch. */
  failed: ImageFailure[];
}

/** Reads and decodes one image file; the error names the file. */
function readImageFile(path: string) {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? "the file does not exist" : `cannot read it (${(error as Error).message})`);
  }
  return decodeImage(bytes);
}

/** Decodes, preprocesses (the bundle's size, mean, std) and embeds image files, 32 at a time; bad files are skipped and listed. */
export async function encodeImageFiles(model: ClipModel, paths: readonly string[], log: (m: string) => void = () => {}): Promise<EncodedImages> {
  const {size, mean, std} = model.manifest.image;
  const result: EncodedImages = {embeds: [], sizes: [], ok: [], failed: []};
  const batch = 32;
  for (let i = 0; i < paths.length; i += batch) {
    const pixels: Float32Array[] = [];
    paths.slice(i, i + batch).forEach((path, j) => {
      try {
        const raster = readImageFile(path);
        pixels.push(preprocessImage(raster, {size, mean, std}));
        result.sizes.push([raster.width, raster.height]);
        result.ok.push(i + j);
      } catch (error) {
        const reason = (error as Error).message.replace(/^decodeImage: /, "");
        result.failed.push({path, reason});
        log(`  skipped ${path}: ${reason}`);
      }
    });
    if (pixels.length > 0) result.embeds.push(...(await model.encodeImages(pixels)).embeddings);
    if ((i / batch) % 5 === 4) log(`  ${Math.min(i + batch, paths.length)}/${paths.length} images encoded`);
  }
  return result;
}

/** Median image-encoder latency at batch 1 (ms) over 30 runs after 3 warm-ups. */
export async function batch1LatencyMs(model: ClipModel): Promise<number> {
  const size = model.imageSize;
  const x = new Float32Array(3 * size * size).map((_, i) => Math.sin(i));
  for (let i = 0; i < 3; i++) await model.encodeImages([x]);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await model.encodeImages([x]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
