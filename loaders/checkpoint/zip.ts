// Random-access zip reading by file handle: torch.save archives are read entry by entry, never whole.
import {closeSync, fstatSync, openSync, readSync} from "node:fs";
import {crc32, inflateRawSync} from "node:zlib";

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
const EOCD_SIZE = 22;
// The zip comment is at most 65535 bytes, so the EOCD record starts within this many bytes of the end.
const EOCD_SEARCH_BYTES = EOCD_SIZE + 0xffff;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
// DEFLATE entries are inflated whole in memory; torch stores tensors uncompressed, so only small records qualify.
// The largest tensor of FetalCLIP (the token embedding, 49408 x 768 float32) is 152 MB.
export const MAX_INFLATE_BYTES = 256 * 1024 * 1024;
// Inflated entries are kept (so storage shared by many tensors inflates once) up to this many bytes in all.
const INFLATE_CACHE_BYTES = 256 * 1024 * 1024;
// A torch checkpoint's central directory is tens of kilobytes (one 46-byte record and a name per entry).
export const MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;
// Stored entries are checked against their CRC-32 in chunks of this size.
const CRC_CHUNK_BYTES = 8 * 1024 * 1024;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
}

export class ZipFormatError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "ZipFormatError";
  }
}

/** Reads exactly `length` bytes at `position`, looping because readSync may return fewer. */
export function readExactly(fd: number, target: Uint8Array, position: number, what: () => string): void {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) throw new Error(`${what()}: unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/** A zip64 8-byte field; `fail` names the archive when the value cannot be an offset or size. */
function u64(view: DataView, at: number, fail: (message: string) => never): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a zip64 field holds ${value}, over 2^53: the zip is corrupt`);
  return Number(value);
}

