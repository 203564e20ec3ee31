// The live page's inference worker: loads the bundle on onnxruntime-web (WebGPU
// or WASM), encodes the class prompts once, then scores images and estimates GA
// on request, off the page's main thread. Messages are handled one at a time
// (a queue), so no two runs ever overlap on a session, and work superseded by a
// newer request is dropped. Bundled for the site by src/data/live-worker.js.ts.
import {encode as encodePng} from "fast-png";
import {parseManifest} from "../lib/bundle.js";
import {decodeImage} from "../lib/image/decode.js";
import {initJpeg} from "../lib/image/jpeg.js";
import {toRgb8} from "../lib/image/convert.js";
import type {RasterImage} from "../lib/image/raster.js";
import {generateSample, samplePatient, type BrainSubPlane, type PhantomPlane} from "../lib/phantom/index.js";
import {preprocessImage} from "../lib/preprocess.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../lib/prompts.js";
import {createRng} from "../lib/random.js";
import {estimateGa, GaPromptCache} from "../lib/tasks/gestationalAge.js";
import {promptClassEmbeddings} from "../lib/tasks/zeroShot.js";
import type {PromptEncoder} from "../lib/gestationalAge.js";
import {zeroShotProbabilities} from "../lib/zeroShot.js";
import type {ClipModel} from "../lib/clipModel.js";
import {loadClipModel, type WebClipModel} from "./loadClipModel.js";
import {PREVIEW_SIDE, type FromWorker, type LiveInput, type ToWorker, type Truth} from "./liveProtocol.js";
import {configureOrtWeb, ort} from "./ortWeb.js";
// libjpeg-turbo's 299 KB wasm, embedded in this bundle by esbuild's binary loader (src/data/live-worker.js.ts).
import libjpegTurboWasm from "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm";

/** Uploads above this are refused before decoding: 40 MP of RGBA is 160 MB in a tab. */
const MAX_UPLOAD_PIXELS = 40_000_000;

/** In the automatic choice, a WebGPU adapter slower than this for one demo image (shaders compiled) loses to WebAssembly. */
const SLOW_WEBGPU_MS = 3000;

/** Prompts encoded between two checks for newer work while GA runs. */
const GA_CANCEL_BATCH = 25;

class Cancelled extends Error {}

async function timeOneImage(model: ClipModel): Promise<number> {
  const size = model.imageSize;
  const started = performance.now();
  await model.encodeImages([new Float32Array(3 * size * size)]);
  return performance.now() - started;
}

const post = (message: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

let loaded: WebClipModel | undefined;
let planeEmbeds: Float32Array[] = [];
let subPlaneEmbeds: Float32Array[] = [];
let gaCache: GaPromptCache | undefined;
/** The newest request id of each kind seen so far (set as messages arrive, checked while working). */
const latest = {score: 0, ga: 0};
/** The last scored image, for GA re-runs with another pixel size. */
let lastScored: {id: number; embedding: Float32Array; width: number; height: number} | undefined;

/** Fetches a URL, reporting bytes as they arrive. */
async function fetchWithProgress(url: string, onBytes: (loaded: number, total: number) => void): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get("content-length")) || 0;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onBytes(bytes.length, bytes.length);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onBytes(received, Math.max(total, received));
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

