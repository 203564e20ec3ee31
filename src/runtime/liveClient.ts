// The live page's side of its inference worker: starts it, keeps one state object
// that the page renders, and never lets a backend hang the page. WebGPU is tried
// first; if it fails, or a request sees no message from the worker for
// `stallMs`, the worker is terminated and a new one runs on WebAssembly, with a
// note saying so, and the last request is sent again.
import type {WebExecutionProvider} from "./ortWeb.js";
import type {FromWorker, GaDone, LiveInput, Scored, ToWorker} from "./liveProtocol.js";

export interface LiveState {
  phase: "loading" | "ready" | "error";
  /** Bytes of the runtime (onnxruntime's wasm) and of the model downloaded so far. */
  download: {runtime: [number, number]; model: [number, number]};
  ep: {image: WebExecutionProvider; text: WebExecutionProvider} | null;
  model: {id: string; name: string; imageSize: number; demo: boolean} | null;
  /** Time to encode the class prompts once, ms. */
  promptMs: number | null;
  /** Plain notes for the user (a fallback from WebGPU, say). */
  notes: string[];
  /** An image is being scored. */
  scoring: boolean;
  scored: Scored | null;
  /** GA of the scored image, once estimated. */
  ga: GaDone | null;
  gaPending: boolean;
  /** The one current error: where it happened and what to do. */
  error: {stage: string; message: string} | null;
}

export interface LiveClientOptions {
  workerUrl: string;
  /** URLs of the bundle's files by name (model.json, image.onnx, text.onnx, vocab.txt). */
  files: Record<string, string>;
  wasmUrl: string;
  ep?: WebExecutionProvider | "auto";
  /** A request with no message from the worker for this long counts as stalled (default 20 s). */
  stallMs?: number;
}

/** Delay between showing a class and starting its GA estimate, ms. */
const GA_START_DELAY_MS = 400;

const initialState = (): LiveState => ({
  phase: "loading", download: {runtime: [0, 0], model: [0, 0]}, ep: null, model: null, promptMs: null, notes: [],
  scoring: false, scored: null, ga: null, gaPending: false, error: null
});

