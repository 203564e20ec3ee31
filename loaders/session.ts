// ONNX Runtime sessions in Node: cuda, webgpu, then cpu, one at a time
// (src/lib/sessionFallback.ts holds the fallback shared with the browser).
import {existsSync} from "node:fs";
import {createRequire} from "node:module";
import {dirname, join} from "node:path";
import * as ort from "onnxruntime-node";
import {openWithFallback, providerOrder, type OpenedSession} from "../src/lib/sessionFallback.js";

// A long command line must not crash the process. onnxruntime 1.29+ on Linux starts its 1DS
// telemetry when the first session creates the ORT environment, and the 1DS system-info code
// matches the regex "(.*)[ ]*.*[\n]*" (libstdc++ std::regex, which recurses about three frames
// per character) against the whole of /proc/self/cmdline to find an app id. From about 29 KB of
// arguments (a shell glob of a few hundred image paths, one long --texts string) that recursion
// overflows the 8 MiB main-thread stack: SIGSEGV inside InferenceSession.create, no message.
// ORT_DISABLE_TELEMETRY=1, read with getenv when that environment is created (after this module
// is loaded, at the first InferenceSession.create), skips the telemetry and with it the read of
// the command line. Set here, before any session, so every Node entry that opens a session
// through this module is covered; tests/longArgv.test.ts runs the CLI with 2,000 image paths.
process.env.ORT_DISABLE_TELEMETRY = "1";

export type ExecutionProvider = "cuda" | "webgpu" | "cpu";
export const AUTO_ORDER: ExecutionProvider[] = ["cuda", "webgpu", "cpu"];

export interface SessionOptions {
  /** Force one provider (the CLI's --ep); "auto" tries cuda, webgpu, then cpu. */
  ep?: ExecutionProvider | "auto";
  /** Intra-op threads for the cpu provider (default: ORT's choice, all cores). */
  threads?: number;
  /** Where the choice and the reasons for skipping providers are reported. */
  log?: (message: string) => void;
}

export type NodeSession = OpenedSession<ExecutionProvider>;

export function parseExecutionProvider(value: string): ExecutionProvider | "auto" {
  if (value === "auto" || (AUTO_ORDER as string[]).includes(value)) return value as ExecutionProvider | "auto";
  throw new Error(`unknown execution provider "${value}": use one of auto, ${AUTO_ORDER.join(", ")}`);
}

/**
 * Whether onnxruntime-node's CUDA provider library is installed (its install script fetches it
 * only where CUDA is found). Without it, trying cuda prints a native "Failed to load library"
 * error on every session, so "auto" skips it.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const binding = join(dirname(createRequire(import.meta.url).resolve("onnxruntime-node")), "..", "bin", "napi-v6", process.platform, process.arch);
    return existsSync(join(binding, "libonnxruntime_providers_cuda.so")) || existsSync(join(binding, "onnxruntime_providers_cuda.dll"));
  } catch {
    return false;
  }
}

/** Opens a model file with the first provider that works, logging the choice. */
export function createNodeSession(modelPath: string, options: SessionOptions = {}): Promise<NodeSession> {
  const threads = options.threads;
  const auto = options.ep === undefined || options.ep === "auto";
  const order = auto && !cudaProviderInstalled() ? AUTO_ORDER.filter((ep) => ep !== "cuda") : AUTO_ORDER;
  return openWithFallback<string, ExecutionProvider>(ort, modelPath, {
    order: providerOrder(options.ep, order),
    sessionOptions: (ep) => ({
      executionProviders: [ep],
      graphOptimizationLevel: "all",
      ...(threads ? {intraOpNumThreads: threads, interOpNumThreads: 1} : {})
    }),
    runtime: "onnxruntime-node",
    label: modelPath.split(/[\\/]/).pop() ?? modelPath,
    where: modelPath,
    log: options.log
  });
}

export {ort};
