// Framework caches a data loader's output by the loader file's own date, so the Gestational-age,
// drill-down and Compare artifacts built for another reference folder (or before a bundle was
// added) would be served again. Each artifact records the key it was built for (resultsKey);
// this removes the cached copies whose key differs from the current one, so the next build or
// preview runs their loaders again (quickly: the model runs themselves are cached).
import {existsSync, readFileSync, rmSync} from "node:fs";
import {join, resolve} from "node:path";
import {strFromU8, unzipSync} from "fflate";
import {REPO_ROOT} from "../paths.js";
import {resultsKey} from "./sources.js";

/** The artifacts (paths under the site root's data folder) that depend on the reference folder and the bundles present. */
export const RESULTS_ARTIFACTS = ["ga.zip", "zero-shot-images.zip", "compare.json"] as const;

function cachedKey(file: string): unknown {
  try {
    const bytes = new Uint8Array(readFileSync(file));
    if (file.endsWith(".zip")) {
      const index = unzipSync(bytes, {filter: (f) => f.name === "index.json"})["index.json"];
      return index ? (JSON.parse(strFromU8(index)) as {key?: unknown}).key : null;
    }
    return (JSON.parse(strFromU8(bytes)) as {key?: unknown}).key;
  } catch {
    return null; // unreadable: rebuild it
  }
}

/** Removes Framework's cached copies of RESULTS_ARTIFACTS built for another key; returns the ones removed. */
export function clearStaleResultsCache(options: {env?: Record<string, string | undefined>; siteRoot?: string} = {}): string[] {
  const dir = join(options.siteRoot ?? resolve(REPO_ROOT, "src"), ".observablehq", "cache", "data");
  let current: string;
  try {
    current = resultsKey(options.env ?? process.env);
  } catch {
    return []; // a broken project config is reported by the loaders themselves
  }
  const removed: string[] = [];
  for (const name of RESULTS_ARTIFACTS) {
    const file = join(dir, name);
    if (!existsSync(file) || cachedKey(file) === current) continue;
    rmSync(file, {force: true});
    removed.push(name);
  }
  return removed;
}
