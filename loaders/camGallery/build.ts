// The CAM page's artifacts for one (dataset, model), through `fetalclip cam`'s job and
// its content-addressed CAM cache (nothing changed, no model loaded): one-pass
// similarity maps for every image of the test split, ScoreCAM for the first few
// images of each class (ScoreCAM costs 1 + channels forwards an image), the images
// as the model sees them in one grey sprite sheet, and the bit-packed mask of the
// structure each image is scored against. Sheets and masks are cached under
// FETALCLIP_CACHE/cam-gallery/, keyed by their inputs and the code that makes them.
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";
import {camArtifactFiles, checkCamArtifact, type CamArtifactIndex, type CamMethod} from "../../src/lib/cam/camArtifact.js";
import {maskBytes, modelInputGrey, packMask, type CamGalleryEntry} from "../../src/lib/camGallery.js";
import type {SpriteSheetInfo} from "../../src/lib/embeddingMap.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {spriteSheetLayout, spriteSheetPng} from "../../src/lib/image/thumbnail.js";
import "../jpeg.js"; // loads the JPEG decoder before any image is decoded
import {readManifest} from "../bundles.js";
import {runCamJob, type CamJobResult} from "../cam/camJob.js";
import {structureMasks} from "../cam/camMasks.js";
import {openDataset, type Dataset} from "../datasets/registry.js";
import {writeFileAtomic} from "../embeddings/cache.js";
import {datasetDisplayName, modelDisplayName} from "../embeddingMaps/build.js";
import {pruneOtherKeys, sourceKey} from "../embeddingMaps/sourceKey.js";
import {CACHE_DIR} from "../paths.js";
import type {ConfiguredDataset, ConfiguredModel} from "../projectConfig.js";

export const CAM_GALLERY_DIR = join(CACHE_DIR, "cam-gallery");
/** ScoreCAM images per class: the demo model's 128 channels make ~0.3-0.8 s an image on 2 CPU cores; FetalCLIP's 1,024 about 8x that per forward, 8x the forwards. */
export const SCORECAM_PER_CLASS = 8;
/** One-pass maps for at most this many images of a dataset's test split (a page shows them all). */
export const MAX_GALLERY_IMAGES = 1200;
/** Grey levels of the image sheet: 16 keep the phantom's 591 test images at 112 px near 1.8 MB (8 bits: 5.3 MB). */
export const GALLERY_SHEET_BITS = 4;
const GALLERY_VERSION = 1;
/** The modules whose code shapes the image sheet, and the masks: editing one rebuilds what it shapes. */
const SHEET_CODE = ["src/lib/image/inputView.ts", "src/lib/image/resize.ts", "src/lib/image/pad.ts", "src/lib/image/crop.ts", "src/lib/image/convert.ts", "src/lib/image/thumbnail.ts"];
const MASK_CODE = ["src/lib/camGallery.ts", "src/lib/cam/localisation.ts", "src/lib/image/masks.ts", "loaders/cam/camMasks.ts", "loaders/maskImage.ts"];

export interface BuiltCamGallery {
  entry: CamGalleryEntry;
  /** cam.zip members of this entry (the sheet is shared by the dataset's entries of one image size). */
  files: Record<string, Uint8Array>;
  work: Record<CamMethod, Pick<CamJobResult, "computed" | "cached" | "seconds" | "modelLoaded">>;
}

function imageStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size} ${Math.round(s.mtimeMs)}`;
  } catch {
    return "missing";
  }
}

/** The ScoreCAM subset: the first `perClass` images (by id) explained as each class, in id order. */
export function scoreCamSubset(similarity: Pick<CamArtifactIndex, "classes" | "images">, perClass: number): string[] {
  const taken = new Map<string, number>();
  const ids: string[] = [];
  for (const image of similarity.images) {
    const n = taken.get(image.target) ?? 0;
    if (n >= perClass) continue;
    taken.set(image.target, n + 1);
    ids.push(image.id);
  }
  return ids.sort();
}

/** The dataset's images as the model sees them (imageSize grey), one sheet cell each, cached by the images' stamps. */
function imageSheet(dataset: Dataset, name: string, ids: readonly string[], size: number, log: (m: string) => void): {png: Uint8Array; info: SpriteSheetInfo; failed: {id: string; error: string}[]; key: string} {
  const byId = new Map(dataset.images.map((image) => [image.id, image]));
  const hash = createHash("sha256").update(`cam-gallery sheet@${GALLERY_VERSION} code ${sourceKey(SHEET_CODE)} size=${size} bits=${GALLERY_SHEET_BITS}\n`);
  for (const id of ids) hash.update(`${id}\t${imageStamp(byId.get(id)?.path ?? "")}\n`);
  const key = hash.digest("hex").slice(0, 24);
  const dir = join(CAM_GALLERY_DIR, name);
  const files = {png: join(dir, `images-${size}-${key}.png`), json: join(dir, `images-${size}-${key}.json`)};
  if (existsSync(files.png) && existsSync(files.json)) {
    const meta = JSON.parse(readFileSync(files.json, "utf8")) as {info: SpriteSheetInfo; failed: {id: string; error: string}[]};
    return {png: new Uint8Array(readFileSync(files.png)), ...meta, key};
  }
  const started = performance.now();
  const failed: {id: string; error: string}[] = [];
  const cells = ids.map((id) => {
    try {
      const image = byId.get(id);
      if (!image) throw new Error("not in the dataset");
      return modelInputGrey(decodeImage(new Uint8Array(readFileSync(image.path))), size);
    } catch (error) {
      failed.push({id, error: (error as Error).message});
      return null;
    }
  });
  const info = spriteSheetLayout(cells.length, size, GALLERY_SHEET_BITS);
  const png = spriteSheetPng(cells, info);
  mkdirSync(dir, {recursive: true});
  writeFileAtomic(dir, `images-${size}-${key}.png`, [png]);
  writeFileAtomic(dir, `images-${size}-${key}.json`, [new TextEncoder().encode(JSON.stringify({info, failed}))]);
  pruneOtherKeys(dir, `${size}-${key}`, /^images-(\d+-[0-9a-f]{24})\.(png|json)$/);
  log(`cam gallery ${name}: ${cells.length} images at ${size} px in ${((performance.now() - started) / 1000).toFixed(1)} s, ${(png.length / 1e6).toFixed(2)} MB`);
  return {png, info, failed, key};
}

/**
 * The masks of each image's target structure, packed, image i at i x bytesPerImage (zeros
 * when it has none: the artifact's localisation is null then). Keyed by the artifact,
 * whose localisation changes with any mask.
 */
function targetMasks(dataset: Dataset, dir: string, artifact: CamArtifactIndex, artifactBytes: Uint8Array): Uint8Array {
  const key = createHash("sha256").update(`cam-gallery masks@${GALLERY_VERSION} code ${sourceKey(MASK_CODE)}\n`).update(artifactBytes).digest("hex").slice(0, 24);
  const file = join(dir, `masks-${key}.bits`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const size = artifact.imageSize;
  const per = maskBytes(size * size);
  const out = new Uint8Array(artifact.images.length * per);
  const byId = new Map(dataset.images.map((image) => [image.id, image]));
  const masks = structureMasks(dataset);
  artifact.images.forEach((e, i) => {
    if (!e.localisation) return;
    const mask = masks(byId.get(e.id)!, e.target, size);
    if (mask) packMask(mask, out.subarray(i * per, (i + 1) * per));
  });
  mkdirSync(dir, {recursive: true});
  writeFileAtomic(dir, `masks-${key}.bits`, [out]);
  pruneOtherKeys(dir, key, /^(masks)-([0-9a-f]{24})\.bits$/);
  return out;
}

export async function buildCamGallery(dataset: ConfiguredDataset, model: ConfiguredModel, log: (m: string) => void = () => {}): Promise<BuiltCamGallery> {
  const opened = openDataset(dataset.dataset);
  const manifest = readManifest(model.dir);
  const key = `${dataset.name}/${model.name}`;
  const jobDir = join(CAM_GALLERY_DIR, dataset.name, model.name);
  const common = {model: model.dir, dataset: opened, outDir: jobDir, variant: model.variant, ep: "cpu" as const, progressSeconds: 10, log: (m: string) => log(`${key}: ${m}`)};
  const read = (method: CamMethod) => {
    const names = camArtifactFiles(method);
    const indexBytes = new Uint8Array(readFileSync(join(jobDir, names.index)));
    const index = checkCamArtifact(JSON.parse(new TextDecoder().decode(indexBytes)), join(jobDir, names.index));
    return {index, indexBytes, grids: new Uint8Array(readFileSync(join(jobDir, names.grids)))};
  };

  const similarityJob = await runCamJob({...common, method: "similarity", limit: MAX_GALLERY_IMAGES});
  const similarity = read("similarity");
  const subset = scoreCamSubset(similarity.index, SCORECAM_PER_CLASS);
  const scorecamJob = await runCamJob({...common, method: "scorecam", ids: subset});
  const scorecam = read("scorecam");

  const size = similarity.index.imageSize;
  const ids = similarity.index.images.map((e) => e.id);
  const sheet = imageSheet(opened, dataset.name, ids, size, log);
  const masks = targetMasks(opened, jobDir, similarity.index, similarity.indexBytes);
  // Named by its key: two models of one input size share the sheet of the same images.
  const sheetFile = `${dataset.name}/images-${size}-${sheet.key.slice(0, 12)}.png`;
  const files: Record<string, Uint8Array> = {[sheetFile]: sheet.png, [`${key}/masks.bits`]: masks};
  const methods: CamGalleryEntry["methods"] = {};
  for (const [method, a] of [["similarity", similarity], ["scorecam", scorecam]] as const) {
    const names = camArtifactFiles(method);
    methods[method] = {index: `${key}/${names.index}`, grids: `${key}/${names.grids}`};
    files[methods[method]!.index] = a.indexBytes;
    files[methods[method]!.grids] = a.grids;
  }
  const entry: CamGalleryEntry = {
    key,
    dataset: {id: dataset.name, name: datasetDisplayName(dataset.name)},
    model: {id: model.name, name: modelDisplayName(manifest.name, manifest.id, model)},
    imageSize: size,
    gridSize: similarity.index.gridSize,
    classes: similarity.index.classes,
    methods,
    images: {file: sheetFile, info: sheet.info, ids},
    masks: {file: `${key}/masks.bits`, ids, targets: similarity.index.images.map((e) => e.target), bytesPerImage: maskBytes(size * size)},
    scorecamSubset: `the first ${SCORECAM_PER_CLASS} images (by id) of each class`,
    seconds: {similarity: similarityJob.computed > 0 ? similarityJob.seconds : null, scorecam: scorecamJob.computed > 0 ? scorecamJob.seconds : null},
    failed: [
      ...similarityJob.failed.map((f) => ({method: "similarity" as const, ...f})),
      ...scorecamJob.failed.map((f) => ({method: "scorecam" as const, ...f})),
      ...sheet.failed.map((f) => ({method: "similarity" as const, id: f.id, error: `image for display: ${f.error}`}))
    ]
  };
  log(`cam gallery ${key}: ${ids.length} one-pass maps (${similarityJob.computed} computed), ${subset.length} ScoreCAM maps (${scorecamJob.computed} computed)`);
  return {entry, files, work: {similarity: pick(similarityJob), scorecam: pick(scorecamJob)}};
}

function pick(r: CamJobResult): Pick<CamJobResult, "computed" | "cached" | "seconds" | "modelLoaded"> {
  return {computed: r.computed, cached: r.cached, seconds: r.seconds, modelLoaded: r.modelLoaded};
}
