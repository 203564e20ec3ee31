// The embedding job: every image of a dataset through a bundle's image encoder, with
// the content-addressed cache in between, into OUT/embeddings.arrow. Images already in
// the cache are not embedded again; when all are, no model is loaded at all. Bad
// images are reported with the reason and skipped. With `augment`, the images go
// through FetalCLIP's probing pipeline instead (OpenCV bicubic resize) and each also
// gives N seeded augmented copies, one table row per copy, cached like any embedding.
import {randomBytes} from "node:crypto";
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync} from "node:fs";
import {join, resolve} from "node:path";
import type {ModelManifest, ModelVariant} from "../../src/lib/bundle.js";
import {decodeEmbeddingTable, EMBEDDINGS_FILE, EMBEDDINGS_FORMAT, EMBEDDINGS_META, encodeEmbeddingTable, type EmbeddingTableColumn, type EmbeddingTableData} from "../../src/lib/embeddingTable.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
import {OFFICIAL_PROBE_AUGMENTATION, PROBE_PIPELINE, probeInputTensor} from "../../src/lib/image/probeInput.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import type {RasterImage} from "../../src/lib/image/raster.js";
import {createRng} from "../../src/lib/random.js";
import {MAX_AUGMENT_COPIES} from "../../src/lib/probes/augmentChoice.js";
import "../jpeg.js"; // loads the JPEG decoder before any image is decoded
import {readManifest} from "../bundles.js";
import {NUMERIC_COLUMNS} from "../datasets/columns.js";
import {toFloat16Bits} from "../onnx/float16.js";
import {openDataset, type Dataset} from "../datasets/registry.js";
import {CACHE_DIR} from "../paths.js";
import type {ExecutionProvider} from "../session.js";
import {EMBEDDING_CACHE_DIR, EmbeddingCache, cacheKeyInputs, removeStaleTemporaries, sha256Hex, writeFileAtomic, type CacheRecord} from "./cache.js";
import {formatDuration} from "../duration.js";

export const EMBEDDINGS_SUMMARY_FILE = "embeddings.json";
export const EMBEDDINGS_SUMMARY_FORMAT = "fetalclip-explorer/embeddings-summary@1";
/** Image files larger than this are refused before reading (a PNG of 100 megapixels is well under it). */
export const MAX_IMAGE_FILE_BYTES = 512 * 2 ** 20;
/** Where the site's tables go by default: FETALCLIP_CACHE/embedding-tables/<dataset>/<model>. */
export const EMBEDDING_TABLES_DIR = join(CACHE_DIR, "embedding-tables");

export interface EmbedDatasetOptions {
  /** Model bundle folder. */
  model: string;
  /** Registry name, dataset folder, or an opened dataset. */
  dataset: string | Dataset;
  /** Folder for embeddings.arrow and embeddings.json (default: EMBEDDING_TABLES_DIR/<dataset>/<model id>[-variant]). */
  outDir?: string;
  /** Cache root (default: FETALCLIP_CACHE/embeddings). */
  cacheDir?: string;
  batch?: number;
  variant?: ModelVariant;
  ep?: ExecutionProvider | "auto";
  threads?: number;
  /** Also keep and write the projected patch tokens (float16). */
  patchTokens?: boolean;
  /** Only the first N images by id. */
  limit?: number;
  /** Seconds between progress lines (0: one per batch). */
  progressSeconds?: number;
  /** FetalCLIP's probing pipeline with augmented copies (see AugmentOptions). */
  augment?: AugmentOptions;
  log?: (message: string) => void;
}

/**
 * The probing notebooks' pipeline (preprocess_data.ipynb): every image padded and resized
 * with OpenCV's bicubic (row `augmentation` 0), and `copies` augmented copies of each
 * (rows 1..copies: colour jitter, CLAHE, shift and rotation, then the same resize).
 */
export interface AugmentOptions {
  /** Augmented copies per image (0: the probing pipeline's images only). */
  copies: number;
  /** Seed of the augmentation draws (default 0); each copy's draws depend on it, the image's bytes and the copy number only. */
  seed?: string | number;
  /** Image ids that get augmented copies (the training pool); the others get row 0 only. Default: every image. */
  only?: ReadonlySet<string>;
}


export interface ImageFailure {
  id: string;
  error: string;
}

