// The core's seams: the bundle contract, the provider fallback both runtimes use,
// tensors with their dims, the zero-shot and GA tasks, and the one path root.
import {spawnSync} from "node:child_process";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, it} from "vitest";
import {BUNDLE_FORMAT, MODEL_VARIANTS, parseManifest, parseModelVariant, variantFiles, type ModelManifest} from "../src/lib/bundle.js";
import {GA_BIN_DAYS, gaPrompts} from "../src/lib/gestationalAge.js";
import {openWithFallback, providerOrder} from "../src/lib/sessionFallback.js";
import {estimateGa, GaPromptCache, zeroShotGa} from "../src/lib/tasks/gestationalAge.js";
import {predictLabels, promptClassEmbeddings, zeroShotClassify} from "../src/lib/tasks/zeroShot.js";
import {tensor, unbatch} from "../src/lib/tensor.js";
import {repoRoot} from "./shared.js";

const manifest = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  format: BUNDLE_FORMAT,
  id: "m",
  name: "M",
  embedDim: 4,
  logitScale: Math.log(100),
  image: {size: 28, mean: [0, 0, 0], std: [1, 1, 1], resize: "bicubic", pad: "centre-square-zero"},
  text: {contextLength: 117, vocab: "vocab.txt", sot: 1, eot: 2},
  files: {image: "image.onnx", text: "text.onnx", imageInt8: "image.int8.onnx", textInt8: "text.int8.onnx"},
  ...over
});

describe("the bundle contract (src/lib/bundle.ts)", () => {
  it("parses a manifest from text or bytes", () => {
    const text = JSON.stringify(manifest());
    expect(parseManifest(text).id).toBe("m");
    expect(parseManifest(new TextEncoder().encode(text), "x/model.json").embedDim).toBe(4);
  });

  it("refuses bad JSON, other formats and missing fields, naming the file", () => {
    expect(() => parseManifest("{", "a/model.json")).toThrow(/^a\/model\.json: not valid JSON/);
    expect(() => parseManifest(JSON.stringify(manifest({format: "other@1"})), "a/model.json")).toThrow(/a\/model\.json: unknown bundle format "other@1"/);
    expect(() => parseManifest(JSON.stringify(manifest({embedDim: 0})))).toThrow(/embedDim must be a positive integer/);
    expect(() => parseManifest("[]")).toThrow(/unknown bundle format/);
  });

  it("refuses graph and vocabulary names that leave the bundle folder", () => {
    for (const name of ["../image.onnx", "/etc/passwd", "sub/image.onnx", "..", "a\\b.onnx"]) {
      expect(() => parseManifest(JSON.stringify(manifest({files: {image: name, text: "text.onnx"}})))).toThrow(/is not a file name inside the bundle/);
    }
    expect(() => parseManifest(JSON.stringify(manifest({text: {contextLength: 117, vocab: "../../v.txt", sot: 1, eot: 2}})))).toThrow(/text\.vocab/);
  });

  it("maps each variant to its graph files, with one option name on both runtimes", () => {
    const m = parseManifest(JSON.stringify(manifest()));
    expect(MODEL_VARIANTS).toEqual(["fp32", "fp16", "int8"]);
    expect(variantFiles(m, "fp32", "b")).toEqual({image: "image.onnx", text: "text.onnx"});
    expect(variantFiles(m, "int8", "b")).toEqual({image: "image.int8.onnx", text: "text.int8.onnx"});
    expect(() => variantFiles(m, "fp16", "models/b")).toThrow("models/b: this bundle has no fp16 variant (import it with --fp16)");
    expect(parseModelVariant("int8")).toBe("int8");
    expect(() => parseModelVariant("fp8")).toThrow(/unknown model variant "fp8": use one of fp32, fp16, int8/);
  });
});

