// Hostile and damaged inputs, each built here in code and fed to the real CLI as a
// user would: payload pickles, bombs, byte flips, lying headers, traversal names and
// bad images. For every case: a non-zero exit with a message naming the file, no side
// effect (inputs unchanged, nothing written, no leftover folder), peak memory under
// 1 GB and under 30 s.
import {spawn, spawnSync} from "node:child_process";
import {createHash} from "node:crypto";
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {crc32, deflateSync, gzipSync} from "node:zlib";
import {encode as encodePng} from "fast-png";
import {unzipSync, zipSync, type Zippable} from "fflate";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import type {OpenClipConfig} from "../src/lib/bundle.js";
import {openClipStateDictShapes} from "../loaders/testing/openClipShapes.js";
import {randomOpenClipTensors} from "../loaders/testing/randomCheckpoint.js";
import {PickleBuilder, writeTorchZip, type NamedTensorSpec} from "../loaders/testing/torchZipWriter.js";
import {repoRoot} from "./shared.js";

const PEAK_LIMIT_KB = 1024 * 1024;
const TIME_LIMIT_MS = 30_000;
const MERGES = join(repoRoot, "models", "sources", "fetalclip-demo", "merges.txt");
const DEMO_BUNDLE = join(repoRoot, "models", "fetalclip-demo");

// A FetalCLIP-shaped model small enough to write in milliseconds (the demo vocabulary: 1047 tokens).
const NANO: OpenClipConfig = {
  embed_dim: 16,
  vision_cfg: {image_size: 28, layers: 1, width: 32, patch_size: 14, head_width: 16, mlp_ratio: 4},
  text_cfg: {context_length: 117, vocab_size: 1047, width: 32, heads: 2, layers: 1, mlp_ratio: 4}
} as OpenClipConfig;

let root: string;
let caseCount = 0;
/** Every run's figures, printed at the end: what the README's limits cost in practice. */
const measured: {what: string; ms: number; peakMb: number | null; code: number | null}[] = [];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakKb: number | null;
}

function fetalclip(args: string[], cwd: string): Run {
  const peakFile = join(root, `peak-${caseCount++}.txt`);
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      "--import", pathToFileURL(join(repoRoot, "node_modules/tsx/dist/loader.mjs")).href,
      "--import", pathToFileURL(join(repoRoot, "tests/support/peakMemory.mjs")).href,
      join(repoRoot, "loaders/cli.ts"),
      ...args
    ],
    {cwd, encoding: "utf8", timeout: TIME_LIMIT_MS * 2, env: {...process.env, FETALCLIP_PEAK_FILE: peakFile}, maxBuffer: 64 * 1024 * 1024}
  );
  const peakKb = existsSync(peakFile) ? Number(readFileSync(peakFile, "utf8")) : null;
  measured.push({what: `${args[0]} ${cwd.split("/").pop()}`, ms: Date.now() - started, peakMb: peakKb === null ? null : Math.round(peakKb / 1024), code: r.status});
  return {code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started, peakKb};
}

/** Every file under `dir` with its SHA-256: a run has a side effect when this changes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else out[`${prefix}${name}`] = createHash("sha256").update(readFileSync(path)).digest("hex");
    }
  };
  walk(dir, "");
  return out;
}

/** Runs one hostile case in its own folder and checks the rules every case must keep. */
function expectRefused(dir: string, args: string[], named: string, message: RegExp): Run {
  const before = snapshot(dir);
  const run = fetalclip(args, dir);
  const summary = `${args.slice(0, 1).join(" ")} on ${named}: exit ${run.code}${run.signal ? ` (${run.signal})` : ""}, ${run.ms} ms, peak ${run.peakKb === null ? "not recorded" : `${Math.round(run.peakKb / 1024)} MB`}\n${run.stderr.slice(-600)}`;
  expect(run.signal, summary).toBeNull();
  expect(run.code, summary).not.toBe(0);
  expect(run.stderr, summary).toContain(named);
  expect(run.stderr, summary).toMatch(message);
  expect(run.peakKb, summary).not.toBeNull();
  expect(run.peakKb!, summary).toBeLessThan(PEAK_LIMIT_KB);
  expect(run.ms, summary).toBeLessThan(TIME_LIMIT_MS);
  // No side effect: the case's folder (inputs, and where --out pointed) is exactly as it was.
  expect(snapshot(dir), summary).toEqual(before);
  return run;
}

function caseDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, {recursive: true});
  return dir;
}

// ---------- checkpoint builders ----------

function nanoTensors(): NamedTensorSpec[] {
  return [...randomOpenClipTensors(NANO, "hostile")];
}

function writeConfig(dir: string, text = JSON.stringify(NANO)): string {
  const path = join(dir, "config.json");
  writeFileSync(path, text);
  return path;
}

function importArgs(dir: string, weights: string, extra: {config?: string; vocab?: string; out?: string} = {}): string[] {
  return ["import", "--weights", weights, "--config", extra.config ?? writeConfig(dir), "--vocab", extra.vocab ?? MERGES, "--out", extra.out ?? join(dir, "bundle")];
}

/** The nano checkpoint's zip entries (name -> bytes), to alter and re-zip. */
function nanoEntries(dir: string, tensors = nanoTensors()): Record<string, Uint8Array> {
  const path = join(dir, "base.pt");
  writeTorchZip(path, tensors);
  const entries = unzipSync(readFileSync(path));
  rmSync(path);
  return entries;
}

function zipTo(path: string, entries: Record<string, Uint8Array>, level: 0 | 1 | 6 | 9 = 0): string {
  const zippable: Zippable = {};
  for (const [name, bytes] of Object.entries(entries)) zippable[name] = [bytes, {level}];
  writeFileSync(path, zipSync(zippable));
  return path;
}

function pickleOf(build: (p: PickleBuilder) => void): Uint8Array {
  const p = new PickleBuilder();
  p.op(0x80).op(2);
  build(p);
  return p.bytes();
}

/** A data.pkl of PROTO 2 + `body` + STOP. */
function rawPickle(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 3);
  out.set([0x80, 2]);
  out.set(body, 2);
  out[out.length - 1] = 0x2e;
  return out;
}

function replaceAscii(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = Buffer.from(bytes).toString("latin1");
  if (!text.includes(from)) throw new Error(`test setup: "${from}" not found`);
  return new Uint8Array(Buffer.from(text.split(from).join(to), "latin1"));
}

function flipByte(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at] ^= 0x40;
  return out;
}