export interface EmbedDatasetResult {
  /** Images in the dataset (after --limit). */
  images: number;
  /** Images embedded by this run. */
  embedded: number;
  /** Images whose embedding was already in the cache. */
  cached: number;
  failed: ImageFailure[];
  /** The embeddings.arrow written. */
  out: string;
  dataset: string;
  model: string;
  variant: ModelVariant;
  /** Whether a model was loaded (false when everything was cached). */
  modelLoaded: boolean;
  /** The execution provider used, when a model was loaded. */
  ep: ExecutionProvider | null;
  seconds: number;
  /** Where the time went: hashing the files, opening the sessions, decoding + inference + cache writes. */
  timings: {hashSeconds: number; loadSeconds: number; embedSeconds: number};
  /** Rows of the table (images, or images x copies with `augment`). */
  rows: number;
}

/** A 16-bit greyscale PNG (IHDR bit depth 16, colour type 0), read from its header. */
function isGrey16Png(bytes: Uint8Array): boolean {
  return bytes.length > 25 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[24] === 16 && bytes[25] === 0;
}

/** Reads an image file within the size limit; the error says why in a few words. */
function readImageBytes(path: string): Uint8Array {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), {code: "EISDIR"});
    size = stat.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? "the file does not exist" : code === "EISDIR" ? "is not a file" : `cannot read it (${code ?? (error as Error).message})`);
  }
  if (size > MAX_IMAGE_FILE_BYTES) throw new Error(`the file is ${size} bytes, over the ${MAX_IMAGE_FILE_BYTES / 2 ** 20} MiB limit for an image`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new Error(`cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** A file in OUT that the project wrote (so it may be replaced): an embeddings table or summary with our format tag. */
function isOurs(path: string, kind: "table" | "summary"): boolean {
  try {
    const bytes = readFileSync(path);
    if (kind === "summary") return (JSON.parse(bytes.toString("utf8")) as {format?: unknown}).format === EMBEDDINGS_SUMMARY_FORMAT;
    return decodeEmbeddingTable(bytes).metadata[EMBEDDINGS_META.format] === EMBEDDINGS_FORMAT;
  } catch {
    return false;
  }
}

/**
 * Refuses, before any work, an output folder that is a file or cannot be written, and an
 * embeddings.arrow / embeddings.json there that the project did not write.
 */
export function checkOutDir(outDir: string, label = outDir): void {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new Error(`--out ${label}: is a file; give a folder`);
  const files = [[EMBEDDINGS_FILE, "table"], [EMBEDDINGS_SUMMARY_FILE, "summary"]] as const;
  for (const [name, kind] of files) {
    const path = join(outDir, name);
    if (existsSync(path) && (!statSync(path).isFile() || !isOurs(path, kind))) {
      throw new Error(`--out ${label}: ${name} is there and was not written by fetalclip embed-dataset; move it away or choose another folder (nothing was run)`);
    }
  }
  try {
    mkdirSync(outDir, {recursive: true});
    removeStaleTemporaries(outDir); // a job killed while writing its table leaves one
    const probe = join(outDir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}-probe`);
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (error) {
    throw new Error(`--out ${label}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was run`);
  }
}

/** The default output folder of a (dataset, model, variant): augmented tables go in a subfolder named by copies and seed. */
export function defaultEmbeddingsDir(datasetName: string, modelId: string, variant: ModelVariant = "fp32", augment?: Pick<AugmentOptions, "copies" | "seed">): string {
  const dir = join(EMBEDDING_TABLES_DIR, datasetName, variant === "fp32" ? modelId : `${modelId}-${variant}`);
  return augment ? join(dir, augmentFolder(augment)) : dir;
}

/** "augmented-5-seed-0": safe as a folder name whatever the seed. */
export function augmentFolder(augment: Pick<AugmentOptions, "copies" | "seed">): string {
  const seed = String(augment.seed ?? 0);
  const safe = /^[A-Za-z0-9._-]{1,40}$/.test(seed) ? seed : sha256Hex(new TextEncoder().encode(seed)).slice(0, 16);
  return `augmented-${augment.copies}-seed-${safe}`;
}

interface Pending {
  /** The cache record's key: the image bytes' SHA-256, or (augment) a hash of it with the copy. */
  hash: string;
  /** SHA-256 of the image file's bytes. */
  imageHash: string;
  /** First image (by id) with these bytes: the one read for embedding. */
  path: string;
  /** Table rows (image ids, or ids of copies) this record fills. */
  ids: string[];
  /** The image of each of `ids`. */
  imageIds: string[];
  /** Augment: the copy (0 the image itself); undefined: the standard pipeline. */
  copy?: number;
}