/** A zip archive opened by file handle; entry bytes are read on demand. */
export class ZipReader {
  readonly path: string;
  readonly fileSize: number;
  private fd: number | undefined;
  private readonly entries = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<string, number>();
  /** Entries whose CRC-32 has been checked. */
  private readonly verified = new Set<string>();
  /** Inflated (deflate) entries, oldest first, within INFLATE_CACHE_BYTES. */
  private readonly inflated = new Map<string, Uint8Array>();

  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, "r");
    try {
      this.fileSize = fstatSync(this.fd).size;
      this.readCentralDirectory();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): ZipEntry | undefined {
    return this.entries.get(name);
  }

  /** Releases the file handle and any inflated entries held. */
  close(): void {
    this.inflated.clear();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private handle(): number {
    if (this.fd === undefined) throw new Error(`${this.path}: the zip archive is closed`);
    return this.fd;
  }

  private fail(message: string): never {
    throw new ZipFormatError(this.path, message);
  }

  private read(position: number, length: number): Uint8Array {
    if (position < 0 || position + length > this.fileSize) {
      this.fail(`needs bytes ${position}..${position + length} but the file has ${this.fileSize}: the zip is truncated or corrupt`);
    }
    const bytes = new Uint8Array(length);
    readExactly(this.handle(), bytes, position, () => this.path);
    return bytes;
  }

  private readCentralDirectory(): void {
    const fail = (message: string): never => this.fail(message);
    const tailLength = Math.min(this.fileSize, EOCD_SEARCH_BYTES);
    if (tailLength < EOCD_SIZE) this.fail(`${this.fileSize} bytes is too short for a zip archive`);
    const tailStart = this.fileSize - tailLength;
    const tail = this.read(tailStart, tailLength);
    const tailView = new DataView(tail.buffer);
    let eocd = -1;
    for (let at = tailLength - EOCD_SIZE; at >= 0; at--) {
      if (tailView.getUint32(at, true) === EOCD_SIGNATURE) {
        eocd = at;
        break;
      }
    }
    if (eocd < 0) this.fail("no end-of-central-directory record: the zip is truncated or corrupt (was the download or copy cut short?)");
    let entryCount = tailView.getUint16(eocd + 10, true);
    let directorySize = tailView.getUint32(eocd + 12, true);
    let directoryOffset = tailView.getUint32(eocd + 16, true);
    if (tailView.getUint16(eocd + 4, true) !== 0 && tailView.getUint16(eocd + 4, true) !== 0xffff) this.fail("multi-disk (split) zip archives are not supported");
    const eocdPosition = tailStart + eocd;
    const needsZip64 = entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff;
    const locatorPosition = eocdPosition - 20;
    const locator = locatorPosition >= 0 ? new DataView(this.read(locatorPosition, 20).buffer) : undefined;
    if (locator && locator.getUint32(0, true) === ZIP64_EOCD_LOCATOR_SIGNATURE) {
      const zip64Position = u64(locator, 8, fail);
      const record = new DataView(this.read(zip64Position, 56).buffer);
      if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) this.fail(`no zip64 end-of-central-directory record at byte ${zip64Position}: the zip is corrupt`);
      entryCount = u64(record, 32, fail);
      directorySize = u64(record, 40, fail);
      directoryOffset = u64(record, 48, fail);
    } else if (needsZip64) {
      this.fail("the end-of-central-directory record asks for zip64 but no zip64 locator precedes it: the zip is corrupt");
    }
    if (directorySize > MAX_CENTRAL_DIRECTORY_BYTES) {
      this.fail(`the central directory declares ${directorySize} bytes, over the ${MAX_CENTRAL_DIRECTORY_BYTES}-byte limit: the zip is corrupt or not a checkpoint`);
    }
    if (entryCount * 46 > directorySize) this.fail(`${entryCount} entries cannot fit in a ${directorySize}-byte central directory: the zip is corrupt`);
    if (directoryOffset + directorySize > eocdPosition) {
      this.fail(`the central directory (bytes ${directoryOffset}..${directoryOffset + directorySize}) overlaps its end record at ${eocdPosition}: the zip is truncated or corrupt`);
    }
    const directory = this.read(directoryOffset, directorySize);
    const view = new DataView(directory.buffer);
    const decoder = new TextDecoder("utf-8", {fatal: false});
    let at = 0;
    for (let i = 0; i < entryCount; i++) {
      if (at + 46 > directorySize || view.getUint32(at, true) !== CENTRAL_HEADER_SIGNATURE) {
        this.fail(`central directory entry ${i} of ${entryCount} is malformed: the zip is corrupt`);
      }
      const flags = view.getUint16(at + 8, true);
      const method = view.getUint16(at + 10, true);
      const crc = view.getUint32(at + 16, true);
      let compressedSize = view.getUint32(at + 20, true);
      let uncompressedSize = view.getUint32(at + 24, true);
      const nameLength = view.getUint16(at + 28, true);
      const extraLength = view.getUint16(at + 30, true);
      const commentLength = view.getUint16(at + 32, true);
      let localHeaderOffset = view.getUint32(at + 42, true);
      const end = at + 46 + nameLength + extraLength + commentLength;
      if (end > directorySize) this.fail(`central directory entry ${i} runs past the directory: the zip is corrupt`);
      const name = decoder.decode(directory.subarray(at + 46, at + 46 + nameLength));
      // Zip64 extra field: 8-byte values, present only for the 32-bit fields saturated at 0xFFFFFFFF, in this order.
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = view.getUint16(extra, true);
        const size = view.getUint16(extra + 2, true);
        if (id === ZIP64_EXTRA_ID) {
          let field = extra + 4;
          const take = (): number => {
            if (field + 8 > extra + 4 + size) this.fail(`entry "${name}": zip64 extra field is too short`);
            const value = u64(view, field, fail);
            field += 8;
            return value;
          };
          if (uncompressedSize === 0xffffffff) uncompressedSize = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        }
        extra += 4 + size;
      }
      if (flags & 1) this.fail(`entry "${name}" is encrypted`);
      if (this.entries.has(name)) this.fail(`entry "${name}" appears twice in the central directory: the zip is ambiguous or corrupt`);
      this.entries.set(name, {name, method, compressedSize, uncompressedSize, crc32: crc, localHeaderOffset});
      at = end;
    }
  }

  /** Absolute file offset of an entry's data (the local header's extra field, e.g. torch's 64-byte alignment padding, may differ from the central one). */
  dataOffset(name: string): number {
    const cached = this.dataOffsets.get(name);
    if (cached !== undefined) return cached;
    const entry = this.require(name);
    const header = new DataView(this.read(entry.localHeaderOffset, 30).buffer);
    if (header.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) {
      this.fail(`entry "${name}": no local file header at byte ${entry.localHeaderOffset}: the zip is corrupt`);
    }
    const offset = entry.localHeaderOffset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
    if (offset + entry.compressedSize > this.fileSize) {
      this.fail(`entry "${name}" needs bytes ${offset}..${offset + entry.compressedSize} but the file has ${this.fileSize}: the zip is truncated`);
    }
    this.dataOffsets.set(name, offset);
    return offset;
  }

  private require(name: string): ZipEntry {
    const entry = this.entries.get(name);
    if (!entry) this.fail(`no entry "${name}" in the archive`);
    return entry;
  }

  private checkCrc(entry: ZipEntry, actual: number): void {
    if ((actual >>> 0) !== entry.crc32) {
      this.fail(`entry "${entry.name}": CRC-32 ${(actual >>> 0).toString(16)} does not match the directory's ${entry.crc32.toString(16)}: the zip is corrupt (a damaged download or copy?)`);
    }
    this.verified.add(entry.name);
  }

  /** Checks a stored entry's CRC-32 by streaming it in chunks (never whole in memory); once per entry. */
  verifyEntry(name: string): void {
    if (this.verified.has(name)) return;
    const entry = this.require(name);
    if (entry.method !== METHOD_STORED) {
      this.inflatedEntry(entry);
      return;
    }
    this.checkStoredSizes(entry);
    const offset = this.dataOffset(name);
    const chunk = new Uint8Array(Math.min(CRC_CHUNK_BYTES, entry.uncompressedSize));
    let crc = 0;
    for (let done = 0; done < entry.uncompressedSize; done += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, entry.uncompressedSize - done));
      readExactly(this.handle(), part, offset + done, () => `${this.path} entry "${name}"`);
      crc = crc32(part, crc);
    }
    this.checkCrc(entry, crc);
  }

  private checkStoredSizes(entry: ZipEntry): void {
    if (entry.compressedSize !== entry.uncompressedSize) this.fail(`entry "${entry.name}" is stored but its sizes differ (${entry.compressedSize} vs ${entry.uncompressedSize})`);
  }

  /** The whole (decompressed) entry, its CRC-32 checked. */
  readEntry(name: string): Uint8Array {
    const entry = this.require(name);
    if (entry.method !== METHOD_STORED) return this.inflatedEntry(entry);
    this.checkStoredSizes(entry);
    const bytes = this.read(this.dataOffset(name), entry.uncompressedSize);
    this.checkCrc(entry, crc32(bytes));
    return bytes;
  }

  /**
   * `length` bytes of an entry's decompressed data starting at `start`. Stored entries
   * are read in place; the entry's CRC-32 is checked before its first bytes are
   * returned (while reading, when the range is the whole entry).
   */
  readRange(name: string, start: number, length: number, into?: Uint8Array): Uint8Array {
    const entry = this.require(name);
    if (start < 0 || start + length > entry.uncompressedSize) {
      this.fail(`entry "${name}": bytes ${start}..${start + length} are outside its ${entry.uncompressedSize} bytes`);
    }
    const target = into ?? new Uint8Array(length);
    if (target.length !== length) throw new RangeError(`readRange: target holds ${target.length} bytes, expected ${length}`);
    if (entry.method !== METHOD_STORED) {
      target.set(this.inflatedEntry(entry).subarray(start, start + length));
      return target;
    }
    this.checkStoredSizes(entry);
    const whole = start === 0 && length === entry.uncompressedSize;
    if (!whole) this.verifyEntry(name);
    readExactly(this.handle(), target, this.dataOffset(name) + start, () => `${this.path} entry "${name}"`);
    if (whole && !this.verified.has(name)) this.checkCrc(entry, crc32(target));
    return target;
  }

  /** A deflated entry, inflated and CRC-checked once, then kept while the cache has room. */
  private inflatedEntry(entry: ZipEntry): Uint8Array {
    const cached = this.inflated.get(entry.name);
    if (cached) return cached;
    const bytes = this.inflate(entry, this.dataOffset(entry.name));
    this.checkCrc(entry, crc32(bytes));
    let held = bytes.length;
    for (const b of this.inflated.values()) held += b.length;
    for (const [name, b] of this.inflated) {
      if (held <= INFLATE_CACHE_BYTES) break;
      this.inflated.delete(name);
      held -= b.length;
    }
    if (bytes.length <= INFLATE_CACHE_BYTES) this.inflated.set(entry.name, bytes);
    return bytes;
  }

  private inflate(entry: ZipEntry, offset: number): Uint8Array {
    if (entry.method !== METHOD_DEFLATE) this.fail(`entry "${entry.name}" uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
    if (entry.uncompressedSize > MAX_INFLATE_BYTES) {
      this.fail(`entry "${entry.name}" is deflated and ${entry.uncompressedSize} bytes; only stored entries may exceed ${MAX_INFLATE_BYTES} bytes`);
    }
    let out: Buffer;
    try {
      out = inflateRawSync(this.read(offset, entry.compressedSize), {maxOutputLength: Math.max(1, entry.uncompressedSize)});
    } catch (error) {
      this.fail(`entry "${entry.name}" does not inflate to its declared ${entry.uncompressedSize} bytes (${(error as Error).message}): the zip is corrupt`);
    }
    if (out.length !== entry.uncompressedSize) this.fail(`entry "${entry.name}" inflated to ${out.length} bytes, the directory says ${entry.uncompressedSize}`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
}
