// Messages between the live page (src/runtime/liveClient.ts) and its inference
// worker (src/runtime/liveWorker.ts). The worker handles one message at a time,
// so runs on a session never overlap; a request superseded by a newer one of the
// same kind is answered with "cancelled" instead of being computed.
import type {WebExecutionProvider} from "./ortWeb.js";

/** A phantom sample to generate in the worker (the same generator and seed as in Node). */
export interface PhantomRequest {
  plane: string;
  subPlane: string | null;
  gaWeeks: number;
  seed: number;
}

export type LiveInput =
  | {kind: "phantom"; phantom: PhantomRequest}
  | {kind: "upload"; name: string; bytes: ArrayBuffer; pixelSizeMm: number};

export type ToWorker =
  | {type: "init"; files: Record<string, string>; wasmUrl: string; ep: WebExecutionProvider | "auto"}
  | {type: "score"; id: number; input: LiveInput}
  /** GA of the last scored image with another pixel size (uploads: the user's mm/px). */
  | {type: "ga"; id: number; scoreId: number; pixelSizeMm: number};

export interface Truth {
  plane: string;
  subPlane: string | null;
  gaDays: number;
  hcMm: number;
}

export interface Scored {
  type: "scored";
  id: number;
  source: "phantom" | "upload";
  label: string;
  /** A grey preview of what was scored, at most PREVIEW_SIDE px on its longer side, as a PNG file (decoded by the browser off the main thread). */
  preview: {width: number; height: number; png: Uint8Array};
  /** Size of the image as decoded (px) and its pixel size (mm/px). */
  width: number;
  height: number;
  pixelSizeMm: number;
  truth: Truth | null;
  planes: number[];
  subPlanes: number[];
  /** Image encoder time, ms (preprocessing excluded). */
  encodeMs: number;
  /** Decode, preprocess, encode and score, ms. */
  totalMs: number;
}

export interface GaDone {
  type: "ga";
  id: number;
  scoreId: number;
  spacingMmPerPx: number;
  dotProducts: number[];
  gaDays: number;
  ms: number;
  /** Whether the 875 prompts for this spacing were already encoded. */
  cached: boolean;
}

export type FromWorker =
  /** Download progress (bytes) of the runtime and the model. */
  | {type: "progress"; stage: "runtime" | "model"; loadedBytes: number; totalBytes: number}
  | {type: "ready"; ep: {image: WebExecutionProvider; text: WebExecutionProvider}; model: {id: string; name: string; imageSize: number; demo: boolean}; promptMs: number; notes: string[]}
  | Scored
  | GaDone
  | {type: "cancelled"; id: number}
  | {type: "error"; id: number | null; stage: "load" | "image" | "model" | "ga"; message: string};

/** Longer side of the preview the worker sends back for display. */
export const PREVIEW_SIDE = 336;
