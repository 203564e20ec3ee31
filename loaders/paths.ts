// Every path the project writes or reads by default resolves from here, from the
// repository root (not the working directory), so a job started from anywhere, or
// resumed after a kill, finds the same folders. Each is overridable by an
// environment variable; paths a user gives on the command line stay relative to
// their working directory.
import {dirname, resolve} from "node:path";
import {fileURLToPath} from "node:url";

const fromEnv = (name: string, fallback: string): string => {
  const value = process.env[name];
  return value ? resolve(value) : fallback;
};

/** The repository root (the folder holding package.json). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Model bundles, one folder each (FETALCLIP_MODELS). */
export const MODELS_DIR = fromEnv("FETALCLIP_MODELS", resolve(REPO_ROOT, "models"));
/** Committed model sources (the demo model's weights, config, merges, card); part of the repository, never overridden. */
export const MODEL_SOURCES_DIR = resolve(REPO_ROOT, "models", "sources");
/** Generated datasets (FETALCLIP_DATA). */
export const DATA_DIR = fromEnv("FETALCLIP_DATA", resolve(REPO_ROOT, "data"));
/** Intermediate and resumable job outputs (FETALCLIP_CACHE). */
export const CACHE_DIR = fromEnv("FETALCLIP_CACHE", resolve(DATA_DIR, "cache"));
/** The default phantom dataset. */
export const PHANTOM_DIR = resolve(DATA_DIR, "phantom");
/** The CHD phantom set: four-chamber views, normal vs congenital heart defects. */
export const PHANTOM_CHD_DIR = resolve(DATA_DIR, "phantom-chd");
/** Reference material beside the project: open_clip fixtures, FetalCLIP's outputs, small real datasets (FETALCLIP_SHARED). */
export const SHARED_DIR = fromEnv("FETALCLIP_SHARED", resolve(REPO_ROOT, "..", "shared"));
