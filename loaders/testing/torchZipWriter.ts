// Writes torch.save-compatible zip checkpoints without Python: random-weight models of any size, and test files.
// Tensors are streamed to disk one at a time, so a 1.7 GB checkpoint needs about one tensor of memory.
import {closeSync, openSync, writeSync} from "node:fs";
import {crc32} from "node:zlib";
import {contiguousStrides, numelOf, storageSpan} from "../checkpoint/dtypes.js";

export type WritableDType = "float32" | "float16" | "bfloat16";

export interface TensorSpec {
  shape: number[];
  /** Storage contents: float32 values, or raw half/bfloat16 bits. Row-major unless `stride` is given. */
  data: Float32Array | Uint16Array;
  dtype: WritableDType;
  /** Element strides into `data` (default: row-major), to write non-contiguous views. */
  stride?: number[];
  /** First element of the view within `data` (default 0). */
  storageOffset?: number;
}

export interface NamedTensorSpec extends TensorSpec {
  name: string;
}

export type TensorSource = Record<string, TensorSpec> | Iterable<NamedTensorSpec | [string, TensorSpec]>;

export interface TorchZipWriteOptions {
  /** Nest the state dict as {[wrap]: state_dict}, as training scripts do (open_clip: "state_dict"). */
  wrap?: string;
  /** Prefix every key, e.g. "module." as DataParallel does. */
  prefix?: string;
  /** Top-level folder inside the zip (torch uses "archive" or the file's stem). */
  archiveName?: string;
  /** Write zip64 records even when not needed (to exercise readers). */
  forceZip64?: boolean;
}

const STORAGE_TYPES: Record<WritableDType, {name: string; array: "Float32Array" | "Uint16Array"; bytes: number}> = {
  float32: {name: "FloatStorage", array: "Float32Array", bytes: 4},
  float16: {name: "HalfStorage", array: "Uint16Array", bytes: 2},
  bfloat16: {name: "BFloat16Storage", array: "Uint16Array", bytes: 2},
};

// torch's PyTorchStreamWriter aligns record data to 64 bytes with an "FB" extra field; we do the same.
const ALIGNMENT = 64;
const PADDING_EXTRA_ID = 0x4246;
const ZIP64_LIMIT = 0xffffffff;

/** Pickle protocol 2 opcodes, the subset torch.save emits for a state dict. */
export class PickleBuilder {
  private chunks: number[] = [];
  private readonly encoder = new TextEncoder();

  op(code: number): this {
    this.chunks.push(code);
    return this;
  }

  global(module: string, name: string): this {
    this.op(0x63);
    for (const b of this.encoder.encode(`${module}\n${name}\n`)) this.chunks.push(b);
    return this;
  }

  str(text: string): this {
    const bytes = this.encoder.encode(text);
    this.op(0x58).u32(bytes.length);
    for (const b of bytes) this.chunks.push(b);
    return this;
  }

