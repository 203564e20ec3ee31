// The Probes page's two artifacts, for every configured model: probes.json (few-shot
// curves and the full-data linear probe of the six planes and the brain sub-planes on the
// phantom, with the zero-shot reference; CHD vs normal on the phantom's CHD set, with the
// ROC curve and AUROC's bootstrap CI) and segmentation-probes.json (the per-patch linear
// head on the phantom's structures: Dice with CIs and example predictions). The work is
// the probe commands' own (probeConfigured, runSegmentProbe); each result is cached under
// FETALCLIP_CACHE/probe-results/<dataset>/<model>/, keyed by the embedding table's bytes,
// the settings and the code that computes it, so an unchanged rebuild trains nothing.
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {
  PROBES_FORMAT,
  SEGMENTATION_PROBES_FORMAT,
  type ProbeEntry,
  type ProbesArtifact,
  type SegmentationArtifact,
  type SegmentationEntry,
  type SkippedProbe,
  type StoredProbeReport
} from "../src/lib/probeResults.js";
import {augmentCopiesOf, MAX_AUGMENT_COPIES, parseAugmentChoice} from "../src/lib/probes/augmentChoice.js";
import {readManifest} from "./bundles.js";
import {openDataset} from "./datasets/registry.js";
import {writeFileAtomic} from "./embeddings/cache.js";
import {ensureEmbeddings} from "./embeddings/store.js";
import {modelDisplayName} from "./embeddingMaps/build.js";
import {pruneOtherKeys, sourceKey} from "./embeddingMaps/sourceKey.js";
import {CACHE_DIR, REPO_ROOT} from "./paths.js";
import {probeConfigured} from "./probes.js";
import {readProjectConfig, type ConfiguredDataset, type ConfiguredModel, type ProjectConfig} from "./projectConfig.js";
import {runSegmentProbe} from "./segmentation/segmentProbe.js";

export const PROBE_RESULTS_DIR = join(CACHE_DIR, "probe-results");
/** Bump when this file changes what a cached result holds. */
const RESULTS_VERSION = 1;

/** The datasets the page probes: the phantom (planes, sub-planes, structures) and its CHD set. */
export const PROBE_DATASETS = {phantom: {name: "phantom", dataset: "phantom"}, chd: {name: "phantom-chd", dataset: "phantom-chd"}} as const satisfies Record<string, ConfiguredDataset>;

/**
 * How the page's probes run. Paper mode (AdamW, 5 folds x 5 runs, 5 support sets x 5 runs)
 * takes about a minute per model on the phantom with the demo bundle on 2 busy cores;
 * FETALCLIP_PROBE_MODE=fast runs the L-BFGS logistic regression instead (about half).
 * FETALCLIP_PROBE_AUGMENT=paper (5 copies full data, 10 few-shot) or N trains on augmented
 * copies as FetalCLIP's notebooks do; they are embedded once and cached.
 */
export function pageProbeSettings(env: NodeJS.ProcessEnv = process.env): ProbesArtifact["settings"] {
  const mode = env.FETALCLIP_PROBE_MODE === "fast" ? "fast" : "paper";
  if (env.FETALCLIP_PROBE_MODE && env.FETALCLIP_PROBE_MODE !== mode) throw new Error(`FETALCLIP_PROBE_MODE=${env.FETALCLIP_PROBE_MODE}: expected paper or fast`);
  const augmentText = env.FETALCLIP_PROBE_AUGMENT?.trim();
  let augment: ProbesArtifact["settings"]["augment"] = null;
  if (augmentText && augmentText !== "0" && augmentText !== "none") {
    const choice = parseAugmentChoice(augmentText);
    if (choice === null) throw new Error(`FETALCLIP_PROBE_AUGMENT=${augmentText}: expected paper, none or a number of copies from 1 to ${MAX_AUGMENT_COPIES}`);
    augment = {...augmentCopiesOf(choice), seed: 0};
  }
  const augmentNote = augment
    ? `; trained on ${augment.full} (full data) and ${augment.fewShot} (few-shot) augmented copies of each training image, validated and tested on the images as they are, all through the probing notebooks' pipeline (OpenCV bicubic resize)`
    : "; no augmentation";
  return {
    mode,
    seed: 0,
    runs: 5,
    augment,
    resamples: 2000,
    segmentationExamples: SEGMENTATION_EXAMPLES,
    note:
      mode === "paper"
        ? `paper mode: one linear layer, AdamW (lr 3e-4, weight decay 0.01), the epoch with the lowest validation loss kept; full data batch 64, 50 epochs, 5 folds x 5 runs; few-shot batch 16, 100 epochs (lr 1e-4 for brain sub-planes), 5 support sets x 5 runs${augmentNote}`
        : `fast mode: multinomial logistic regression with an L2 penalty chosen on the validation patients, solved by L-BFGS; one fit per fold and per support set (deterministic)${augmentNote}`
  };
}

/** Example predictions per structure in the segmentation artifact. */
export const SEGMENTATION_EXAMPLES = 3;
const SEGMENTATION_SEED = 0;
const SEGMENTATION_RESAMPLES = 1000;

