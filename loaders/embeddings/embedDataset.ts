// The embedding job: every image of a dataset through a bundle's image encoder, with
// the content-addressed cache in between, into OUT/embeddings.arrow. Images already in
// the cache are not embedded again; when all are, no model is loaded at all. Bad
// images are reported with the reason and skipped.
import {randomBytes} from "node:crypto";
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync} from "node:fs";
import {join, resolve} from "node:path";
import type {ModelManifest, ModelVariant} from "../../src/lib/bundle.js";
import {decodeEmbeddingTable, EMBEDDINGS_FILE, EMBEDDINGS_FORMAT, EMBEDDINGS_META, encodeEmbeddingTable, type EmbeddingTableColumn} from "../../src/lib/embeddingTable.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
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
  log?: (message: string) => void;
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

/** The default output folder of a (dataset, model, variant). */
export function defaultEmbeddingsDir(datasetName: string, modelId: string, variant: ModelVariant = "fp32"): string {
  return join(EMBEDDING_TABLES_DIR, datasetName, variant === "fp32" ? modelId : `${modelId}-${variant}`);
}

interface Pending {
  hash: string;
  /** First image (by id) with these bytes: the one read for embedding. */
  path: string;
  ids: string[];
}

/** Embeds a dataset with a bundle through the cache and writes OUT/embeddings.arrow (+ embeddings.json). */
export async function embedDataset(options: EmbedDatasetOptions): Promise<EmbedDatasetResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const variant = options.variant ?? "fp32";
  const batchSize = options.batch ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`embed-dataset: batch must be a positive integer, got ${batchSize}`);
  const manifest: ModelManifest = readManifest(options.model);
  const dataset = typeof options.dataset === "string" ? openDataset(options.dataset, {limit: options.limit}) : options.dataset;
  for (const warning of dataset.warnings) log(`embed-dataset: ${warning}`);
  const outDir = resolve(options.outDir ?? defaultEmbeddingsDir(dataset.name, manifest.id, variant));
  checkOutDir(outDir, options.outDir ?? outDir);
  const cache = new EmbeddingCache(resolve(options.cacheDir ?? EMBEDDING_CACHE_DIR), cacheKeyInputs(manifest, variant), log).open();
  log(`embed-dataset: ${dataset.name} (${dataset.layout}, ${dataset.images.length} images) with ${manifest.id} ${variant}; cache ${cache.dir}`);

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

  // 2. Under the cache's lock: what is missing, then embed it batch by batch, each batch committed as it ends.
  await cache.lock();
  let embeddedHashes = new Set<string>();
  let modelLoaded = false;
  let ep: ExecutionProvider | null = null;
  try {
    cache.load();
    const missing: Pending[] = [];
    const byHash = new Map<string, Pending>();
    for (const image of dataset.images) {
      const hash = hashOf.get(image.id);
      if (!hash) continue;
      const need = !cache.hasEmbedding(hash) || (options.patchTokens && !cache.hasPatches(hash));
      if (!need) continue;
      const pending = byHash.get(hash);
      if (pending) pending.ids.push(image.id);
      else {
        const p = {hash, path: image.path, ids: [image.id]};
        byHash.set(hash, p);
        missing.push(p);
      }
    }
    const cachedCount = dataset.images.length - failed.size - missing.reduce((s, p) => s + p.ids.length, 0);
    if (missing.length === 0) {
      log(`embed-dataset: all ${dataset.images.length - failed.size} readable images are cached; no model loaded`);
    } else {
      log(`embed-dataset: ${missing.length} images to embed, ${cachedCount} cached`);
      const result = await embedMissing(missing, cache, manifest, options, variant, batchSize, failed, log);
      embeddedHashes = result.embedded;
      modelLoaded = result.ep !== null;
      ep = result.ep;
      loadSeconds = result.loadSeconds;
      embedSeconds = result.embedSeconds;
    }
  } finally {
    cache.unlock();
  }

  // 3. The table: one row per embedded image, sorted by id (the dataset is), from the cache.
  const rows = dataset.images.filter((image) => !failed.has(image.id));
  const dim = manifest.embedDim;
  const embeddings = new Float32Array(rows.length * dim);
  rows.forEach((image, i) => {
    const e = cache.embedding(hashOf.get(image.id)!);
    if (!e) throw new Error(`embed-dataset: ${image.id} has no embedding in the cache after the job (cache ${cache.dir} changed under it?)`);
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
  const columns: EmbeddingTableColumn[] = dataset.columns.map((name) => {
    const numeric = NUMERIC_COLUMNS.has(name);
    return {
      name,
      type: numeric ? "float64" : "utf8",
      values: rows.map((image) => {
        const v = image.meta[name];
        if (v === null || v === undefined) return null;
        return numeric ? (typeof v === "number" && Number.isFinite(v) ? v : null) : String(v);
      })
    };
  });
  const table = encodeEmbeddingTable({
    ids: rows.map((image) => image.id),
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
      [EMBEDDINGS_META.patchTokens]: String(patchEmbeddings?.tokens ?? 0)
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
    columns: ["id", "embedding", ...dataset.columns, ...(patchEmbeddings ? ["patch_embeddings"] : [])],
    failed: failures,
    warnings: dataset.warnings
  };
  writeFileAtomic(outDir, EMBEDDINGS_FILE, [table]);
  writeFileAtomic(outDir, EMBEDDINGS_SUMMARY_FILE, [Buffer.from(JSON.stringify(summary, null, 2) + "\n")]);
  const embeddedRows = dataset.images.filter((image) => embeddedHashes.has(hashOf.get(image.id) ?? "")).length;
  return {
    images: dataset.images.length,
    embedded: embeddedRows,
    cached: rows.length - embeddedRows,
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
  log: (m: string) => void
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
    for (const id of p.ids) failed.set(id, error);
    log(`embed-dataset: skipped ${p.ids[0]}: ${error}`);
  };
  try {
    while (cursor < missing.length) {
      // A batch of `batchSize` decodable images, in order: a resumed job forms the same batches as an uninterrupted one.
      const chunk: {pending: Pending; pixels: Float32Array}[] = [];
      while (chunk.length < batchSize && cursor < missing.length) {
        const p = missing[cursor++]!;
        try {
          const bytes = readImageBytes(p.path);
          if (sha256Hex(bytes) !== p.hash) throw new Error("the file changed while the job ran; run it again");
          chunk.push({pending: p, pixels: preprocessImage(bytes, spec)});
          if (isGrey16Png(bytes) && grey16++ === 0) {
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
        log(`embed-dataset: ${embedded.size}/${missing.length} images embedded (${rate.toFixed(1)} img/s, ETA ${formatDuration(left / rate)})`);
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