  int(value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`pickle int ${value} is not a safe integer`);
    if (value >= 0 && value < 256) return this.op(0x4b).op(value);
    if (value >= 0 && value < 65536) return this.op(0x4d).op(value & 0xff).op(value >> 8);
    if (value >= -(2 ** 31) && value < 2 ** 31) return this.op(0x4a).u32(value >>> 0);
    // LONG1: minimal little-endian two's complement.
    let v = BigInt(value);
    const bytes: number[] = [];
    for (;;) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
      const signBit = (bytes[bytes.length - 1] & 0x80) !== 0;
      if ((v === 0n && !signBit) || (v === -1n && signBit)) break;
    }
    this.op(0x8a).op(bytes.length);
    for (const b of bytes) this.chunks.push(b);
    return this;
  }

  tuple(values: number[]): this {
    if (values.length === 0) return this.op(0x29);
    this.op(0x28);
    for (const v of values) this.int(v);
    return this.op(0x74);
  }

  private u32(value: number): this {
    this.chunks.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

interface WrittenEntry {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
}

/** A minimal stored-only zip writer with torch's 64-byte data alignment and zip64 when needed. */
class StoredZipWriter {
  private position = 0;
  private readonly entries: WrittenEntry[] = [];
  private readonly fd: number;

  constructor(path: string, private readonly forceZip64: boolean) {
    this.fd = openSync(path, "w");
  }

  private write(bytes: Uint8Array, at?: number): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at === undefined ? this.position + done : at + done);
    if (at === undefined) this.position += bytes.length;
  }

  /** Writes one entry from chunks of known total size; the CRC is patched into the local header afterwards. */
  addEntry(name: string, size: number, chunks: Iterable<Uint8Array>): void {
    const nameBytes = new TextEncoder().encode(name);
    const zip64 = this.forceZip64 || size >= ZIP64_LIMIT;
    const offset = this.position;
    const fixed = 30 + nameBytes.length + (zip64 ? 20 : 0);
    const pad = (ALIGNMENT - ((offset + fixed + 4) % ALIGNMENT)) % ALIGNMENT;
    const header = new Uint8Array(fixed + 4 + pad);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x04034b50, true);
    view.setUint16(4, zip64 ? 45 : 20, true);
    view.setUint16(6, 0x0800, true); // UTF-8 names
    view.setUint16(8, 0, true); // stored
    view.setUint32(10, 0, true); // time/date: torch writes zeros too
    view.setUint32(14, 0, true); // CRC, patched below
    view.setUint32(18, zip64 ? ZIP64_LIMIT : size, true);
    view.setUint32(22, zip64 ? ZIP64_LIMIT : size, true);
    view.setUint16(26, nameBytes.length, true);
    view.setUint16(28, header.length - 30 - nameBytes.length, true);
    header.set(nameBytes, 30);
    let at = 30 + nameBytes.length;
    if (zip64) {
      view.setUint16(at, 0x0001, true);
      view.setUint16(at + 2, 16, true);
      view.setBigUint64(at + 4, BigInt(size), true);
      view.setBigUint64(at + 12, BigInt(size), true);
      at += 20;
    }
    view.setUint16(at, PADDING_EXTRA_ID, true);
    view.setUint16(at + 2, pad, true);
    this.write(header);
    let crc = 0;
    let written = 0;
    for (const chunk of chunks) {
      crc = crc32(chunk, crc);
      this.write(chunk);
      written += chunk.length;
    }
    if (written !== size) throw new Error(`zip entry ${name}: wrote ${written} bytes, declared ${size}`);
    const crcBytes = new Uint8Array(4);
    new DataView(crcBytes.buffer).setUint32(0, crc >>> 0, true);
    this.write(crcBytes, offset + 14);
    this.entries.push({name: nameBytes, crc: crc >>> 0, size, offset});
  }

  /** Writes the central directory and end records, then closes the file; returns the file size. */
  finish(): number {
    const directoryOffset = this.position;
    for (const e of this.entries) {
      const needs64 = this.forceZip64 || e.size >= ZIP64_LIMIT || e.offset >= ZIP64_LIMIT;
      const extra = needs64 ? 28 : 0;
      const record = new Uint8Array(46 + e.name.length + extra);
      const view = new DataView(record.buffer);
      view.setUint32(0, 0x02014b50, true);
      view.setUint16(4, needs64 ? 45 : 20, true);
      view.setUint16(6, needs64 ? 45 : 20, true);
      view.setUint16(8, 0x0800, true);
      view.setUint16(10, 0, true);
      view.setUint32(16, e.crc, true);
      view.setUint32(20, needs64 ? ZIP64_LIMIT : e.size, true);
      view.setUint32(24, needs64 ? ZIP64_LIMIT : e.size, true);
      view.setUint16(28, e.name.length, true);
      view.setUint16(30, extra, true);
      view.setUint32(42, needs64 ? ZIP64_LIMIT : e.offset, true);
      record.set(e.name, 46);
      if (needs64) {
        const at = 46 + e.name.length;
        view.setUint16(at, 0x0001, true);
        view.setUint16(at + 2, 24, true);
        view.setBigUint64(at + 4, BigInt(e.size), true);
        view.setBigUint64(at + 12, BigInt(e.size), true);
        view.setBigUint64(at + 20, BigInt(e.offset), true);
      }
      this.write(record);
    }
    const directorySize = this.position - directoryOffset;
    const zip64 = this.forceZip64 || this.entries.length >= 0xffff || directoryOffset >= ZIP64_LIMIT || directorySize >= ZIP64_LIMIT;
    if (zip64) {
      const zip64EndOffset = this.position;
      const end = new Uint8Array(56 + 20);
      const view = new DataView(end.buffer);
      view.setUint32(0, 0x06064b50, true);
      view.setBigUint64(4, 44n, true);
      view.setUint16(12, 45, true);
      view.setUint16(14, 45, true);
      view.setBigUint64(24, BigInt(this.entries.length), true);
      view.setBigUint64(32, BigInt(this.entries.length), true);
      view.setBigUint64(40, BigInt(directorySize), true);
      view.setBigUint64(48, BigInt(directoryOffset), true);
      view.setUint32(56, 0x07064b50, true);
      view.setBigUint64(64, BigInt(zip64EndOffset), true);
      view.setUint32(72, 1, true);
      this.write(end);
    }
    const eocd = new Uint8Array(22);
    const view = new DataView(eocd.buffer);
    view.setUint32(0, 0x06054b50, true);
    view.setUint16(8, zip64 ? 0xffff : this.entries.length, true);
    view.setUint16(10, zip64 ? 0xffff : this.entries.length, true);
    view.setUint32(12, zip64 ? ZIP64_LIMIT : directorySize, true);
    view.setUint32(16, zip64 ? ZIP64_LIMIT : directoryOffset, true);
    this.write(eocd);
    closeSync(this.fd);
    return this.position;
  }

  abort(): void {
    closeSync(this.fd);
  }
}

