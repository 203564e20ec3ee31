// `fetalclip segment-probe` and the page's loader: the segmentation probe on a dataset
// with masks. Patch tokens come from the embedding store (embed-dataset
// --patch-tokens, cached, written to their own table so the site's embeddings.arrow
// is not rewritten); masks from the dataset: the phantom's label PNGs (head, abdomen,
// femur, heart; the CHD set's chambers and septum), or HC18's ellipse outlines filled
// as FetalCLIP's preprocessing fills them. Splits are patient-level: the phantom's
// split column; for HC18, FetalCLIP's released segmentation split files when they are
// beside the project (a fold's train/val ids and test_id.json, ids compared as
// integers), else a seeded draw.
import {existsSync, readFileSync} from "node:fs";
import {basename, dirname, join, relative} from "node:path";
import {encode} from "fast-png";
import {decodeEmbeddingTable} from "../../src/lib/embeddingTable.js";
import {centreCrop} from "../../src/lib/image/crop.js";
import {toRgb8} from "../../src/lib/image/convert.js";
import {decodeImage, imageDimensions} from "../../src/lib/image/decode.js";
import {padToSquare} from "../../src/lib/image/pad.js";
import {resizeShorterSide} from "../../src/lib/image/resize.js";
import {createRng} from "../../src/lib/random.js";
import {
  predictLogits,
  scoreSegmentationHead,
  SEGMENTATION_SETTINGS,
  trainSegmentationHead,
  type SegmentationSet,
  type SegmentationSettings,
  type StructureScores
} from "../../src/lib/probes/segmentation.js";
import {fillOutline, labelMask, maskToInputSize, outlinePixels} from "../../src/lib/image/masks.js";
import type {SegmentationExample} from "../../src/lib/probeResults.js";
import "../jpeg.js";
import {readManifest as readBundleManifest} from "../bundles.js";
import {openDataset, type Dataset} from "../datasets/registry.js";
import {readMaskImage} from "../maskImage.js";
import {defaultEmbeddingsDir, embedDataset} from "../embeddings/embedDataset.js";
import {SHARED_DIR} from "../paths.js";
import type {ExecutionProvider} from "../session.js";

export const SEGMENT_PROBE_FORMAT = "fetalclip-explorer/segment-probe@1";

export interface SegmentProbeOptions {
  /** Model bundle folder. */
  model: string;
  /** Registry name (phantom, phantom-chd, hc18) or a phantom / HC18 folder. */
  dataset: string;
  /** Structures to segment (default: every one the dataset's masks have). */
  structures?: string[];
  seed?: string | number;
  /** Overrides of SEGMENTATION_SETTINGS (epochs, learningRate, loss, lossSize...). */
  settings?: Partial<SegmentationSettings>;
  /** HC18 with the released split files: which probing fold's train/val ids (0-4, default 0). */
  fold?: number;
  /** Bootstrap resamples of the CIs (default 1000). */
  resamples?: number;
  /** Example predictions to return per structure (default 0). */
  examples?: number;
  /** Where the table with patch tokens goes (default: the store's table folder of the dataset and model, "+patches"). */
  embeddingsDir?: string;
  cacheDir?: string;
  ep?: ExecutionProvider | "auto";
  threads?: number;
  limit?: number;
  log?: (message: string) => void;
}

export interface SegmentSplit {
  /** "split column" (the phantom's), "official files, fold N" (HC18's released ids) or "seeded". */
  source: string;
  trainPatients: number;
  valPatients: number;
  testPatients: number;
  trainImages: number;
  valImages: number;
  testImages: number;
  notes: string[];
}

/** An example as the site shows it (base64 PNGs at the encoder's input size), plus the predicted probability (0-255). */
export interface SegmentExample extends SegmentationExample {
  probability: string;
}

