// The projection core (src/lib/projection) on files: an embeddings.arrow from
// `fetalclip embed-dataset` in, a layout Arrow file (id, x, y) or neighbours out.
import {float32, tableFromArrays, tableToIPC, utf8} from "@uwdata/flechette";
import {readFileSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {basename, dirname, join, resolve} from "node:path";
import {decodeEmbeddingTable} from "../src/lib/embeddingTable.js";
import {nearestTo} from "../src/lib/projection/neighbours.js";
import {defaultEpochs, umapLayout, type UmapOptions} from "../src/lib/projection/umap.js";

export const LAYOUT_FORMAT = "fetalclip-explorer/layout@1";

export interface EmbeddingsFile {
  ids: string[];
  dim: number;
  vectors: Float32Array;
}

export function readEmbeddings(path: string): EmbeddingsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`--embeddings ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    const table = decodeEmbeddingTable(bytes);
    return {ids: table.ids, dim: table.embedDim, vectors: table.embeddings};
  } catch (error) {
    throw new Error(`--embeddings ${path}: not an embeddings table (${(error as Error).message})`);
  }
}

export interface UmapFileOptions extends Pick<UmapOptions, "seed" | "nNeighbors" | "minDist" | "pcaDims" | "nEpochs" | "metric"> {
  embeddings: string;
  out: string;
  log?: (message: string) => void;
}

/** The Arrow IPC file of a layout: id (utf8), x, y (float32), parameters in the schema metadata. */
export function encodeLayout(ids: string[], xy: Float32Array, parameters: Record<string, string>): Uint8Array {
  const n = ids.length;
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = xy[i * 2]!;
    y[i] = xy[i * 2 + 1]!;
  }
  const table = tableFromArrays({id: ids, x, y}, {types: {id: utf8(), x: float32(), y: float32()}});
  const metadata = {"fetalclip.format": LAYOUT_FORMAT, ...parameters};
  (table.schema as {metadata: Map<string, string> | null}).metadata = new Map(Object.keys(metadata).sort().map((k) => [k, metadata[k as keyof typeof metadata]!]));
  return tableToIPC(table, {format: "file"})!;
}

/** UMAP of an embeddings.arrow into a layout file (written whole, then renamed into place). */
export async function umapFile(options: UmapFileOptions): Promise<{rows: number; dim: number; out: string; seconds: number; parameters: Record<string, string>}> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const {ids, dim, vectors} = readEmbeddings(options.embeddings);
  const n = ids.length;
  log(`umap: ${n} embeddings of ${dim} from ${options.embeddings}`);
  const nEpochs = options.nEpochs ?? defaultEpochs(n);
  const parameters = {
    "fetalclip.source": basename(options.embeddings),
    "umap.seed": String(options.seed ?? 0),
    "umap.n_neighbors": String(options.nNeighbors ?? 15),
    "umap.min_dist": String(options.minDist ?? 0.1),
    "umap.pca_dims": String(options.pcaDims ?? 50),
    "umap.n_epochs": String(nEpochs),
    "umap.metric": options.metric ?? "cosine"
  };
  let lastTenth = -1;
  const xy = await umapLayout(vectors, n, dim, {
    seed: options.seed, nNeighbors: options.nNeighbors, minDist: options.minDist, pcaDims: options.pcaDims, nEpochs, metric: options.metric,
    onProgress: ({stage, done, total}) => {
      const elapsed = ((Date.now() - started) / 1000).toFixed(1);
      if (stage !== "layout") {
        if (done === total) log(`umap: ${stage} done (${elapsed} s)`);
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        log(`umap: epoch ${done}/${total} (${elapsed} s)`);
      }
    }
  });
  const out = resolve(options.out);
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, encodeLayout(ids, xy, parameters));
    renameSync(temp, out);
  } catch (error) {
    rmSync(temp, {force: true});
    throw new Error(`--out ${options.out}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return {rows: n, dim, out, seconds: (Date.now() - started) / 1000, parameters};
}

/** The k embeddings most cosine-similar to the one with `id`, nearest first. */
export function neighboursOf(path: string, id: string, k: number): {id: string; k: number; neighbours: {id: string; cosine: number}[]} {
  const {ids, dim, vectors} = readEmbeddings(path);
  const row = ids.indexOf(id);
  if (row < 0) throw new Error(`--id ${id}: no such id in ${path} (${ids.length} rows${ids.length ? `, e.g. ${ids[0]}` : ""})`);
  const kept = Math.min(k, ids.length - 1);
  if (kept < 1) return {id, k: 0, neighbours: []};
  const nearest = nearestTo(vectors, ids.length, dim, row, kept);
  return {id, k: kept, neighbours: Array.from(nearest.index, (j, t) => ({id: ids[j]!, cosine: nearest.cosine[t]!}))};
}
