// Image files through a bundle's image encoder, in Node: decode, preprocess as the
// browser does, embed in batches. The zero-shot and GA tasks that score the
// embeddings live in the isomorphic core (src/lib/tasks).
import {readFileSync} from "node:fs";
import type {ClipModel} from "../../src/lib/clipModel.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {preprocessImage} from "../../src/lib/preprocess.js";

export interface EncodedImages {
  embeds: Float32Array[];
  /** Width and height of each file as decoded, px. */
  sizes: Array<[number, number]>;
}

/** Decodes, preprocesses (the bundle's size, mean, std) and embeds image files, 32 at a time. */
export async function encodeImageFiles(model: ClipModel, paths: readonly string[], log: (m: string) => void = () => {}): Promise<EncodedImages> {
  const {size, mean, std} = model.manifest.image;
  const embeds: Float32Array[] = [];
  const sizes: Array<[number, number]> = [];
  const batch = 32;
  for (let i = 0; i < paths.length; i += batch) {
    const pixels = paths.slice(i, i + batch).map((path) => {
      let raster;
      try {
        raster = decodeImage(new Uint8Array(readFileSync(path)));
      } catch (error) {
        throw new Error(`${path}: ${(error as Error).message}`);
      }
      sizes.push([raster.width, raster.height]);
      return preprocessImage(raster, {size, mean, std});
    });
    embeds.push(...(await model.encodeImages(pixels)).embeddings);
    if ((i / batch) % 5 === 4) log(`  ${Math.min(i + batch, paths.length)}/${paths.length} images encoded`);
  }
  return {embeds, sizes};
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