/** A safetensors file: header JSON (as text, so it can lie) padded to 8 bytes, then the data. */
function writeSafetensorsRaw(path: string, headerText: string, data: Uint8Array): string {
  let header = Buffer.from(headerText, "utf8");
  const pad = (8 - (header.length % 8)) % 8;
  header = Buffer.concat([header, Buffer.alloc(pad, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(path, Buffer.concat([length, header, data]));
  return path;
}

/** The nano weights as safetensors; `alter` may change the header entries or the data before writing. */
function nanoSafetensors(path: string, alter?: (header: Record<string, {dtype: string; shape: number[]; data_offsets: [number, number]}>, data: Float32Array[]) => string | void): string {
  const tensors = nanoTensors();
  const header: Record<string, {dtype: string; shape: number[]; data_offsets: [number, number]}> = {};
  let offset = 0;
  const data: Float32Array[] = [];
  for (const t of tensors) {
    const bytes = t.data.byteLength;
    header[t.name] = {dtype: "F32", shape: t.shape, data_offsets: [offset, offset + bytes]};
    data.push(t.data as Float32Array);
    offset += bytes;
  }
  const headerText = alter?.(header, data) ?? JSON.stringify(header);
  const blob = Buffer.concat(data.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
  return writeSafetensorsRaw(path, headerText, blob);
}

// ---------- image builders ----------

function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A valid greyscale PNG of width x height zero pixels whose IDAT is one deflate stream of all rows. */
function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc((width + 1) * height); // filter byte 0 + zero pixels per row
  const idat = deflateSync(rows, {level: 9});
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk("IHDR", ihdr), pngChunk("IDAT", idat), pngChunk("IEND", new Uint8Array())]);
}

function smallPng(): Uint8Array {
  const data = new Uint8Array(40 * 30);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  return encodePng({width: 40, height: 30, data, channels: 1, depth: 8});
}

/** A baseline JPEG header (SOI, SOF0) declaring width x height, then nothing decodable. */
function jpegDeclaring(width: number, height: number): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x0b, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x01, 0x01, 0x11, 0x00]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "fetalclip-hostile-"));
});
afterAll(() => {
  rmSync(root, {recursive: true, force: true});
  const worst = (key: "ms" | "peakMb") => Math.max(...measured.map((m) => m[key] ?? 0));
  console.log(`hostile inputs: ${measured.length} CLI runs; slowest ${worst("ms")} ms, highest peak ${worst("peakMb")} MB\n` +
    measured.map((m) => `  ${m.what.padEnd(36)} exit ${m.code}  ${String(m.ms).padStart(6)} ms  ${String(m.peakMb).padStart(5)} MB`).join("\n"));
});

