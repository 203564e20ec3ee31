// `fetalclip cam`: ScoreCAM or one-pass similarity maps for a chosen set of a
// dataset's images, through the CAM cache, into OUT/METHOD.json + OUT/METHOD.grids.u8,
// with localisation against the structure masks where the dataset has them.
import {existsSync, mkdirSync, readFileSync, statSync} from "node:fs";
import {resolve} from "node:path";
import type {ModelManifest, ModelVariant} from "../../src/lib/bundle.js";
import {CAM_ARTIFACT_FORMAT, camArtifactFiles, quantizeGrid, dequantizeGrid, type CamArtifactIndex, type CamImageEntry, type CamMethod} from "../../src/lib/cam/camArtifact.js";
import {CLASS_STRUCTURE_NAMES, localise, summariseLocalisation, type LocalisationReport} from "../../src/lib/cam/localisation.js";
import {CHANNEL_MASK_EPS, classProbabilities, maskedChannelScores, SCORECAM_BATCH_SIZE, scoreCamFromScores, targetActivations, type CamImageEncoder} from "../../src/lib/cam/scoreCam.js";
import {similarityMap} from "../../src/lib/cam/similarityMap.js";
import {gridToImageMap} from "../../src/lib/cam/upsample.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {promptClassEmbeddings} from "../../src/lib/tasks/zeroShot.js";
import {argmax} from "../../src/lib/vector.js";
import {FETALCLIP_LOGIT_SCALE} from "../../src/lib/zeroShot.js";
import "../jpeg.js"; // loads the JPEG decoder before any image is decoded
import {readManifest} from "../bundles.js";
import {openDataset, type Dataset, type DatasetImage} from "../datasets/registry.js";
import {cacheKey, sha256Hex, writeFileAtomic} from "../embeddings/cache.js";
import type {NodeModel} from "../nodeModel.js";
import type {ExecutionProvider} from "../session.js";
import {CAM_CACHE_DIR, CamCache, camCacheKeyInputs, type CamRecord} from "./camCache.js";
import {structureMasks} from "./camMasks.js";
import {formatDuration} from "../duration.js";

export type CamTask = "planes" | "subplanes";
export const CAM_TASKS: readonly CamTask[] = ["planes", "subplanes"];

