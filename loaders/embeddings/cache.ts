// The content-addressed embedding cache. One folder per model key (the bundle's weights
// and config SHA-256, importer, variant and preprocessing spec); inside it, records keyed
// by the SHA-256 of an image file's bytes, written as the job goes in append-only shards:
// each shard is written to a temporary file, fsynced and renamed into place, so a job
// killed at any moment leaves whole shards only and the next run resumes after the last
// one. A lock file keeps two jobs from embedding the same images at once.
import {createHash, randomBytes} from "node:crypto";
import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync, writeSync} from "node:fs";
import {join} from "node:path";
import type {ModelManifest, ModelVariant} from "../../src/lib/bundle.js";
import {CACHE_DIR} from "../paths.js";
import {pidAlive} from "../processAlive.js";

/** Default cache root (FETALCLIP_CACHE/embeddings). */
export const EMBEDDING_CACHE_DIR = join(CACHE_DIR, "embeddings");
export const EMBEDDING_CACHE_FORMAT = "fetalclip-explorer/embedding-cache@1";

const SHARD_MAGIC = Buffer.from("FCEMBSH1", "ascii");
const HEADER_BYTES = 24; // magic (8), kind, count, values per record, tokens (u32 LE each)
const HASH_BYTES = 32;
const KIND_EMBEDDING = 1; // float32 [embed_dim]
const KIND_PATCHES = 2; // float16 bits [tokens * embed_dim]

/** What an embedding depends on besides the image bytes; its SHA-256 names the cache folder. */
export interface CacheKeyInputs {
  format: typeof EMBEDDING_CACHE_FORMAT;
  /** SHA-256 of the checkpoint and the open_clip config the bundle was imported from. */
  sources: {role: string; sha256: string}[];
  importer: string;
  variant: ModelVariant;
  preprocess: ModelManifest["image"];
  embedDim: number;
  /** Another image pipeline than the model's own (the probing notebooks': OpenCV resize, augmentation); absent for the standard one, so its keys never change. */
  pipeline?: {name: string; augmentation: unknown};
}

export function cacheKeyInputs(manifest: ModelManifest, variant: ModelVariant): CacheKeyInputs {
  const sources = manifest.source.files
    .filter((f) => f.role === "weights" || f.role === "config")
    .map((f) => ({role: f.role, sha256: f.sha256}))
    .sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : a.sha256 < b.sha256 ? -1 : 1));
  if (!sources.some((s) => s.role === "weights")) throw new Error(`bundle ${manifest.id}: model.json lists no weights file SHA-256; re-import it`);
  const {size, mean, std, resize, pad} = manifest.image;
  return {format: EMBEDDING_CACHE_FORMAT, sources, importer: manifest.source.importer, variant, preprocess: {size, mean, std, resize, pad}, embedDim: manifest.embedDim};
}

export function cacheKey(inputs: CacheKeyInputs): string {
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A process's start time (clock ticks since boot, /proc/PID/stat field 22), so a reused pid is not taken for the lock's owner. */
function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

function ownerAlive(owner: string): boolean {
  const [pidText, start] = owner.trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!pidAlive(pid)) return false;
  const now = processStart(pid);
  return !start || !now || start === now;
}

