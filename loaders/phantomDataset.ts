// Writes the phantom dataset to disk: images/<id>.png (8-bit grayscale),
// masks/<id>.png (label map) and manifest.json. Idempotent (same seed, count,
// size and generator version: nothing to do) and atomic (built in a temporary
// folder, then renamed), so a killed run never leaves a half-written dataset.
// Images are made on worker threads, one per core, when the TypeScript loader
// can be started in them; otherwise in this thread. Two sets: the default
// phantom (every plane class) and the CHD set (four-chamber views, normal and
// congenital heart defects, in its own folder with its own seed).

import {existsSync, readFileSync} from "node:fs";
import {mkdir, readdir, readFile, rename, rm, writeFile} from "node:fs/promises";
import {availableParallelism} from "node:os";
import {basename, dirname, join, resolve} from "node:path";
import {isMainThread, parentPort, Worker, workerData} from "node:worker_threads";
import {encode} from "fast-png";
import {PHANTOM_CHD_DIR, PHANTOM_DIR} from "./paths.js";
import {
  DEFAULT_DATASET_COUNT,
  DEFAULT_IMAGE_SIZE,
  generateSample,
  PHANTOM_GENERATOR_VERSION,
  planDataset,
  type BrainSubPlane,
  type PhantomPlane,
  type PlannedSample,
  type Split,
  type PhantomSample,
  BRAIN_SUB_PLANES,
  PHANTOM_PLANES,
  CHD_GENERATOR_VERSION,
  CHD_MASK_LABELS,
  CHD_STRUCTURES,
  DEFAULT_CHD_COUNT,
  DEFAULT_CHD_SEED,
  generateChdSample,
  planChdDataset,
  type ChdDiagnosis,
  type PlannedChdSample
} from "../src/lib/phantom/index.js";
import {pidAlive} from "./processAlive.js";

export const PHANTOM_MANIFEST_FORMAT = "fetalclip-explorer/phantom@1";
/** The project's phantom folder (data/phantom under the repository root, gitignored). */
export {PHANTOM_DIR};
export const DEFAULT_PHANTOM_SEED = 1;
/** The CHD set's folder (data/phantom-chd, gitignored). */
export {PHANTOM_CHD_DIR};

/** The phantom sets: `default` (every plane class, data/phantom) and `chd` (four-chamber views, normal vs CHD, data/phantom-chd). */
export const PHANTOM_SETS = ["default", "chd"] as const;
export type PhantomSet = (typeof PHANTOM_SETS)[number];

/** One manifest entry: a sample's metadata (no pixels), its files and its split. */
export interface PhantomManifestSample extends Omit<PhantomSample, "pixels" | "masks" | "width" | "height"> {
  /** Paths relative to the dataset folder. */
  file: string;
  maskFile: string;
  split: Split;
  /** CHD set only: the fetus's diagnosis, and normal/chd. */
  diagnosis?: ChdDiagnosis;
  chd?: "normal" | "chd";
}

