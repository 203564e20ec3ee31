// ONNX Runtime sessions in Node: cuda, webgpu, then cpu, one at a time
// (src/lib/sessionFallback.ts holds the fallback shared with the browser).
import * as ort from "onnxruntime-node";
import {openWithFallback, providerOrder, type OpenedSession} from "../src/lib/sessionFallback.js";

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

/** Opens a model file with the first provider that works, logging the choice. */
export function createNodeSession(modelPath: string, options: SessionOptions = {}): Promise<NodeSession> {
  const threads = options.threads;
  return openWithFallback<string, ExecutionProvider>(ort, modelPath, {
    order: providerOrder(options.ep, AUTO_ORDER),
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
