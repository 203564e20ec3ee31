// Browser entry for the parity test: loads a bundle with loadClipModel on one
// execution provider, preprocesses images with the isomorphic core and returns
// the embeddings to the Node test through window.fetalclipParity.
import {loadClipModel} from "../../src/runtime/loadClipModel.js";
import {configureOrtWeb, type WebExecutionProvider} from "../../src/runtime/ortWeb.js";
import {preprocessImage} from "../../src/lib/preprocess.js";

export interface ParityRequest {
  bundleUrl: string;
  wasmUrl: string;
  imageUrls: string[];
  texts: string[];
  ep: WebExecutionProvider;
}

export interface ParityRun {
  /** Providers the sessions actually run on. */
  ep: {image: WebExecutionProvider; text: WebExecutionProvider};
  crossOriginIsolated: boolean;
  /** WebGPU compute dispatches issued while encoding: > 0 proves kernels ran on the GPU. */
  gpuDispatches: number;
  /** Preprocessed 3xSxS tensors, base64 of the float32 bytes, to compare with Node's bit for bit. */
  pixels: string[];
  images: number[][];
  texts: number[][];
  loadMs: number;
  imageMs: number;
  textMs: number;
  log: string[];
}

export type ParityResponse = ParityRun | {error: string; log: string[]};

declare global {
  interface Window {
    fetalclipParity(request: ParityRequest): Promise<ParityResponse>;
  }
}

let gpuDispatches = 0;
// Counts GPU work at the WebGPU API itself, below onnxruntime-web, so a silent
// CPU fallback inside a "webgpu" session cannot pass for GPU execution.
const encoderClass = (globalThis as unknown as Record<string, {prototype: Record<string, unknown>} | undefined>).GPUComputePassEncoder;
if (encoderClass) {
  for (const method of ["dispatchWorkgroups", "dispatchWorkgroupsIndirect"]) {
    const original = encoderClass.prototype[method] as ((...args: unknown[]) => unknown) | undefined;
    if (!original) continue;
    encoderClass.prototype[method] = function (this: unknown, ...args: unknown[]) {
      gpuDispatches++;
      return original.apply(this, args);
    };
  }
}

function toBase64(data: Float32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

window.fetalclipParity = async (request) => {
  const log: string[] = [];
  try {
    configureOrtWeb({wasmUrl: new URL(request.wasmUrl, location.href)});
    let started = performance.now();
    const {model, ep} = await loadClipModel(request.bundleUrl, {ep: request.ep, log: (m) => log.push(m)});
    const loadMs = performance.now() - started;
    const {size, mean, std} = model.manifest.image;
    const pixels = await Promise.all(request.imageUrls.map(async (url) => preprocessImage(await fetchBytes(url), {size, mean, std})));
    const dispatchesBefore = gpuDispatches;
    started = performance.now();
    const {embeddings} = await model.encodeImages(pixels);
    const imageMs = performance.now() - started;
    started = performance.now();
    const texts = await model.encodeTexts(request.texts);
    const textMs = performance.now() - started;
    await model.imageSession.release();
    await model.textSession.release();
    return {
      ep,
      crossOriginIsolated,
      gpuDispatches: gpuDispatches - dispatchesBefore,
      pixels: pixels.map(toBase64),
      images: embeddings.map((e) => Array.from(e)),
      texts: texts.map((e) => Array.from(e)),
      loadMs,
      imageMs,
      textMs,
      log
    };
  } catch (error) {
    return {error: String((error as Error)?.stack ?? error), log};
  }
};