/** Reads and checks data/phantom/manifest.json (or another phantom folder's). */
export function readPhantomManifest(phantomDir: string): PhantomManifestSample[] {
  const path = join(phantomDir, "manifest.json");
  let json: any;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: cannot read the phantom manifest (${(error as Error).message}); generate the phantom first`);
  }
  const samples: unknown = Array.isArray(json) ? json : json.samples;
  if (!Array.isArray(samples) || samples.length === 0) throw new Error(`${path}: expected a non-empty "samples" list`);
  for (const [i, s] of (samples as any[]).entries()) {
    for (const key of ["id", "file", "patientId", "split", "plane", "gaDays", "hcMm", "spacingMmPerPx"]) {
      if (s[key] === undefined) throw new Error(`${path}: samples[${i}] has no "${key}"`);
    }
    if (!(PHANTOM_PLANES as readonly string[]).includes(s.plane)) throw new Error(`${path}: samples[${i}].plane "${s.plane}" is not a phantom plane`);
    if (s.subPlane && !(BRAIN_SUB_PLANES as readonly string[]).includes(s.subPlane)) {
      throw new Error(`${path}: samples[${i}].subPlane "${s.subPlane}" is not a brain sub-plane`);
    }
    if (s.diagnosis !== undefined && !["normal", "vsd", "hlhs"].includes(s.diagnosis)) {
      throw new Error(`${path}: samples[${i}].diagnosis "${s.diagnosis}" is not one of normal, vsd, hlhs`);
    }
  }
  return samples as PhantomManifestSample[];
}

export interface PhantomManifest {
  format: typeof PHANTOM_MANIFEST_FORMAT;
  seed: number | string;
  count: number;
  width: number;
  height: number;
  generatorVersion: string;
  /** Values of the mask PNGs (0 background, 1 skull, 2 abdomen, 3 femur, 4 heart; the CHD set: 4 heart wall, 5-10 chambers, septum, defect). */
  maskLabels: Record<string, number>;
  /** CHD set only (absent from the default set's manifest, which stays as it was). */
  set?: "chd";
  /** CHD set only: each segmentable structure as the mask values it covers. */
  structures?: Record<string, readonly number[]>;
  samples: PhantomManifestSample[];
}

export interface PhantomDatasetOptions {
  /** Which set; default "default". The CHD set defaults to PHANTOM_CHD_DIR, seed DEFAULT_CHD_SEED, 400 images. */
  set?: PhantomSet;
  outDir?: string;
  seed?: number | string;
  count?: number;
  width?: number;
  height?: number;
  /** Worker threads; default: one per core (capped at 8), 1 = generate in this thread. */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PhantomDatasetResult {
  outDir: string;
  manifest: PhantomManifest;
  /** True when an identical dataset was already there. */
  skipped: boolean;
  seconds: number;
}

type SampleFacts = Pick<PhantomManifestSample, "id" | "spacingMmPerPx">;

type AnyPlanned = PlannedSample | PlannedChdSample;

/** Generates and writes the PNGs of some planned samples into `dir`; returns what the manifest needs. */
async function writeSamples(planned: readonly AnyPlanned[], dir: string, onSample: (facts: SampleFacts) => void): Promise<void> {
  for (const spec of planned) {
    const sample = "heart" in spec ? generateChdSample(spec.seed, spec) : generateSample(spec.seed, spec);
    // zlib level 3: as small as the default on speckle, in half the time.
    const image = encode({width: sample.width, height: sample.height, data: sample.pixels, channels: 1, depth: 8}, {zlib: {level: 3}});
    const mask = encode({width: sample.width, height: sample.height, data: sample.masks, channels: 1, depth: 8}, {zlib: {level: 3}});
    await Promise.all([writeFile(join(dir, "images", `${spec.id}.png`), image), writeFile(join(dir, "masks", `${spec.id}.png`), mask)]);
    onSample({id: spec.id, spacingMmPerPx: sample.spacingMmPerPx});
  }
}

interface WorkerJob {
  phantomWorker: true;
  planned: AnyPlanned[];
  dir: string;
}

// Worker side: this module, loaded in a worker thread by the bootstrap below.
if (!isMainThread && (workerData as WorkerJob | undefined)?.phantomWorker) {
  const job = workerData as WorkerJob;
  await writeSamples(job.planned, job.dir, (facts) => parentPort!.postMessage(facts));
}

/** Starts a worker that registers tsx's loader, then imports this module to run its job. */
function startWorker(job: WorkerJob, onSample: (facts: SampleFacts) => void): Promise<void> {
  const tsxApi = import.meta.resolve?.("tsx/esm/api");
  if (!tsxApi) return Promise.reject(new Error("import.meta.resolve is unavailable: cannot start the TypeScript loader in a worker"));
  const self = import.meta.url;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(self)}); });`;
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(bootstrap, {eval: true, workerData: job});
    worker.on("message", (facts: SampleFacts) => onSample(facts));
    worker.on("error", reject);
    worker.on("exit", (code) => (code === 0 ? resolvePromise() : reject(new Error(`phantom worker exited with code ${code}`))));
  });
}

async function readManifest(outDir: string): Promise<PhantomManifest | null> {
  try {
    return JSON.parse(await readFile(join(outDir, "manifest.json"), "utf8")) as PhantomManifest;
  } catch {
    return null;
  }
}

/** Removes temporary folders left beside `outDir` by runs that were killed. */
async function removeStaleTemps(outDir: string): Promise<void> {
  const parent = dirname(outDir);
  if (!existsSync(parent)) return;
  const prefix = `${basename(outDir)}.tmp-`;
  for (const name of await readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (Number.isInteger(pid) && !pidAlive(pid)) await rm(join(parent, name), {recursive: true, force: true});
  }
}