export interface SegmentProbeReport {
  format: typeof SEGMENT_PROBE_FORMAT;
  model: string;
  dataset: string;
  layout: string;
  /** Which head produced the Dice, in words. */
  head: string;
  grid: number;
  size: number;
  dim: number;
  structures: StructureScores[];
  split: SegmentSplit;
  training: SegmentationSettings & {lossSize: number; seed: string | number; keptEpoch: number; trainLoss: number[]; valLoss: number[]};
  seconds: number;
  examples?: SegmentExample[];
}

interface MaskSource {
  structures: string[];
  /** The image's label maps as binary masks per structure (original resolution) and the size. */
  read(imageIndex: number): {masks: Uint8Array[]; width: number; height: number};
}

/** A mask must cover its image pixel for pixel, or it would be padded and resized out of register. */
function checkSameSize(maskPath: string, mask: {width: number; height: number}, imagePath: string): void {
  let dims: {width: number; height: number} | null = null;
  try {
    dims = imageDimensions(new Uint8Array(readFileSync(imagePath)));
  } catch {
    return; // an unreadable image fails (and is reported) in the embedding job
  }
  if (dims && (dims.width !== mask.width || dims.height !== mask.height)) {
    throw new Error(`${maskPath}: the mask is ${mask.width} x ${mask.height} px but its image ${imagePath} is ${dims.width} x ${dims.height}`);
  }
}

/** The phantom's structures: manifest `structures` (CHD set) or its mask labels, skull named head (the label covers the whole head to the skull's outer edge). */
function phantomMasks(dataset: Dataset): MaskSource {
  const manifestPath = join(dataset.root, "manifest.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    maskLabels?: Record<string, number>;
    structures?: Record<string, number[]>;
    samples: {file: string; maskFile?: string}[];
  };
  let structures: Record<string, number[]>;
  if (manifest.structures) structures = manifest.structures;
  else if (manifest.maskLabels) {
    structures = {};
    for (const [name, value] of Object.entries(manifest.maskLabels)) {
      if (name !== "background") structures[name === "skull" ? "head" : name] = [value];
    }
  } else throw new Error(`${manifestPath}: no maskLabels or structures: cannot segment this phantom`);
  for (const [name, values] of Object.entries(structures)) {
    if (!Array.isArray(values) || values.some((v) => !Number.isInteger(v) || v < 0 || v > 255)) throw new Error(`${manifestPath}: structure ${name} should list mask values 0-255`);
  }
  const maskOf = new Map(manifest.samples.map((s) => [s.file.split(/[\\/]/).join("/"), s.maskFile]));
  const names = Object.keys(structures);
  return {
    structures: names,
    read(i) {
      const image = dataset.images[i]!;
      const maskFile = maskOf.get(image.id);
      if (!maskFile) throw new Error(`${manifestPath}: sample ${image.id} has no maskFile`);
      const path = join(dataset.root, maskFile);
      if (relative(dataset.root, path).startsWith("..")) throw new Error(`${manifestPath}: maskFile ${JSON.stringify(maskFile)} of ${image.id} is outside the dataset folder`);
      const mask = readMaskImage(path);
      if (mask.channels !== 1) throw new Error(`${path}: a phantom mask should be an 8-bit grey label map`);
      checkSameSize(path, mask, image.path);
      return {masks: names.map((n) => labelMask(mask.data, structures[n]!)), width: mask.width, height: mask.height};
    }
  };
}

