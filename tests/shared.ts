// Locating ../shared (fixtures, reference outputs, real data) for tests that need it.
import {existsSync} from "node:fs";
import {dirname, join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {describe} from "vitest";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const sharedRoot = process.env.FETALCLIP_SHARED ?? resolve(repoRoot, "..", "shared");
export const hasShared = existsSync(join(sharedRoot, "fixtures"));

export function sharedPath(...parts: string[]): string {
  return join(sharedRoot, ...parts);
}

/** Runs the suite when ../shared exists; fails (not skips) under CI=true when it is missing. */
export function describeShared(name: string, fn: () => void): void {
  if (hasShared) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === "true") {
    describe(name, () => {
      throw new Error(`${sharedRoot} is missing: tests that need ../shared must run in CI`);
    });
    return;
  }
  describe.skip(name, fn);
}