/** Writes a file so that it appears whole or not at all: temporary name, fsync, rename, fsync of the folder. */
export function writeFileAtomic(dir: string, name: string, chunks: readonly Uint8Array[]): void {
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}-${name}`);
  const fd = openSync(tmp, "wx");
  try {
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, join(dir, name));
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Removes the temporary files of writers that are gone (a job killed mid-write); never anything else. */
export function removeStaleTemporaries(dir: string): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const m = /^\.tmp-(\d+)-[0-9a-f]{12}-/.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      unlinkSync(join(dir, name));
      removed++;
    }
  }
  return removed;
}

interface ShardHeader {
  kind: number;
  count: number;
  values: number;
  tokens: number;
}

function parseHeader(bytes: Uint8Array, file: string): ShardHeader {
  if (bytes.length < HEADER_BYTES || !SHARD_MAGIC.equals(Buffer.from(bytes.subarray(0, 8)))) throw new Error(`${file}: not an embedding cache shard`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const header = {kind: view.getUint32(8, true), count: view.getUint32(12, true), values: view.getUint32(16, true), tokens: view.getUint32(20, true)};
  if (header.kind !== KIND_EMBEDDING && header.kind !== KIND_PATCHES) throw new Error(`${file}: unknown shard kind ${header.kind}`);
  return header;
}

function shardBytes(header: ShardHeader): number {
  return HEADER_BYTES + header.count * HASH_BYTES + header.count * header.values * (header.kind === KIND_EMBEDDING ? 4 : 2) + HASH_BYTES;
}

/** Reads a whole shard and checks its length and trailing SHA-256. */
function readShard(path: string): {header: ShardHeader; hashes: string[]; body: Buffer} {
  const bytes = readFileSync(path);
  const header = parseHeader(bytes, path);
  if (bytes.length !== shardBytes(header)) throw new Error(`${path}: ${bytes.length} bytes, expected ${shardBytes(header)}`);
  const digest = createHash("sha256").update(bytes.subarray(0, bytes.length - HASH_BYTES)).digest();
  if (!digest.equals(bytes.subarray(bytes.length - HASH_BYTES))) throw new Error(`${path}: checksum mismatch`);
  const hashes = Array.from({length: header.count}, (_, i) => bytes.toString("hex", HEADER_BYTES + i * HASH_BYTES, HEADER_BYTES + (i + 1) * HASH_BYTES));
  return {header, hashes, body: bytes.subarray(HEADER_BYTES + header.count * HASH_BYTES, bytes.length - HASH_BYTES)};
}

/** The header and record hashes of a shard without its values (patch shards can be large). */
function readShardIndex(path: string): {header: ShardHeader; hashes: string[]} {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, head, 0, HEADER_BYTES, 0) !== HEADER_BYTES) throw new Error(`${path}: truncated shard`);
    const header = parseHeader(head, path);
    const hashBytes = Buffer.alloc(header.count * HASH_BYTES);
    if (readSync(fd, hashBytes, 0, hashBytes.length, HEADER_BYTES) !== hashBytes.length) throw new Error(`${path}: truncated shard`);
    return {header, hashes: Array.from({length: header.count}, (_, i) => hashBytes.toString("hex", i * HASH_BYTES, (i + 1) * HASH_BYTES))};
  } finally {
    closeSync(fd);
  }
}

function encodeShard(kind: number, hashes: readonly string[], values: Float32Array | Uint16Array, valuesPerRecord: number, tokens: number): Buffer[] {
  const header = Buffer.alloc(HEADER_BYTES);
  SHARD_MAGIC.copy(header, 0);
  header.writeUInt32LE(kind, 8);
  header.writeUInt32LE(hashes.length, 12);
  header.writeUInt32LE(valuesPerRecord, 16);
  header.writeUInt32LE(tokens, 20);
  const hashBytes = Buffer.from(hashes.join(""), "hex");
  const body = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const digest = createHash("sha256").update(header).update(hashBytes).update(body).digest();
  return [header, hashBytes, body, digest];
}

export interface CacheRecord {
  /** SHA-256 (hex) of the image file's bytes. */
  hash: string;
  embedding: Float32Array;
  /** float16 bits [tokens * embed_dim], when patch tokens are kept. */
  patches?: Uint16Array;
}

/** The shards of one model key: what is there, what is missing, and appending more. */
export class EmbeddingCache {
  readonly dir: string;
  readonly key: string;
  private embeddings = new Map<string, Float32Array>();
  private patchShards = new Map<string, string>(); // image hash -> shard file
  private lockHeld = false;
  private releaseOnExit = () => this.unlock();
  /** Records read from the shards, counting an image again if it appears in two (which a sound run never writes). */
  recordsRead = 0;
  /** Shards that could not be read (damaged): ignored, their images embedded again. */
  badShards: string[] = [];

  constructor(
    root: string,
    readonly inputs: CacheKeyInputs,
    private readonly log: (m: string) => void = () => {}
  ) {
    this.key = cacheKey(inputs);
    this.dir = join(root, this.key);
  }

  /** Creates the folder and its key.json (what the key was made of, for people reading the cache). */
  open(): this {
    mkdirSync(this.dir, {recursive: true});
    if (!existsSync(join(this.dir, "key.json"))) writeFileAtomic(this.dir, "key.json", [Buffer.from(JSON.stringify(this.inputs, null, 2) + "\n")]);
    return this;
  }

  /** Takes the folder's lock, waiting while a live job holds it; a lock left by a killed job is taken over. */
  async lock(): Promise<void> {
    const path = join(this.dir, "lock");
    const me = `${process.pid} ${processStart(process.pid)}\n`;
    let waitingSince = 0;
    for (;;) {
      try {
        const fd = openSync(path, "wx");
        writeSync(fd, me);
        fsyncSync(fd);
        closeSync(fd);
        this.lockHeld = true;
        process.once("exit", this.releaseOnExit);
        removeStaleTemporaries(this.dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      let owner = "";
      try {
        owner = readFileSync(path, "utf8");
      } catch {
        continue; // released between the two calls
      }
      if (owner !== "" && !ownerAlive(owner)) {
        // Moved aside first so two waiters cannot both remove a fresh lock.
        const aside = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}-stale-lock`);
        try {
          renameSync(path, aside);
          unlinkSync(aside);
          this.log(`embedding cache: took over the lock of a stopped job (pid ${owner.trim().split(" ")[0]})`);
        } catch {
          // another waiter took it first
        }
        continue;
      }
      if (waitingSince === 0 || Date.now() - waitingSince > 10_000) {
        this.log(`embedding cache: waiting for the job holding ${path} (pid ${owner.trim().split(" ")[0] || "?"})`);
        waitingSince = Date.now();
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  unlock(): void {
    if (!this.lockHeld) return;
    this.lockHeld = false;
    process.removeListener("exit", this.releaseOnExit);
    try {
      unlinkSync(join(this.dir, "lock"));
    } catch {
      // already gone
    }
  }

  /** Reads every embedding shard and the index of every patch shard. */
  load(): this {
    this.embeddings.clear();
    this.patchShards.clear();
    this.recordsRead = 0;
    this.badShards = [];
    for (const name of readdirSync(this.dir).sort()) {
      const path = join(this.dir, name);
      try {
        if (name.endsWith(".emb")) {
          const {header, hashes, body} = readShard(path);
          if (header.kind !== KIND_EMBEDDING || header.values !== this.inputs.embedDim) throw new Error(`${path}: not ${this.inputs.embedDim}-value embeddings`);
          const values = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
          hashes.forEach((hash, i) => {
            if (!this.embeddings.has(hash)) this.embeddings.set(hash, values.subarray(i * header.values, (i + 1) * header.values));
          });
          this.recordsRead += hashes.length;
        } else if (name.endsWith(".patch")) {
          const {header, hashes} = readShardIndex(path);
          if (header.kind !== KIND_PATCHES) throw new Error(`${path}: not a patch-token shard`);
          for (const hash of hashes) if (!this.patchShards.has(hash)) this.patchShards.set(hash, path);
        }
      } catch (error) {
        this.badShards.push(path);
        this.log(`embedding cache: ignored ${(error as Error).message}; its images will be embedded again`);
      }
    }
    return this;
  }

  get size(): number {
    return this.embeddings.size;
  }

  hasEmbedding(hash: string): boolean {
    return this.embeddings.has(hash);
  }

  hasPatches(hash: string): boolean {
    return this.patchShards.has(hash);
  }

  embedding(hash: string): Float32Array | undefined {
    return this.embeddings.get(hash);
  }

  /** Every image hash with an embedding (for checks: each should appear in one record only). */
  hashes(): string[] {
    return [...this.embeddings.keys()];
  }

  /** Patch tokens of these images (float16 bits), read from their shards; checks each shard's checksum. */
  patches(hashes: Iterable<string>): Map<string, {values: Uint16Array; tokens: number}> {
    const byShard = new Map<string, Set<string>>();
    for (const hash of hashes) {
      const shard = this.patchShards.get(hash);
      if (!shard) throw new Error(`embedding cache: no patch tokens for image ${hash}`);
      if (!byShard.has(shard)) byShard.set(shard, new Set());
      byShard.get(shard)!.add(hash);
    }
    const out = new Map<string, {values: Uint16Array; tokens: number}>();
    for (const [shard, wanted] of byShard) {
      const {header, hashes: inShard, body} = readShard(shard);
      const all = new Uint16Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
      inShard.forEach((hash, i) => {
        if (wanted.has(hash) && !out.has(hash)) out.set(hash, {values: all.subarray(i * header.values, (i + 1) * header.values), tokens: header.tokens});
      });
    }
    return out;
  }

  /**
   * Appends records as new shards (embeddings, and patch tokens when given), each whole or
   * not at all. Records whose embedding is already cached add only their patch tokens.
   */
  commit(records: readonly CacheRecord[]): void {
    if (!this.lockHeld) throw new Error("embedding cache: commit without the lock");
    const stem = `${Date.now().toString(36).padStart(9, "0")}-${process.pid}-${randomBytes(4).toString("hex")}`;
    const fresh = records.filter((r) => !this.embeddings.has(r.hash));
    const withPatches = records.filter((r) => r.patches && !this.patchShards.has(r.hash));
    // Patch tokens first: an image with an embedding but no patches is embedded again on the next --patch-tokens run, never the reverse.
    if (withPatches.length > 0) {
      const per = withPatches[0]!.patches!.length;
      const tokens = per / this.inputs.embedDim;
      const values = new Uint16Array(withPatches.length * per);
      withPatches.forEach((r, i) => values.set(r.patches!, i * per));
      writeFileAtomic(this.dir, `${stem}.patch`, encodeShard(KIND_PATCHES, withPatches.map((r) => r.hash), values, per, tokens));
      for (const r of withPatches) this.patchShards.set(r.hash, join(this.dir, `${stem}.patch`));
    }
    if (fresh.length > 0) {
      const dim = this.inputs.embedDim;
      const values = new Float32Array(fresh.length * dim);
      fresh.forEach((r, i) => {
        if (r.embedding.length !== dim) throw new Error(`embedding cache: expected ${dim} values, got ${r.embedding.length}`);
        values.set(r.embedding, i * dim);
      });
      writeFileAtomic(this.dir, `${stem}.emb`, encodeShard(KIND_EMBEDDING, fresh.map((r) => r.hash), values, dim, 0));
      fresh.forEach((r, i) => this.embeddings.set(r.hash, values.subarray(i * dim, (i + 1) * dim)));
    }
  }
}

/** Every record in a cache folder's embedding shards, repeats included (tests count them: each image once). */
export function countShardRecords(dir: string): {records: number; hashes: string[]} {
  const hashes: string[] = [];
  for (const name of readdirSync(dir).sort()) if (name.endsWith(".emb")) hashes.push(...readShard(join(dir, name)).hashes);
  return {records: hashes.length, hashes};
}
