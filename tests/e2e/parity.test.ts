// The browser computes the numbers the Node loaders precompute: the fixture
// bundle, run by onnxruntime-web in headless Chromium (wasm, then webgpu on
// SwiftShader), must give Node's (onnxruntime-node, cpu) embeddings.
import {mkdtemp, readdir, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Page} from "playwright-core";
import {afterAll, beforeAll, expect, it} from "vitest";
import {importModel} from "../../loaders/importer.js";
import {loadNodeModel, preprocessImageFile} from "../../loaders/nodeModel.js";
import {describeShared, repoRoot, sharedPath} from "../shared.js";
import {assertChromium, buildBrowserPage, copyIntoSite, launchChromium, serveStatic, type Browser, type StaticServer} from "./browser.js";
import type {ParityRequest, ParityResponse, ParityRun} from "./parityPage.js";
import {cosine} from "../../src/lib/vector.js";

const MIN_COSINE = 0.9999;
// FetalCLIP prompts of several lengths plus the tokenizer's edge cases (GA prompt,
// unicode and odd spacing, a text truncated at the context length, the empty string).
const TEXT_INDICES = [0, 25, 46, 59, 60, 61, 62, 63];

function minCosine(actual: number[][], expected: Float32Array[]): number {
  expect(actual).toHaveLength(expected.length);
  return Math.min(...expected.map((e, i) => cosine(actual[i], e)));
}

function maxAbsDiff(actual: number[][], expected: Float32Array[]): number {
  return Math.max(...expected.map((e, i) => Math.max(...Array.from(e, (v, j) => Math.abs(v - actual[i][j])))));
}

function decodeFloat32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describeShared("browser embeddings (onnxruntime-web in headless Chromium) equal Node's (onnxruntime-node)", () => {
  const fixture = sharedPath("fixtures", "openclip-micro");
  let tmp = "";
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  let page: Page;
  let request: Omit<ParityRequest, "ep">;
  let nodePixels: Float32Array[];
  let nodeImages: Float32Array[];
  let nodeTexts: Float32Array[];
  let imageNames: string[];
  const runs: Partial<Record<ParityRequest["ep"], ParityResponse>> = {};

  function report(ep: string, run: ParityRun): void {
    console.log(
      `[browser ${ep}] sessions on image=${run.ep.image} text=${run.ep.text}, crossOriginIsolated=${run.crossOriginIsolated}, ` +
        `load ${run.loadMs.toFixed(0)} ms, ${imageNames.length} images ${run.imageMs.toFixed(0)} ms, ` +
        `${request.texts.length} texts ${run.textMs.toFixed(0)} ms, GPU dispatches ${run.gpuDispatches}, ` +
        `min cosine images ${minCosine(run.images, nodeImages).toFixed(9)} texts ${minCosine(run.texts, nodeTexts).toFixed(9)}, ` +
        `max |diff| images ${maxAbsDiff(run.images, nodeImages).toExponential(2)} texts ${maxAbsDiff(run.texts, nodeTexts).toExponential(2)}`
    );
  }

  /** One page, each provider run once and shared by the tests that check it. */
  async function runInBrowser(ep: ParityRequest["ep"]): Promise<ParityRun> {
    let response = runs[ep];
    if (!response) {
      response = runs[ep] = await page.evaluate((r) => window.fetalclipParity(r), {...request, ep});
      if (!("error" in response)) report(ep, response);
    }
    if ("error" in response) {
      throw new Error(`${ep} run failed in the browser: ${response.error}\nlog: ${response.log.join("\n")}\nconsole: ${browser?.console.join("\n")}`);
    }
    return response;
  }

  beforeAll(async () => {
    assertChromium(); // fail fast, before the import, with how to install it
    tmp = await mkdtemp(join(tmpdir(), "fetalclip-parity-"));
    const site = join(tmp, "site");
    const bundleDir = join(site, "models", "openclip-micro");
    let started = Date.now();
    await importModel({
      weights: join(fixture, "weights.pt"),
      config: join(fixture, "config.json"),
      vocab: sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz"),
      outDir: bundleDir
    });
    const importMs = Date.now() - started;

    imageNames = (await readdir(join(fixture, "images"))).filter((n) => n.endsWith(".png")).sort();
    const imagePaths = imageNames.map((n) => join(fixture, "images", n));
    const tokens = JSON.parse(await readFile(join(fixture, "tokens.json"), "utf8")) as {texts: string[]};
    const texts = TEXT_INDICES.map((i) => tokens.texts[i]);

    started = Date.now();
    const {model} = await loadNodeModel(bundleDir, {ep: "cpu"});
    nodePixels = imagePaths.map((p) => preprocessImageFile(p, model));
    nodeImages = (await model.encodeImages(nodePixels)).embeddings;
    nodeTexts = await model.encodeTexts(texts);
    await model.imageSession.release();
    await model.textSession.release();
    const nodeMs = Date.now() - started;

    started = Date.now();
    const imageUrls = await copyIntoSite(site, "images", imagePaths);
    const built = await buildBrowserPage(join(repoRoot, "tests", "e2e", "parityPage.ts"), site, "parity");
    server = await serveStatic(site);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(server.url + built.page);
    await page.waitForFunction(() => typeof window.fetalclipParity === "function");
    request = {bundleUrl: "models/openclip-micro/", wasmUrl: built.wasm, imageUrls, texts};
    console.log(`[setup] import ${importMs} ms, node cpu embeddings ${nodeMs} ms, page build + chromium ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) await rm(tmp, {recursive: true, force: true});
  });

  it("preprocesses the 4 fixture images in the browser to Node's 3x224x224 tensors, bit for bit", async () => {
    const run = await runInBrowser("wasm");
    expect(run.pixels).toHaveLength(imageNames.length);
    run.pixels.forEach((encoded, i) => {
      const pixels = decodeFloat32(encoded);
      expect(pixels.length, imageNames[i]).toBe(3 * 224 * 224);
      let maxAbsDiff = 0;
      for (let j = 0; j < pixels.length; j++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(pixels[j] - nodePixels[i][j]));
      expect(maxAbsDiff, imageNames[i]).toBe(0);
    });
  });

  it(`wasm: every image and text embedding has cosine >= ${MIN_COSINE} with Node's`, async () => {
    const run = await runInBrowser("wasm");
    expect(run.ep).toEqual({image: "wasm", text: "wasm"});
    expect(run.gpuDispatches).toBe(0);
    expect(run.images[0]).toHaveLength(nodeImages[0].length);
    expect(minCosine(run.images, nodeImages)).toBeGreaterThanOrEqual(MIN_COSINE);
    expect(minCosine(run.texts, nodeTexts)).toBeGreaterThanOrEqual(MIN_COSINE);
  });

  it("webgpu: the sessions run on the webgpu provider and issue GPU compute dispatches (no silent wasm fallback)", async () => {
    const run = await runInBrowser("webgpu");
    expect(run.ep).toEqual({image: "webgpu", text: "webgpu"});
    expect(run.log.join("\n")).toMatch(/on webgpu/);
    expect(run.gpuDispatches).toBeGreaterThan(0);
  });

  it(`webgpu: every image and text embedding has cosine >= ${MIN_COSINE} with Node's`, async () => {
    const run = await runInBrowser("webgpu");
    expect(minCosine(run.images, nodeImages)).toBeGreaterThanOrEqual(MIN_COSINE);
    expect(minCosine(run.texts, nodeTexts)).toBeGreaterThanOrEqual(MIN_COSINE);
  });
});
