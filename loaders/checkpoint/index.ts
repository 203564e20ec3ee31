// openCheckpoint: picks the reader by the file's magic bytes, not its extension.
import {closeSync, fstatSync, openSync, readSync} from "node:fs";
import {openSafetensors} from "./safetensors.js";
import type {StateDict} from "./stateDict.js";
import {openTorchZip} from "./torchZip.js";

export {sha256File} from "./hash.js";
export {UnsafePickleError} from "./pickle.js";
export {openSafetensors} from "./safetensors.js";
export type {DType, StateDict, TensorRecord} from "./stateDict.js";
export {openTorchZip} from "./torchZip.js";
export {ZipFormatError} from "./zip.js";

export type CheckpointFormat = "torch-zip" | "safetensors" | "legacy-torch" | "unknown";

/** Classifies a file from its first bytes and size. */
export function sniffCheckpoint(head: Uint8Array, fileSize: number): CheckpointFormat {
  // "PK\x03\x04" local file header, or "PK\x05\x06" for an empty archive.
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return "torch-zip";
  // Pre-1.6 torch.save writes a bare pickle: PROTO opcode (0x80) then protocol 2..5.
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return "legacy-torch";
  if (head.length >= 9) {
    const headerLength = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
    // A u64 length then "{": safetensors, even when the length is impossible (the reader then says so).
    if (head[8] === 0x7b && headerLength >= 2n) return "safetensors";
  }
  return "unknown";
}

/** Opens a torch.save zip (.pt/.bin/.pth) or .safetensors checkpoint for lazy tensor reads. */
export function openCheckpoint(path: string): StateDict {
  const fd = openSync(path, "r");
  const head = new Uint8Array(16);
  let size: number;
  let got: number;
  try {
    size = fstatSync(fd).size;
    got = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const format = sniffCheckpoint(head.subarray(0, got), size);
  switch (format) {
    case "torch-zip":
      return openTorchZip(path);
    case "safetensors":
      return openSafetensors(path);
    case "legacy-torch":
      throw new Error(`${path}: a legacy (pre-1.6, non-zip) torch.save pickle, which is unsupported; re-save it with torch>=1.6: torch.save(torch.load(path, map_location="cpu"), new_path)`);
    case "unknown": {
      const hex = [...head.subarray(0, got)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      throw new Error(`${path}: unknown checkpoint format (${size} bytes, starts with ${hex || "nothing"}); expected a torch.save zip (.pt) or .safetensors`);
    }
  }
}
