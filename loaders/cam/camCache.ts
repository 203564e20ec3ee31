// The CAM cache, content-addressed like the embedding cache: one folder per key (the
// model key of the embedding cache, the method, the prompt classes and texts, the
// protocol constants), one record per image keyed by the SHA-256 of the image file's
// bytes. A record holds everything the artifact needs for every prompt class (the
// unmasked image's class probabilities and a grid map per class), so a re-run with
// another --class or a new page build loads no model. Records are written whole or
// not at all (temporary file, fsync, rename), each with its own SHA-256; ScoreCAM
// also saves a half-done image every few seconds (`.partial`), so a killed job on a
// 1,024-channel model resumes mid-image. Two jobs on one key may compute the same
// image twice (both write the same bytes); they never corrupt a record.
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readFileSync, unlinkSync} from "node:fs";
import {join} from "node:path";
import type {ModelManifest, ModelVariant} from "../../src/lib/bundle.js";
import type {CamMethod} from "../../src/lib/cam/camArtifact.js";
import {cacheKeyInputs, removeStaleTemporaries, writeFileAtomic, type CacheKeyInputs} from "../embeddings/cache.js";
import {CACHE_DIR} from "../paths.js";

export const CAM_CACHE_DIR = join(CACHE_DIR, "cam");
export const CAM_CACHE_FORMAT = "fetalclip-explorer/cam-cache@1";
const RECORD_MAGIC = Buffer.from("FCCAMRC1", "ascii");
const HASH_BYTES = 32;

export interface CamCacheKeyInputs {
  format: typeof CAM_CACHE_FORMAT;
  model: CacheKeyInputs;
  method: CamMethod;
  /** Prompt classes in index order, each with its prompt texts. */
  prompts: [string, string[]][];
  /** The protocol's constants (ScoreCAM batch size, logit scale, epsilons): a change means new maps. */
  protocol: Record<string, number | string>;
}

export function camCacheKeyInputs(manifest: ModelManifest, variant: ModelVariant, method: CamMethod, prompts: [string, string[]][], protocol: Record<string, number | string>): CamCacheKeyInputs {
  return {format: CAM_CACHE_FORMAT, model: cacheKeyInputs(manifest, variant), method, prompts, protocol};
}

/** Named float32 blocks plus a small JSON header. */
export interface CamRecord {
  header: Record<string, unknown>;
  blocks: Record<string, Float32Array>;
}

function encodeRecord(record: CamRecord): Buffer[] {
  const names = Object.keys(record.blocks).sort();
  const json = Buffer.from(JSON.stringify({...record.header, blocks: names.map((n) => [n, record.blocks[n]!.length])}), "utf8");
  const pad = (4 - ((RECORD_MAGIC.length + 4 + json.length) % 4)) % 4;
  const head = Buffer.alloc(RECORD_MAGIC.length + 4 + json.length + pad, 0x20);
  RECORD_MAGIC.copy(head, 0);
  head.writeUInt32LE(json.length + pad, RECORD_MAGIC.length);
  json.copy(head, RECORD_MAGIC.length + 4);
  const bodies = names.map((n) => {
    const v = record.blocks[n]!;
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  });
  const digest = createHash("sha256");
  digest.update(head);
  for (const b of bodies) digest.update(b);
  return [head, ...bodies, digest.digest()];
}

function decodeRecord(bytes: Buffer, path: string): CamRecord {
  if (bytes.length < RECORD_MAGIC.length + 4 + HASH_BYTES || !RECORD_MAGIC.equals(bytes.subarray(0, RECORD_MAGIC.length))) throw new Error(`${path}: not a CAM cache record`);
  const digest = createHash("sha256").update(bytes.subarray(0, bytes.length - HASH_BYTES)).digest();
  if (!digest.equals(bytes.subarray(bytes.length - HASH_BYTES))) throw new Error(`${path}: checksum mismatch`);
  const jsonBytes = bytes.readUInt32LE(RECORD_MAGIC.length);
  const start = RECORD_MAGIC.length + 4;
  const header = JSON.parse(bytes.toString("utf8", start, start + jsonBytes)) as Record<string, unknown> & {blocks: [string, number][]};
  let offset = start + jsonBytes;
  const blocks: Record<string, Float32Array> = {};
  for (const [name, length] of header.blocks) {
    if (offset + length * 4 > bytes.length - HASH_BYTES) throw new Error(`${path}: block ${name} runs past the end`);
    blocks[name] = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + length * 4));
    offset += length * 4;
  }
  if (offset !== bytes.length - HASH_BYTES) throw new Error(`${path}: ${bytes.length - HASH_BYTES - offset} stray bytes`);
  const {blocks: _listed, ...rest} = header;
  return {header: rest, blocks};
}

export class CamCache {
  readonly key: string;
  readonly dir: string;
  /** Records that could not be read (damaged): reported, their images computed again. */
  badRecords: string[] = [];

  constructor(
    root: string,
    readonly inputs: CamCacheKeyInputs,
    private readonly log: (m: string) => void = () => {}
  ) {
    this.key = createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
    this.dir = join(root, this.key);
  }

  open(): this {
    mkdirSync(this.dir, {recursive: true});
    if (!existsSync(join(this.dir, "key.json"))) writeFileAtomic(this.dir, "key.json", [Buffer.from(JSON.stringify(this.inputs, null, 2) + "\n")]);
    removeStaleTemporaries(this.dir);
    return this;
  }

  private read(name: string): CamRecord | null {
    const path = join(this.dir, name);
    if (!existsSync(path)) return null;
    try {
      return decodeRecord(readFileSync(path), path);
    } catch (error) {
      this.badRecords.push(path);
      this.log(`cam cache: ignored ${(error as Error).message}; the image will be computed again`);
      return null;
    }
  }

  /** The finished record of an image (by the SHA-256 of its bytes), or null. */
  get(imageHash: string): CamRecord | null {
    return this.read(`${imageHash}.cam`);
  }

  has(imageHash: string): boolean {
    return existsSync(join(this.dir, `${imageHash}.cam`));
  }

  put(imageHash: string, record: CamRecord): void {
    writeFileAtomic(this.dir, `${imageHash}.cam`, encodeRecord(record));
    this.dropPartial(imageHash);
  }

  /** A half-done image (ScoreCAM: the channels scored so far), or null. */
  partial(imageHash: string): CamRecord | null {
    return this.read(`${imageHash}.partial`);
  }

  putPartial(imageHash: string, record: CamRecord): void {
    writeFileAtomic(this.dir, `${imageHash}.partial`, encodeRecord(record));
  }

  dropPartial(imageHash: string): void {
    try {
      unlinkSync(join(this.dir, `${imageHash}.partial`));
    } catch {
      // none
    }
  }
}