/** A row of the table: an image, or (augment) one copy of it, and its cache record. */
interface TableRow {
  id: string;
  imageIndex: number;
  copy?: number;
  key: string;
}

/** The cache record key of a probe-pipeline copy: copy 0 does not depend on the seed. */
function copyKey(imageHash: string, copy: number, seed: string): string {
  return sha256Hex(new TextEncoder().encode(copy === 0 ? `probe-input\n${imageHash}\n0` : `probe-input\n${imageHash}\n${copy}\n${seed}`));
}

/** The seeded draws of one augmented copy: the same for the same bytes, copy and seed (1 and "1" alike), whatever the dataset or the order. */
export function augmentRng(imageHash: string, copy: number, seed: string | number) {
  return createRng(`augment/${String(seed)}/${imageHash}/${copy}`);
}

function checkAugment(augment: AugmentOptions | undefined, patchTokens: boolean | undefined): void {
  if (!augment) return;
  if (!Number.isInteger(augment.copies) || augment.copies < 0 || augment.copies > MAX_AUGMENT_COPIES) {
    throw new Error(`embed-dataset: --augment takes 0 to ${MAX_AUGMENT_COPIES} copies per image, got ${augment.copies}`);
  }
  if (patchTokens) throw new Error("embed-dataset: --augment and --patch-tokens do not go together (the augmented table holds image embeddings only)");
}

/** The dataset's metadata columns over the given images, typed as the table stores them. */
export function datasetColumns(dataset: Dataset, images: readonly Dataset["images"][number][]): EmbeddingTableColumn[] {
  return dataset.columns.map((name) => {
    const numeric = NUMERIC_COLUMNS.has(name);
    return {
      name,
      type: numeric ? "float64" : "utf8",
      values: images.map((image) => {
        const v = image.meta[name];
        if (v === null || v === undefined) return null;
        return numeric ? (typeof v === "number" && Number.isFinite(v) ? v : null) : String(v);
      })
    };
  });
}

/** A dataset's ids and columns as an embedding table without embeddings (embedDim 0): what split choices read. */
export function metadataTable(dataset: Dataset): EmbeddingTableData {
  return {ids: dataset.images.map((image) => image.id), embedDim: 0, embeddings: new Float32Array(0), columns: datasetColumns(dataset, dataset.images), metadata: {}};
}

