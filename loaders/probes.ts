// The probe core (src/lib/probes) on files: an embeddings.arrow (given, or made through
// the embedding store for a model and a dataset), FetalCLIP's released split files, and
// the zero-shot reference scored with the model's text encoder on the probe's test rows.
// `fetalclip probe` and the Probes page's data loader call probeJob / probeConfigured.
// With augmentation, the table is the probing pipeline's (embed-dataset --augment): the
// training pool's images (not the test patients') get their augmented copies embedded.
import {existsSync, readFileSync, statSync} from "node:fs";
import {basename, isAbsolute, resolve} from "node:path";
import {MODEL_VARIANTS, type ModelVariant} from "../src/lib/bundle.js";
import {decodeEmbeddingTable, EMBEDDINGS_META, type EmbeddingTableData} from "../src/lib/embeddingTable.js";
import {JsonFormatError, parseJsonStrict} from "../src/lib/json.js";
import {parseSplitFile, type FewShotSupports, type PatientFold, type SplitFile} from "../src/lib/probes/patientSplits.js";
import {augmentCopiesOf, type AugmentChoice} from "../src/lib/probes/augmentChoice.js";
import {probeTrainingPool, runProbe, type ProbeOptions, type ProbeReport, type ZeroShotReference} from "../src/lib/probes/probe.js";
import {zeroShotReference, zeroShotSetup} from "../src/lib/probes/zeroShotReference.js";
import {BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_PROMPTS} from "../src/lib/prompts.js";
import {promptClassEmbeddings} from "../src/lib/tasks/zeroShot.js";
import {readManifest} from "./bundles.js";
import {isRegisteredDataset, openDataset} from "./datasets/registry.js";
import {cacheKey, cacheKeyInputs} from "./embeddings/cache.js";
import {augmentFolder, defaultEmbeddingsDir, embedDataset, metadataTable, type EmbedDatasetResult} from "./embeddings/embedDataset.js";
import {ensureEmbeddings} from "./embeddings/store.js";
import {loadNodeModel} from "./nodeModel.js";
import {MODELS_DIR} from "./paths.js";
import type {ConfiguredDataset, ConfiguredModel} from "./projectConfig.js";

/** FETAL_PLANES_DB's largest split file is 126 KB; a split file over this is refused before reading. */
export const MAX_SPLIT_FILE_BYTES = 64 * 1024 * 1024;
/** An embeddings.arrow over this is refused before reading (12,400 x 768 float32 is 38 MB). */
export const MAX_EMBEDDINGS_BYTES = 4 * 1024 * 1024 * 1024;

function fileBytes(path: string, flag: string, limit: number, what: string): Buffer {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error(`${flag} ${path}: not a regular file`);
    size = stat.size;
  } catch (error) {
    if ((error as Error).message.startsWith(flag)) throw error;
    throw new Error(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size > limit) throw new Error(`${flag} ${path}: ${size} bytes, over the ${limit}-byte limit for ${what}`);
  return readFileSync(path);
}

/** One of FetalCLIP's split files (test list, probing folds or few-shot support sets), refused with its name when malformed. */
export function readSplitFile(path: string, flag = "--splits"): SplitFile {
  const text = fileBytes(path, flag, MAX_SPLIT_FILE_BYTES, "a split file").toString("utf8");
  let json: unknown;
  try {
    json = parseJsonStrict(text, path);
  } catch (error) {
    throw new Error(`${flag} ${error instanceof JsonFormatError ? (error as Error).message : `${path}: not JSON (${(error as Error).message})`}`);
  }
  try {
    return parseSplitFile(json, path);
  } catch (error) {
    throw new Error(`${flag} ${(error as Error).message}`);
  }
}