async function init(message: Extract<ToWorker, {type: "init"}>): Promise<void> {
  const notes: string[] = [];
  // Progress is throttled to one message per ~100 ms per stage.
  let lastPost = 0;
  const progress = (stage: "runtime" | "model") => (loadedBytes: number, totalBytes: number) => {
    const now = performance.now();
    if (now - lastPost > 100 || loadedBytes === totalBytes) {
      lastPost = now;
      post({type: "progress", stage, loadedBytes, totalBytes});
    }
  };
  configureOrtWeb({wasmUrl: message.wasmUrl});
  ort.env.wasm.wasmBinary = await fetchWithProgress(message.wasmUrl, progress("runtime"));
  const modelFiles = ["model.json", "image.onnx", "text.onnx", "vocab.txt"];
  let modelLoaded = 0;
  const cache = new Map<string, Uint8Array>();
  for (const name of modelFiles) {
    const url = message.files[name];
    if (!url) throw new Error(`the bundle has no file ${name}`);
    const before = modelLoaded;
    const bytes = await fetchWithProgress(url, (n) => progress("model")(before + n, before + n));
    modelLoaded += bytes.length;
    cache.set(name, bytes);
  }
  const manifest = parseManifest(cache.get("model.json")!, "model.json");
  const read = async (name: string) => {
    const bytes = cache.get(name);
    if (!bytes) throw new Error(`model.json names ${name}, which the page did not provide`);
    return bytes;
  };
  loaded = await loadClipModel(read, {ep: message.ep});
  if (message.ep === "auto" && loaded.ep.image === "webgpu") {
    // A software adapter (SwiftShader, say) runs the model far slower than WebAssembly:
    // one image on it tells, and the automatic choice then takes the CPU path.
    const probeMs = await timeOneImage(loaded.model);
    if (probeMs > SLOW_WEBGPU_MS) {
      await Promise.all([loaded.model.imageSession.release(), loaded.model.textSession.release()]);
      notes.push(`This browser's WebGPU adapter took ${(probeMs / 1000).toFixed(1)} s for one image (a software adapter?); the model runs on WebAssembly (CPU) instead, which is faster here.`);
      loaded = await loadClipModel(read, {ep: "wasm"});
    }
  }
  const started = performance.now();
  planeEmbeds = await promptClassEmbeddings(loaded.model, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  subPlaneEmbeds = await promptClassEmbeddings(loaded.model, BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS);
  gaCache = new GaPromptCache(cancellableEncoder(loaded.model), loaded.model.imageSize);
  post({
    type: "ready",
    ep: loaded.ep,
    model: {id: manifest.id, name: manifest.name, imageSize: manifest.image.size, demo: manifest.id.startsWith("fetalclip-demo")},
    promptMs: performance.now() - started,
    notes
  });
}

/**
 * The model's text encoder for GA prompts: between batches it checks whether a newer
 * GA request or a new image made this work moot.
 */
function cancellableEncoder(model: ClipModel): PromptEncoder {
  return {
    async encodeTexts(texts, requestedBatch = 64) {
      // Small batches: a new image waits at most one batch (tens of ms) for the GA it supersedes.
      const batchSize = Math.min(requestedBatch, GA_CANCEL_BATCH);
      const mine = {ga: latest.ga, score: latest.score};
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        // Let queued messages in (a run resolves through microtasks only), then see whether they supersede this one.
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (latest.ga !== mine.ga || latest.score !== mine.score) throw new Cancelled("superseded");
        // No progress messages while GA runs: each would redraw the page, whose frames are
        // slowest exactly while this worker keeps a core busy.
        out.push(...(await model.encodeTexts(texts.slice(i, i + batchSize), batchSize)));
      }
      return out;
    }
  };
}

function previewOf(raster: RasterImage): {width: number; height: number; png: Uint8Array} {
  const rgb = toRgb8(raster);
  const step = Math.max(1, Math.ceil(Math.max(rgb.width, rgb.height) / PREVIEW_SIDE));
  const width = Math.floor(rgb.width / step) || 1;
  const height = Math.floor(rgb.height / step) || 1;
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * ((y * step) * rgb.width + x * step);
      grey[y * width + x] = Math.round(0.299 * rgb.data[i]! + 0.587 * rgb.data[i + 1]! + 0.114 * rgb.data[i + 2]!);
    }
  }
  return {width, height, png: encodePng({width, height, data: grey, channels: 1, depth: 8})};
}

