// npm run bench -- augment: what FetalCLIP's training-time augmentation costs per image, against
// the standard preprocessing measured in the same run (the peer). On real FETAL_PLANES_DB scans
// from ../shared/data/planes (the phantom's 224 px images when it is missing), decoded once:
// - peer: preprocessImage, the zero-shot pipeline (pad, PIL bicubic resize, normalise);
// - the probing pipeline's copy 0 (pad, OpenCV bicubic resize, normalise);
// - one augmented copy (pad, colour jitter / CLAHE / shift-rotate as drawn, OpenCV resize, normalise);
// - the official ops one by one on a padded scan with every op active (jitter, CLAHE, warp, resize).
// Options: --images N (default 24), --size PX (model input, default 224), --repeat N (default 3).
import {existsSync, readdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {parseArgs} from "node:util";
import "../loaders/jpeg.js";
import {PHANTOM_DIR} from "../loaders/paths.js";
import {applyAugmentation, drawAugmentParams, OFFICIAL_PROBE_AUGMENTATION, type AugmentationSpec} from "../src/lib/image/augment.js";
import {decodeImage} from "../src/lib/image/decode.js";
import {padToSquareAny, probeInputTensor, toGreyOrRgb8} from "../src/lib/image/probeInput.js";
import {resizeCubicCv} from "../src/lib/image/resizeCubicCv.js";
import type {RasterImage} from "../src/lib/image/raster.js";
import {preprocessImage} from "../src/lib/preprocess.js";
import {createRng} from "../src/lib/random.js";
import {sharedPath} from "../tests/shared.js";

const MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

function images(limit: number): {source: string; rasters: RasterImage[]} {
  const real = sharedPath("data", "planes", "images");
  const dir = existsSync(real) ? real : join(PHANTOM_DIR, "images");
  const names = readdirSync(dir).filter((n) => /\.png$/i.test(n)).sort().slice(0, limit);
  return {source: dir, rasters: names.map((n) => decodeImage(new Uint8Array(readFileSync(join(dir, n)))))};
}

/** Median milliseconds per image of `work` over the images, best of `repeat` passes. */
function perImageMs(rasters: RasterImage[], repeat: number, work: (r: RasterImage, i: number) => void): number {
  let best = Infinity;
  for (let pass = 0; pass < repeat; pass++) {
    const t0 = performance.now();
    rasters.forEach(work);
    best = Math.min(best, (performance.now() - t0) / rasters.length);
  }
  return best;
}

export async function run(args: string[]): Promise<void> {
  const {values} = parseArgs({args, options: {images: {type: "string", default: "24"}, size: {type: "string", default: "224"}, repeat: {type: "string", default: "3"}}});
  const size = Number(values.size), repeat = Number(values.repeat);
  const spec = {size, mean: MEAN, std: STD};
  const {source, rasters} = images(Number(values.images));
  const sizes = rasters.map((r) => `${r.width}x${r.height}`);
  const common = [...new Set(sizes)].sort((a, b) => sizes.filter((s) => s === b).length - sizes.filter((s) => s === a).length)[0];
  process.stderr.write(`bench augment: ${rasters.length} images from ${source} (most common size ${common}, mode ${rasters[0]!.mode}), input ${size} px\n`);

  const peer = perImageMs(rasters, repeat, (r) => preprocessImage(r, spec));
  const copy0 = perImageMs(rasters, repeat, (r) => probeInputTensor(r, spec));
  const augmented = perImageMs(rasters, repeat, (r, i) => probeInputTensor(r, spec, {rng: createRng(`bench/${i}`)}));

  // Every op forced on (drawn, jitter and CLAHE are skipped half the time each).
  const padded = rasters.map((r) => padToSquareAny(toGreyOrRgb8(r)));
  const always: AugmentationSpec = {
    colorJitter: {...OFFICIAL_PROBE_AUGMENTATION.colorJitter, p: 1},
    clahe: {...OFFICIAL_PROBE_AUGMENTATION.clahe, p: 1},
    shiftScaleRotate: {...OFFICIAL_PROBE_AUGMENTATION.shiftScaleRotate, p: 1}
  };
  const forced = padded.map((img, i) => drawAugmentParams(createRng(`bench/forced/${i}`), img.width, img.height, always));
  const allOps = perImageMs(rasters, repeat, (_, i) => resizeCubicCv(applyAugmentation(padded[i]!, forced[i]!), size, size));

  const lines = [
    `augmentation cost per image, ${rasters.length} ${common} ${rasters[0]!.mode} images (best of ${repeat} passes), input ${size} px:`,
    `  peer, zero-shot preprocessing (pad, PIL bicubic, normalise): ${peer.toFixed(2)} ms`,
    `  probing pipeline, copy 0 (pad, OpenCV bicubic, normalise):  ${copy0.toFixed(2)} ms (${(copy0 / peer).toFixed(2)}x peer)`,
    `  one augmented copy as drawn (jitter p 0.5, CLAHE p 0.5, shift-rotate): ${augmented.toFixed(2)} ms (${(augmented / peer).toFixed(2)}x peer)`,
    `  every op applied (jitter, CLAHE, shift-rotate, resize; no normalise): ${allOps.toFixed(2)} ms (${(allOps / peer).toFixed(2)}x peer)`,
    `  pixels of 10,000 augmented copies (one thread): ${((10000 * augmented) / 1000 / 60).toFixed(1)} min, before the image encoder`
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