export class LiveClient {
  private worker: Worker | null = null;
  private state: LiveState = initialState();
  private readonly listeners = new Set<(state: LiveState) => void>();
  private nextId = 1;
  private lastScore: {id: number; input: LiveInput} | null = null;
  private lastGa: {id: number; scoreId: number; pixelSizeMm: number} | null = null;
  private ep: WebExecutionProvider | "auto";
  private stallTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: LiveClientOptions) {
    this.ep = options.ep ?? "auto";
    this.start();
  }

  /** The state now. */
  get current(): LiveState {
    return this.state;
  }

  /** Calls `listener` now and on every change; returns the unsubscribe function. */
  subscribe(listener: (state: LiveState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /** Scores an image (a phantom sample or an upload); a newer call supersedes an older one. */
  score(input: LiveInput): void {
    const id = this.nextId++;
    this.lastScore = {id, input};
    this.lastGa = null;
    this.update({scoring: true, ga: null, gaPending: false, error: null});
    if (this.state.phase === "ready") this.send({type: "score", id, input});
  }

  /** Re-estimates GA of the scored upload with another pixel size (mm/px). */
  setPixelSize(pixelSizeMm: number): void {
    const scored = this.state.scored;
    if (!scored || scored.source !== "upload" || this.lastScore?.input.kind !== "upload") return;
    this.lastScore.input.pixelSizeMm = pixelSizeMm;
    this.requestGa(scored.id, pixelSizeMm);
  }

  dispose(): void {
    clearTimeout(this.stallTimer);
    this.worker?.terminate();
    this.worker = null;
    this.listeners.clear();
  }

  private requestGa(scoreId: number, pixelSizeMm: number): void {
    const id = this.nextId++;
    this.lastGa = {id, scoreId, pixelSizeMm};
    this.update({gaPending: true, ga: null, error: null});
    this.send({type: "ga", id, scoreId, pixelSizeMm});
  }

  private start(): void {
    this.worker = new Worker(this.options.workerUrl, {type: "module"});
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
    this.worker.onerror = (event) => this.fail("load", `the inference worker failed to start (${event.message || "script error"}); reload the page`);
    this.send({type: "init", files: this.options.files, wasmUrl: this.options.wasmUrl, ep: this.ep});
  }

  private send(message: ToWorker, transfer: Transferable[] = []): void {
    // Copies, never transfers, an upload's bytes: the same input may be sent again after a fallback.
    const payload = message.type === "score" && message.input.kind === "upload"
      ? {...message, input: {...message.input, bytes: message.input.bytes.slice(0)}}
      : message;
    this.worker?.postMessage(payload, transfer);
    this.armWatchdog();
  }

  /** While something is outstanding on WebGPU (or an automatic choice), silence for stallMs means a stall. */
  private armWatchdog(): void {
    clearTimeout(this.stallTimer);
    const busy = this.state.phase === "loading" || this.state.scoring || this.state.gaPending;
    const canFallBack = this.ep !== "wasm" && this.state.ep?.image !== "wasm";
    if (!busy || !canFallBack) return;
    const stallMs = this.options.stallMs ?? (globalThis as {LIVE_STALL_MS?: number}).LIVE_STALL_MS ?? 20_000;
    this.stallTimer = setTimeout(() => this.fallBack(`WebGPU gave no answer for ${Math.round(stallMs / 1000)} s`), stallMs);
  }

  private fallBack(reason: string): void {
    if (this.ep === "wasm") return;
    clearTimeout(this.stallTimer);
    this.worker?.terminate();
    this.ep = "wasm";
    this.update({
      phase: "loading", ep: null, download: {runtime: [0, 0], model: [0, 0]}, ga: null, gaPending: false, error: null,
      notes: [...this.state.notes, `${reason}; the model now runs on WebAssembly (CPU) instead.`]
    });
    this.start();
  }

  private fail(stage: string, message: string): void {
    clearTimeout(this.stallTimer);
    const phase = stage === "load" ? "error" : this.state.phase;
    this.update({phase, error: {stage, message}, scoring: false, gaPending: false});
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case "progress":
        this.update({download: {...this.state.download, [message.stage]: [message.loadedBytes, message.totalBytes]}});
        break;
      case "ready":
        this.update({phase: "ready", ep: message.ep, model: message.model, promptMs: message.promptMs, notes: [...this.state.notes, ...message.notes]});
        // Resend what was asked while loading (or before a fallback).
        if (this.lastScore) this.send({type: "score", id: this.lastScore.id, input: this.lastScore.input});
        break;
      case "scored":
        if (message.id !== this.lastScore?.id) break;
        this.update({scoring: false, scored: message, error: null});
        // The answer is drawn first; GA (875 prompts for a new spacing) starts once the page has painted it,
        // so the worker's work never competes with that frame on a small machine.
        setTimeout(() => {
          if (this.lastScore?.id === message.id && this.lastGa === null) this.requestGa(message.id, message.pixelSizeMm);
        }, GA_START_DELAY_MS);
        break;
      case "ga":
        if (message.id !== this.lastGa?.id) break;
        this.update({ga: message, gaPending: false});
        break;
      case "cancelled":
        break;
      case "error": {
        const current = message.id === null || message.id === this.lastScore?.id || message.id === this.lastGa?.id;
        if (!current) break;
        // A failure of the GPU path is retried on the CPU before the user hears of it.
        if ((message.stage === "load" || message.stage === "model") && this.ep !== "wasm" && this.state.ep?.image !== "wasm") {
          this.fallBack(`WebGPU failed (${message.message.split("\n")[0]})`);
          return;
        }
        const what = {
          load: "Loading the model failed",
          image: "This file cannot be scored",
          model: "The model failed on this image",
          ga: "The GA estimate failed"
        }[message.stage];
        const advice = {
          load: "Reload the page; if it persists, choose WebAssembly.",
          image: "Upload a PNG or JPEG ultrasound image.",
          model: "Try another image or reload the page.",
          ga: "Check the pixel size and try again."
        }[message.stage];
        if (message.stage === "image") this.update({scored: null});
        this.fail(message.stage, `${what}: ${message.message}. ${advice}`);
        return;
      }
    }
    this.armWatchdog();
  }

  private update(patch: Partial<LiveState>): void {
    this.state = {...this.state, ...patch};
    for (const listener of this.listeners) listener(this.state);
  }
}
