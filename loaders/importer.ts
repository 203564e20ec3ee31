// open_clip checkpoint + config + BPE vocab -> a model bundle (models/<id>/):
// model.json, image.onnx, text.onnx (+ fp16 / int8 variants) and the vocab file.
import {copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync} from "node:fs";
import {constants as osConstants} from "node:os";
import {basename, dirname, join, resolve} from "node:path";
import {BUNDLE_FORMAT, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, type ModelManifest, type SourceFile} from "../src/lib/bundle.js";
import {readMergesFile, Tokenizer} from "../src/lib/tokenizer.js";
import {sha256File} from "./checkpoint/hash.js";
import {openCheckpoint} from "./checkpoint/index.js";
import type {StateDict} from "./checkpoint/stateDict.js";
import {buildImageGraph, buildTextGraph} from "./onnx/clipGraphs.js";
import {writeOnnx} from "./onnx/writeBundleGraphs.js";
import {readOpenClipConfig} from "./openClipConfig.js";
import {pidAlive} from "./processAlive.js";

export const IMPORTER_VERSION = "fetalclip-explorer importer 1";

export interface ImportOptions {
  weights: string;
  config: string;
  vocab: string;
  outDir: string;
  id?: string;
  name?: string;
  licence?: string;
  /** Also write float16-weight variants (half the download for the browser). */
  fp16?: boolean;
  /** Also write int8 dynamic-quantized variants (image.int8.onnx, text.int8.onnx): ~1/4 of the weights, faster on VNNI CPUs. */
  int8?: boolean;
  /** Use com.microsoft fused ops (faster on onnxruntime-node's cpu EP). */
  fused?: boolean;
  /** Free-form model card merged into model.json. */
  card?: Record<string, unknown>;
  /** Replace an existing bundle at outDir (never anything else); without it, an existing bundle is refused. */
  force?: boolean;
  log?: (message: string) => void;
}

/**
 * What may be written at `outDir`: a new or empty folder, or (with force) an existing
 * model bundle. Anything else is the user's and is refused before any work, so an
 * import never deletes or overwrites what the project did not write.
 */
export function checkImportTarget(outDir: string, force = false): "new" | "empty" | "bundle" {
  let stat;
  try {
    stat = lstatSync(outDir);
  } catch {
    return "new";
  }
  if (!stat.isDirectory()) throw new Error(`--out ${outDir}: a file (not a folder) is there; choose a new folder for the bundle`);
  const names = readdirSync(outDir);
  if (names.length === 0) return "empty";
  let isBundle = false;
  try {
    isBundle = JSON.parse(readFileSync(join(outDir, "model.json"), "utf8"))?.format === BUNDLE_FORMAT;
  } catch {
    isBundle = false;
  }
  if (!isBundle) {
    throw new Error(`--out ${outDir}: the folder is not empty and is not a model bundle (${names.length} entries, e.g. ${names.slice(0, 3).join(", ")}); choose a new or empty folder`);
  }
  if (!force) throw new Error(`--out ${outDir}: a model bundle is already there; add --force to replace it`);
  return "bundle";
}

