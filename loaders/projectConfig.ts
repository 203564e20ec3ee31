// The datasets and models the site uses: fetalclip.config.json at the repository root
// (optional; FETALCLIP_CONFIG names another file), overridden by FETALCLIP_DATASETS and
// FETALCLIP_BUNDLES (comma-separated lists). Default: the phantom and the demo model.
// "reference" (or FETALCLIP_REFERENCE) names a folder of FetalCLIP's released outputs for
// the paper page; none by default (the site's embedded default needs nothing beside it).
import {existsSync, readFileSync} from "node:fs";
import {basename, dirname, isAbsolute, resolve} from "node:path";
import {MODEL_VARIANTS, type ModelVariant} from "../src/lib/bundle.js";
import {parseJsonStrict} from "../src/lib/json.js";
import {isRegisteredDataset} from "./datasets/registry.js";
import {MODELS_DIR, REPO_ROOT} from "./paths.js";

export const PROJECT_CONFIG_FILE = resolve(REPO_ROOT, "fetalclip.config.json");
export const DEFAULT_DATASETS = ["phantom"] as const;
export const DEFAULT_MODELS = ["fetalclip-demo"] as const;

export interface ConfiguredDataset {
  /** Short name for file names and menus: the registry name, or the folder's name. */
  name: string;
  /** What `openDataset` and `embed-dataset --dataset` take: a registry name or an absolute folder. */
  dataset: string;
}

export interface ConfiguredModel {
  /** Short name for file names and menus: the bundle folder's name (plus the variant when not fp32). */
  name: string;
  /** Absolute bundle folder. */
  dir: string;
  variant: ModelVariant;
}

export interface ProjectConfig {
  datasets: ConfiguredDataset[];
  models: ConfiguredModel[];
  /** Absolute folder of FetalCLIP's released outputs (../shared/reference/fetalclip layout), or null when none is configured. */
  reference: string | null;
  /** Where the lists came from: the config file, an environment variable, or "default". */
  sources: {datasets: string; models: string};
  /** Where `reference` came from: FETALCLIP_REFERENCE, the config file, or "default" (none). */
  referenceSource: string;
}

type DatasetEntry = string | {name?: string; path: string};
type ModelEntry = string | {bundle: string; variant?: string; name?: string};

/** A path given in the config resolves from the config file's folder; a bare name is a registry dataset or a bundle under FETALCLIP_MODELS. */
function datasetOf(entry: DatasetEntry, base: string, where: string): ConfiguredDataset {
  if (typeof entry === "string") {
    if (isRegisteredDataset(entry)) return {name: entry, dataset: entry};
    const dir = resolve(base, entry);
    return {name: basename(dir), dataset: dir};
  }
  if (entry === null || typeof entry !== "object" || typeof entry.path !== "string" || entry.path === "") {
    throw new Error(`${where}: a dataset is a name, a folder, or {"path": ..., "name": ...}; got ${JSON.stringify(entry)}`);
  }
  const dataset = isRegisteredDataset(entry.path) ? entry.path : resolve(base, entry.path);
  return {name: typeof entry.name === "string" && entry.name ? entry.name : basename(dataset), dataset};
}

function variantOf(value: unknown, where: string): ModelVariant {
  if (value === undefined) return "fp32";
  if (typeof value === "string" && (MODEL_VARIANTS as readonly string[]).includes(value)) return value as ModelVariant;
  throw new Error(`${where}: variant ${JSON.stringify(value)} is not one of ${MODEL_VARIANTS.join(", ")}`);
}

function modelOf(entry: ModelEntry, base: string, where: string): ConfiguredModel {
  let bundle: string;
  let variant: ModelVariant;
  let name: string | undefined;
  if (typeof entry === "string") {
    // "fetalclip:int8" in an environment list or the config: a bundle and its variant.
    const m = /^(.*):(fp32|fp16|int8)$/.exec(entry);
    bundle = m ? m[1]! : entry;
    variant = m ? (m[2] as ModelVariant) : "fp32";
  } else if (entry !== null && typeof entry === "object" && typeof entry.bundle === "string" && entry.bundle !== "") {
    bundle = entry.bundle;
    variant = variantOf(entry.variant, where);
    name = typeof entry.name === "string" && entry.name ? entry.name : undefined;
  } else {
    throw new Error(`${where}: a model is a bundle name, a folder, or {"bundle": ..., "variant": ...}; got ${JSON.stringify(entry)}`);
  }
  const isPath = isAbsolute(bundle) || /[\\/]/.test(bundle) || bundle.startsWith(".");
  const dir = isPath ? resolve(base, bundle) : resolve(MODELS_DIR, bundle);
  return {name: name ?? (variant === "fp32" ? basename(dir) : `${basename(dir)}-${variant}`), dir, variant};
}