describe("provider fallback (src/lib/sessionFallback.ts)", () => {
  const fakeOrt = (failing: Set<string>, opened: string[]) => ({
    InferenceSession: {
      async create(model: string, options?: {executionProviders?: readonly unknown[]}) {
        const ep = String(options?.executionProviders?.[0]);
        opened.push(ep);
        if (failing.has(ep)) throw new Error(`${ep} is broken\nstack line`);
        return {model, ep} as never;
      }
    }
  });

  it("tries each provider alone, in order, and logs the choice with the reasons for skipping", async () => {
    const tried: string[] = [];
    const log: string[] = [];
    const result = await openWithFallback(fakeOrt(new Set(["cuda"]), tried), "m.onnx", {
      order: ["cuda", "webgpu", "cpu"],
      sessionOptions: (ep) => ({executionProviders: [ep]}),
      unavailableReason: async (ep) => (ep === "webgpu" ? "no adapter" : null),
      runtime: "onnxruntime-node",
      label: "m.onnx",
      log: (m) => log.push(m)
    });
    expect(result.ep).toBe("cpu");
    expect(tried).toEqual(["cuda", "cpu"]);
    expect(log).toEqual(["onnxruntime-node: m.onnx on cpu (skipped: cuda: cuda is broken; webgpu: no adapter)"]);
  });

  it("gives one error listing every failure when no provider opens the model", async () => {
    await expect(
      openWithFallback(fakeOrt(new Set(["wasm"]), []), "m.onnx", {
        order: ["wasm"], sessionOptions: (ep) => ({executionProviders: [ep]}), runtime: "onnxruntime-web", label: "m.onnx", where: "/x/m.onnx"
      })
    ).rejects.toThrow("no execution provider could open /x/m.onnx: wasm: wasm is broken");
  });

  it("forces one provider, or uses the automatic order", () => {
    expect(providerOrder("auto", ["webgpu", "wasm"])).toEqual(["webgpu", "wasm"]);
    expect(providerOrder(undefined, ["webgpu", "wasm"])).toEqual(["webgpu", "wasm"]);
    expect(providerOrder("wasm", ["webgpu", "wasm"])).toEqual(["wasm"]);
  });
});

describe("tensors carry their dims (src/lib/tensor.ts)", () => {
  it("checks that the data fills the dims", () => {
    expect(tensor(new Float32Array(6), [2, 3]).dims).toEqual([2, 3]);
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow("tensor: 5 values do not fill dims [2, 3]");
  });

  it("splits a batch into per-item tensors of the remaining dims", () => {
    const parts = unbatch(tensor(Float32Array.from({length: 12}, (_, i) => i), [2, 3, 2]));
    expect(parts.map((p) => p.dims)).toEqual([[3, 2], [3, 2]]);
    expect(Array.from(parts[1]!.data)).toEqual([6, 7, 8, 9, 10, 11]);
  });
});

/** A text encoder whose GA prompt embeddings are bumps around their GA bin (so an image one-hot at bin b scores best near b); counts its calls. */
function fakeGaEncoder() {
  const calls: number[] = [];
  const dim = GA_BIN_DAYS.length;
  return {
    calls,
    imageSize: 224,
    async encodeTexts(texts: string[]) {
      calls.push(texts.length);
      return texts.map((t) => {
        const m = /at (\d+) weeks,? (?:and )?(\d+) days?/.exec(t);
        if (!m) throw new Error(`not a GA prompt: ${t}`);
        const bin = 7 * Number(m[1]) + Number(m[2]) - GA_BIN_DAYS[0]!;
        return Float32Array.from({length: dim}, (_, k) => Math.exp(-((k - bin) ** 2) / 50));
      });
    }
  };
}

describe("the GA task (src/lib/tasks/gestationalAge.ts)", () => {
  it("encodes the 875 prompts once per spacing text and reuses them", async () => {
    const encoder = fakeGaEncoder();
    const cache = new GaPromptCache(encoder, 224);
    const image = new Float32Array(GA_BIN_DAYS.length);
    image[200 - GA_BIN_DAYS[0]!] = 1;
    // 800 px at 0.1 mm/px -> 0.357 mm per model pixel; 801 px -> 0.3576: both "0.36".
    const a = await estimateGa(cache, {embed: image, width: 800, height: 600, pixelSizeMm: 0.1});
    const b = await estimateGa(cache, {embed: image, width: 801, height: 600, pixelSizeMm: 0.1});
    expect(a.gaDays).toBe(200);
    expect(b.gaDays).toBe(200);
    expect(a.spacingMmPerPx).toBeCloseTo(800 / 224 / 10, 12);
    expect(a.dotProducts).toHaveLength(175);
    expect(encoder.calls.reduce((s, n) => s + n, 0)).toBe(875);
    expect(cache.size).toBe(1);
    await estimateGa(cache, {embed: image, width: 900, height: 600, pixelSizeMm: 0.1});
    expect(cache.size).toBe(2);
    expect(encoder.calls.reduce((s, n) => s + n, 0)).toBe(1750);
  });

  it("forgets a failed encoding so that the next request tries again", async () => {
    let fail = true;
    const inner = fakeGaEncoder();
    const encoder = {
      async encodeTexts(texts: string[]) {
        if (fail) throw new Error("session lost");
        return inner.encodeTexts(texts);
      }
    };
    const cache = new GaPromptCache(encoder, 224);
    await expect(cache.templateEmbeddings(0.3)).rejects.toThrow("session lost");
    fail = false;
    expect(await cache.templateEmbeddings(0.3)).toHaveLength(5);
  });

  it("scores heads in FetalCLIP's HC range against the WHO band", async () => {
    const encoder = fakeGaEncoder();
    const at = (days: number) => {
      const e = new Float32Array(GA_BIN_DAYS.length);
      e[days - GA_BIN_DAYS[0]!] = 1;
      return e;
    };
    // 24w0d (168 days): WHO median HC ~ 221 mm (inside the band); 300 mm is outside it; 50 mm is not scored.
    const result = await zeroShotGa(encoder, [
      {embed: at(168), width: 224, height: 224, pixelSizeMm: 0.5, trueHcMm: 221, trueGaDays: 170},
      {embed: at(168), width: 224, height: 224, pixelSizeMm: 0.5, trueHcMm: 300},
      {embed: at(168), width: 224, height: 224, pixelSizeMm: 0.5, trueHcMm: 50}
    ]);
    expect(result.scored).toBe(2);
    expect(result.predictedDays).toEqual([168, 168]);
    expect(result.vpr.valid).toBe(1);
    expect(result.meanAbsErrorDays).toBe(2);
    expect(result.distinctSpacings).toBe(1);
  });
});