const sources = (folder: string, keep: (file: string) => boolean = () => true) =>
  readdirSync(join(REPO_ROOT, folder)).filter((f) => f.endsWith(".ts") && keep(f)).sort().map((f) => `${folder}/${f}`);

/**
 * The code that shapes a probe report: editing one of these recomputes the cached results.
 * With augmentation, the image code too: it makes the copies, which the key's table does not hold.
 */
function probeCode(augmented: boolean): string[] {
  const core = sources("src/lib/probes", (f) => !f.startsWith("segmentation"));
  const pixels = augmented ? [...sources("src/lib/image"), "src/lib/rounding.ts"] : [];
  return [...core, ...pixels, "src/lib/metrics.ts", "src/lib/random.ts", "src/lib/prompts.ts", "src/lib/tasks/zeroShot.ts", "loaders/probes.ts"];
}

const SEGMENTATION_CODE = [
  "src/lib/probes/segmentation.ts",
  "src/lib/probes/segmentationMasks.ts",
  "src/lib/image/masks.ts",
  "loaders/maskImage.ts",
  "src/lib/random.ts",
  "src/lib/metrics.ts",
  "loaders/segmentation/segmentProbe.ts"
];

const hex = (h: ReturnType<typeof createHash>) => h.digest("hex").slice(0, 24);

