// ONNX Runtime sessions in the browser: the execution provider is chosen here
// and nowhere else. "onnxruntime-web" (1.30, default entry) registers both the
// webgpu (JSEP) and the wasm providers over one binary,
// ort-wasm-simd-threaded.jsep.wasm; "onnxruntime-web/webgpu" is a different
// (asyncify) build with another binary, so pages load only the default entry.
// Each provider is tried alone (src/lib/sessionFallback.ts), so a failure is
// reported, never silently mixed.
import * as ort from "onnxruntime-web";
import {openWithFallback, providerOrder, type OpenedSession} from "../lib/sessionFallback.js";

export type WebExecutionProvider = "webgpu" | "wasm";
export const WEB_AUTO_ORDER: WebExecutionProvider[] = ["webgpu", "wasm"];

export interface WebSessionOptions {
  /** Force one provider; "auto" (default) tries webgpu when an adapter exists, then wasm. */
  ep?: WebExecutionProvider | "auto";
  /** Where the choice and the reasons for skipping providers are reported. */
  log?: (message: string) => void;
}

export type WebSession = OpenedSession<WebExecutionProvider>;

export interface OrtWebConfig {
  /** URL of ort-wasm-simd-threaded.jsep.wasm, self-hosted (28 MB; no CDN on hospital networks). */
  wasmUrl: string | URL;
  /** wasm threads; multi-threading needs a cross-origin isolated page (COOP/COEP headers). */
  numThreads?: number;
}

/** Points onnxruntime-web at its self-hosted binary; call once, before the first session. */
export function configureOrtWeb(config: OrtWebConfig): void {
  ort.env.wasm.wasmPaths = {wasm: String(config.wasmUrl)};
  // onnxruntime's warnings (nodes placed on the CPU by design, say) are not the user's problem.
  ort.env.logLevel = "error";
  // SharedArrayBuffer (and so wasm threads) exists only in cross-origin isolated pages.
  const isolated = typeof globalThis.crossOriginIsolated === "boolean" && globalThis.crossOriginIsolated;
  if (!isolated) ort.env.wasm.numThreads = 1;
  else if (config.numThreads !== undefined) ort.env.wasm.numThreads = config.numThreads;
}

/** The sliver of the WebGPU API used here (TypeScript's DOM lib does not declare navigator.gpu). */
interface GpuNavigator {
  gpu?: {requestAdapter(): Promise<object | null>};
}

let adapterCheck: Promise<string | null> | undefined;

/** Why webgpu cannot run in this page, or null when an adapter is available. Checked once. */
export function webGpuUnavailableReason(): Promise<string | null> {
  adapterCheck ??= (async () => {
    const gpu = typeof navigator === "undefined" ? undefined : (navigator as Navigator & GpuNavigator).gpu;
    if (!gpu) return "navigator.gpu is undefined (browser without WebGPU, or not a secure context)";
    try {
      return (await gpu.requestAdapter()) ? null : "navigator.gpu.requestAdapter() gave no adapter";
    } catch (error) {
      return `navigator.gpu.requestAdapter() failed: ${(error as Error).message}`;
    }
  })();
  return adapterCheck;
}

function modelLabel(model: Uint8Array | string): string {
  return typeof model === "string" ? model.split("/").pop() || model : `${model.byteLength}-byte model`;
}

/** Opens an ONNX model (bytes or URL) with the first provider that works, logging the choice. */
export function createWebSession(model: Uint8Array | string, options: WebSessionOptions = {}): Promise<WebSession> {
  const sessionOptions = (ep: WebExecutionProvider): ort.InferenceSession.SessionOptions => ({executionProviders: [ep], graphOptimizationLevel: "all", logSeverityLevel: 3});
  const common = {
    order: providerOrder(options.ep, WEB_AUTO_ORDER),
    sessionOptions,
    unavailableReason: (ep: WebExecutionProvider) => (ep === "webgpu" ? webGpuUnavailableReason() : Promise.resolve(null)),
    runtime: "onnxruntime-web",
    label: modelLabel(model),
    log: options.log
  };
  return typeof model === "string"
    ? openWithFallback<string, WebExecutionProvider>(ort, model, common)
    : openWithFallback<Uint8Array, WebExecutionProvider>(ort, model, common);
}

export {ort};