/** An embeddings.arrow, refused with its name when it is not one. */
export function readEmbeddingsFile(path: string, flag = "--embeddings"): EmbeddingTableData {
  const bytes = fileBytes(path, flag, MAX_EMBEDDINGS_BYTES, "an embeddings table");
  try {
    return decodeEmbeddingTable(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new Error(`${flag} ${path}: not an embeddings table (${(error as Error).message})`);
  }
}

/** The splits of the given files: at most one test list, one probing file and one few-shot file. */
export function splitsFromFiles(files: readonly string[], testSplit?: string): NonNullable<ProbeOptions["splits"]> {
  const out: {test?: string[]; folds?: PatientFold[]; fewShot?: FewShotSupports[]} = {};
  const seen: Record<string, string> = {};
  const take = (file: string, parsed: SplitFile, flag: string) => {
    if (seen[parsed.kind]) throw new Error(`${flag} ${file}: a second ${parsed.kind} split file (the first was ${seen[parsed.kind]})`);
    seen[parsed.kind] = file;
    if (parsed.kind === "test") out.test = parsed.patients;
    else if (parsed.kind === "probing") out.folds = parsed.folds;
    else out.fewShot = parsed.counts;
  };
  for (const file of files) take(file, readSplitFile(file, "--splits"), "--splits");
  if (testSplit) {
    const parsed = readSplitFile(testSplit, "--test-split");
    if (parsed.kind !== "test") throw new Error(`--test-split ${testSplit}: holds ${parsed.kind} splits, not a list of test patients`);
    take(testSplit, parsed, "--test-split");
  }
  return out;
}

/** A bundle folder, or a bundle name under FETALCLIP_MODELS, as the project config names models. */
export function configuredModel(model: string, variant: ModelVariant = "fp32"): ConfiguredModel {
  if (!(MODEL_VARIANTS as readonly string[]).includes(variant)) throw new Error(`--variant ${variant}: not one of ${MODEL_VARIANTS.join(", ")}`);
  const isPath = isAbsolute(model) || /[\\/]/.test(model) || model.startsWith(".");
  const dir = isPath ? resolve(model) : resolve(MODELS_DIR, model);
  if (!existsSync(resolve(dir, "model.json"))) throw new Error(`--model ${model}: ${dir} is not a model bundle (no model.json)`);
  return {name: variant === "fp32" ? basename(dir) : `${basename(dir)}-${variant}`, dir, variant};
}

export function configuredDataset(dataset: string): ConfiguredDataset {
  if (isRegisteredDataset(dataset)) return {name: dataset, dataset};
  const dir = resolve(dataset);
  return {name: basename(dir), dataset: dir};
}

/**
 * The bundle that made a table, when it is still there: the table's metadata names the
 * model and its cache key; a bundle of that name under FETALCLIP_MODELS with the same key
 * (same weights, preprocessing and variant) is the one.
 */
export function tableModel(table: EmbeddingTableData): ConfiguredModel | null {
  const name = table.metadata[EMBEDDINGS_META.model];
  const key = table.metadata[EMBEDDINGS_META.modelKey];
  const variant = (table.metadata[EMBEDDINGS_META.variant] ?? "fp32") as ModelVariant;
  if (!name || !key || /[\\/]/.test(name) || !(MODEL_VARIANTS as readonly string[]).includes(variant)) return null;
  const dir = resolve(MODELS_DIR, name);
  try {
    if (cacheKey(cacheKeyInputs(readManifest(dir), variant)) !== key) return null;
  } catch {
    return null;
  }
  return {name, dir, variant};
}

/**
 * The zero-shot reference of a paper task, as a function of the probe's test rows:
 * the class embeddings of the prompt ensembles come from the model's text encoder.
 */
export async function zeroShotFor(table: EmbeddingTableData, label: string, model: ConfiguredModel, log: (m: string) => void = () => {}): Promise<((rows: Int32Array) => ZeroShotReference | null) | null> {
  const setup = zeroShotSetup(label);
  if (!setup) return null;
  const manifest = readManifest(model.dir);
  if (manifest.embedDim !== table.embedDim) {
    log(`probe: ${model.dir} embeds in ${manifest.embedDim} dims, the table in ${table.embedDim}; no zero-shot reference`);
    return null;
  }
  const {model: clip} = await loadNodeModel(model.dir, {ep: "cpu", variant: model.variant});
  let classEmbeds: Float32Array[];
  try {
    classEmbeds = await promptClassEmbeddings(clip, setup.classes, label === "six-planes" ? FIVE_PLANES_PROMPTS : BRAIN_SUBPLANE_PROMPTS);
  } finally {
    await clip.imageSession.release();
    await clip.textSession.release();
  }
  return (rows) => zeroShotReference(table, rows, setup, classEmbeds);
}

/** The augmented copies of each training image of one task, made through the store (the cache keeps every copy). */
export async function ensureAugmentedEmbeddings(
  model: ConfiguredModel,
  dataset: ConfiguredDataset,
  probe: Omit<ProbeOptions, "augment">,
  augment: {copies: number; seed?: string | number},
  log: (m: string) => void
): Promise<EmbedDatasetResult> {
  const opened = openDataset(dataset.dataset);
  const only = probeTrainingPool(metadataTable(opened), {...probe, source: dataset.name});
  const base = defaultEmbeddingsDir(dataset.name, model.name);
  const outDir = `${base}/probe-${probe.label.replace(/[^A-Za-z0-9._-]/g, "_")}-${augmentFolder(augment)}`;
  log(`probe: ${only.size} training-pool images of ${opened.images.length} get ${augment.copies} augmented copies each (test patients' images are embedded as they are)`);
  return embedDataset({log, progressSeconds: 5, model: model.dir, dataset: opened, variant: model.variant, outDir, augment: {...augment, only}});
}

export interface ProbeJobOptions extends Omit<ProbeOptions, "splits" | "zeroShot" | "source" | "augment"> {
  /** An embeddings.arrow; or `model` + `dataset` to make it through the embedding store. */
  embeddings?: string;
  model?: string;
  dataset?: string;
  variant?: ModelVariant;
  /** Split files: a probing file, a few-shot file and/or a test list. */
  splitFiles?: readonly string[];
  testSplit?: string;
  /** Score the zero-shot reference when a model is known (default true). */
  zeroShot?: boolean;
  /** Train on augmented copies (the probing notebooks' pipeline): see AugmentChoice. */
  augment?: AugmentChoice;
  /** Seed of the augmentation draws (default 0). */
  augmentSeed?: string | number;
}

export interface ProbeJobReport extends ProbeReport {
  embeddings: {file: string; rows: number; embedDim: number; model: string | null; dataset: string | null};
  /**
   * The probing pipeline's table (OpenCV resize, as the notebooks): copies per training
   * image used, their seed and the augmentation; null for the standard embeddings.
   */
  augmentation: {full: number; fewShot: number; seed: string; pipeline: string; spec: unknown} | null;
}

/** `fetalclip probe`: the probe report of one task of an embedding table. */
export async function probeJob(options: ProbeJobOptions): Promise<ProbeJobReport> {
  const log = options.log ?? (() => {});
  if (!options.embeddings && !(options.model && options.dataset)) throw new Error("probe: give --embeddings FILE, or --model and --dataset to embed a dataset first");
  // Files first: a bad split file stops the job before any embedding or training.
  const splits = splitsFromFiles(options.splitFiles ?? [], options.testSplit);
  let file: string;
  let model: ConfiguredModel | null = options.model ? configuredModel(options.model, options.variant) : null;
  const augment = options.augment === undefined ? undefined : augmentCopiesOf(options.augment);
  const {embeddings: _e, model: _m, dataset: _d, variant: _v, splitFiles: _s, testSplit: _t, augment: _a, augmentSeed: _as, zeroShot: _z, ...probe} = options;
  if (options.embeddings) {
    file = resolve(options.embeddings);
  } else if (augment) {
    const job = await ensureAugmentedEmbeddings(model!, configuredDataset(options.dataset!), {...probe, splits}, {copies: Math.max(augment.full, augment.fewShot), seed: options.augmentSeed}, log);
    if (job.failed.length > 0) log(`probe: ${job.failed.length} of ${job.images} images could not be embedded and are left out`);
    file = job.out;
  } else {
    const job = await ensureEmbeddings(model!, configuredDataset(options.dataset!), {log});
    if (job.failed.length > 0) log(`probe: ${job.failed.length} of ${job.images} images could not be embedded and are left out`);
    file = job.out;
  }
  const table = readEmbeddingsFile(file, options.embeddings ? "--embeddings" : "embeddings");
  if (options.embeddings && augment && !table.columns.some((c) => c.name === "augmentation")) {
    throw new Error(`--augment: ${file} holds no augmented copies; give --model and --dataset instead of --embeddings (the copies are embedded and cached), or make the table with \`fetalclip embed-dataset --augment N\``);
  }
  model ??= tableModel(table);
  const zeroShot = options.zeroShot !== false && model ? await zeroShotFor(table, options.label, model, log) : null;
  const report = runProbe(table, {...probe, splits, zeroShot, source: file, log, ...(augment ? {augment} : {})});
  return {
    ...report,
    embeddings: {file, rows: table.ids.length, embedDim: table.embedDim, model: table.metadata[EMBEDDINGS_META.model] ?? null, dataset: table.metadata[EMBEDDINGS_META.dataset] ?? null},
    augmentation: augmentationOf(table, report)
  };
}

/** What the report's training sets were made of, from the table's metadata: the page and the note say it. */
function augmentationOf(table: EmbeddingTableData, report: ProbeReport): ProbeJobReport["augmentation"] {
  const copies = report.protocol.augment;
  const pipeline = table.metadata[EMBEDDINGS_META.pipeline];
  if (!pipeline?.startsWith("fetalclip-probe-input/")) return null;
  let spec: unknown = null;
  try {
    spec = JSON.parse(table.metadata[EMBEDDINGS_META.augmentation] ?? "null");
  } catch {
    spec = null;
  }
  return {full: copies.full, fewShot: copies.fewShot, seed: table.metadata[EMBEDDINGS_META.augmentSeed] ?? "0", pipeline, spec};
}

/** The Probes page's loader: one task for a configured model and dataset (through the embedding store). */
export async function probeConfigured(model: ConfiguredModel, dataset: ConfiguredDataset, options: Omit<ProbeJobOptions, "embeddings" | "model" | "dataset" | "variant">): Promise<ProbeJobReport> {
  const log = options.log ?? (() => {});
  const {splitFiles: _s, testSplit: _t, augment: choice, augmentSeed, zeroShot: _z, ...probe} = options;
  const splits = splitsFromFiles(options.splitFiles ?? [], options.testSplit);
  const augment = choice === undefined ? undefined : augmentCopiesOf(choice);
  const job = augment
    ? await ensureAugmentedEmbeddings(model, dataset, {...probe, splits}, {copies: Math.max(augment.full, augment.fewShot), seed: augmentSeed}, log)
    : await ensureEmbeddings(model, dataset, {log});
  const table = readEmbeddingsFile(job.out, "embeddings");
  const zeroShot = options.zeroShot !== false ? await zeroShotFor(table, options.label, model, log) : null;
  const report = runProbe(table, {...probe, splits, zeroShot, source: job.out, log, ...(augment ? {augment} : {})});
  return {...report, embeddings: {file: job.out, rows: table.ids.length, embedDim: table.embedDim, model: model.name, dataset: dataset.name}, augmentation: augmentationOf(table, report)};
}