/** HC18's annotation of an image: annotations/<stem>_Annotation.png (the subsets' layout) or beside the image (training_set/). */
export function hc18AnnotationPath(root: string, imagePath: string): string {
  const stem = basename(imagePath).replace(/\.png$/i, "");
  const candidates = [join(root, "annotations", `${stem}_Annotation.png`), join(dirname(imagePath), `${stem}_Annotation.png`)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${imagePath}: no HC18 annotation (looked for ${candidates.join(", ")})`);
  return found;
}

/** HC18's head: the ellipse outline of each *_Annotation.png, filled. */
function hc18Masks(dataset: Dataset): MaskSource {
  return {
    structures: ["head"],
    read(i) {
      const path = hc18AnnotationPath(dataset.root, dataset.images[i]!.path);
      const a = readMaskImage(path);
      checkSameSize(path, a, dataset.images[i]!.path);
      const filled = fillOutline(outlinePixels(a.data, a.width, a.height, a.channels), a.width, a.height);
      let inside = 0;
      for (const v of filled) inside += v;
      if (inside === 0) throw new Error(`${path}: no outline found (expected a white ellipse outline on black)`);
      if (inside > 0.9 * filled.length) throw new Error(`${path}: the outline is not closed (its fill covers ${(100 * inside / filled.length).toFixed(0)}% of the image)`);
      return {masks: [filled], width: a.width, height: a.height};
    }
  };
}

function maskSource(dataset: Dataset): MaskSource {
  if (dataset.layout === "phantom" || dataset.layout === "phantom-chd") return phantomMasks(dataset);
  if (dataset.layout === "hc18") return hc18Masks(dataset);
  throw new Error(`segment-probe: dataset ${dataset.name} (${dataset.layout} layout, ${dataset.root}) has no segmentation masks; use phantom, phantom-chd, hc18 or a folder of one of them`);
}

const toInt = (id: string) => Number.parseInt(id, 10);

/** HC18 splits from FetalCLIP's released files: fold's train/val ids, test_id.json; ids compared as integers. */
function hc18OfficialSplit(patients: (string | null)[], fold: number): {role: ("train" | "val" | "test" | null)[]; source: string; notes: string[]} | null {
  const dir = join(SHARED_DIR, "reference", "fetalclip");
  const trainValFile = join(dir, "segmentation_hc_probing_train_val_split.json");
  const testFile = join(dir, "segmentation_hc_probing_test_id.json");
  if (!existsSync(trainValFile) || !existsSync(testFile)) return null;
  const parse = (file: string) => {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as unknown;
    } catch (error) {
      throw new Error(`${file}: not JSON (${(error as Error).message})`);
    }
  };
  const folds = parse(trainValFile) as Record<string, [string[], string[]]>;
  const testIds = parse(testFile) as Record<string, string>;
  const entry = folds?.[String(fold)];
  if (!Array.isArray(entry) || entry.length !== 2 || !entry.every(Array.isArray)) throw new Error(`${trainValFile}: no fold "${fold}" as [train_ids, val_ids]`);
  if (typeof testIds !== "object" || testIds === null || Array.isArray(testIds)) throw new Error(`${testFile}: expected {id: "test"}`);
  const test = new Set(Object.keys(testIds).map(toInt));
  const train = new Set(entry[0].map(toInt));
  const val = new Set(entry[1].map(toInt));
  let overlap = 0;
  const role = patients.map((p) => {
    if (p === null) return null;
    const id = toInt(p);
    if (test.has(id)) {
      if (train.has(id) || val.has(id)) overlap++;
      return "test" as const;
    }
    return train.has(id) ? ("train" as const) : val.has(id) ? ("val" as const) : null;
  });
  const notes = [
    `ids from ${basename(trainValFile)} (fold ${fold}) and ${basename(testFile)}, compared as integers`,
    `${overlap} images of test subjects also listed in the fold's train/val ids (the released test ids below 100 are unpadded and also in train_val_split.json): kept in test only, so no test subject is trained on (the official code trains on them too)`
  ];
  const unlisted = role.filter((r) => r === null).length;
  if (unlisted > 0) notes.push(`${unlisted} images of subjects in none of the lists were left out`);
  return {role, source: `official files, fold ${fold}`, notes};
}