/** Embeds a dataset with a bundle through the cache and writes OUT/embeddings.arrow (+ embeddings.json). */
export async function embedDataset(options: EmbedDatasetOptions): Promise<EmbedDatasetResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const variant = options.variant ?? "fp32";
  const batchSize = options.batch ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`embed-dataset: batch must be a positive integer, got ${batchSize}`);
  const augment = options.augment;
  checkAugment(augment, options.patchTokens);
  const augmentSeed = String(augment?.seed ?? 0);
  const manifest: ModelManifest = readManifest(options.model);
  const dataset = typeof options.dataset === "string" ? openDataset(options.dataset, {limit: options.limit}) : options.dataset;
  for (const warning of dataset.warnings) log(`embed-dataset: ${warning}`);
  for (const reserved of ["augmentation", "image_id"]) {
    if (augment && (dataset.columns as readonly string[]).includes(reserved)) throw new Error(`embed-dataset: ${dataset.name} has a column "${reserved}", which an augmented table uses for itself`);
  }
  const outDir = resolve(options.outDir ?? defaultEmbeddingsDir(dataset.name, manifest.id, variant, augment));
  checkOutDir(outDir, options.outDir ?? outDir);
  const keyInputs = cacheKeyInputs(manifest, variant);
  // The probing pipeline's embeddings differ from the standard ones (resize, augmentation): a cache of their own.
  if (augment) keyInputs.pipeline = {name: PROBE_PIPELINE, augmentation: OFFICIAL_PROBE_AUGMENTATION};
  const cache = new EmbeddingCache(resolve(options.cacheDir ?? EMBEDDING_CACHE_DIR), keyInputs, log).open();
  const what = augment ? `; probing pipeline, ${augment.copies} augmented copies per ${augment.only ? "training-pool " : ""}image, seed ${augmentSeed}` : "";
  log(`embed-dataset: ${dataset.name} (${dataset.layout}, ${dataset.images.length} images) with ${manifest.id} ${variant}${what}; cache ${cache.dir}`);

  // 1. The bytes' SHA-256 of every image: the cache key. Unreadable files are reported here.
  const failed = new Map<string, string>();
  const hashOf = new Map<string, string>();
  const hashStarted = performance.now();
  for (const image of dataset.images) {
    try {
      hashOf.set(image.id, sha256Hex(readImageBytes(image.path)));
    } catch (error) {
      failed.set(image.id, (error as Error).message);
    }
  }

  const hashSeconds = (performance.now() - hashStarted) / 1000;
  let loadSeconds = 0;
  let embedSeconds = 0;

  // The table's rows: each readable image, or each copy of it, with its cache record.
  const units: TableRow[] = [];
  dataset.images.forEach((image, imageIndex) => {
    const hash = hashOf.get(image.id);
    if (!hash) return;
    if (!augment) return void units.push({id: image.id, imageIndex, key: hash});
    const copies = !augment.only || augment.only.has(image.id) ? augment.copies : 0;
    for (let copy = 0; copy <= copies; copy++) units.push({id: copy === 0 ? image.id : `${image.id}#${copy}`, imageIndex, copy, key: copyKey(hash, copy, augmentSeed)});
  });
  if (augment) {
    // "scan.png#1" as an image's own id would collide with the first copy of "scan.png".
    const seen = new Set<string>();
    for (const unit of units) {
      if (seen.has(unit.id)) throw new Error(`embed-dataset: ${dataset.name} has an image whose id, ${unit.id}, is also the id of an augmented copy; rename it (ids ending in #N are taken by copies)`);
      seen.add(unit.id);
    }
  }
  const noun = augment ? "images and copies" : "images";

  // 2. Under the cache's lock: what is missing, then embed it batch by batch, each batch committed as it ends.
  await cache.lock();
  let embeddedHashes = new Set<string>();
  let modelLoaded = false;
  let ep: ExecutionProvider | null = null;
  try {
    cache.load();
    const missing: Pending[] = [];
    const byHash = new Map<string, Pending>();
    for (const unit of units) {
      const image = dataset.images[unit.imageIndex]!;
      const need = !cache.hasEmbedding(unit.key) || (options.patchTokens && !cache.hasPatches(unit.key));
      if (!need) continue;
      const pending = byHash.get(unit.key);
      if (pending) {
        pending.ids.push(unit.id);
        pending.imageIds.push(image.id);
      } else {
        const p: Pending = {hash: unit.key, imageHash: hashOf.get(image.id)!, path: image.path, ids: [unit.id], imageIds: [image.id], copy: unit.copy};
        byHash.set(unit.key, p);
        missing.push(p);
      }
    }
    // Copies of one image next to each other: it is read and decoded once for all of them.
    if (augment) missing.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.copy! - b.copy!));
    const cachedCount = units.length - missing.reduce((s, p) => s + p.ids.length, 0);
    if (missing.length === 0) {
      log(`embed-dataset: all ${units.length} ${augment ? "rows (readable images and their copies)" : "readable images"} are cached; no model loaded`);
    } else {
      log(`embed-dataset: ${missing.length} ${noun} to embed, ${cachedCount} cached`);
      const result = await embedMissing(missing, cache, manifest, options, variant, batchSize, failed, log, augmentSeed);
      embeddedHashes = result.embedded;
      modelLoaded = result.ep !== null;
      ep = result.ep;
      loadSeconds = result.loadSeconds;
      embedSeconds = result.embedSeconds;
    }
  } finally {
    cache.unlock();
  }

  // 3. The table: one row per embedded image (or copy), sorted by id (the dataset is), from the cache.
  const tableRows = units.filter((u) => !failed.has(dataset.images[u.imageIndex]!.id));
  const rows = tableRows.map((u) => dataset.images[u.imageIndex]!);
  const dim = manifest.embedDim;
  const embeddings = new Float32Array(rows.length * dim);
  tableRows.forEach((unit, i) => {
    const e = cache.embedding(unit.key);
    if (!e) throw new Error(`embed-dataset: ${unit.id} has no embedding in the cache after the job (cache ${cache.dir} changed under it?)`);
    embeddings.set(e, i * dim);
  });
  let patchEmbeddings: {tokens: number; values: Uint16Array} | undefined;
  if (options.patchTokens && rows.length > 0) {
    const patches = cache.patches(new Set(rows.map((image) => hashOf.get(image.id)!)));
    const tokens = patches.get(hashOf.get(rows[0]!.id)!)!.tokens;
    const values = new Uint16Array(rows.length * tokens * dim);
    rows.forEach((image, i) => values.set(patches.get(hashOf.get(image.id)!)!.values, i * tokens * dim));
    patchEmbeddings = {tokens, values};
  }
  const columns = datasetColumns(dataset, rows);
  if (augment) {
    columns.push({name: "image_id", type: "utf8", values: rows.map((image) => image.id)});
    columns.push({name: "augmentation", type: "float64", values: tableRows.map((u) => u.copy!)});
  }
  const table = encodeEmbeddingTable({
    ids: tableRows.map((u) => u.id),
    embedDim: dim,
    embeddings,
    columns,
    patchEmbeddings,
    metadata: {
      [EMBEDDINGS_META.format]: EMBEDDINGS_FORMAT,
      [EMBEDDINGS_META.model]: manifest.id,
      [EMBEDDINGS_META.modelKey]: cache.key,
      [EMBEDDINGS_META.variant]: variant,
      [EMBEDDINGS_META.dataset]: dataset.name,
      [EMBEDDINGS_META.embedDim]: String(dim),
      [EMBEDDINGS_META.patchTokens]: String(patchEmbeddings?.tokens ?? 0),
      ...(augment
        ? {
            [EMBEDDINGS_META.pipeline]: PROBE_PIPELINE,
            [EMBEDDINGS_META.augmentCopies]: String(augment.copies),
            [EMBEDDINGS_META.augmentSeed]: augmentSeed,
            [EMBEDDINGS_META.augmentation]: JSON.stringify(OFFICIAL_PROBE_AUGMENTATION)
          }
        : {})
    }
  });
  const failures = [...failed].map(([id, error]) => ({id, error})).sort((a, b) => (a.id < b.id ? -1 : 1));
  const summary = {
    format: EMBEDDINGS_SUMMARY_FORMAT,
    model: manifest.id,
    modelKey: cache.key,
    variant,
    dataset: dataset.name,
    layout: dataset.layout,
    images: dataset.images.length,
    rows: rows.length,
    embedDim: dim,
    columns: ["id", "embedding", ...dataset.columns, ...(augment ? ["image_id", "augmentation"] : []), ...(patchEmbeddings ? ["patch_embeddings"] : [])],
    ...(augment ? {pipeline: PROBE_PIPELINE, augment: {copies: augment.copies, seed: augmentSeed, augmentedImages: new Set(tableRows.filter((u) => u.copy! > 0).map((u) => u.imageIndex)).size, augmentation: OFFICIAL_PROBE_AUGMENTATION}} : {}),
    failed: failures,
    warnings: dataset.warnings
  };
  writeFileAtomic(outDir, EMBEDDINGS_FILE, [table]);
  writeFileAtomic(outDir, EMBEDDINGS_SUMMARY_FILE, [Buffer.from(JSON.stringify(summary, null, 2) + "\n")]);
  const embeddedRows = tableRows.filter((u) => embeddedHashes.has(u.key)).length;
  return {
    images: dataset.images.length,
    rows: tableRows.length,
    embedded: embeddedRows,
    cached: tableRows.length - embeddedRows,
    failed: failures,
    out: join(outDir, EMBEDDINGS_FILE),
    dataset: dataset.name,
    model: manifest.id,
    variant,
    modelLoaded,
    ep,
    seconds: (performance.now() - started) / 1000,
    timings: {hashSeconds, loadSeconds, embedSeconds}
  };
}

