// Seeded fuzz over the openclip-micro fixture (a real torch.save zip, and a safetensors
// conversion of the same weights): every mutated file either is refused with an error that
// names it, leaving nothing behind, or imports to graphs byte-identical to the original's.
// Two exceptions may import changed weights, as the formats allow: a data.pkl edited with its
// CRC-32 re-stamped (a valid file that says something else), and changed safetensors tensor
// bytes (no checksum; the reader must then return exactly the file's bytes).
import {createHash} from "node:crypto";
import {closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {crc32} from "node:zlib";
import {zipSync} from "fflate";
import {afterAll, beforeAll, describe, expect, it, vi} from "vitest";
import {openCheckpoint} from "../loaders/checkpoint/index.js";
import {unpickle} from "../loaders/checkpoint/pickle.js";
import {ZipReader} from "../loaders/checkpoint/zip.js";
import {importModel} from "../loaders/importer.js";
import {writeTorchZip} from "../loaders/testing/torchZipWriter.js";
import {createRng, type Rng} from "../src/lib/random.js";
import {describeShared, sharedPath} from "./shared.js";

// Every import parses the 1.4 MB BPE vocabulary (~0.35 s) before it opens the checkpoint; the
// vocabulary never changes here, so parse it once: the fuzz is about the checkpoint readers.
vi.mock("../src/lib/tokenizer.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../src/lib/tokenizer.js")>();
  const {createHash: hash} = await import("node:crypto");
  const texts = new Map<string, string>();
  type Tokenizer = ReturnType<typeof actual.Tokenizer.fromMerges>;
  const tokenizers = new Map<string, Tokenizer>();
  const readMergesFile = (bytes: Uint8Array, source?: string): string => {
    const key = hash("sha256").update(bytes).digest("hex");
    let text = texts.get(key);
    if (text === undefined) texts.set(key, (text = actual.readMergesFile(bytes, source)));
    return text;
  };
  const fromMerges = (text: string): Tokenizer => {
    const key = hash("sha256").update(text).digest("hex");
    let tokenizer = tokenizers.get(key);
    if (tokenizer === undefined) tokenizers.set(key, (tokenizer = actual.Tokenizer.fromMerges(text)));
    return tokenizer;
  };
  const Tokenizer = new Proxy(actual.Tokenizer, {
    get: (target, prop, receiver) => (prop === "fromMerges" ? fromMerges : Reflect.get(target, prop, receiver)),
  });
  return {...actual, readMergesFile, Tokenizer};
});

// Another seed explores other cases: CHECKPOINT_FUZZ_SEED=... npx vitest run tests/checkpointFuzz.test.ts
const SEED = process.env.CHECKPOINT_FUZZ_SEED ?? "checkpoint-fuzz-1";
const ZIP_CASES = 300;
const PICKLE_CASES = 50;
const SAFETENSORS_CASES = 50;

type Range = readonly [start: number, end: number];

interface Mutation {
  what: string;
  bytes: Uint8Array;
  /** The ranges changed in place, when the length is unchanged (these alone are written over a pristine copy). */
  changed?: Range[];
}