describe("the zero-shot task (src/lib/tasks/zeroShot.ts)", () => {
  // Embeddings: prompts of class c point along axis c.
  const encoder = {
    batches: [] as number[],
    async encodeTexts(texts: string[]) {
      this.batches.push(texts.length);
      return texts.map((t) => Float32Array.from([0, 1, 2], (i) => (t.startsWith(`c${i}`) ? 1 : 0.1)));
    }
  };
  const classes = ["a", "b", "c"];
  const prompts = {a: ["c0 one", "c0 two"], b: ["c1 one"], c: ["c2 one", "c2 two", "c2 three"]};

  it("encodes each class's prompt ensemble as one batch, one class after another", async () => {
    encoder.batches = [];
    const embeds = await promptClassEmbeddings(encoder, classes, prompts);
    expect(encoder.batches).toEqual([2, 1, 3]);
    expect(embeds).toHaveLength(3);
    await expect(promptClassEmbeddings(encoder, ["a", "z"], prompts)).rejects.toThrow('class "z" has no prompts');
  });

  it("classifies and scores images against the ensembles", async () => {
    const images = [Float32Array.of(1, 0, 0), Float32Array.of(0, 0, 2), Float32Array.of(0, 1, 0), Float32Array.of(0, 0.2, 1)];
    const result = await zeroShotClassify(encoder, images, ["a", "c", "b", "b"], classes, prompts);
    expect(result.predicted).toEqual(["a", "c", "b", "c"]);
    expect(result.scores.accuracy).toBeCloseTo(0.75, 12);
    expect(predictLabels([], [], classes)).toEqual([]);
  });
});

describe("one path root (loaders/paths.ts)", () => {
  const pathsFrom = (cwd: string, env: Record<string, string> = {}) => {
    const code = 'import("./loaders/paths.ts").then((p) => console.log(JSON.stringify(p)))';
    const tsx = pathToFileURL(join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href;
    const r = spawnSync(process.execPath, ["--import", tsx, "-e", code.replace("./loaders", join(repoRoot, "loaders"))], {
      cwd, encoding: "utf8", env: {...process.env, FETALCLIP_MODELS: "", FETALCLIP_DATA: "", FETALCLIP_CACHE: "", ...env}
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Record<string, string>;
  };

  it("resolves the default folders from the repository root, whatever the working directory", () => {
    const p = pathsFrom("/tmp");
    expect(p.REPO_ROOT).toBe(repoRoot);
    expect(p.MODELS_DIR).toBe(join(repoRoot, "models"));
    expect(p.DATA_DIR).toBe(join(repoRoot, "data"));
    expect(p.CACHE_DIR).toBe(join(repoRoot, "data", "cache"));
    expect(p.PHANTOM_DIR).toBe(join(repoRoot, "data", "phantom"));
  });

  it("lets each folder be overridden by an environment variable", () => {
    const p = pathsFrom("/tmp", {FETALCLIP_MODELS: "/srv/models", FETALCLIP_DATA: "/srv/data"});
    expect(p.MODELS_DIR).toBe("/srv/models");
    expect(p.CACHE_DIR).toBe("/srv/data/cache");
    expect(p.MODEL_SOURCES_DIR).toBe(join(repoRoot, "models", "sources"));
  });
});

describe("one front door", () => {
  it("fetalclip --help lists every job", () => {
    const run = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders", "cli.ts"), ...args], {cwd: repoRoot, encoding: "utf8"});
    const top = run(["--help"]).stdout;
    for (const job of ["setup", "phantom", "import", "tokenize", "embed", "verify", "evaluate", "list", "demo"]) expect(top).toMatch(new RegExp(`^  ${job}\\b`, "m"));
    const demo = run(["demo", "--help"]).stdout;
    for (const job of ["prepare", "evaluate", "reference", "real-data"]) expect(demo).toMatch(new RegExp(`^  ${job}\\b`, "m"));
  });
});

export type {ModelManifest};
