// ONNX Runtime sessions in Node: the execution provider is chosen here and
// nowhere else. onnxruntime-node throws on a provider list like
// ["cuda", "cpu"] instead of falling back, so each provider is tried alone.
import * as ort from "onnxruntime-node";

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

export interface NodeSession {
  session: ort.InferenceSession;
  ep: ExecutionProvider;
}

export function parseExecutionProvider(value: string): ExecutionProvider | "auto" {
  if (value === "auto" || (AUTO_ORDER as string[]).includes(value)) return value as ExecutionProvider | "auto";
  throw new Error(`unknown execution provider "${value}": use one of auto, ${AUTO_ORDER.join(", ")}`);
}

function sessionOptions(ep: ExecutionProvider, threads?: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    graphOptimizationLevel: "all",
    ...(threads ? {intraOpNumThreads: threads, interOpNumThreads: 1} : {})
  };
}

/** Opens a model file with the first provider that works, logging the choice. */
export async function createNodeSession(modelPath: string, options: SessionOptions = {}): Promise<NodeSession> {
  const log = options.log ?? (() => {});
  const order = !options.ep || options.ep === "auto" ? AUTO_ORDER : [options.ep];
  const failures: string[] = [];
  for (const ep of order) {
    try {
      const session = await ort.InferenceSession.create(modelPath, sessionOptions(ep, options.threads));
      log(`onnxruntime-node: ${modelPath.split(/[\\/]/).pop()} on ${ep}${failures.length ? ` (skipped: ${failures.join("; ")})` : ""}`);
      return {session, ep};
    } catch (error) {
      const reason = (error as Error).message.split("\n")[0];
      failures.push(`${ep}: ${reason}`);
    }
  }
  throw new Error(`no execution provider could open ${modelPath}: ${failures.join("; ")}`);
}

export {ort};