interface Case extends Mutation {
  id: string;
  /** The unmutated file. */
  base: Uint8Array;
  ext: "pt" | "safetensors";
  /** Safetensors has no checksum: an in-place change inside tensor data may import, with that data. */
  dataRegion?: Range;
  /** A data.pkl edited with its CRC-32 re-stamped is a valid file that says something else: it may import differently. */
  edited?: boolean;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

function pickIn(rng: Rng, ranges: readonly Range[]): number {
  const [start, end] = rng.pick(ranges.filter(([s, e]) => e > s));
  return rng.int(start, end - 1);
}

/** One byte changed: a single bit half the time (a bad sector or cosmic ray), else a random non-zero XOR. */
function flip(rng: Rng, original: Uint8Array, at: number, label: string): Mutation {
  const bytes = original.slice();
  const mask = rng.chance(0.5) ? 1 << rng.int(0, 7) : rng.int(1, 255);
  bytes[at] ^= mask;
  return {what: `${label}: byte ${at} ^= 0x${mask.toString(16)}`, bytes, changed: [[at, at + 1]]};
}

function truncate(original: Uint8Array, length: number, label: string): Mutation {
  return {what: `${label}: truncated to ${length} of ${original.length} bytes`, bytes: original.slice(0, length)};
}

function insertRun(rng: Rng, original: Uint8Array, at: number, label: string): Mutation {
  const run = new Uint8Array(rng.int(1, 64)).map(() => rng.int(0, 255));
  const bytes = new Uint8Array(original.length + run.length);
  bytes.set(original.subarray(0, at));
  bytes.set(run, at);
  bytes.set(original.subarray(at), at + run.length);
  return {what: `${label}: ${run.length} random bytes inserted at ${at}`, bytes};
}

function deleteRun(rng: Rng, original: Uint8Array, at: number, label: string): Mutation {
  const n = Math.min(rng.int(1, 64), original.length - at);
  const bytes = new Uint8Array(original.length - n);
  bytes.set(original.subarray(0, at));
  bytes.set(original.subarray(at + n), at);
  return {what: `${label}: ${n} bytes deleted at ${at}`, bytes};
}

function zeroRange(rng: Rng, original: Uint8Array, at: number, label: string): Mutation {
  const n = Math.min(rng.pick([1, 2, 4, 8, 16, 64, 512, 4096]), original.length - at);
  const bytes = original.slice();
  bytes.fill(0, at, at + n);
  return {what: `${label}: ${n} bytes zeroed at ${at}`, bytes, changed: [[at, at + n]]};
}

/** data.pkl's bytes, and every place its CRC-32 is stamped (central record, local header or data descriptor). */
interface PickleStamp {
  data: Range;
  crcAt: number[];
}

/** The torch.save zip's layout, read from the original: where each kind of structure lies. */
function zipRegions(path: string, bytes: Uint8Array): {regions: Record<string, Range[]>; pickle: PickleStamp} {
  const zip = new ZipReader(path);
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let eocd = bytes.length - 22;
    while (eocd >= 0 && view.getUint32(eocd, true) !== 0x06054b50) eocd--;
    const locator = eocd - 20;
    const zip64 = locator >= 0 && view.getUint32(locator, true) === 0x07064b50 ? Number(view.getBigUint64(locator + 8, true)) : -1;
    const endStart = zip64 >= 0 ? zip64 : eocd;
    const directoryStart = zip64 >= 0 ? Number(view.getBigUint64(zip64 + 48, true)) : view.getUint32(eocd + 16, true);
    const regions: Record<string, Range[]> = {
      "central directory": [[directoryStart, endStart]],
      "end records": [[endStart, bytes.length]],
      "local header": [],
      "alignment padding": [],
      "data.pkl": [],
      storage: [],
      "data descriptor": [],
    };
    const names = zip.names();
    const dataEnds = new Map<string, number>();
    for (const name of names) {
      const entry = zip.entry(name)!;
      const header = entry.localHeaderOffset;
      const nameEnd = header + 30 + view.getUint16(header + 26, true);
      const data = zip.dataOffset(name);
      regions["local header"].push([header, nameEnd]);
      regions["alignment padding"].push([nameEnd, data]);
      regions[name.endsWith("/data.pkl") ? "data.pkl" : "storage"].push([data, data + entry.compressedSize]);
      dataEnds.set(name, data + entry.compressedSize);
    }
    // Whatever lies between an entry's data and the next header (torch: a 16-byte data descriptor).
    const starts = [...names.map((n) => zip.entry(n)!.localHeaderOffset), directoryStart].sort((a, b) => a - b);
    for (const end of dataEnds.values()) {
      const next = starts.find((x) => x >= end)!;
      if (next > end) regions["data descriptor"]!.push([end, next]);
    }
    // data.pkl's CRC-32: in its central record, and wherever else the original value is stamped
    // (the local header, or a data descriptor after the data when the local one is zero).
    const pickleName = names.find((name) => name.endsWith("/data.pkl"))!;
    const pickleEntry = zip.entry(pickleName)!;
    const crcAt: number[] = [];
    for (let at = directoryStart; at < endStart; ) {
      expect(view.getUint32(at, true)).toBe(0x02014b50);
      const nameLength = view.getUint16(at + 28, true);
      if (new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)) === pickleName) crcAt.push(at + 16);
      at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    }
    const end = dataEnds.get(pickleName)!;
    for (const at of [pickleEntry.localHeaderOffset + 14, end, end + 4]) {
      if (at + 4 <= bytes.length && view.getUint32(at, true) === pickleEntry.crc32) crcAt.push(at);
    }
    expect(crcAt.length).toBeGreaterThanOrEqual(2);
    const pickle: PickleStamp = {data: regions["data.pkl"][0]!, crcAt};
    return {regions, pickle};
  } finally {
    zip.close();
  }
}

