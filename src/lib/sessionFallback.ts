// Opening an ONNX model with the first execution provider that works, for both
// runtimes: onnxruntime-node and onnxruntime-web pass their own `ort` module.
// Each provider is tried alone: a list like ["cuda", "cpu"] throws in
// onnxruntime-node instead of falling back, and a silent mix would hide where a
// number was computed. The choice, and why others were skipped, is logged.
import type {InferenceSession} from "onnxruntime-common";

/** The part of an onnxruntime module (node or web) that opens sessions; M is what it opens (a path, bytes). */
export interface OrtSessionFactory<M> {
  InferenceSession: {create(model: M, options?: InferenceSession.SessionOptions): Promise<InferenceSession>};
}

export interface FallbackOptions<P extends string> {
  /** Providers in the order to try them. */
  order: readonly P[];
  /** Session options for one provider (its name goes in executionProviders). */
  sessionOptions: (ep: P) => InferenceSession.SessionOptions;
  /** Why a provider cannot run here, checked before trying it (null: try it). */
  unavailableReason?: (ep: P) => Promise<string | null>;
  /** The runtime and the model, for the log and errors ("onnxruntime-node", "image.onnx"). */
  runtime: string;
  label: string;
  /** The model as errors name it (a full path); default: label. */
  where?: string;
  log?: (message: string) => void;
}

export interface OpenedSession<P extends string> {
  session: InferenceSession;
  ep: P;
}

/** Opens `model` on the first provider of `options.order` that works; one error listing every failure when none does. */
export async function openWithFallback<M, P extends string>(
  ort: OrtSessionFactory<M>,
  model: M,
  options: FallbackOptions<P>
): Promise<OpenedSession<P>> {
  const failures: string[] = [];
  for (const ep of options.order) {
    const reason = options.unavailableReason ? await options.unavailableReason(ep) : null;
    if (reason) {
      failures.push(`${ep}: ${reason}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(model, options.sessionOptions(ep));
      options.log?.(`${options.runtime}: ${options.label} on ${ep}${failures.length ? ` (skipped: ${failures.join("; ")})` : ""}`);
      return {session, ep};
    } catch (error) {
      failures.push(`${ep}: ${String((error as Error)?.message ?? error).split("\n")[0]}`);
    }
  }
  throw new Error(`no execution provider could open ${options.where ?? options.label}: ${failures.join("; ")}`);
}

/** The providers to try: the automatic order, or the one forced. */
export function providerOrder<P extends string>(choice: P | "auto" | undefined, autoOrder: readonly P[]): readonly P[] {
  return !choice || choice === "auto" ? autoOrder : [choice];
}