function cached<T>(dir: string, prefix: string, key: string): T | null {
  const file = join(dir, `${prefix}-${key}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : null;
}

function store(dir: string, prefix: string, key: string, value: unknown): void {
  mkdirSync(dir, {recursive: true});
  writeFileAtomic(dir, `${prefix}-${key}.json`, [new TextEncoder().encode(JSON.stringify(value))]);
  // Only the current key of this result is kept.
  pruneOtherKeys(dir, key, new RegExp(`^(${prefix})-([0-9a-f]{24})\\.json$`));
}

/**
 * One probe task of one model on one dataset, from the cache or computed. `table` is the
 * embedding table's file when the caller has just made it (one store pass for several tasks).
 */
export async function probeEntry(model: ConfiguredModel, dataset: ConfiguredDataset, task: string, settings: ProbesArtifact["settings"], log: (m: string) => void = () => {}, table?: string): Promise<ProbeEntry> {
  const started = performance.now();
  const job = table ? {out: table} : await ensureEmbeddings(model, dataset, {log});
  const key = hex(
    createHash("sha256")
      .update(`probe-results@${RESULTS_VERSION} code ${sourceKey(probeCode(settings.augment !== null))}\n${task}\n${JSON.stringify({mode: settings.mode, seed: settings.seed, runs: settings.runs, resamples: settings.resamples, ...(settings.augment ? {augment: settings.augment} : {})})}\n`)
      .update(readFileSync(job.out))
  );
  const dir = join(PROBE_RESULTS_DIR, dataset.name, model.name);
  const hit = cached<StoredProbeReport>(dir, `probe-${task}`, key);
  if (hit) {
    log(`probes ${dataset.name}/${model.name} ${task}: cached (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return {model: model.name, dataset: dataset.name, task, report: hit};
  }
  const augment = settings.augment ? {augment: {full: settings.augment.full, fewShot: settings.augment.fewShot}, augmentSeed: settings.augment.seed} : {};
  const report = await probeConfigured(model, dataset, {label: task, mode: settings.mode, seed: settings.seed, runs: settings.runs, resamples: settings.resamples, ...augment, log: settings.augment ? log : () => {}});
  const {embeddings, ...rest} = report;
  const stored: StoredProbeReport = {...rest, embeddings: {rows: embeddings.rows, embedDim: embeddings.embedDim, model: model.name, dataset: dataset.name}};
  store(dir, `probe-${task}`, key, stored);
  log(`probes ${dataset.name}/${model.name} ${task}: ${settings.mode} mode in ${report.seconds.toFixed(1)} s (full macro F1 ${report.full?.macroF1.toFixed(3) ?? "-"})`);
  return {model: model.name, dataset: dataset.name, task, report: stored};
}

/** The segmentation probe of one model on the phantom, from the cache or computed. */
export async function segmentationEntry(model: ConfiguredModel, dataset: ConfiguredDataset, log: (m: string) => void = () => {}): Promise<SegmentationEntry> {
  const started = performance.now();
  // The key: the pooled embedding table (the model's key, every image's embedding) and the
  // dataset's manifest (the generator, its seed and the mask labels) name the inputs.
  const job = await ensureEmbeddings(model, dataset, {log});
  const opened = openDataset(dataset.dataset);
  const manifest = join(opened.root, "manifest.json");
  const settings = {seed: SEGMENTATION_SEED, resamples: SEGMENTATION_RESAMPLES, examples: SEGMENTATION_EXAMPLES};
  const key = hex(
    createHash("sha256")
      .update(`segmentation-results@${RESULTS_VERSION} code ${sourceKey(SEGMENTATION_CODE)}\n${JSON.stringify(settings)}\n`)
      .update(existsSync(manifest) ? readFileSync(manifest) : new Uint8Array(0))
      .update(readFileSync(job.out))
  );
  const dir = join(PROBE_RESULTS_DIR, dataset.name, model.name);
  const hit = cached<SegmentationEntry>(dir, "segmentation", key);
  if (hit) {
    log(`segmentation probe ${dataset.name}/${model.name}: cached (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return hit;
  }
  if (model.variant !== "fp32") log(`segmentation probe ${model.name}: patch tokens come from the bundle's fp32 graphs (segment-probe runs fp32)`);
  const report = await runSegmentProbe({model: model.dir, dataset: dataset.dataset, seed: settings.seed, resamples: settings.resamples, examples: settings.examples, log});
  const entry: SegmentationEntry = {
    model: model.name,
    dataset: dataset.name,
    head: report.head,
    grid: report.grid,
    size: report.size,
    dim: report.dim,
    structures: report.structures,
    split: report.split,
    training: {
      loss: report.training.loss,
      learningRate: report.training.learningRate,
      weightDecay: report.training.weightDecay,
      batchSize: report.training.batchSize,
      epochs: report.training.epochs,
      lossSize: report.training.lossSize,
      seed: report.training.seed,
      keptEpoch: report.training.keptEpoch
    },
    // The probability map is left out: the page draws the thresholded prediction.
    examples: (report.examples ?? []).map((x) => ({id: x.id, structure: x.structure, dice: x.dice, size: x.size, image: x.image, mask: x.mask, prediction: x.prediction})),
    seconds: report.seconds
  };
  store(dir, "segmentation", key, entry);
  log(`segmentation probe ${dataset.name}/${model.name}: built in ${report.seconds.toFixed(1)} s`);
  return entry;
}

function modelNames(config: ProjectConfig): {id: string; name: string}[] {
  return config.models.map((m) => {
    try {
      const manifest = readManifest(m.dir);
      return {id: m.name, name: modelDisplayName(manifest.name, manifest.id, m)};
    } catch {
      return {id: m.name, name: m.name};
    }
  });
}

/** probes.json: every configured model's classification and CHD probes. A pair that fails is listed with the reason; the others go on. */
export async function buildProbeResults(log: (m: string) => void = () => {}, config: ProjectConfig = readProjectConfig()): Promise<ProbesArtifact> {
  const settings = pageProbeSettings();
  const classification: ProbeEntry[] = [];
  const chd: ProbeEntry[] = [];
  const skipped: SkippedProbe[] = [];
  // One pass of the embedding store per (model, dataset): it hashes every image file.
  const tables = new Map<string, Promise<string>>();
  const tableOf = (model: ConfiguredModel, dataset: ConfiguredDataset) => {
    const key = `${model.name}\n${dataset.name}`;
    if (!tables.has(key)) tables.set(key, ensureEmbeddings(model, dataset, {log}).then((job) => job.out));
    return tables.get(key)!;
  };
  const attempt = async (section: string, model: ConfiguredModel, dataset: ConfiguredDataset, task: string, into: ProbeEntry[]) => {
    try {
      into.push(await probeEntry(model, dataset, task, settings, log, await tableOf(model, dataset)));
    } catch (error) {
      const message = (error as Error).message;
      log(`probes ${dataset.name}/${model.name} ${task}: skipped: ${message}`);
      skipped.push({section, model: model.name, dataset: dataset.name, error: message});
    }
  };
  for (const model of config.models) {
    await attempt("six-planes", model, PROBE_DATASETS.phantom, "six-planes", classification);
    await attempt("brain-subplanes", model, PROBE_DATASETS.phantom, "brain-subplanes", classification);
    await attempt("chd", model, PROBE_DATASETS.chd, "chd", chd);
  }
  return {format: PROBES_FORMAT, settings, models: modelNames(config), classification, chd, skipped};
}

/** segmentation-probes.json: every configured model's segmentation probe on the phantom. */
export async function buildSegmentationResults(log: (m: string) => void = () => {}, config: ProjectConfig = readProjectConfig()): Promise<SegmentationArtifact> {
  const segmentation: SegmentationEntry[] = [];
  const skipped: SkippedProbe[] = [];
  for (const model of config.models) {
    try {
      segmentation.push(await segmentationEntry(model, PROBE_DATASETS.phantom, log));
    } catch (error) {
      const message = (error as Error).message;
      log(`segmentation probe phantom/${model.name}: skipped: ${message}`);
      skipped.push({section: "segmentation", model: model.name, dataset: PROBE_DATASETS.phantom.name, error: message});
    }
  }
  return {
    format: SEGMENTATION_PROBES_FORMAT,
    settings: {
      seed: SEGMENTATION_SEED,
      resamples: SEGMENTATION_RESAMPLES,
      examplesPerStructure: SEGMENTATION_EXAMPLES,
      note: "a linear head per patch token, trained on frozen patch tokens with smp's Dice loss and AdamW as the official segmentation probing trains its decoder; Dice pooled over every test pixel at threshold 0.5 (the official test_dsc) and per image, with patient bootstrap 95% CIs"
    },
    models: modelNames(config),
    segmentation,
    skipped
  };
}