function zipMutation(rng: Rng, original: Uint8Array, regions: Record<string, Range[]>, index: number): Mutation {
  const kinds = Object.keys(regions);
  const everywhere: Range[] = [[0, original.length]];
  const somewhere = (): {at: number; label: string} => {
    if (rng.chance(0.5)) return {at: pickIn(rng, everywhere), label: "anywhere"};
    const kind = rng.pick(kinds);
    return {at: pickIn(rng, regions[kind]!), label: kind};
  };
  // Case kinds in fixed proportions (of 300): 60 flips anywhere, 120 flips in structures,
  // 30 truncations, 20 insertions, 20 deletions, 25 zeroed ranges, 25 central-directory word swaps.
  const slot = index % 60;
  if (slot < 12) return flip(rng, original, pickIn(rng, everywhere), "flip anywhere");
  if (slot < 36) {
    const kind = kinds[(slot - 12) % kinds.length]!;
    return flip(rng, original, pickIn(rng, regions[kind]!), `flip in ${kind}`);
  }
  if (slot < 42) {
    const tail = regions["central directory"]![0]![0];
    return truncate(original, rng.chance(0.5) ? rng.int(tail, original.length - 1) : rng.int(0, original.length - 1), "truncation");
  }
  if (slot < 46) {
    const {at, label} = somewhere();
    return insertRun(rng, original, at, `insertion (${label})`);
  }
  if (slot < 50) {
    const {at, label} = somewhere();
    return deleteRun(rng, original, at, `deletion (${label})`);
  }
  if (slot < 55) {
    const {at, label} = somewhere();
    return zeroRange(rng, original, at, `zeroed (${label})`);
  }
  const directory = regions["central directory"]!;
  const a = pickIn(rng, directory);
  let b = pickIn(rng, directory);
  while (Math.abs(a - b) < 4) b = pickIn(rng, directory);
  const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
  const end = directory[0]![1];
  const x = Math.min(lo, end - 8);
  const y = Math.min(Math.max(hi, x + 4), end - 4);
  const bytes = original.slice();
  bytes.set(original.subarray(y, y + 4), x);
  bytes.set(original.subarray(x, x + 4), y);
  return {what: `central directory: 4-byte words at ${x} and ${y} swapped`, bytes, changed: [[x, x + 4], [y, y + 4]]};
}

/**
 * data.pkl changed in place (bytes flipped, zeroed or swapped), then its CRC-32 re-stamped in
 * both headers: the CRC no longer stops it, so the unpickler and the storage checks meet it.
 */
function pickleMutation(rng: Rng, original: Uint8Array, pickle: PickleStamp): Mutation {
  const [start, end] = pickle.data;
  const at = rng.int(start, end - 1);
  let m: Mutation;
  const kind = rng.int(0, 5);
  if (kind < 4) m = flip(rng, original, at, "data.pkl edit");
  else if (kind === 4) m = zeroRange(rng, original, Math.min(at, end - 4), "data.pkl edit");
  else {
    const other = rng.int(start, end - 1);
    const bytes = original.slice();
    [bytes[at], bytes[other]] = [original[other]!, original[at]!];
    m = {what: `data.pkl edit: bytes ${at} and ${other} swapped`, bytes, changed: [[at, at + 1], [other, other + 1]]};
  }
  const crc = crc32(m.bytes.subarray(start, end));
  const view = new DataView(m.bytes.buffer);
  for (const position of pickle.crcAt) view.setUint32(position, crc, true);
  return {...m, what: `${m.what}, CRC-32 re-stamped`, changed: [...m.changed!, ...pickle.crcAt.map((p): Range => [p, p + 4])]};
}