export interface CamJobOptions {
  model: string;
  dataset: string | Dataset;
  method: CamMethod;
  /** Explain this class for every image (default: each image's true class, or its prediction when the label is not a prompt class). */
  className?: string;
  /** These image ids (as in embeddings.arrow), in this order. */
  ids?: string[];
  /** The first N images (by id) of the split. */
  limit?: number;
  /** Which split to take without --ids (default "test"; "all" for every image; a dataset without that split gives all its images). */
  split?: string;
  /** Prompt set: FetalCLIP's 9 plane classes or its 3 brain sub-planes (cam_five_planes.py / cam_brain_subplanes.py). */
  task?: CamTask;
  outDir: string;
  cacheDir?: string;
  /** ScoreCAM: masked inputs per forward (default 16, grad-cam's); similarity: images per forward (default 8). */
  batch?: number;
  variant?: ModelVariant;
  ep?: ExecutionProvider | "auto";
  threads?: number;
  /** Seconds between progress lines (default 2). */
  progressSeconds?: number;
  /** Seconds between saves of a half-done ScoreCAM image (default 20). */
  partialSeconds?: number;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

export interface CamJobResult extends LocalisationReport {
  method: CamMethod;
  /** Images with a map (scored or not). */
  images: number;
  /** Images whose localisation was scored (a mask of their target's structure exists). */
  scored: number;
  computed: number;
  cached: number;
  failed: {id: string; error: string}[];
  out: {index: string; grids: string};
  modelLoaded: boolean;
  seconds: number;
}

/** Scoring constants that, changed, change the maps (part of the cache key and of the artifact's protocol line). */
function protocolOf(method: CamMethod, batch: number): Record<string, number | string> {
  return method === "scorecam"
    ? {scorecam: "pytorch-grad-cam 1.5.4 ScoreCAM (score_cam.py, base_cam.py)", target: "last block ln_1, class token dropped", batch, logitScale: FETALCLIP_LOGIT_SCALE, channelMaskEps: CHANNEL_MASK_EPS}
    : {similarity: "cosine(patch_embeds, class embedding), min-max", logitScale: FETALCLIP_LOGIT_SCALE};
}

/** The images to map: --ids (in order), else the split's first --limit images by id. */
export function selectCamImages(dataset: Dataset, options: Pick<CamJobOptions, "ids" | "limit" | "split">, task: CamTask, log: (m: string) => void): DatasetImage[] {
  let chosen: DatasetImage[];
  if (options.ids && options.ids.length > 0) {
    const byId = new Map(dataset.images.map((image) => [image.id, image]));
    const unknown = options.ids.filter((id) => !byId.has(id));
    if (unknown.length > 0) throw new Error(`--ids: ${unknown.length} id(s) not in dataset ${dataset.name}: ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ", ..." : ""} (ids are paths relative to the dataset folder, as in embeddings.arrow)`);
    chosen = [...new Set(options.ids)].map((id) => byId.get(id)!);
  } else {
    const split = options.split ?? "test";
    chosen = split === "all" ? dataset.images : dataset.images.filter((image) => image.meta.split === split);
    if (chosen.length === 0 && split !== "all") {
      log(`cam: dataset ${dataset.name} has no "${split}" images; taking all ${dataset.images.length}`);
      chosen = dataset.images;
    }
  }
  if (task === "subplanes") chosen = chosen.filter((image) => (BRAIN_SUBPLANE_CLASSES as readonly string[]).includes(String(image.meta.sub_plane ?? "")));
  if (options.limit !== undefined) chosen = chosen.slice(0, options.limit);
  return chosen;
}

function readImage(path: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw new Error("is not a file");
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new Error(`cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

interface Work {
  image: DatasetImage;
  hash: string;
}

export async function runCamJob(options: CamJobOptions): Promise<CamJobResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const method = options.method;
  if (method !== "scorecam" && method !== "similarity") throw new Error(`cam: unknown method "${method}": use scorecam or similarity`);
  const task = options.task ?? "planes";
  const variant = options.variant ?? "fp32";
  const batch = options.batch ?? (method === "scorecam" ? SCORECAM_BATCH_SIZE : 8);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`cam: batch must be a positive integer, got ${batch}`);
  const classes: string[] = task === "subplanes" ? [...BRAIN_SUBPLANE_CLASSES] : [...FIVE_PLANES_CLASSES];
  const promptTable: Readonly<Record<string, readonly string[]>> = task === "subplanes" ? BRAIN_SUBPLANE_PROMPTS : FIVE_PLANES_PROMPTS;
  if (options.className !== undefined && !classes.includes(options.className)) throw new Error(`--class ${options.className}: not a ${task} prompt class (${classes.join(", ")})`);
  const manifest: ModelManifest = readManifest(options.model);
  const dataset = typeof options.dataset === "string" ? openDataset(options.dataset) : options.dataset;
  for (const warning of dataset.warnings) log(`cam: ${warning}`);
  const images = selectCamImages(dataset, options, task, log);
  if (images.length === 0) throw new Error(`cam: no images selected from ${dataset.name} (${task === "subplanes" ? "no labelled brain sub-planes; " : ""}check --ids, --split and --limit)`);
  const outDir = resolve(options.outDir);
  const files = camArtifactFiles(method);
  checkCamOutDir(outDir, files);
  const prompts: [string, string[]][] = classes.map((c) => [c, [...promptTable[c]!]]);
  const cache = new CamCache(resolve(options.cacheDir ?? CAM_CACHE_DIR), camCacheKeyInputs(manifest, variant, method, prompts, protocolOf(method, batch)), log).open();
  log(`cam: ${method} on ${images.length} images of ${dataset.name} with ${manifest.id} ${variant} (${task}); cache ${cache.dir}`);

  const failed = new Map<string, string>();
  const work: Work[] = [];
  for (const image of images) {
    try {
      work.push({image, hash: sha256Hex(readImage(image.path))});
    } catch (error) {
      failed.set(image.id, (error as Error).message);
    }
  }
  const missing: Work[] = [];
  const seen = new Set<string>();
  for (const w of work) {
    if (!cache.has(w.hash) && !seen.has(w.hash)) {
      seen.add(w.hash);
      missing.push(w);
    }
  }
  let loaded: NodeModel | null = null;
  let computed = 0;
  try {
    if (missing.length > 0) {
      log(`cam: ${missing.length} images to compute, ${work.length - missing.length} cached`);
      const {loadNodeModel} = await import("../nodeModel.js");
      loaded = await loadNodeModel(options.model, {ep: options.ep, threads: options.threads, variant, log});
      const model = loaded.model;
      const classEmbeds = await promptClassEmbeddings(model, classes, promptTable);
      const encode: CamImageEncoder = (pixels, o) => model.encodeImages(pixels, o);
      const spec = {size: manifest.image.size, mean: manifest.image.mean, std: manifest.image.std};
      const preprocess = (w: Work): Float32Array | null => {
        try {
          const bytes = readImage(w.image.path);
          if (sha256Hex(bytes) !== w.hash) throw new Error("the file changed while the job ran; run it again");
          return preprocessImage(bytes, spec);
        } catch (error) {
          failed.set(w.image.id, (error as Error).message.replace(/^decodeImage: /, ""));
          log(`cam: skipped ${w.image.id}: ${failed.get(w.image.id)}`);
          return null;
        }
      };
      const progress = makeProgress(log, options.progressSeconds ?? 2);
      if (method === "scorecam") computed = await runScoreCams(missing, cache, encode, classEmbeds, preprocess, manifest.image.size, batch, options, progress, log);
      else computed = await runSimilarity(missing, cache, encode, classEmbeds, preprocess, batch, options, progress);
    } else {
      log(`cam: all ${work.length} readable images are cached; no model loaded`);
    }
  } finally {
    if (loaded) {
      await loaded.model.imageSession.release();
      await loaded.model.textSession.release();
    }
  }

  // The artifact: one grid per image (its target class), scored from the stored bytes.
  const masks = structureMasks(dataset);
  const size = manifest.image.size;
  let gridSize = 0;
  const entries: CamImageEntry[] = [];
  const grids: Uint8Array[] = [];
  for (const w of work) {
    if (failed.has(w.image.id)) continue;
    const record = cache.get(w.hash);
    if (!record) {
      failed.set(w.image.id, "no map in the cache after the job (cache changed under it?)");
      continue;
    }
    gridSize = Number(record.header.gridSize);
    const cells = gridSize * gridSize;
    const probabilities = record.blocks.probabilities!;
    const predictedIndex = argmax(probabilities);
    const labelValue = task === "subplanes" ? w.image.meta.sub_plane : w.image.meta.plane;
    const label = labelValue === null || labelValue === undefined ? null : String(labelValue);
    const targetIndex = options.className !== undefined ? classes.indexOf(options.className) : label !== null && classes.includes(label) ? classes.indexOf(label) : predictedIndex;
    const bytes = quantizeGrid(record.blocks.grids!.subarray(targetIndex * cells, (targetIndex + 1) * cells));
    const target = classes[targetIndex]!;
    const mask = masks(w.image, target, size);
    const entry: CamImageEntry = {
      id: w.image.id,
      label,
      target,
      predicted: classes[predictedIndex]!,
      probability: probabilities[predictedIndex]!,
      targetProbability: probabilities[targetIndex]!,
      localisation: mask ? localise(gridToImageMap(dequantizeGrid(bytes), gridSize, size), mask) : null
    };
    if (method === "similarity") {
      const cos = record.blocks.cosines!.subarray(targetIndex * cells, (targetIndex + 1) * cells);
      entry.cosineRange = [Math.min(...cos), Math.max(...cos)];
    }
    entries.push(entry);
    grids.push(bytes);
  }
  const summary = summariseLocalisation(entries.filter((e) => e.localisation).map((e) => ({label: e.target, localisation: e.localisation!})));
  const protocol = protocolOf(method, batch);
  const index: CamArtifactIndex = {
    format: CAM_ARTIFACT_FORMAT,
    method,
    model: manifest.id,
    modelKey: cacheKey(cache.inputs.model), // the embedding store's key of this bundle and variant (embeddings.arrow's modelKey)
    variant,
    dataset: dataset.name,
    task,
    classes,
    imageSize: size,
    gridSize,
    grids: files.grids,
    structures: Object.fromEntries(classes.filter((c) => CLASS_STRUCTURE_NAMES[c]).map((c) => [c, CLASS_STRUCTURE_NAMES[c]!])),
    protocol: Object.entries(protocol).map(([k, v]) => `${k}: ${v}`).join("; "),
    summary,
    images: entries
  };
  const gridBytes = new Uint8Array(grids.reduce((n, g) => n + g.length, 0));
  grids.reduce((offset, g) => (gridBytes.set(g, offset), offset + g.length), 0);
  writeFileAtomic(outDir, files.grids, [gridBytes]);
  writeFileAtomic(outDir, files.index, [Buffer.from(JSON.stringify(index) + "\n")]);
  return {
    method,
    images: entries.length,
    scored: summary.images,
    meanLocalisation: summary.meanLocalisation,
    pointingGame: summary.pointingGame,
    uniformBaseline: summary.uniformBaseline,
    perClass: summary.perClass,
    computed,
    cached: work.length - failed.size - computed,
    failed: [...failed].map(([id, error]) => ({id, error})),
    out: {index: resolve(outDir, files.index), grids: resolve(outDir, files.grids)},
    modelLoaded: loaded !== null,
    seconds: (performance.now() - started) / 1000
  };
}

/** Refuses, before any work, an --out that is a file, and METHOD.json / METHOD.grids.u8 there that `fetalclip cam` did not write. */
function checkCamOutDir(outDir: string, files: {index: string; grids: string}): void {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Error(`--out ${outDir}: is a file; give a folder`);
  const index = resolve(outDir, files.index);
  if (existsSync(index)) {
    let ours = false;
    try {
      ours = (JSON.parse(readFileSync(index, "utf8")) as {format?: unknown}).format === CAM_ARTIFACT_FORMAT;
    } catch {
      ours = false;
    }
    if (!ours) throw new Error(`--out ${outDir}: ${files.index} is there and was not written by fetalclip cam; move it away or choose another folder (nothing was run)`);
  }
  try {
    mkdirSync(outDir, {recursive: true});
  } catch (error) {
    throw new Error(`--out ${outDir}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was run`);
  }
}

type Progress = (done: number, total: number, unit: string, extra?: string) => void;

function makeProgress(log: (m: string) => void, seconds: number): Progress {
  const t0 = performance.now();
  let last = 0;
  return (done, total, unit, extra = "") => {
    const now = performance.now();
    if (now - last < seconds * 1000 && done < total) return;
    last = now;
    const rate = done / Math.max(1e-3, (now - t0) / 1000);
    log(`cam: ${done}/${total} ${unit} (${rate.toFixed(rate < 10 ? 2 : 0)} ${unit}/s, ETA ${formatDuration((total - done) / rate)})${extra}`);
  };
}

async function runScoreCams(
  missing: Work[],
  cache: CamCache,
  encode: CamImageEncoder,
  classEmbeds: Float32Array[],
  preprocess: (w: Work) => Float32Array | null,
  imageSize: number,
  batchSize: number,
  options: CamJobOptions,
  progress: Progress,
  log: (m: string) => void
): Promise<number> {
  const numClasses = classEmbeds.length;
  const partialMs = (options.partialSeconds ?? 20) * 1000;
  let channels = 0;
  let channelsDone = 0;
  let computed = 0;
  for (const [i, w] of missing.entries()) {
    options.signal?.throwIfAborted();
    const pixels = preprocess(w);
    if (!pixels) continue;
    const first = await encode([pixels], {ln1Last: true});
    const activations = targetActivations(first.ln1Last![0]!);
    channels = activations.channels;
    const total = missing.length * channels;
    const partial = cache.partial(w.hash);
    let resume: {channels: number; scores: Float32Array} | undefined;
    if (partial && Number(partial.header.channels) === channels && partial.blocks.channelScores?.length === channels * numClasses) {
      resume = {channels: Number(partial.header.channelsDone), scores: partial.blocks.channelScores};
      log(`cam: ${w.image.id}: resuming after ${resume.channels} of ${channels} channels`);
    }
    let lastSave = performance.now();
    const base = channelsDone;
    const scores = await maskedChannelScores(encode, pixels, activations, {
      classEmbeds,
      imageSize,
      batchSize,
      resume,
      signal: options.signal,
      onBatch: (done, s) => {
        progress(base + done, total, "channels", ` [image ${i + 1}/${missing.length}]`);
        if (performance.now() - lastSave >= partialMs && done < channels) {
          cache.putPartial(w.hash, {header: {channels, channelsDone: done}, blocks: {channelScores: s}});
          lastSave = performance.now();
        }
      }
    });
    channelsDone += channels;
    const gridCells = activations.gridSize ** 2;
    const grids = new Float32Array(numClasses * gridCells);
    for (let c = 0; c < numClasses; c++) grids.set(scoreCamFromScores(activations, scores, numClasses, c).grid, c * gridCells);
    const record: CamRecord = {
      header: {method: "scorecam", gridSize: activations.gridSize, channels, classes: numClasses},
      blocks: {probabilities: classProbabilities(first.embeddings[0]!, classEmbeds), grids, channelScores: scores}
    };
    cache.put(w.hash, record);
    computed++;
  }
  return computed;
}

async function runSimilarity(
  missing: Work[],
  cache: CamCache,
  encode: CamImageEncoder,
  classEmbeds: Float32Array[],
  preprocess: (w: Work) => Float32Array | null,
  batchSize: number,
  options: CamJobOptions,
  progress: Progress
): Promise<number> {
  const numClasses = classEmbeds.length;
  let computed = 0;
  let cursor = 0;
  while (cursor < missing.length) {
    options.signal?.throwIfAborted();
    const chunk: {w: Work; pixels: Float32Array}[] = [];
    while (chunk.length < batchSize && cursor < missing.length) {
      const w = missing[cursor++]!;
      const pixels = preprocess(w);
      if (pixels) chunk.push({w, pixels});
    }
    if (chunk.length === 0) break;
    const encoding = await encode(chunk.map((c) => c.pixels), {patchEmbeddings: true});
    chunk.forEach((c, i) => {
      const patches = encoding.patchEmbeddings![i]!;
      const gridSize = Math.round(Math.sqrt(patches.dims[0]!));
      const cells = gridSize * gridSize;
      const grids = new Float32Array(numClasses * cells);
      const cosines = new Float32Array(numClasses * cells);
      for (let k = 0; k < numClasses; k++) {
        const m = similarityMap(patches, classEmbeds, k);
        grids.set(m.grid, k * cells);
        cosines.set(m.cosines, k * cells);
      }
      cache.put(c.w.hash, {header: {method: "similarity", gridSize, classes: numClasses}, blocks: {probabilities: classProbabilities(encoding.embeddings[i]!, classEmbeds), grids, cosines}});
      computed++;
    });
    progress(cursor, missing.length, "images");
  }
  return computed;
}