function* namedTensors(tensors: TensorSource): Iterable<NamedTensorSpec> {
  if (typeof (tensors as Iterable<unknown>)[Symbol.iterator] !== "function") {
    for (const [name, spec] of Object.entries(tensors as Record<string, TensorSpec>)) yield {name, ...spec};
    return;
  }
  for (const item of tensors as Iterable<NamedTensorSpec | [string, TensorSpec]>) {
    yield Array.isArray(item) ? {name: item[0], ...item[1]} : item;
  }
}

/** Byte views of a typed array in chunks (writeSync takes at most 2 GB at once). */
function* byteChunks(data: Float32Array | Uint16Array): Iterable<Uint8Array> {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const step = 1 << 28;
  for (let at = 0; at < bytes.length; at += step) yield bytes.subarray(at, Math.min(bytes.length, at + step));
}

/**
 * Writes tensors as a torch.save zip (loadable by torch.load and by openCheckpoint).
 * `tensors` may be a record or a (lazy) iterable, so huge checkpoints stream from a generator.
 */
export function writeTorchZip(path: string, tensors: TensorSource, opts: TorchZipWriteOptions = {}): {bytes: number; tensors: number} {
  const archive = opts.archiveName ?? "archive";
  if (archive.includes("/") || archive.length === 0) throw new Error(`archiveName "${archive}" must be a single folder name`);
  const zip = new StoredZipWriter(path, opts.forceZip64 ?? false);
  const pickle = new PickleBuilder();
  try {
    pickle.op(0x80).op(2); // PROTO 2, as torch.save uses
    if (opts.wrap !== undefined) pickle.op(0x7d).str(opts.wrap); // EMPTY_DICT, key
    pickle.global("collections", "OrderedDict").op(0x29).op(0x52).op(0x28); // OrderedDict(), MARK
    let count = 0;
    const seen = new Set<string>();
    for (const t of namedTensors(tensors)) {
      const type = STORAGE_TYPES[t.dtype];
      if (!type) throw new Error(`tensor "${t.name}": dtype ${String(t.dtype)} is not writable (float32, float16, bfloat16)`);
      const rightArray = type.array === "Float32Array" ? t.data instanceof Float32Array : t.data instanceof Uint16Array;
      if (!rightArray) throw new Error(`tensor "${t.name}": ${t.dtype} data must be a ${type.array}, got ${t.data.constructor.name}`);
      if (seen.has(t.name)) throw new Error(`tensor "${t.name}" appears twice`);
      seen.add(t.name);
      const stride = t.stride ?? contiguousStrides(t.shape);
      const offset = t.storageOffset ?? 0;
      if (stride.length !== t.shape.length) throw new Error(`tensor "${t.name}": shape [${t.shape}] but stride [${stride}]`);
      const span = storageSpan(t.shape, stride, offset);
      if (span.first + span.count > t.data.length || (t.stride === undefined && t.storageOffset === undefined && t.data.length !== numelOf(t.shape))) {
        throw new Error(`tensor "${t.name}": shape [${t.shape}] needs ${t.stride ? span.first + span.count : numelOf(t.shape)} values, data has ${t.data.length}`);
      }
      const key = String(count);
      zip.addEntry(`${archive}/data/${key}`, t.data.byteLength, byteChunks(t.data));
      // name: _rebuild_tensor_v2((persistent storage), offset, size, stride, requires_grad=False, OrderedDict())
      pickle.str((opts.prefix ?? "") + t.name).global("torch._utils", "_rebuild_tensor_v2").op(0x28);
      pickle.op(0x28).str("storage").global("torch", type.name).str(key).str("cpu").int(t.data.length).op(0x74).op(0x51); // TUPLE, BINPERSID
      pickle.int(offset).tuple(t.shape).tuple(stride).op(0x89); // NEWFALSE
      pickle.global("collections", "OrderedDict").op(0x29).op(0x52); // backward hooks: OrderedDict()
      pickle.op(0x74).op(0x52); // TUPLE, REDUCE
      count++;
    }
    pickle.op(0x75); // SETITEMS
    if (opts.wrap !== undefined) pickle.op(0x73); // SETITEM
    pickle.op(0x2e); // STOP
    const pkl = pickle.bytes();
    zip.addEntry(`${archive}/data.pkl`, pkl.length, [pkl]);
    const little = new TextEncoder().encode("little");
    zip.addEntry(`${archive}/byteorder`, little.length, [little]);
    const version = new TextEncoder().encode("3\n");
    zip.addEntry(`${archive}/version`, version.length, [version]);
    return {bytes: zip.finish(), tensors: count};
  } catch (error) {
    zip.abort();
    throw error;
  }
}