/** A safetensors file as the reference writes it: u64 header length, JSON header padded with spaces to 8 bytes, data. */
function writeSafetensors(path: string): {bytes: Uint8Array; headerEnd: number; tensors: {name: string; begin: number; end: number}[]} {
  const state = openCheckpoint(path);
  try {
    const names = state.keys().sort();
    const header: Record<string, unknown> = {__metadata__: {format: "pt"}};
    const data: Uint8Array[] = [];
    const tensors: {name: string; begin: number; end: number}[] = [];
    let offset = 0;
    for (const name of names) {
      const t = state.get(name)!;
      const values = t.toFloat32();
      header[name] = {dtype: "F32", shape: t.shape, data_offsets: [offset, offset + values.byteLength]};
      data.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      tensors.push({name, begin: offset, end: offset + values.byteLength});
      offset += values.byteLength;
    }
    let json = JSON.stringify(header);
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const headerBytes = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + headerBytes.length + offset);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    bytes.set(headerBytes, 8);
    let at = 8 + headerBytes.length;
    for (const part of data) {
      bytes.set(part, at);
      at += part.length;
    }
    for (const t of tensors) {
      t.begin += 8 + headerBytes.length;
      t.end += 8 + headerBytes.length;
    }
    return {bytes, headerEnd: 8 + headerBytes.length, tensors};
  } finally {
    state.close();
  }
}

function safetensorsMutation(rng: Rng, original: Uint8Array, headerEnd: number, index: number): Mutation {
  const header: Range[] = [[8, headerEnd]];
  const data: Range[] = [[headerEnd, original.length]];
  // Of 50: 20 header flips, 5 length-field flips, 10 data flips, 5 truncations, 5 header insertions/deletions, 5 zeroed ranges.
  const slot = index % 50;
  if (slot < 20) return flip(rng, original, pickIn(rng, header), "flip in header JSON");
  if (slot < 25) return flip(rng, original, rng.int(0, 7), "flip in header length");
  if (slot < 35) return flip(rng, original, pickIn(rng, data), "flip in tensor data");
  if (slot < 40) return truncate(original, rng.chance(0.5) ? rng.int(0, headerEnd) : rng.int(headerEnd, original.length - 1), "truncation");
  if (slot < 45) {
    const at = pickIn(rng, header);
    return slot % 2 === 0 ? insertRun(rng, original, at, "insertion in header") : deleteRun(rng, original, at, "deletion in header");
  }
  return zeroRange(rng, original, pickIn(rng, rng.chance(0.5) ? header : data), "zeroed");
}

