// The two archives the Embeddings page reads: embeddings.zip (index.json, each map's
// points.arrow, each dataset's thumbnails.png) and embedding-vectors.zip (each map's
// float16 vectors.arrow, fetched only for a neighbour search), for every (dataset,
// model) of the project config. A pair that cannot be built (a dataset not downloaded,
// a bundle missing) is listed in the index with the reason; the site still builds.
import {zipSync} from "fflate";
import {EMBEDDING_MAPS_FORMAT, type EmbeddingMapEntry} from "../../src/lib/embeddingMap.js";
import {buildConfiguredPairs, readProjectConfig, type ProjectConfig, type SkippedPair} from "../projectConfig.js";
import {buildEmbeddingMap, type BuiltEmbeddingMap} from "./build.js";

export interface EmbeddingMapsIndexFile {
  format: typeof EMBEDDING_MAPS_FORMAT;
  maps: EmbeddingMapEntry[];
  /** Configured pairs that could not be built, and why. */
  skipped: SkippedPair[];
  /** Where the lists came from (project config, environment, default). */
  sources: ProjectConfig["sources"];
}

export async function buildEmbeddingMaps(log: (m: string) => void = () => {}, config: ProjectConfig = readProjectConfig()): Promise<{index: EmbeddingMapsIndexFile; built: BuiltEmbeddingMap[]}> {
  const {built, skipped} = await buildConfiguredPairs(config, "embedding map", (dataset, model) => buildEmbeddingMap(dataset, model, log), log);
  return {index: {format: EMBEDDING_MAPS_FORMAT, maps: built.map((b) => b.entry), skipped, sources: config.sources}, built};
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** embeddings.zip: PNGs and Arrow files stored (they barely compress; the page unzips at once). */
export function pointsArchive(index: EmbeddingMapsIndexFile, built: readonly BuiltEmbeddingMap[]): Uint8Array {
  const files: Record<string, Uint8Array | [Uint8Array, {level: 0 | 6}]> = {"index.json": json(index)};
  for (const b of built) {
    files[b.entry.points] = [b.points, {level: 6}];
    files[b.entry.thumbnails.file] = [b.sheet.png, {level: 0}];
  }
  return zipSync(files as Parameters<typeof zipSync>[0], {level: 0, mtime: new Date("2025-01-01T00:00:00Z")});
}

/** embedding-vectors.zip: float16 vectors barely compress; stored. */
export function vectorsArchive(built: readonly BuiltEmbeddingMap[]): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const b of built) files[b.entry.vectors] = b.vectors;
  return zipSync(files, {level: 0, mtime: new Date("2025-01-01T00:00:00Z")});
}