describe("hostile checkpoints: refused with the file named, no side effect, < 1 GB, < 30 s", () => {
  test("a payload pickle (posix.system via REDUCE) is refused by name and never runs", () => {
    const dir = caseDir("payload-system");
    const pkl = pickleOf((p) => p.global("posix", "system").str(`touch ${join(dir, "PWNED")}`).op(0x85).op(0x52).op(0x2e));
    const weights = zipTo(join(dir, "payload.pt"), {"archive/data.pkl": pkl});
    expectRefused(dir, importArgs(dir, weights), weights, /refusing to unpickle global "posix.system"/);
    expect(existsSync(join(dir, "PWNED"))).toBe(false);
  });

  test("builtins.eval smuggled through STACK_GLOBAL after valid tensors is refused", () => {
    const dir = caseDir("payload-eval");
    const entries = nanoEntries(dir);
    const pkl = entries["archive/data.pkl"]!;
    // Replace the final STOP with eval("1") built by STACK_GLOBAL, then STOP.
    const tail = pickleOf((p) => p.str("builtins").str("eval").op(0x93).str("1").op(0x85).op(0x52).op(0x30).op(0x2e)).subarray(2);
    const evil = new Uint8Array(pkl.length - 1 + tail.length);
    evil.set(pkl.subarray(0, pkl.length - 1));
    evil.set(tail, pkl.length - 1);
    const weights = zipTo(join(dir, "eval.pt"), {...entries, "archive/data.pkl": evil});
    expectRefused(dir, importArgs(dir, weights), weights, /refusing to unpickle global "builtins.eval"/);
  });

  test("a DUP bomb: a 100 MB data.pkl (deflated to kilobytes) is refused by its declared size before inflating", () => {
    const dir = caseDir("dup-bomb-declared");
    const weights = zipTo(join(dir, "dup.pt"), {"archive/data.pkl": rawPickle(new Uint8Array(100 * 1024 * 1024).fill(0x32))}, 9);
    expect(statSync(weights).size).toBeLessThan(1_000_000);
    expectRefused(dir, importArgs(dir, weights), weights, /the pickle declares \d+ bytes, over the \d+-byte limit/);
  });

  test("a DUP bomb inside the size limit stops at the stack limit", () => {
    const dir = caseDir("dup-bomb-stack");
    const body = new Uint8Array(30 * 1024 * 1024).fill(0x32);
    body[0] = 0x4e; // NONE, then DUPs
    const weights = zipTo(join(dir, "dup.pt"), {"archive/data.pkl": rawPickle(body)}, 9);
    expectRefused(dir, importArgs(dir, weights), weights, /the stack depth exceeds the limit of 1,000,000/);
  });

  test("a deflated entry that lies about its size is refused once it inflates past the declared size", () => {
    const dir = caseDir("inflate-liar");
    const path = zipTo(join(dir, "liar.pt"), {"archive/data.pkl": rawPickle(new Uint8Array(20 * 1024 * 1024).fill(0x4e))}, 9);
    // Patch the uncompressed size (20 MB + 3) to 1000 in the local header (offset 22) and the central directory entry (offset 24).
    const bytes = readFileSync(path);
    const declared = 20 * 1024 * 1024 + 3;
    let patched = 0;
    for (let at = 0; at + 4 <= bytes.length; at++) {
      if (bytes.readUInt32LE(at) === declared) {
        bytes.writeUInt32LE(1000, at);
        patched++;
      }
    }
    expect(patched).toBe(2);
    writeFileSync(path, bytes);
    expectRefused(dir, importArgs(dir, path), path, /does not inflate to its declared 1000 bytes/);
  });

  test("a memo flood (2M MEMOIZE) stops at the memo limit", () => {
    const dir = caseDir("memo-flood");
    const body = new Uint8Array(2_000_001).fill(0x94);
    body[0] = 0x4e;
    const weights = zipTo(join(dir, "memo.pt"), {"archive/data.pkl": rawPickle(body)}, 6);
    expectRefused(dir, importArgs(dir, weights), weights, /the memo size exceeds the limit/);
  });

  test("a 10 MB LONG4 integer (quadratic to build) is refused", () => {
    const dir = caseDir("long4");
    const n = 10 * 1024 * 1024;
    const body = new Uint8Array(5 + n);
    body[0] = 0x8b;
    new DataView(body.buffer).setInt32(1, n, true);
    body.fill(0x7f, 5);
    const weights = zipTo(join(dir, "long.pt"), {"archive/data.pkl": rawPickle(body)}, 6);
    expectRefused(dir, importArgs(dir, weights), weights, /LONG4 integer's byte count exceeds the limit/);
  });

  test("a [16384, 32768] stride-0 logit_scale over one stored float is refused before allocating", () => {
    const dir = caseDir("stride0");
    const tensors = nanoTensors().map((t) => (t.name === "logit_scale" ? {...t, shape: [16384, 32768], stride: [0, 0], data: new Float32Array([2.6])} : t));
    const weights = join(dir, "stride0.pt");
    writeTorchZip(weights, tensors);
    expectRefused(dir, importArgs(dir, weights), weights, /tensor "logit_scale" \[16384,32768\] has 536870912 elements over a 1-element storage/);
  });

  test("one flipped byte in a tensor's storage is a CRC-32 mismatch naming the entry", () => {
    const dir = caseDir("flip-tensor");
    const entries = nanoEntries(dir);
    // text_projection's random values occur nowhere else in the file (LayerNorm weights of ones repeat).
    const index = nanoTensors().findIndex((t) => t.name === "text_projection");
    const key = `archive/data/${index}`;
    const weights = zipTo(join(dir, "flip.pt"), entries);
    // Flip a byte inside the stored entry's data, leaving the recorded CRC as it was.
    const bytes = readFileSync(weights);
    const data = Buffer.from(entries[key]!);
    const at = bytes.indexOf(data);
    expect(at).toBeGreaterThan(0);
    writeFileSync(weights, flipByte(bytes, at + 5));
    expectRefused(dir, importArgs(dir, weights), weights, new RegExp(`entry "${key}": CRC-32 [0-9a-f]+ does not match`));
  });

  test("a flipped byte in data.pkl is a CRC-32 mismatch", () => {
    const dir = caseDir("flip-pickle");
    const entries = nanoEntries(dir);
    const weights = zipTo(join(dir, "flip.pt"), entries);
    const bytes = readFileSync(weights);
    const at = bytes.indexOf(Buffer.from(entries["archive/data.pkl"]!));
    writeFileSync(weights, flipByte(bytes, at + 40));
    expectRefused(dir, importArgs(dir, weights), weights, /entry "archive\/data.pkl": CRC-32/);
  });

  test("float32 bytes declared as HalfStorage are refused: the byte count disagrees with the type", () => {
    const dir = caseDir("half-lie");
    const entries = nanoEntries(dir);
    const weights = zipTo(join(dir, "half.pt"), {...entries, "archive/data.pkl": replaceAscii(entries["archive/data.pkl"]!, "torch\nFloatStorage\n", "torch\nHalfStorage\n")});
    expectRefused(dir, importArgs(dir, weights), weights, /is declared as \d+ x float16 \(torch.HalfStorage\) = \d+ bytes: the storage type or the data is wrong/);
  });

  test("float32 bytes declared as UntypedStorage are refused", () => {
    const dir = caseDir("untyped-lie");
    const entries = nanoEntries(dir);
    const weights = zipTo(join(dir, "untyped.pt"), {...entries, "archive/data.pkl": replaceAscii(entries["archive/data.pkl"]!, "torch\nFloatStorage\n", "torch\nUntypedStorage\n")});
    expectRefused(dir, importArgs(dir, weights), weights, /is a torch.UntypedStorage/);
  });

  test("a zip with two entries of the same name is refused", () => {
    const dir = caseDir("duplicate-entry");
    const entries = nanoEntries(dir);
    const other = new Uint8Array(entries["archive/data/0"]!.length).fill(0);
    const path = zipTo(join(dir, "dup.pt"), {...entries, "archive/data/Q": other});
    const bytes = readFileSync(path);
    writeFileSync(path, replaceAscii(bytes, "archive/data/Q", "archive/data/0"));
    expectRefused(dir, importArgs(dir, path), path, /entry "archive\/data\/0" appears twice in the central directory/);
  });

  test("a truncated checkpoint and one whose central directory claims 2 GB are refused", () => {
    const dir = caseDir("truncated");
    const entries = nanoEntries(dir);
    const full = readFileSync(zipTo(join(dir, "full.pt"), entries));
    rmSync(join(dir, "full.pt"));
    const cut = join(dir, "cut.pt");
    writeFileSync(cut, full.subarray(0, Math.floor(full.length * 0.6)));
    expectRefused(dir, importArgs(dir, cut), cut, /truncated or corrupt/);
    const huge = join(dir, "huge-directory.pt");
    const patched = Buffer.from(full);
    patched.writeUInt32LE(0x7fffffff, patched.length - 22 + 12); // EOCD: central directory size
    writeFileSync(huge, patched);
    expectRefused(dir, importArgs(dir, huge), huge, /central directory declares 2147483647 bytes, over the \d+-byte limit/);
  });

  test("NaN in ln_final.weight (with a correct CRC) is refused naming the tensor", () => {
    const dir = caseDir("nan");
    const tensors = nanoTensors();
    const ln = tensors.find((t) => t.name === "ln_final.weight")!;
    (ln.data as Float32Array)[3] = NaN;
    const weights = join(dir, "nan.pt");
    writeTorchZip(weights, tensors);
    expectRefused(dir, importArgs(dir, weights), weights, /tensor "ln_final.weight" holds NaN at element 3/);
  });

  test("Infinity in a safetensors logit_scale is refused naming the tensor", () => {
    const dir = caseDir("inf-safetensors");
    const weights = nanoSafetensors(join(dir, "inf.safetensors"), (header, data) => {
      const names = Object.keys(header);
      data[names.indexOf("logit_scale")]![0] = Infinity;
    });
    expectRefused(dir, importArgs(dir, weights), weights, /tensor "logit_scale" holds Infinity/);
  });

  test("a safetensors header with a duplicate key is refused", () => {
    const dir = caseDir("safetensors-duplicate-key");
    const weights = nanoSafetensors(join(dir, "dup.safetensors"), (header) => {
      const text = JSON.stringify(header);
      const entry = JSON.stringify(header["logit_scale"]);
      return text.replace(/^\{/, `{"logit_scale":${entry},`);
    });
    expectRefused(dir, importArgs(dir, weights), weights, /duplicate key "logit_scale"/);
  });

  test("overlapping safetensors data_offsets are refused", () => {
    const dir = caseDir("safetensors-overlap");
    const weights = nanoSafetensors(join(dir, "overlap.safetensors"), (header) => {
      // Point positional_embedding's range 4 bytes into the tensor before it, shifting all later ranges.
      const names = Object.keys(header);
      const i = names.indexOf("positional_embedding");
      for (const name of names.slice(i)) {
        const [b, e] = header[name]!.data_offsets;
        header[name]!.data_offsets = [b - 4, e - 4];
      }
    });
    expectRefused(dir, importArgs(dir, weights), weights, /tensor "positional_embedding" data_offsets \[\d+, \d+\] overlaps the tensor before it/);
  });

  test("a safetensors header length larger than the file is refused", () => {
    const dir = caseDir("safetensors-header-length");
    const path = join(dir, "long.safetensors");
    const bytes = readFileSync(nanoSafetensors(path));
    bytes.writeBigUInt64LE(BigInt(bytes.length * 4), 0);
    writeFileSync(path, bytes);
    expectRefused(dir, importArgs(dir, path), path, /header length \d+ exceeds the file/);
  });

  test("a config with a duplicate key is refused naming the config", () => {
    const dir = caseDir("config-duplicate-key");
    const weights = join(dir, "nano.pt");
    writeTorchZip(weights, nanoTensors());
    const config = writeConfig(dir, JSON.stringify(NANO).replace(/^\{/, '{"embed_dim": 1024,'));
    expectRefused(dir, importArgs(dir, weights, {config}), config, /duplicate key "embed_dim" in \$/);
  });

  test("a 10-line merges file is refused: its start/end tokens are not the config's", () => {
    const dir = caseDir("short-vocab");
    const weights = join(dir, "nano.pt");
    writeTorchZip(weights, nanoTensors());
    const vocab = join(dir, "merges.txt");
    writeFileSync(vocab, readFileSync(MERGES, "utf8").split("\n").slice(0, 11).join("\n") + "\n");
    expectRefused(dir, importArgs(dir, weights, {vocab}), vocab, /has 524 tokens \(start\/end-of-text ids 522\/523\) but the config's text_cfg.vocab_size is 1047 \(ids 1045\/1046\)/);
  });

  test("a gzip bomb given as the vocabulary is refused", () => {
    const dir = caseDir("vocab-bomb");
    const weights = join(dir, "nano.pt");
    writeTorchZip(weights, nanoTensors());
    const vocab = join(dir, "bpe.txt.gz");
    writeFileSync(vocab, gzipSync(Buffer.alloc(400 * 1024 * 1024, 0x61), {level: 9}));
    expectRefused(dir, importArgs(dir, weights, {vocab}), vocab, /inflates past \d+ bytes, the limit for a merges file/);
  });

  test("random bytes and an empty file are refused as unknown formats", () => {
    const dir = caseDir("unknown-format");
    const noise = join(dir, "noise.pt");
    writeFileSync(noise, Buffer.from(Array.from({length: 4096}, (_, i) => (i * 131 + 7) % 256)));
    expectRefused(dir, importArgs(dir, noise), noise, /unknown checkpoint format/);
    const empty = join(dir, "empty.pt");
    writeFileSync(empty, "");
    expectRefused(dir, importArgs(dir, empty), empty, /unknown checkpoint format \(0 bytes/);
  });

  test("a storage shared by every tensor, deflated from 256 MiB, is inflated once: the import finishes within the budgets", () => {
    const dir = caseDir("shared-storage");
    const shapes = openClipStateDictShapes(NANO);
    const storageBytes = 256 * 1024 * 1024;
    const storage = new Uint8Array(storageBytes);
    // ones for LayerNorm weights and logit_scale would need distinct values; zeros everywhere is a valid (if useless) model.
    const pkl = pickleOf((p) => {
      p.global("collections", "OrderedDict").op(0x29).op(0x52).op(0x28);
      for (const t of shapes) {
        p.str(t.name).global("torch._utils", "_rebuild_tensor_v2").op(0x28);
        p.op(0x28).str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(storageBytes / 4).op(0x74).op(0x51);
        const stride: number[] = [];
        let step = 1;
        for (let d = t.shape.length - 1; d >= 0; d--) {
          stride.unshift(step);
          step *= t.shape[d]!;
        }
        p.int(0).tuple(t.shape).tuple(stride).op(0x89).global("collections", "OrderedDict").op(0x29).op(0x52).op(0x74).op(0x52);
      }
      p.op(0x75).op(0x2e);
    });
    expect(shapes.length).toBeGreaterThan(20);
    const weights = zipTo(join(dir, "shared.pt"), {"archive/data.pkl": pkl, "archive/data/0": storage}, 1);
    const run = fetalclip(importArgs(dir, weights), dir);
    const summary = `exit ${run.code}, ${run.ms} ms, peak ${run.peakKb} KB\n${run.stderr.slice(-400)}`;
    expect(run.code, summary).toBe(0);
    expect(run.peakKb!, summary).toBeLessThan(PEAK_LIMIT_KB);
    expect(run.ms, summary).toBeLessThan(TIME_LIMIT_MS);
    expect(readdirSync(dir).sort()).toEqual(["bundle", "config.json", "shared.pt"]);
  });
});

describe("hostile bundles, images and paths", () => {
  test("a bundle whose model.json names a file outside the bundle is refused", () => {
    const dir = caseDir("bundle-traversal");
    const bundle = join(dir, "evil-bundle");
    mkdirSync(bundle);
    for (const name of readdirSync(DEMO_BUNDLE)) {
      if (statSync(join(DEMO_BUNDLE, name)).isFile()) copyFileSync(join(DEMO_BUNDLE, name), join(bundle, name));
    }
    const manifest = JSON.parse(readFileSync(join(bundle, "model.json"), "utf8"));
    manifest.files.text = "../../../etc/passwd";
    writeFileSync(join(bundle, "model.json"), JSON.stringify(manifest));
    expectRefused(dir, ["embed", "--model", bundle, "--texts", "head"], join(bundle, "model.json"), /"\.\.\/\.\.\/\.\.\/etc\/passwd"/);
  });

  test("a 20000 x 20000 PNG bomb and a JPEG declaring 60000 x 60000 are refused before decoding; the good image is still embedded", () => {
    const dir = caseDir("image-bombs");
    const bomb = join(dir, "bomb.png");
    writeFileSync(bomb, pngBomb(20000, 20000));
    expect(statSync(bomb).size).toBeLessThan(1_000_000);
    const huge = join(dir, "huge.jpg");
    writeFileSync(huge, jpegDeclaring(60000, 60000));
    const good = join(dir, "good.png");
    writeFileSync(good, smallPng());
    const truncated = join(dir, "truncated.png");
    writeFileSync(truncated, smallPng().subarray(0, 60));
    const empty = join(dir, "empty.jpg");
    writeFileSync(empty, "");
    const text = join(dir, "notes.png");
    writeFileSync(text, "this is not an image\n");
    const run = expectRefused(dir, ["embed", "--model", DEMO_BUNDLE, "--images", bomb, huge, good, truncated, empty, text], bomb, /declares 20000 x 20000 px, over the limit of 100 megapixels/);
    const out = JSON.parse(run.stdout) as {images: {path: string; embedding: number[]}[]; failed: {path: string; reason: string}[]};
    expect(out.images.map((i) => i.path)).toEqual([good]);
    expect(out.images[0]!.embedding.every(Number.isFinite)).toBe(true);
    expect(out.failed.map((f) => f.path)).toEqual([bomb, huge, truncated, empty, text]);
    expect(out.failed[1]!.reason).toMatch(/declares 60000 x 60000 px, over the limit of 100 megapixels/);
    for (const f of out.failed) expect(f.reason).toMatch(/\w/);
  });
});

describe("outputs: nothing half-written survives, whatever stopped the import", () => {
  test("--out under /proc (where a recursive mkdir never returns) is refused at once", () => {
    const dir = caseDir("out-proc");
    const weights = join(dir, "nano.pt");
    writeTorchZip(weights, nanoTensors());
    expectRefused(dir, importArgs(dir, weights, {out: "/proc/fetalclip-bundle"}), "/proc/fetalclip-bundle", /cannot write a bundle there \(ENOENT\); nothing was imported/);
    expectRefused(dir, importArgs(dir, weights, {out: "/proc/fetalclip/bundle"}), "/proc/fetalclip/bundle", /cannot create the folder \/proc\/fetalclip/);
  });

  test("an import stopped by SIGTERM removes its partial bundle and exits 143; a SIGKILLed import's folder goes at the next import", async () => {
    const dir = caseDir("signals");
    const medium: OpenClipConfig = {
      embed_dim: 128,
      vision_cfg: {image_size: 224, layers: 4, width: 256, patch_size: 14, head_width: 64, mlp_ratio: 4},
      text_cfg: {context_length: 117, vocab_size: 1047, width: 256, heads: 4, layers: 4, mlp_ratio: 4}
    } as OpenClipConfig;
    const weights = join(dir, "medium.pt");
    writeTorchZip(weights, randomOpenClipTensors(medium, "signals"));
    const config = writeConfig(dir, JSON.stringify(medium));
    const out = join(dir, "bundle");
    const child = spawn(
      process.execPath,
      ["--import", pathToFileURL(join(repoRoot, "node_modules/tsx/dist/loader.mjs")).href, join(repoRoot, "loaders/cli.ts"), ...importArgs(dir, weights, {config, out}), "--fp16", "--int8"],
      {cwd: dir}
    );
    let stderr = "";
    let sawTemp = false;
    const code = await new Promise<number | null>((done) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        // The image graph is written: the temporary bundle folder exists; stop the import now.
        if (stderr.includes("image encoder:") && !child.killed) {
          sawTemp = readdirSync(dir).some((name) => name.startsWith(".bundle.importing-"));
          child.kill("SIGTERM");
        }
      });
      child.on("exit", (c) => done(c));
    });
    expect(sawTemp, stderr).toBe(true);
    expect(code, stderr).toBe(143);
    expect(stderr).toContain("stopped by SIGTERM; the partial bundle was removed");
    expect(readdirSync(dir).sort()).toEqual(["config.json", "medium.pt"]);

    // A SIGKILLed run cannot clean up: its marked folder (the process is gone) is removed by the next import;
    // a look-alike folder without the importer's marker is not the project's and stays.
    const stale = join(dir, ".bundle.importing-999999999");
    mkdirSync(stale);
    writeFileSync(join(stale, ".fetalclip-import"), "999999999\n");
    writeFileSync(join(stale, "image.onnx"), "partial");
    const foreign = join(dir, ".bundle.importing-999999998");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "notes.txt"), "not the importer's");
    const nano = join(dir, "nano.pt");
    writeTorchZip(nano, nanoTensors());
    const run = fetalclip(importArgs(dir, nano, {out}), dir);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(readFileSync(join(foreign, "notes.txt"), "utf8")).toBe("not the importer's");
    expect(readdirSync(out).sort()).toEqual(["image.onnx", "model.json", "text.onnx", "vocab.txt"]);
  });
});
