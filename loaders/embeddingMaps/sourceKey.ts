// A cache key from source files: the cached maps and sheets name the code that made
// them, so a change to UMAP, the zero-shot scoring or the thumbnail filter rebuilds
// them instead of serving a picture the current code would not draw.
import {createHash} from "node:crypto";
import {readdirSync, readFileSync, rmSync} from "node:fs";
import {join} from "node:path";
import {REPO_ROOT} from "../paths.js";

/** SHA-256 (16 hex digits) over the named files (paths from the repository root) and their bytes. */
export function sourceKey(files: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file}\n`).update(readFileSync(join(REPO_ROOT, file)));
  return hash.digest("hex").slice(0, 16);
}

/** Removes the files of other keys (maps of older code or data) from a map's folder, once a new one is written. */
export function pruneOtherKeys(dir: string, key: string, pattern: RegExp): void {
  for (const name of readdirSync(dir)) {
    const m = pattern.exec(name);
    if (m && m[2] !== key) rmSync(join(dir, name), {force: true});
  }
}
