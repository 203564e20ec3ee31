// The isomorphic core (src/lib) runs unchanged in Node and in the browser: it may
// not import Node built-ins, the Node loaders, page widgets or the browser runtime,
// nor a runtime-specific onnxruntime package (the core is handed the `ort` module).
import {readdirSync, readFileSync} from "node:fs";
import {builtinModules} from "node:module";
import {dirname, join, relative, resolve} from "node:path";
import {describe, expect, it} from "vitest";
import {repoRoot} from "./shared.js";

const CORE = join(repoRoot, "src", "lib");
const FORBIDDEN_DIRS = ["loaders", "src/components", "src/runtime"].map((d) => join(repoRoot, d));
const FORBIDDEN_PACKAGES = new Set(["onnxruntime-node", "onnxruntime-web", ...builtinModules]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

/** Module specifiers of static imports and re-exports, dynamic import() and require(). */
export function importSpecifiers(source: string): string[] {
  const patterns = [/\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g];
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1]!));
}

/** Why `specifier`, imported from `file`, breaks the core's rule (null when it is allowed). */
export function boundaryViolation(file: string, specifier: string): string | null {
  if (specifier.startsWith("node:")) return `imports the Node built-in ${specifier}`;
  if (specifier.startsWith(".")) {
    const target = resolve(dirname(file), specifier);
    const dir = FORBIDDEN_DIRS.find((d) => target === d || target.startsWith(d + "/"));
    return dir ? `imports ${relative(repoRoot, target)} (${relative(repoRoot, dir)}/ is not part of the core)` : null;
  }
  const pkg = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;
  return FORBIDDEN_PACKAGES.has(pkg) ? `imports ${specifier}, which only one runtime has` : null;
}

describe("the isomorphic core (src/lib)", () => {
  it("imports nothing from Node, loaders/, src/components/ or src/runtime/", () => {
    const files = sourceFiles(CORE);
    expect(files.length).toBeGreaterThan(20);
    const violations = files.flatMap((file) =>
      importSpecifiers(readFileSync(file, "utf8")).flatMap((spec) => {
        const why = boundaryViolation(file, spec);
        return why ? [`${relative(repoRoot, file)} ${why}`] : [];
      })
    );
    expect(violations).toEqual([]);
  });

  it("uses no Node globals (process, Buffer, require, __dirname)", () => {
    const offenders = sourceFiles(CORE).filter((file) => {
      const code = readFileSync(file, "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
      return /\b(process\.|Buffer\.|__dirname|__filename)|\brequire\(/.test(code);
    });
    expect(offenders.map((f) => relative(repoRoot, f))).toEqual([]);
  });

  it("the rule catches each kind of forbidden import", () => {
    const file = join(CORE, "tasks", "x.ts");
    const source = [
      'import {readFileSync} from "node:fs";',
      'import {join} from "path";',
      'import type {X} from "../../../loaders/bundles.js";',
      'export {Y} from "../../components/bundleCard.js";',
      'const w = await import("../../runtime/ortWeb.js");',
      'import * as ort from "onnxruntime-node";',
      'import {tensor} from "../tensor.js";',
      'import type {InferenceSession} from "onnxruntime-common";'
    ].join("\n");
    const specs = importSpecifiers(source);
    expect(specs).toHaveLength(8);
    const flagged = specs.filter((s) => boundaryViolation(file, s) !== null);
    expect(flagged.sort()).toEqual(["../../../loaders/bundles.js", "../../components/bundleCard.js", "../../runtime/ortWeb.js", "node:fs", "onnxruntime-node", "path"]);
  });
});