function listFromEnv(value: string | undefined): string[] | null {
  if (value === undefined || value.trim() === "") return null;
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function unique<T extends {name: string}>(items: T[], what: string, where: string): T[] {
  const names = new Set<string>();
  for (const item of items) {
    if (names.has(item.name)) throw new Error(`${where}: two ${what} are named ${JSON.stringify(item.name)}; give one a "name"`);
    names.add(item.name);
  }
  return items;
}

export interface ReadProjectConfigOptions {
  /** Config file (default: FETALCLIP_CONFIG, else fetalclip.config.json at the repository root). */
  file?: string;
  /** Environment to read overrides from (default: process.env). */
  env?: Record<string, string | undefined>;
}

/**
 * The configured datasets and models, for the site's data loaders and for jobs that
 * run over all of them. Nothing is opened or checked on disk here.
 */
export function readProjectConfig(options: ReadProjectConfigOptions = {}): ProjectConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.FETALCLIP_CONFIG ? resolve(env.FETALCLIP_CONFIG) : PROJECT_CONFIG_FILE);
  let json: {datasets?: unknown; models?: unknown; reference?: unknown} = {};
  const hasFile = existsSync(file);
  if (hasFile) {
    const parsed = parseJsonStrict(readFileSync(file, "utf8"), file);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${file}: expected a JSON object with "datasets" and "models" lists`);
    json = parsed as typeof json;
    for (const key of ["datasets", "models"] as const) {
      if (json[key] !== undefined && (!Array.isArray(json[key]) || (json[key] as unknown[]).length === 0)) {
        throw new Error(`${file}: "${key}" must be a non-empty list`);
      }
    }
    if (json.reference !== undefined && json.reference !== null && (typeof json.reference !== "string" || json.reference === "")) {
      throw new Error(`${file}: "reference" must be a folder path (FetalCLIP's released outputs) or null`);
    }
  } else if (options.file || env.FETALCLIP_CONFIG) {
    throw new Error(`${file}: the project config does not exist`);
  }
  const base = dirname(file);
  const envDatasets = listFromEnv(env.FETALCLIP_DATASETS);
  const envModels = listFromEnv(env.FETALCLIP_BUNDLES);
  // Folders named in the environment resolve from the working directory, as command-line paths do.
  const datasets = envDatasets
    ? envDatasets.map((e) => datasetOf(e, process.cwd(), "FETALCLIP_DATASETS"))
    : ((json.datasets as DatasetEntry[] | undefined) ?? [...DEFAULT_DATASETS]).map((e, i) => datasetOf(e, base, `${file}: datasets[${i}]`));
  const models = envModels
    ? envModels.map((e) => modelOf(e, process.cwd(), "FETALCLIP_BUNDLES"))
    : ((json.models as ModelEntry[] | undefined) ?? [...DEFAULT_MODELS]).map((e, i) => modelOf(e, base, `${file}: models[${i}]`));
  // FETALCLIP_REFERENCE resolves from the working directory, a config path from the config's folder.
  const envReference = env.FETALCLIP_REFERENCE?.trim() ? env.FETALCLIP_REFERENCE.trim() : null;
  const fileReference = typeof json.reference === "string" ? json.reference : null;
  const reference = envReference ? resolve(envReference) : fileReference ? resolve(base, fileReference) : null;
  return {
    datasets: unique(datasets, "datasets", envDatasets ? "FETALCLIP_DATASETS" : file),
    models: unique(models, "models", envModels ? "FETALCLIP_BUNDLES" : file),
    reference,
    sources: {
      datasets: envDatasets ? "FETALCLIP_DATASETS" : hasFile && json.datasets ? file : "default",
      models: envModels ? "FETALCLIP_BUNDLES" : hasFile && json.models ? file : "default"
    },
    referenceSource: envReference ? "FETALCLIP_REFERENCE" : fileReference ? file : "default"
  };
}

/** A configured (dataset, model) pair that could not be built, and why. */
export interface SkippedPair {
  dataset: string;
  model: string;
  error: string;
}

/**
 * `build` for every configured dataset x model, one after the other. A pair that fails (a
 * dataset not downloaded, a bundle missing) is logged as `${what} DATASET/MODEL: skipped`
 * and listed with the reason; the others go on, so the site still builds.
 */
export async function buildConfiguredPairs<T>(
  config: ProjectConfig,
  what: string,
  build: (dataset: ConfiguredDataset, model: ConfiguredModel) => Promise<T>,
  log: (m: string) => void
): Promise<{built: T[]; skipped: SkippedPair[]}> {
  const built: T[] = [];
  const skipped: SkippedPair[] = [];
  for (const dataset of config.datasets) {
    for (const model of config.models) {
      try {
        built.push(await build(dataset, model));
      } catch (error) {
        const message = (error as Error).message;
        log(`${what} ${dataset.name}/${model.name}: skipped: ${message}`);
        skipped.push({dataset: dataset.name, model: model.name, error: message});
      }
    }
  }
  return {built, skipped};
}