describeShared("checkpoint fuzz over the openclip-micro fixture", () => {
  const fixture = sharedPath("fixtures", "openclip-micro", "weights.pt");
  const config = sharedPath("fixtures", "openclip-micro", "config.json");
  const vocab = sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz");
  let tmp = "";
  const reference: {image?: string; text?: string} = {};

  const importTo = (weights: string, outDir: string) => importModel({weights, config, vocab, outDir});

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "checkpoint-fuzz-"));
    const out = join(tmp, "original");
    await importTo(fixture, out);
    reference.image = sha256(readFileSync(join(out, "image.onnx")));
    reference.text = sha256(readFileSync(join(out, "text.onnx")));
    rmSync(out, {recursive: true, force: true});
  }, 60_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, {recursive: true, force: true});
  });

  it(`${ZIP_CASES} damaged torch.save zips, ${PICKLE_CASES} edited data.pkl and ${SAFETENSORS_CASES} damaged safetensors: each refused cleanly, or imported identically`, async () => {
    const started = Date.now();
    const rng = createRng(SEED);
    const original = new Uint8Array(readFileSync(fixture));
    const {regions, pickle} = zipRegions(fixture, original);
    const cases: (() => Case)[] = [];
    for (let i = 0; i < ZIP_CASES; i++) {
      cases.push(() => ({id: `zip-${i}`, ext: "pt", base: original, ...zipMutation(rng.fork(`zip/${i}`), original, regions, i)}));
    }
    for (let i = 0; i < PICKLE_CASES; i++) {
      cases.push(() => ({id: `pkl-${i}`, ext: "pt", base: original, edited: true, ...pickleMutation(rng.fork(`pickle/${i}`), original, pickle)}));
    }

    // The same weights as safetensors must import to the same graphs before its mutations mean anything.
    const converted = writeSafetensors(fixture);
    const convertedPath = join(tmp, "converted.safetensors");
    writeFileSync(convertedPath, converted.bytes);
    await importTo(convertedPath, join(tmp, "converted"));
    expect(sha256(readFileSync(join(tmp, "converted", "image.onnx")))).toBe(reference.image);
    expect(sha256(readFileSync(join(tmp, "converted", "text.onnx")))).toBe(reference.text);
    rmSync(join(tmp, "converted"), {recursive: true, force: true});
    for (let i = 0; i < SAFETENSORS_CASES; i++) {
      cases.push(() => ({
        id: `st-${i}`,
        ext: "safetensors",
        base: converted.bytes,
        dataRegion: [converted.headerEnd, converted.bytes.length],
        ...safetensorsMutation(rng.fork(`safetensors/${i}`), converted.bytes, converted.headerEnd, i),
      }));
    }

    // One pristine copy per original: an in-place mutation is written over it and undone after
    // the case (writing a fresh 15 MB file per case costs more than most imports).
    const inputs = join(tmp, "inputs");
    mkdirSync(inputs);
    const pristine = new Map<Uint8Array, string>();
    for (const c of [{base: original, ext: "pt"}, {base: converted.bytes, ext: "safetensors"}]) {
      const path = join(inputs, `fuzz-in-place.${c.ext}`);
      writeFileSync(path, c.base);
      pristine.set(c.base, path);
    }
    const patch = (path: string, source: Uint8Array, ranges: Range[]): void => {
      const fd = openSync(path, "r+");
      try {
        for (const [start, end] of ranges) writeSync(fd, source, start, end - start, start);
      } finally {
        closeSync(fd);
      }
    };
    const families = {zip: "torch zip", pkl: "edited data.pkl", st: "safetensors"} as const;
    type Family = keyof typeof families;
    const counts = Object.fromEntries(Object.keys(families).map((f) => [f, {cases: 0, refused: 0, identical: 0, altered: 0}])) as Record<Family, {cases: number; refused: number; identical: number; altered: number}>;
    const failures: string[] = [];
    let slowest = {ms: 0, id: ""};
    for (const make of cases) {
      const c = make();
      const inPlace = c.changed !== undefined && c.bytes.length === c.base.length;
      const weights = inPlace ? pristine.get(c.base)! : join(inputs, `fuzz-${c.id}.${c.ext}`);
      const parent = join(tmp, c.id);
      const outDir = join(parent, "bundle");
      mkdirSync(parent);
      if (inPlace) {
        // The ranges must hold every change, or the file tested is not the one described.
        const sorted = [...c.changed!].sort((x, y) => x[0] - y[0]);
        let at = 0;
        for (const [from, to] of [...sorted, [c.base.length, c.base.length] as Range]) {
          if (from > at) expect(Buffer.compare(c.bytes.subarray(at, from), c.base.subarray(at, from)), `${c.id}: a change outside its ranges`).toBe(0);
          at = Math.max(at, to);
        }
        patch(weights, c.bytes, c.changed!);
      } else writeFileSync(weights, c.bytes);
      const problem = (text: string): void => {
        failures.push(`${c.id} (${c.what}): ${text}`);
      };
      const count = counts[c.id.split("-")[0] as Family];
      count.cases++;
      const caseStarted = Date.now();
      let error: unknown;
      try {
        await importTo(weights, outDir);
      } catch (e) {
        error = e ?? new Error("(thrown undefined)");
      }
      const ms = Date.now() - caseStarted;
      if (ms > slowest.ms) slowest = {ms, id: c.id};
      const left = readdirSync(parent);
      if (error !== undefined) {
        count.refused++;
        // A clean refusal says which file is wrong; an engine error from deep inside (TypeError, RangeError) does not.
        if (!(error instanceof Error)) problem(`threw a non-Error: ${String(error)}`);
        else if (!error.message.includes(weights)) {
          problem(`${error.name} does not name the file: ${error.message} (${error.stack?.split("\n")[1]?.trim()})`);
        }
        if (left.length > 0) problem(`refused but left ${left.join(", ")} in the output's parent`);
      } else {
        const image = sha256(readFileSync(join(outDir, "image.onnx")));
        const text = sha256(readFileSync(join(outDir, "text.onnx")));
        if (left.length !== 1 || left[0] !== "bundle") problem(`imported but the parent holds ${left.join(", ")}`);
        if (image === reference.image && text === reference.text) {
          count.identical++;
          if (process.env.CHECKPOINT_FUZZ_VERBOSE) console.log(`identical: ${c.id} ${c.what}`);
        } else if (c.edited) {
          count.altered++;
          if (process.env.CHECKPOINT_FUZZ_VERBOSE) console.log(`altered: ${c.id} ${c.what}`);
        }
        else if (c.dataRegion && inPlace && c.changed!.every(([from, to]) => from >= c.dataRegion![0] && to <= c.dataRegion![1])) {
          // No checksum in safetensors: changed tensor bytes import as what the file holds, which the reader must return.
          count.altered++;
          const state = openCheckpoint(weights);
          try {
            for (const t of converted.tensors.filter((t) => c.changed!.some(([from, to]) => t.begin < to && t.end > from))) {
              const values = state.get(t.name)!.toFloat32();
              if (Buffer.compare(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), c.bytes.subarray(t.begin, t.end)) !== 0) {
                problem(`imported changed data, but tensor "${t.name}" does not read back as the file's bytes`);
              }
            }
          } finally {
            state.close();
          }
        } else problem(`imported, but the graphs differ from the original import (image ${image === reference.image ? "same" : "differs"}, text ${text === reference.text ? "same" : "differs"})`);
      }
      rmSync(parent, {recursive: true, force: true});
      if (inPlace) patch(weights, c.base, c.changed!);
      else rmSync(weights, {force: true});
    }
    for (const [base, path] of pristine) expect(sha256(readFileSync(path)), `${path} restored after every case`).toBe(sha256(base));
    const seconds = (Date.now() - started) / 1000;
    const all = Object.values(counts).reduce((a, b) => ({cases: a.cases + b.cases, refused: a.refused + b.refused, identical: a.identical + b.identical, altered: a.altered + b.altered}));
    const part = (f: Family): string => {
      const n = counts[f];
      return `${families[f]} ${n.cases} (${n.refused} refused, ${n.identical} identical${f === "zip" ? "" : `, ${n.altered} imported as altered`})`;
    };
    console.log(
      `checkpoint fuzz (seed ${SEED}): ${all.cases} cases, ${all.refused} refused cleanly, ${all.identical} imported identically, ${all.altered} imported as altered: ` +
        `${(Object.keys(families) as Family[]).map(part).join("; ")}; ${seconds.toFixed(1)} s, slowest case ${slowest.id} ${slowest.ms} ms`,
    );
    expect(failures).toEqual([]);
    expect(all.cases).toBe(cases.length);
    expect(all.refused + all.identical + all.altered).toBe(cases.length);
    // A damaged torch zip never imports differently: the CRC-32s and structure checks stop it.
    expect(counts.zip.altered).toBe(0);
    // Both outcomes occur: the fuzz reaches past the first check, and unread bytes stay harmless.
    expect(all.refused).toBeGreaterThan(cases.length / 2);
    expect(all.identical).toBeGreaterThan(10);
  }, 400_000);
});