function imageOf(input: LiveInput): {raster: RasterImage; pixelSizeMm: number; truth: Truth | null; label: string} {
  if (input.kind === "upload") {
    try {
      return {raster: decodeImage(new Uint8Array(input.bytes), {maxPixels: MAX_UPLOAD_PIXELS}), pixelSizeMm: input.pixelSizeMm, truth: null, label: input.name};
    } catch (error) {
      throw new Error(`${input.name}: ${(error as Error).message.replace(/^decodeImage: /, "")}`);
    }
  }
  const p = input.phantom;
  const seed = `live-${p.seed}`;
  const patient = samplePatient(createRng(seed), seed, {gaDaysRange: [p.gaWeeks * 7, p.gaWeeks * 7 + 6]});
  const plane = p.plane as PhantomPlane;
  const sample = generateSample(seed, {id: "live", plane, subPlane: plane === "brain" ? (p.subPlane as BrainSubPlane) : null, patient, width: 224, height: 224});
  const truth = {plane: sample.plane, subPlane: sample.subPlane, gaDays: sample.gaDays, hcMm: sample.hcMm};
  const weeks = `${Math.floor(sample.gaDays / 7)}w${sample.gaDays % 7}d`;
  return {
    raster: {width: sample.width, height: sample.height, mode: "L", data: sample.pixels},
    pixelSizeMm: sample.spacingMmPerPx,
    truth,
    label: `phantom ${sample.plane}${sample.subPlane ? ` (${sample.subPlane})` : ""}, GA ${weeks}, HC ${sample.hcMm.toFixed(0)} mm`
  };
}

async function score(id: number, input: LiveInput): Promise<void> {
  const model = loaded!.model;
  const started = performance.now();
  let image;
  try {
    // Compiled at the first upload (tens of ms), then kept: decodeImage is synchronous.
    if (input.kind === "upload") await initJpeg(libjpegTurboWasm);
    image = imageOf(input);
  } catch (error) {
    post({type: "error", id, stage: "image", message: (error as Error).message});
    return;
  }
  const {size, mean, std} = model.manifest.image;
  const pixels = preprocessImage(image.raster, {size, mean, std});
  if (latest.score !== id) return post({type: "cancelled", id});
  const encodeStart = performance.now();
  const [embedding] = (await model.encodeImages([pixels])).embeddings;
  const encodeMs = performance.now() - encodeStart;
  const planes = Array.from(zeroShotProbabilities(embedding!, planeEmbeds));
  const subPlanes = Array.from(zeroShotProbabilities(embedding!, subPlaneEmbeds));
  lastScored = {id, embedding: embedding!, width: image.raster.width, height: image.raster.height};
  const preview = previewOf(image.raster);
  post(
    {
      type: "scored", id, source: input.kind, label: image.label, preview, width: image.raster.width, height: image.raster.height,
      pixelSizeMm: image.pixelSizeMm, truth: image.truth, planes, subPlanes, encodeMs, totalMs: performance.now() - started
    },
    [preview.png.buffer as ArrayBuffer]
  );
}

async function ga(id: number, scoreId: number, pixelSizeMm: number): Promise<void> {
  if (!lastScored || lastScored.id !== scoreId) return post({type: "cancelled", id});
  if (!(pixelSizeMm > 0) || !Number.isFinite(pixelSizeMm) || pixelSizeMm > 10) {
    return post({type: "error", id, stage: "ga", message: `pixel size ${pixelSizeMm} mm/px is not plausible: give the scan's pixel size (typically 0.05-1 mm/px)`});
  }
  const started = performance.now();
  const cached = gaCache!.size;
  const {embedding, width, height} = lastScored;
  const estimate = await estimateGa(gaCache!, {embed: embedding, width, height, pixelSizeMm});
  post({
    type: "ga", id, scoreId, spacingMmPerPx: estimate.spacingMmPerPx, dotProducts: Array.from(estimate.dotProducts), gaDays: estimate.gaDays,
    ms: performance.now() - started, cached: gaCache!.size === cached
  });
}

let queue: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "score") latest.score = message.id;
  if (message.type === "ga") latest.ga = message.id;
  queue = queue.then(async () => {
    try {
      if (message.type === "init") await init(message);
      else if (!loaded) post({type: "error", id: message.id, stage: "load", message: "the model is not loaded"});
      else if (message.type === "score") {
        if (latest.score !== message.id) post({type: "cancelled", id: message.id});
        else await score(message.id, message.input);
      } else if (message.type === "ga") {
        if (latest.ga !== message.id) post({type: "cancelled", id: message.id});
        else await ga(message.id, message.scoreId, message.pixelSizeMm);
      }
    } catch (error) {
      if (error instanceof Cancelled && message.type !== "init") return post({type: "cancelled", id: message.id});
      const id = message.type === "init" ? null : message.id;
      const stage = message.type === "init" ? "load" : message.type === "ga" ? "ga" : "model";
      post({type: "error", id, stage, message: String((error as Error)?.message ?? error)});
    }
  });
};