/**
 * Embeds the missing images, committing each batch to the cache as it ends. The model is
 * loaded at the first batch that has a decodable image: images that fail again (a damaged
 * file stays damaged) never open an inference session.
 */
async function embedMissing(
  missing: Pending[],
  cache: EmbeddingCache,
  manifest: ModelManifest,
  options: EmbedDatasetOptions,
  variant: ModelVariant,
  batchSize: number,
  failed: Map<string, string>,
  log: (m: string) => void,
  augmentSeed: string
): Promise<{embedded: Set<string>; ep: ExecutionProvider | null; loadSeconds: number; embedSeconds: number}> {
  const started = performance.now();
  const spec = {size: manifest.image.size, mean: manifest.image.mean, std: manifest.image.std};
  const embedded = new Set<string>();
  const progressMs = (options.progressSeconds ?? 1) * 1000;
  let loaded: Awaited<ReturnType<typeof import("../nodeModel.js").loadNodeModel>> | null = null;
  let loadSeconds = 0;
  let t0 = 0;
  let lastLine = 0;
  let cursor = 0;
  let grey16 = 0;
  const fail = (p: Pending, error: string) => {
    const fresh = p.imageIds.filter((id) => !failed.has(id));
    for (const id of fresh) failed.set(id, error);
    if (fresh.length > 0) log(`embed-dataset: skipped ${fresh[0]}: ${error}`);
  };
  // Each file is read, checked and decoded once: an image's copies (augment) follow each other.
  let last: {path: string; bytes: Uint8Array; raster?: RasterImage; error?: string} | null = null;
  const prepare = (p: Pending): {bytes: Uint8Array; pixels: Float32Array} => {
    if (last?.path !== p.path) {
      last = {path: p.path, bytes: new Uint8Array(0)};
      try {
        last.bytes = readImageBytes(p.path);
        if (sha256Hex(last.bytes) !== p.imageHash) throw new Error("the file changed while the job ran; run it again");
        last.raster = decodeImage(last.bytes);
      } catch (error) {
        last.error = (error as Error).message;
      }
    }
    if (last.error !== undefined) throw new Error(last.error);
    const pixels =
      p.copy === undefined ? preprocessImage(last.raster!, spec) : probeInputTensor(last.raster!, spec, p.copy > 0 ? {rng: augmentRng(p.imageHash, p.copy, augmentSeed)} : undefined);
    return {bytes: last.bytes, pixels};
  };
  try {
    while (cursor < missing.length) {
      // A batch of `batchSize` decodable images, in order: a resumed job forms the same batches as an uninterrupted one.
      const chunk: {pending: Pending; pixels: Float32Array}[] = [];
      while (chunk.length < batchSize && cursor < missing.length) {
        const p = missing[cursor++]!;
        try {
          const {bytes, pixels} = prepare(p);
          chunk.push({pending: p, pixels});
          if (!p.copy && isGrey16Png(bytes) && grey16++ === 0) {
            log(`embed-dataset: ${p.ids[0]} is a 16-bit greyscale PNG: decoded as PIL (open_clip's loader) does, values above 255 saturate to white; save full-range 16-bit scans as 8-bit first`);
          }
        } catch (error) {
          fail(p, (error as Error).message.replace(/^decodeImage: /, ""));
        }
      }
      if (chunk.length === 0) break;
      if (!loaded) {
        const {loadNodeModel} = await import("../nodeModel.js");
        const loadStarted = performance.now();
        loaded = await loadNodeModel(options.model, {ep: options.ep, threads: options.threads, variant, log});
        t0 = performance.now();
        loadSeconds = (t0 - loadStarted) / 1000;
      }
      const encoding = await loaded.model.encodeImages(chunk.map((c) => c.pixels), {patchEmbeddings: options.patchTokens});
      const records: CacheRecord[] = chunk.map((c, i) => ({
        hash: c.pending.hash,
        embedding: encoding.embeddings[i]!,
        ...(encoding.patchEmbeddings ? {patches: toFloat16Bits(encoding.patchEmbeddings[i]!.data)} : {})
      }));
      cache.commit(records);
      for (const c of chunk) embedded.add(c.pending.hash);
      const now = performance.now();
      if (now - lastLine >= progressMs || cursor >= missing.length) {
        lastLine = now;
        const rate = embedded.size / Math.max(1e-3, (now - t0) / 1000);
        const left = missing.length - cursor;
        log(`embed-dataset: ${embedded.size}/${missing.length} ${options.augment ? "images and copies" : "images"} embedded (${rate.toFixed(1)} img/s, ETA ${formatDuration(left / rate)})`);
      }
    }
  } finally {
    if (loaded) {
      await loaded.model.imageSession.release();
      await loaded.model.textSession.release();
    }
  }
  if (grey16 > 1) log(`embed-dataset: ${grey16} images were 16-bit greyscale PNGs (values above 255 saturate, as in PIL)`);
  if (!loaded) log(`embed-dataset: none of the ${missing.length} images to embed could be decoded; no model loaded`);
  return {embedded, ep: loaded ? loaded.ep.image : null, loadSeconds, embedSeconds: (performance.now() - started) / 1000 - loadSeconds};
}
