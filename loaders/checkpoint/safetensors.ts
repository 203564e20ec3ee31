// safetensors: u64 LE header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw little-endian bytes.
import {closeSync, fstatSync, openSync} from "node:fs";
import {DTYPE_BYTES, contiguousStrides, materialiseFloat32, numelOf} from "./dtypes.js";
import {stripDataParallelPrefix, type DType, type StateDict, type TensorRecord} from "./stateDict.js";
import {parseJsonStrict} from "../../src/lib/json.js";
import {readExactly} from "./zip.js";

export const SAFETENSORS_DTYPES: Record<string, DType> = {
  F64: "float64", F32: "float32", F16: "float16", BF16: "bfloat16",
  I64: "int64", I32: "int32", I16: "int16", I8: "int8", U8: "uint8", BOOL: "bool",
};

// The reference implementation refuses headers over 100 MB; a larger one is a corrupt length.
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads and validates the header: every tensor's byte range must lie inside the file and match its shape. */
export function readSafetensorsHeader(fd: number, path: string, fileSize: number): {dataStart: number; tensors: Map<string, {dtype: DType; shape: number[]; begin: number; end: number}>} {
  if (fileSize < 8) throw new Error(`${path}: ${fileSize} bytes is too short for a safetensors file`);
  const lengthBytes = new Uint8Array(8);
  readExactly(fd, lengthBytes, 0, () => path);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
    throw new Error(`${path}: safetensors header length ${headerLength} exceeds the file (${fileSize} bytes) or the 100 MB limit: truncated or not safetensors`);
  }
  const headerBytes = new Uint8Array(Number(headerLength));
  readExactly(fd, headerBytes, 8, () => path);
  let headerText: string;
  try {
    headerText = new TextDecoder("utf-8", {fatal: true}).decode(headerBytes);
  } catch (error) {
    throw new Error(`${path}: safetensors header is not valid UTF-8 (${(error as Error).message})`);
  }
  const header = parseJsonStrict(headerText, `${path} (safetensors header)`);
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new Error(`${path}: safetensors header must be a JSON object`);
  const dataStart = 8 + Number(headerLength);
  const dataBytes = fileSize - dataStart;
  const tensors = new Map<string, {dtype: DType; shape: number[]; begin: number; end: number}>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    const entry = raw as Partial<HeaderEntry>;
    const dtype = typeof entry?.dtype === "string" ? SAFETENSORS_DTYPES[entry.dtype] : undefined;
    if (!dtype) throw new Error(`${path}: tensor "${name}" has dtype ${JSON.stringify(entry?.dtype)}; supported: ${Object.keys(SAFETENSORS_DTYPES).join(", ")}`);
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${path}: tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw new Error(`${path}: tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets;
    if (end > dataBytes) throw new Error(`${path}: tensor "${name}" data_offsets [${begin}, ${end}] run past the ${dataBytes} data bytes: the file is truncated or corrupt`);
    const expected = numelOf(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) throw new Error(`${path}: tensor "${name}" [${shape}] ${entry.dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
    tensors.set(name, {dtype, shape, begin, end});
  }
  // As the reference implementation validates: sorted by offset, the ranges tile the data
  // exactly, so no two tensors share bytes and no bytes hide between or after them.
  const ranges = [...tensors].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let expectedBegin = 0;
  for (const [name, {begin, end}] of ranges) {
    if (begin !== expectedBegin) {
      const what = begin < expectedBegin ? "overlaps the tensor before it" : `leaves a gap of ${begin - expectedBegin} bytes before it`;
      throw new Error(`${path}: tensor "${name}" data_offsets [${begin}, ${end}] ${what} (the previous range ends at ${expectedBegin}): the header is corrupt`);
    }
    expectedBegin = end;
  }
  if (expectedBegin !== dataBytes) {
    throw new Error(`${path}: the tensors' data_offsets cover ${expectedBegin} bytes but ${dataBytes} data bytes follow the header: the file is corrupt or has trailing bytes`);
  }
  return {dataStart, tensors};
}

/** Opens a .safetensors file; tensor bytes are read only by toFloat32(). */
export function openSafetensors(path: string): StateDict {
  let fd: number | undefined = openSync(path, "r");
  try {
    const {dataStart, tensors} = readSafetensorsHeader(fd, path, fstatSync(fd).size);
    const records = new Map<string, TensorRecord>();
    for (const [name, key] of stripDataParallelPrefix(tensors.keys(), path)) {
      const t = tensors.get(key)!;
      records.set(name, {
        name,
        dtype: t.dtype,
        shape: [...t.shape],
        toFloat32: () =>
          materialiseFloat32(t.dtype, t.shape, contiguousStrides(t.shape), 0, (byteStart, into) => {
            if (fd === undefined) throw new Error(`${path}: the checkpoint is closed`);
            readExactly(fd, into, dataStart + t.begin + byteStart, () => `${path} tensor "${name}"`);
          }),
      });
    }
    return {
      format: "safetensors",
      path,
      keys: () => [...records.keys()],
      get: (name) => records.get(name),
      close: () => {
        if (fd !== undefined) closeSync(fd);
        fd = undefined;
      },
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
