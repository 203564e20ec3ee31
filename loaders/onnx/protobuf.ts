// A minimal protobuf wire-format writer that streams. Every message knows its
// byte length before it is written, and large byte fields (tensor raw_data) are
// produced lazily, so a 1.2 GB model is written tensor by tensor and never held
// in memory as one buffer.
import {closeSync, openSync, writeSync} from "node:fs";

/** Bytes whose length is known up front but which are produced only when written. */
export interface LazyBytes {
  byteLength: number;
  /** Calls `emit` with consecutive pieces whose lengths sum to byteLength. */
  produce(emit: (bytes: Uint8Array) => void): void;
}

type Chunk = Uint8Array | LazyBytes;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

/** Encodes an unsigned or signed integer as a varint; negatives take 10 bytes (two's complement, as protobuf's int64). */
export function encodeVarint(value: number | bigint): Uint8Array {
  let v: bigint;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`protobuf varint: ${value} is not a safe integer`);
    if (value >= 0 && value < 2 ** 31) {
      // Fast path for the lengths, tags and small ints that make up most of a model.
      const out: number[] = [];
      let n = value;
      while (n >= 0x80) {
        out.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      out.push(n);
      return Uint8Array.from(out);
    }
    v = BigInt(value);
  } else {
    v = value;
  }
  v = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function tag(field: number, wireType: number): Uint8Array {
  return encodeVarint(field * 8 + wireType);
}

/** A protobuf message under construction: a list of chunks with a running byte length. */
export class ProtoMessage {
  readonly chunks: Chunk[] = [];
  byteLength = 0;

  private push(chunk: Chunk): void {
    this.chunks.push(chunk);
    this.byteLength += chunk.byteLength;
  }

  varint(field: number, value: number | bigint): this {
    this.push(tag(field, WIRE_VARINT));
    this.push(encodeVarint(value));
    return this;
  }

  float32(field: number, value: number): this {
    return this.fixed(field, WIRE_FIXED32, 4, (view) => view.setFloat32(0, value, true));
  }

  float64(field: number, value: number): this {
    return this.fixed(field, WIRE_FIXED64, 8, (view) => view.setFloat64(0, value, true));
  }

  /** A fixed-width little-endian field: its tag, then `size` bytes written by `write`. */
  private fixed(field: number, wire: number, size: number, write: (view: DataView) => void): this {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    this.push(tag(field, wire));
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    return this.lengthDelimited(field, value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** A bytes field whose content is produced when the message is written. */
  lazyBytes(field: number, value: LazyBytes): this {
    return this.lengthDelimited(field, value);
  }

  /** A length-delimited field: tag, byte length, then the bytes (now or when written). */
  private lengthDelimited(field: number, value: Uint8Array | LazyBytes): this {
    this.push(tag(field, WIRE_LENGTH_DELIMITED));
    this.push(encodeVarint(value.byteLength));
    this.push(value);
    return this;
  }

  /** An embedded message; its chunks are shared, not copied. */
  message(field: number, value: ProtoMessage): this {
    this.push(tag(field, WIRE_LENGTH_DELIMITED));
    this.push(encodeVarint(value.byteLength));
    for (const chunk of value.chunks) this.push(chunk);
    return this;
  }
}

/** Writes buffers to a file descriptor, coalescing small pieces into ~1 MB writes. */
export class FdWriter {
  private staging = new Uint8Array(1 << 20);
  private used = 0;
  bytesWritten = 0;

  constructor(readonly fd: number) {}

  write(bytes: Uint8Array): void {
    if (bytes.byteLength <= this.staging.byteLength - this.used) {
      this.staging.set(bytes, this.used);
      this.used += bytes.byteLength;
      return;
    }
    this.flush();
    if (bytes.byteLength < this.staging.byteLength) {
      this.staging.set(bytes, 0);
      this.used = bytes.byteLength;
      return;
    }
    this.writeFully(bytes);
  }

  flush(): void {
    if (this.used === 0) return;
    this.writeFully(this.staging.subarray(0, this.used));
    this.used = 0;
  }

  private writeFully(bytes: Uint8Array): void {
    // Large tensors go out in 64 MB slices: writeSync may write less than asked.
    const slice = 64 << 20;
    let offset = 0;
    while (offset < bytes.byteLength) {
      const end = Math.min(bytes.byteLength, offset + slice);
      offset += writeSync(this.fd, bytes, offset, end - offset);
    }
    this.bytesWritten += bytes.byteLength;
  }
}

/** Streams a message's chunks to a writer, checking that lazy chunks keep their promised length. */
export function writeMessage(message: ProtoMessage, out: FdWriter): void {
  for (const chunk of message.chunks) {
    if (chunk instanceof Uint8Array) {
      out.write(chunk);
      continue;
    }
    let produced = 0;
    chunk.produce((bytes) => {
      produced += bytes.byteLength;
      out.write(bytes);
    });
    if (produced !== chunk.byteLength) {
      throw new Error(`protobuf writer: a lazy field promised ${chunk.byteLength} bytes but produced ${produced}`);
    }
  }
}

/** Writes a message to a new file; returns the number of bytes written. */
export function writeMessageToFile(path: string, message: ProtoMessage): number {
  const fd = openSync(path, "w");
  try {
    const out = new FdWriter(fd);
    writeMessage(message, out);
    out.flush();
    return out.bytesWritten;
  } finally {
    closeSync(fd);
  }
}
