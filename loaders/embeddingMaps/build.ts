// The Embeddings page's artifacts for one (dataset, model): the embedding job's table
// (embed-dataset, through its content-addressed cache: nothing changed, nothing
// embedded), then a seeded UMAP, FetalCLIP's five-planes zero-shot with the prompts
// the Zero-shot page uses, unit float16 embeddings and the dataset's thumbnail sheet.
// Results are cached under FETALCLIP_CACHE/embedding-maps/<dataset>/<model>/, keyed by
// the table's bytes and every setting, so a rebuild with nothing changed runs no model,
// no UMAP and decodes no image.
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {encodeEmbeddingMap, encodeEmbeddingVectors, unitFloat16Rows, ZERO_SHOT_COLUMNS, type EmbeddingMapEntry} from "../../src/lib/embeddingMap.js";
import {decodeEmbeddingTable} from "../../src/lib/embeddingTable.js";
import {defaultEpochs, umapLayout} from "../../src/lib/projection/umap.js";
import {FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {predictLabels, promptClassEmbeddings} from "../../src/lib/tasks/zeroShot.js";
import {zeroShotProbabilities} from "../../src/lib/zeroShot.js";
import {readManifest} from "../bundles.js";
import {openDataset} from "../datasets/registry.js";
import {writeFileAtomic} from "../embeddings/cache.js";
import {ensureEmbeddings} from "../embeddings/store.js";
import {loadNodeModel} from "../nodeModel.js";
import {CACHE_DIR} from "../paths.js";
import {pruneOtherKeys, sourceKey} from "./sourceKey.js";
import type {ConfiguredDataset, ConfiguredModel} from "../projectConfig.js";
import {datasetSpriteSheet, type SpriteSheet} from "./thumbnails.js";

export const EMBEDDING_MAPS_DIR = join(CACHE_DIR, "embedding-maps");
const MAP_VERSION = 1;

/** The layout every map uses: seeded, so a rebuild draws the same picture. */
export const MAP_UMAP = {seed: 1, nNeighbors: 15, minDist: 0.1, pcaDims: 50} as const;

export interface BuiltEmbeddingMap {
  entry: EmbeddingMapEntry;
  points: Uint8Array;
  vectors: Uint8Array;
  sheet: SpriteSheet;
  /** What ran: "cached" when the map came from the cache (no UMAP, no model). */
  work: {embedded: number; cached: number; map: "cached" | "built"; seconds: number};
}

/** The modules whose code shapes a map: editing one rebuilds the cached maps. */
const MAP_CODE = [
  "src/lib/projection/umap.ts",
  "src/lib/projection/pca.ts",
  "src/lib/projection/neighbours.ts",
  "src/lib/projection/rows.ts",
  "src/lib/embeddingMap.ts",
  "src/lib/float16.ts",
  "src/lib/zeroShot.ts",
  "src/lib/tasks/zeroShot.ts",
  "loaders/embeddingMaps/build.ts"
];

/** Keys of the five-planes prompt ensemble, so editing a prompt rebuilds the zero-shot columns. */
function promptsKey(): string {
  return createHash("sha256").update(JSON.stringify(FIVE_PLANES_CLASSES.map((c) => [c, FIVE_PLANES_PROMPTS[c]]))).digest("hex").slice(0, 16);
}

export async function buildEmbeddingMap(dataset: ConfiguredDataset, model: ConfiguredModel, log: (m: string) => void = () => {}): Promise<BuiltEmbeddingMap> {
  const started = performance.now();
  const opened = openDataset(dataset.dataset);
  const manifest = readManifest(model.dir);
  const job = await ensureEmbeddings(model, dataset, {log});
  const tableBytes = new Uint8Array(readFileSync(job.out));
  const sheet = datasetSpriteSheet({...opened, name: dataset.name}, {log});

  const key = createHash("sha256")
    .update(`embedding-map@${MAP_VERSION} code ${sourceKey(MAP_CODE)}\n${JSON.stringify(MAP_UMAP)}\nprompts ${promptsKey()}\nsheet ${JSON.stringify(sheet.info)}\n`)
    .update(tableBytes)
    .digest("hex")
    .slice(0, 24);
  const dir = join(EMBEDDING_MAPS_DIR, dataset.name, model.name);
  const files = {points: join(dir, `points-${key}.arrow`), vectors: join(dir, `vectors-${key}.arrow`), entry: join(dir, `entry-${key}.json`)};
  const work = {embedded: job.embedded, cached: job.cached, map: "cached" as "cached" | "built", seconds: 0};
  const prefix = `${dataset.name}/${model.name}`;
  if (existsSync(files.entry) && existsSync(files.points) && existsSync(files.vectors)) {
    work.seconds = (performance.now() - started) / 1000;
    log(`embedding map ${prefix}: cached (${work.seconds.toFixed(1)} s)`);
    const entry = JSON.parse(readFileSync(files.entry, "utf8")) as EmbeddingMapEntry;
    return {entry, points: new Uint8Array(readFileSync(files.points)), vectors: new Uint8Array(readFileSync(files.vectors)), sheet, work};
  }

  const table = decodeEmbeddingTable(tableBytes);
  const n = table.ids.length, dim = table.embedDim;
  if (n < 3) throw new Error(`embedding map ${prefix}: ${n} embedded image(s); a map needs at least 3`);
  work.map = "built";

  // UMAP of the full embeddings (cosine), seeded.
  const umapStarted = performance.now();
  const nNeighbors = Math.min(MAP_UMAP.nNeighbors, n - 1);
  const xy = await umapLayout(table.embeddings, n, dim, {...MAP_UMAP, nNeighbors});
  log(`embedding map ${prefix}: UMAP of ${n} x ${dim} in ${((performance.now() - umapStarted) / 1000).toFixed(1)} s`);

  // Zero-shot over the nine prompt classes, as the Zero-shot page scores the phantom.
  const {model: clip} = await loadNodeModel(model.dir, {ep: "cpu", variant: model.variant});
  let classEmbeds: Float32Array[];
  try {
    classEmbeds = await promptClassEmbeddings(clip, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  } finally {
    await clip.imageSession.release();
    await clip.textSession.release();
  }
  const classes: readonly string[] = FIVE_PLANES_CLASSES;
  const rows = Array.from({length: n}, (_, i) => table.embeddings.subarray(i * dim, (i + 1) * dim));
  const predicted = predictLabels(rows, classEmbeds, classes);
  const probabilities = zeroShotProbabilities(table.embeddings, classEmbeds);
  const planes = table.columns.find((c) => c.name === "plane")?.values ?? null;
  const correct = predicted.map((p, i) => {
    const plane = planes?.[i];
    return typeof plane === "string" && classes.includes(plane) ? p === plane : null;
  });
  const scored = correct.filter((c) => c !== null).length;
  const accuracy = scored ? correct.filter((c) => c === true).length / scored : null;

  const columns: Record<string, (string | number | null | boolean)[]> = {};
  for (const c of table.columns) columns[c.name] = c.values;
  columns[ZERO_SHOT_COLUMNS.prediction] = predicted;
  columns[ZERO_SHOT_COLUMNS.probability] = predicted.map((p, i) => probabilities[i * classes.length + classes.indexOf(p)]!);
  columns[ZERO_SHOT_COLUMNS.correct] = correct;
  const points = encodeEmbeddingMap({
    ids: table.ids,
    x: Float32Array.from({length: n}, (_, i) => xy[2 * i]!),
    y: Float32Array.from({length: n}, (_, i) => xy[2 * i + 1]!),
    cell: table.ids.map((id) => sheet.cellOf.get(id) ?? -1),
    columns
  });
  const vectors = encodeEmbeddingVectors(table.ids, unitFloat16Rows(table.embeddings, n, dim), dim);

  const entry: EmbeddingMapEntry = {
    key: prefix,
    dataset: {id: dataset.name, name: datasetDisplayName(dataset.name)},
    model: {id: model.name, name: modelDisplayName(manifest.name, manifest.id, model)},
    n,
    dim,
    points: `${prefix}/points.arrow`,
    vectors: `${prefix}/vectors.arrow`,
    thumbnails: {file: `${dataset.name}/thumbnails.png`, ...sheet.info},
    umap: {seed: MAP_UMAP.seed, nNeighbors, minDist: MAP_UMAP.minDist, nEpochs: defaultEpochs(n), pcaDims: Math.min(MAP_UMAP.pcaDims, dim)},
    zeroShot: {classes: [...classes], prompts: "FetalCLIP five-planes prompt ensembles (5 prompts x 9 classes)", scored, accuracy},
    failed: job.failed
  };
  mkdirSync(dir, {recursive: true});
  writeFileAtomic(dir, `points-${key}.arrow`, [points]);
  writeFileAtomic(dir, `vectors-${key}.arrow`, [vectors]);
  writeFileAtomic(dir, `entry-${key}.json`, [new TextEncoder().encode(JSON.stringify(entry, null, 1))]);
  pruneOtherKeys(dir, key, /^(points|vectors|entry)-([0-9a-f]{24})\.(arrow|json)$/);
  work.seconds = (performance.now() - started) / 1000;
  log(`embedding map ${prefix}: built in ${work.seconds.toFixed(1)} s (${job.embedded} images embedded, ${job.cached} cached)`);
  return {entry, points, vectors, sheet, work};
}

const DATASET_NAMES: Record<string, string> = {
  phantom: "Phantom (procedural)",
  "fetal-planes-db": "FETAL_PLANES_DB",
  hc18: "HC18",
  "african-planes": "African fetal planes"
};

/** The bundle's name, with the variant, and the configured name when it is not the bundle's id (two copies of one bundle). */
export function modelDisplayName(bundleName: string, bundleId: string, model: ConfiguredModel): string {
  const variant = model.variant === "fp32" ? "" : ` (${model.variant})`;
  const base = model.variant === "fp32" ? model.name : model.name.replace(new RegExp(`-${model.variant}$`), "");
  return `${bundleName}${variant}${base !== bundleId ? ` [${model.name}]` : ""}`;
}

export function datasetDisplayName(name: string): string {
  return DATASET_NAMES[name] ?? name;
}