/** A seeded patient-level split: 70% train, 10% val, 20% test. */
function seededSplit(patients: (string | null)[], seed: string | number): ("train" | "val" | "test" | null)[] {
  const ids = [...new Set(patients.filter((p): p is string => p !== null))].sort();
  createRng(`segment-probe-split/${String(seed)}`).shuffle(ids);
  const nTest = Math.max(1, Math.round(0.2 * ids.length));
  const nVal = Math.max(1, Math.round(0.1 * ids.length));
  const role = new Map<string, "train" | "val" | "test">();
  ids.forEach((id, k) => role.set(id, k < nTest ? "test" : k < nTest + nVal ? "val" : "train"));
  return patients.map((p) => (p === null ? null : role.get(p)!));
}

function pngBase64(data: Uint8Array, size: number): string {
  return Buffer.from(encode({width: size, height: size, data, channels: 1, depth: 8})).toString("base64");
}

/** The image as the encoder saw it: zero-padded to a square, bicubic to size, centre crop; grey from the first channel. */
function inputImageGrey(path: string, size: number): Uint8Array {
  const rgb = centreCrop(resizeShorterSide(padToSquare(toRgb8(decodeImage(new Uint8Array(readFileSync(path))))), size), size);
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = rgb.data[3 * i]!;
  return out;
}