function countParams(state: StateDict, prefix: (key: string) => boolean): number {
  let total = 0;
  for (const key of state.keys()) {
    if (!prefix(key)) continue;
    const t = state.get(key)!;
    total += t.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

function scalar(state: StateDict, key: string): number {
  const t = state.get(key);
  if (!t) throw new Error(`checkpoint ${state.path}: "${key}" is missing`);
  // The shape is checked before any bytes are read or allocated.
  if (t.shape.reduce((a, b) => a * b, 1) !== 1) throw new Error(`checkpoint ${state.path}: "${key}" must be a scalar, got shape [${t.shape.join(", ")}]`);
  return t.toFloat32()[0]!;
}

const FLOAT_DTYPES = new Set(["float16", "bfloat16", "float32", "float64"]);

/**
 * The checkpoint seen through a check that every tensor read is floating point and holds
 * only finite numbers: one flipped exponent bit can make every embedding NaN downstream,
 * and weights stored as integers are a lying header, not a model.
 */
export function finiteWeights(state: StateDict): StateDict {
  return {
    ...state,
    get(name) {
      const t = state.get(name);
      if (!t) return undefined;
      return {
        ...t,
        toFloat32() {
          if (!FLOAT_DTYPES.has(t.dtype)) {
            throw new Error(`${state.path}: tensor "${name}" is stored as ${t.dtype}; a model's weights are floating point (float32, float16, bfloat16 or float64)`);
          }
          const values = t.toFloat32();
          for (let i = 0; i < values.length; i++) {
            if (!Number.isFinite(values[i])) {
              const index = t.shape.length > 1 ? ` (flat index ${i} of [${t.shape.join(", ")}])` : ` (index ${i})`;
              throw new Error(`${state.path}: tensor "${name}" holds ${values[i]} at element ${i}${index}: the weights are corrupt (a damaged file or a diverged training run)`);
            }
          }
          return values;
        }
      };
    }
  };
}

/** CLIP's merges file is 1.4 MB gzipped; a vocabulary file over this is not one. */
export const MAX_VOCAB_FILE_BYTES = 64 * 1024 * 1024;

/** Reads a whole file the user named, refusing it before allocating when it is over `maxBytes`. */
function readBoundedFile(path: string, maxBytes: number, flag: string): Uint8Array {
  const bytes = statSync(path).size;
  if (bytes > maxBytes) throw new Error(`${flag} ${path}: ${bytes} bytes, over the ${maxBytes}-byte limit for this file`);
  return new Uint8Array(readFileSync(path));
}

/**
 * The BPE vocabulary must be the one the text tower was trained with: as many tokens
 * as the config's vocab_size, so the start/end-of-text ids (49406/49407 for CLIP's
 * merges) index the last two rows of the token embedding, as open_clip's tokenizer does.
 */
export function checkVocabulary(tokenizer: Tokenizer, vocabSize: number, path: string): void {
  if (tokenizer.vocabSize !== vocabSize || tokenizer.sot !== vocabSize - 2 || tokenizer.eot !== vocabSize - 1) {
    throw new Error(
      `${path}: the BPE vocabulary has ${tokenizer.vocabSize} tokens (start/end-of-text ids ${tokenizer.sot}/${tokenizer.eot}) but the config's ` +
        `text_cfg.vocab_size is ${vocabSize} (ids ${vocabSize - 2}/${vocabSize - 1}): this is not the vocabulary the model was trained with ` +
        `(FetalCLIP uses CLIP's bpe_simple_vocab_16e6.txt.gz)`
    );
  }
}

async function sourceFile(role: SourceFile["role"], path: string): Promise<SourceFile> {
  return {role, name: basename(path), sha256: await sha256File(path), bytes: statSync(path).size};
}

/** Imports a checkpoint into a bundle; the bundle appears atomically when complete. */
export async function importModel(options: ImportOptions): Promise<ModelManifest> {
  const log = options.log ?? (() => {});
  for (const [flag, path] of [["--weights", options.weights], ["--config", options.config], ["--vocab", options.vocab]] as const) {
    if (!existsSync(path)) throw new Error(`${flag}: ${path} does not exist`);
  }
  const config = readOpenClipConfig(options.config);
  const vocabName = options.vocab.endsWith(".gz") ? "vocab.txt.gz" : "vocab.txt";
  const tokenizer = Tokenizer.fromMerges(readMergesFile(readBoundedFile(options.vocab, MAX_VOCAB_FILE_BYTES, "--vocab"), options.vocab));
  checkVocabulary(tokenizer, config.text_cfg.vocab_size, options.vocab);
  const outDir = resolve(options.outDir);
  const target = checkImportTarget(outDir, options.force);
  const id = options.id ?? basename(outDir);
  removeStaleImports(outDir);
  const tmpDir = join(dirname(outDir), `.${basename(outDir)}.importing-${process.pid}`);
  rmSync(tmpDir, {recursive: true, force: true});
  const createdParents = makeFolders(dirname(outDir), options.outDir);
  try {
    mkdirSync(tmpDir);
    writeFileSync(join(tmpDir, IMPORT_MARKER), `${process.pid}\n`);
  } catch (error) {
    rmSync(tmpDir, {recursive: true, force: true});
    removeEmptyFolders(createdParents);
    throw new Error(`--out ${options.outDir}: cannot write a bundle there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was imported`);
  }
  // Ctrl-C or a kill signal mid-import: remove the half-written bundle and exit as the shell
  // expects (128 + signal number). Handlers run when the import yields, between graphs.
  const onSignal = (signal: NodeJS.Signals): void => {
    rmSync(tmpDir, {recursive: true, force: true});
    removeEmptyFolders(createdParents);
    process.stderr.write(`fetalclip import: stopped by ${signal}; the partial bundle was removed\n`);
    process.exit(128 + (osConstants.signals[signal] ?? 1));
  };
  for (const signal of CLEANUP_SIGNALS) process.once(signal, onSignal);
  let state: StateDict | undefined;
  try {
    state = finiteWeights(openCheckpoint(options.weights));
    log(`checkpoint ${options.weights}: ${state.format}, ${state.keys().length} tensors`);
    await signalPoint();
    const logitScale = scalar(state, "logit_scale");
    const files: ModelManifest["files"] = {image: "image.onnx", text: "text.onnx"};
    const started = Date.now();
    const image = buildImageGraph(config, state, {fused: options.fused});
    const imageOut = writeOnnx(join(tmpDir, files.image), image, {});
    log(`image encoder: ${(imageOut.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await signalPoint();
    const text = buildTextGraph(config, state, {fused: options.fused});
    const textOut = writeOnnx(join(tmpDir, files.text), text, {});
    log(`text encoder: ${(textOut.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await signalPoint();
    if (options.fp16) {
      files.imageFp16 = "image.fp16.onnx";
      files.textFp16 = "text.fp16.onnx";
      writeOnnx(join(tmpDir, files.imageFp16), buildImageGraph(config, state, {fused: options.fused}), {fp16: true});
      await signalPoint();
      writeOnnx(join(tmpDir, files.textFp16), buildTextGraph(config, state, {fused: options.fused}), {fp16: true});
      await signalPoint();
      log(`fp16 variants written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    if (options.int8) {
      files.imageInt8 = "image.int8.onnx";
      files.textInt8 = "text.int8.onnx";
      writeOnnx(join(tmpDir, files.imageInt8), buildImageGraph(config, state, {fused: options.fused, quantize: "int8"}), {});
      await signalPoint();
      writeOnnx(join(tmpDir, files.textInt8), buildTextGraph(config, state, {fused: options.fused, quantize: "int8"}), {});
      await signalPoint();
      log(`int8 variants written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    copyFileSync(options.vocab, join(tmpDir, vocabName));
    const imageParams = countParams(state, (k) => k.startsWith("visual."));
    const total = countParams(state, () => true);
    const manifest: ModelManifest = {
      format: "fetalclip-explorer/model@1",
      id,
      name: options.name ?? id,
      licence: options.licence ?? "unknown: see the checkpoint's source",
      source: {
        files: [
          await sourceFile("weights", options.weights),
          await sourceFile("config", options.config),
          await sourceFile("vocab", options.vocab)
        ],
        importedAt: new Date().toISOString(),
        importer: IMPORTER_VERSION
      },
      config,
      params: {image: imageParams, text: total - imageParams, total},
      image: {
        size: config.vision_cfg.image_size,
        mean: OPENAI_CLIP_MEAN,
        std: OPENAI_CLIP_STD,
        resize: "bicubic",
        pad: "centre-square-zero"
      },
      text: {contextLength: config.text_cfg.context_length, vocab: vocabName, sot: tokenizer.sot, eot: tokenizer.eot, variableLength: true},
      embedDim: config.embed_dim,
      logitScale,
      files,
      ...(options.card ? {card: options.card} : {})
    };
    writeFileSync(join(tmpDir, "model.json"), JSON.stringify(manifest, null, 2) + "\n");
    // The new bundle is complete: swap it in; an old bundle goes only once the new one is in place.
    rmSync(join(tmpDir, IMPORT_MARKER));
    checkImportTarget(outDir, options.force);
    const old = target === "bundle" || target === "empty" ? join(dirname(outDir), `.${basename(outDir)}.replaced-${process.pid}`) : null;
    if (old) renameSync(outDir, old);
    try {
      renameSync(tmpDir, outDir);
    } catch (error) {
      if (old) renameSync(old, outDir);
      throw error;
    }
    if (old) rmSync(old, {recursive: true, force: true});
    log(`bundle ${id} written to ${outDir}`);
    return manifest;
  } catch (error) {
    rmSync(tmpDir, {recursive: true, force: true});
    removeEmptyFolders(createdParents);
    throw error;
  } finally {
    for (const signal of CLEANUP_SIGNALS) process.off(signal, onSignal);
    state?.close();
  }
}

/**
 * Creates `dir` and its missing parents one level at a time, returning those it made (deepest
 * last). Node's recursive mkdir never returns on some special filesystems (under /proc it
 * loops), so each level is made plainly and an error stops the walk.
 */
function makeFolders(dir: string, asGiven: string): string[] {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    if (dirname(at) === at) break;
    missing.unshift(at);
  }
  const made: string[] = [];
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      removeEmptyFolders(made);
      throw new Error(`--out ${asGiven}: cannot create the folder ${folder} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was imported`);
    }
    made.push(folder);
  }
  return made;
}

/** Removes folders this run made (deepest first) while they are still empty. */
function removeEmptyFolders(made: string[]): void {
  for (const folder of [...made].reverse()) {
    try {
      rmdirSync(folder);
    } catch {
      return;
    }
  }
}

/** Lets pending signal handlers run (the import is otherwise synchronous for minutes on FetalCLIP). */
function signalPoint(): Promise<void> {
  return new Promise((done) => setImmediate(done));
}

const CLEANUP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** Written first into every temporary import folder: only folders holding it are ever removed as stale. */
const IMPORT_MARKER = ".fetalclip-import";

/**
 * A process killed outright (SIGKILL, power loss) cannot clean up: the next import to the
 * same --out removes the temporary folders such runs left, when they carry this importer's
 * marker and their process is gone.
 */
function removeStaleImports(outDir: string): void {
  const parent = dirname(outDir);
  const prefix = `.${basename(outDir)}.importing-`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || pidAlive(pid)) continue;
    const dir = join(parent, name);
    if (existsSync(join(dir, IMPORT_MARKER))) rmSync(dir, {recursive: true, force: true});
  }
}