/** Generates the phantom dataset into `outDir` (default PHANTOM_DIR); skips when an identical one is there. */
export async function generatePhantomDataset(options: PhantomDatasetOptions = {}): Promise<PhantomDatasetResult> {
  const started = performance.now();
  const set = options.set ?? "default";
  if (!PHANTOM_SETS.includes(set)) throw new Error(`phantom: set must be one of ${PHANTOM_SETS.join(", ")}, got ${JSON.stringify(set)}`);
  const chd = set === "chd";
  const outDir = resolve(options.outDir ?? (chd ? PHANTOM_CHD_DIR : PHANTOM_DIR));
  const seed = options.seed ?? (chd ? DEFAULT_CHD_SEED : DEFAULT_PHANTOM_SEED);
  const count = options.count ?? (chd ? DEFAULT_CHD_COUNT : DEFAULT_DATASET_COUNT);
  const width = options.width ?? DEFAULT_IMAGE_SIZE;
  const height = options.height ?? DEFAULT_IMAGE_SIZE;
  const generatorVersion = chd ? `${PHANTOM_GENERATOR_VERSION}+chd.${CHD_GENERATOR_VERSION}` : PHANTOM_GENERATOR_VERSION;
  const existing = await readManifest(outDir);
  if (
    existing &&
    existing.format === PHANTOM_MANIFEST_FORMAT &&
    (existing.set ?? "default") === set &&
    existing.seed === seed &&
    existing.count === count &&
    existing.width === width &&
    existing.height === height &&
    existing.generatorVersion === generatorVersion
  ) {
    return {outDir, manifest: existing, skipped: true, seconds: (performance.now() - started) / 1000};
  }
  const planned: AnyPlanned[] = chd ? planChdDataset({seed, count, width, height}) : planDataset({seed, count, width, height});
  await removeStaleTemps(outDir);
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(join(tmp, "images"), {recursive: true});
  await mkdir(join(tmp, "masks"), {recursive: true});
  try {
    const facts = new Map<string, SampleFacts>();
    const record = (f: SampleFacts) => {
      facts.set(f.id, f);
      options.onProgress?.(facts.size, planned.length);
    };
    const workers = Math.max(1, Math.min(options.workers ?? Math.min(8, availableParallelism()), Math.ceil(planned.length / 50)));
    if (workers > 1) {
      const chunks = Array.from({length: workers}, (_, w) => planned.filter((_, i) => i % workers === w));
      const settled = await Promise.allSettled(chunks.map((chunk) => startWorker({phantomWorker: true, planned: chunk, dir: tmp}, record)));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      // No TypeScript loader in workers (e.g. under a test runner): what is missing is made in this thread below.
      if (failed) process.stderr.write(`phantom: worker threads failed (${(failed.reason as Error).message}); generating the rest in this thread\n`);
    }
    await writeSamples(planned.filter((p) => !facts.has(p.id)), tmp, record);
    const manifest: PhantomManifest = {
      format: PHANTOM_MANIFEST_FORMAT,
      ...(chd ? {set: "chd" as const} : {}),
      seed,
      count,
      width,
      height,
      generatorVersion,
      maskLabels: chd ? {...CHD_MASK_LABELS} : {background: 0, skull: 1, abdomen: 2, femur: 3, heart: 4},
      ...(chd ? {structures: {...CHD_STRUCTURES}} : {}),
      samples: planned.map((p) => ({
        id: p.id,
        file: `images/${p.id}.png`,
        maskFile: `masks/${p.id}.png`,
        patientId: p.patient.patientId,
        split: p.split,
        plane: p.plane,
        subPlane: p.subPlane,
        gaDays: p.patient.gaDays,
        hcMm: p.patient.hcMm,
        acMm: p.patient.acMm,
        flMm: p.patient.flMm,
        spacingMmPerPx: facts.get(p.id)!.spacingMmPerPx,
        ...("heart" in p ? {diagnosis: p.heart.diagnosis, chd: p.heart.diagnosis === "normal" ? ("normal" as const) : ("chd" as const)} : {})
      }))
    };
    await writeFile(join(tmp, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
    // Swap in: move any old dataset aside, rename the new one into place, then drop the old.
    await mkdir(dirname(outDir), {recursive: true});
    const old = `${outDir}.old-${process.pid}-${Date.now()}`;
    if (existsSync(outDir)) await rename(outDir, old);
    await rename(tmp, outDir);
    await rm(old, {recursive: true, force: true});
    return {outDir, manifest, skipped: false, seconds: (performance.now() - started) / 1000};
  } catch (error) {
    await rm(tmp, {recursive: true, force: true});
    throw error;
  }
}