/** Runs the segmentation probe of a model on a dataset with masks; the report `fetalclip segment-probe` prints. */
export async function runSegmentProbe(options: SegmentProbeOptions): Promise<SegmentProbeReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 0;
  const bundle = readBundleManifest(options.model);
  const dataset = openDataset(options.dataset, {limit: options.limit});
  const source = maskSource(dataset);
  const wanted = options.structures && options.structures.length > 0 ? options.structures : source.structures;
  for (const s of wanted) {
    if (!source.structures.includes(s)) throw new Error(`--structure ${s}: dataset ${dataset.name} has ${source.structures.join(", ")}`);
  }
  // 1. Patch tokens through the embedding store, in a table of their own.
  const embeddingsDir = options.embeddingsDir ?? `${defaultEmbeddingsDir(dataset.name, bundle.id)}+patches`;
  const job = await embedDataset({
    model: options.model, dataset, outDir: embeddingsDir, cacheDir: options.cacheDir, patchTokens: true, ep: options.ep, threads: options.threads, log, progressSeconds: 5
  });
  const table = decodeEmbeddingTable(new Uint8Array(readFileSync(job.out)));
  if (!table.patchEmbeddings) throw new Error(`${job.out}: no patch_embeddings column (the model's image graph has no patch tokens?)`);
  const {tokens, values} = table.patchEmbeddings;
  const dim = table.embedDim;
  const size = bundle.image.size;
  const n = table.ids.length;
  if (job.failed.length > 0) log(`segment-probe: ${job.failed.length} images failed to embed and are left out`);

  // 2. Masks in the encoder's input geometry.
  const indexOfId = new Map(dataset.images.map((im, i) => [im.id, i]));
  const allIndex = wanted.map((s) => source.structures.indexOf(s));
  const masks = wanted.map(() => new Uint8Array(n * size * size));
  const maskStarted = performance.now();
  table.ids.forEach((id, row) => {
    const read = source.read(indexOfId.get(id)!);
    allIndex.forEach((k, j) => masks[j]!.set(maskToInputSize(read.masks[k]!, read.width, read.height, size), row * size * size));
  });
  log(`segment-probe: ${n} masks (${wanted.join(", ")}) at ${size} px in ${((performance.now() - maskStarted) / 1000).toFixed(1)} s`);
  const set: SegmentationSet = {features: {values, n, tokens, dim}, structures: wanted, masks, size};

  // 3. Patient-level split.
  const column = (name: string) => table.columns.find((c) => c.name === name)?.values.map((v) => (v === null ? null : String(v))) ?? new Array<string | null>(n).fill(null);
  const patients = column("patient");
  let role: ("train" | "val" | "test" | null)[];
  let splitSource: string;
  const notes: string[] = [];
  const official = dataset.layout === "hc18" ? hc18OfficialSplit(patients, options.fold ?? 0) : null;
  if (official) {
    role = official.role;
    splitSource = official.source;
    notes.push(...official.notes);
  } else if (dataset.layout !== "hc18" && column("split").some((s) => s === "test")) {
    role = column("split").map((s) => (s === "train" || s === "val" || s === "test" ? s : null));
    splitSource = "split column";
  } else {
    role = seededSplit(patients, seed);
    splitSource = "seeded";
    notes.push("patients drawn with the seed: 70% train, 10% val, 20% test");
  }
  const rowsOf = (r: string) => role.flatMap((x, i) => (x === r ? [i] : []));
  const train = rowsOf("train");
  const val = rowsOf("val");
  const test = rowsOf("test");
  if (train.length === 0 || test.length === 0) throw new Error(`segment-probe: dataset ${dataset.name} has ${train.length} training and ${test.length} test images after the split (${splitSource})`);
  const countPatients = (rows: number[]) => new Set(rows.map((i) => patients[i] ?? `#${i}`)).size;

  // 4. Train, score.
  const settings: SegmentationSettings = {...SEGMENTATION_SETTINGS, ...(options.settings ?? {})};
  const trainStarted = performance.now();
  const trained = trainSegmentationHead(set, train, val, settings, seed);
  const grid = trained.head.grid;
  const lossSize = Math.min(size, Math.max(grid, settings.lossSize ?? 4 * grid));
  log(`segment-probe: head trained on ${train.length} images (${settings.epochs} epochs, kept ${trained.epoch}) in ${((performance.now() - trainStarted) / 1000).toFixed(1)} s`);
  const groups = patients.map((p, i) => p ?? `#${i}`);
  const {scores, images} = scoreSegmentationHead(trained.head, set, train, test, {groups, resamples: options.resamples ?? 1000, seed});

  const report: SegmentProbeReport = {
    format: SEGMENT_PROBE_FORMAT,
    model: bundle.id,
    dataset: dataset.name,
    layout: dataset.layout,
    head: `linear per-patch head (1x1 convolution) on the frozen projected patch tokens (${grid}x${grid}x${dim}), logits upsampled bilinearly to ${size} px, threshold 0.5; not the paper's UNETR-style decoder`,
    grid,
    size,
    dim,
    structures: scores,
    split: {
      source: splitSource,
      trainPatients: countPatients(train),
      valPatients: countPatients(val),
      testPatients: countPatients(test),
      trainImages: train.length,
      valImages: val.length,
      testImages: test.length,
      notes
    },
    training: {...settings, lossSize, seed, keptEpoch: trained.epoch, trainLoss: trained.trainLoss, valLoss: trained.valLoss},
    seconds: (performance.now() - started) / 1000
  };

  // 5. Examples: per structure, the first test images (by id) that show it.
  const perStructure = options.examples ?? 0;
  if (perStructure > 0) {
    report.examples = [];
    wanted.forEach((structure, k) => {
      for (const s of images[k]!.filter((x) => x.present).slice(0, perStructure)) {
        const logits = predictLogits(trained.head, set.features, s.image, k);
        const mask = masks[k]!.subarray(s.image * size * size, (s.image + 1) * size * size);
        const prediction = new Uint8Array(size * size);
        const probability = new Uint8Array(size * size);
        for (let q = 0; q < size * size; q++) {
          prediction[q] = logits[q]! > 0 ? 255 : 0;
          probability[q] = Math.round(255 / (1 + Math.exp(-logits[q]!)));
        }
        const id = table.ids[s.image]!;
        report.examples!.push({
          id,
          structure,
          dice: s.dice,
          size,
          image: pngBase64(inputImageGrey(dataset.images[indexOfId.get(id)!]!.path, size), size),
          mask: pngBase64(mask.map((v) => (v ? 255 : 0)), size),
          prediction: pngBase64(prediction, size),
          probability: pngBase64(probability, size)
        });
      }
    });
  }
  return report;
}