// What the fuzz found, pinned without ../shared: each error must name the file it is about.
describe("checkpoint fuzz regressions", () => {
  const latin1 = (text: string): number[] => [...Buffer.from(text, "latin1")];
  const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const tensorCall = (args: number[]): Uint8Array =>
    // PROTO 2, GLOBAL torch._utils._rebuild_tensor_v2, MARK <args> TUPLE, REDUCE, STOP
    Uint8Array.from([0x80, 2, ...latin1("ctorch._utils\n_rebuild_tensor_v2\n"), 0x28, ...args, 0x74, 0x52, 0x2e]);

  it("a corrupt size, stride or storage offset in _rebuild_tensor_v2 names the pickle", () => {
    const source = "/x/weights.pt (archive/data.pkl)";
    // (None, 0, 5, (1,)): size is an int, not a tuple
    expect(() => unpickle(tensorCall([0x4e, 0x4b, 0, 0x4b, 5, 0x4b, 1, 0x85]), {source})).toThrow(/^\/x\/weights\.pt \(archive\/data\.pkl\): .*size must be a tuple of integers, got number/);
    // (None, [], (5,), (1,)): storage offset is a list
    expect(() => unpickle(tensorCall([0x4e, 0x5d, 0x4b, 5, 0x85, 0x4b, 1, 0x85]), {source})).toThrow(/^\/x\/weights\.pt .*storage_offset must be an integer, got a tuple\/list/);
    // (None, 0, (5,), (2**60 as LONG1 -> 2**63,)): a stride over 2^53
    expect(() => unpickle(tensorCall([0x4e, 0x4b, 0, 0x4b, 5, 0x85, 0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x70, 0x85]), {source})).toThrow(/^\/x\/weights\.pt .*stride\[0\] \d+ exceeds 2\^53/);
  });

  it("a persistent id holding a huge integer or a list that holds itself is described, not a TypeError", () => {
    const dir = mkdtempSync(join(tmpdir(), "checkpoint-fuzz-regressions-"));
    try {
      const cases: [string, number[]][] = [
        // ('storage', 2**64) via MARK ... TUPLE, then BINPERSID
        ["bigint", [0x28, 0x8c, 7, ...latin1("storage"), 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x74]],
        // a list appended to itself (through the memo), then BINPERSID
        ["circular", [0x5d, 0x71, 0, 0x68, 0, 0x61]],
      ];
      for (const [name, pid] of cases) {
        const path = join(dir, `${name}.pt`);
        writeFileSync(path, zipSync({"archive/data.pkl": Uint8Array.from([0x80, 2, ...pid, 0x51, 0x2e])}, {level: 0}));
        expect(() => openCheckpoint(path).close()).toThrow(new RegExp(`^${escapeRegExp(`${path} (archive/data.pkl): unexpected persistent id `)}`));
      }
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it("a zip64 record whose fields exceed 2^53 names the archive", () => {
    const dir = mkdtempSync(join(tmpdir(), "checkpoint-fuzz-regressions-"));
    try {
      const path = join(dir, "zip64.pt");
      writeTorchZip(path, {w: {shape: [2], data: Float32Array.of(1, 2), dtype: "float32"}}, {forceZip64: true});
      const bytes = new Uint8Array(readFileSync(path));
      const view = new DataView(bytes.buffer);
      const locator = bytes.length - 22 - 20;
      expect(view.getUint32(locator, true)).toBe(0x07064b50);
      const record = Number(view.getBigUint64(locator + 8, true));
      bytes[record + 32 + 7] = 0x40; // the entry count's top byte
      writeFileSync(path, bytes);
      expect(() => openCheckpoint(path).close()).toThrow(new RegExp(`^${escapeRegExp(`${path}: a zip64 field holds `)}\\d+, over 2\\^53`));
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
