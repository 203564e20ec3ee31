// embeddings.arrow, the embedding store's table, in Node and in the browser: an Arrow
// IPC file with one row per image (sorted by id), `id` (utf8), `embedding` (fixed-size
// list of float32: open_clip's encode_image, not normalised), the dataset's metadata
// columns and, when asked for, `patch_embeddings` (fixed-size list of patch tokens, each
// a fixed-size list of float16). Schema metadata says which model, variant and dataset
// made it; nothing in it depends on the time or the machine, so the same inputs give
// the same bytes.
import {batchType, Column, columnFromArray, field, fixedSizeList, float16, float32, float64, tableFromColumns, tableFromIPC, tableToIPC, Type, utf8} from "@uwdata/flechette";

export const EMBEDDINGS_FORMAT = "fetalclip-explorer/embeddings@1";
export const EMBEDDINGS_FILE = "embeddings.arrow";
/** Schema metadata keys (all values are strings, as Arrow's metadata is). */
export const EMBEDDINGS_META = {
  format: "fetalclip.format",
  model: "fetalclip.model",
  modelKey: "fetalclip.model_key",
  variant: "fetalclip.variant",
  dataset: "fetalclip.dataset",
  embedDim: "fetalclip.embed_dim",
  patchTokens: "fetalclip.patch_tokens",
  /** The probing notebooks' pipeline (OpenCV bicubic resize, augmented copies), named with its version; absent: the zero-shot/embeddings pipeline. */
  pipeline: "fetalclip.pipeline",
  /** Augmented copies per image the table holds, their seed and the augmentation (JSON). */
  augmentCopies: "fetalclip.augment_copies",
  augmentSeed: "fetalclip.augment_seed",
  augmentation: "fetalclip.augmentation"
} as const;

export interface EmbeddingTableColumn {
  name: string;
  type: "utf8" | "float64";
  values: (string | number | null)[];
}

export interface EmbeddingTableData {
  ids: string[];
  embedDim: number;
  /** Row-major, ids.length x embedDim. */
  embeddings: Float32Array;
  /** Metadata columns, in table order. */
  columns: EmbeddingTableColumn[];
  /** float16 bits, row-major ids.length x tokens x embedDim. */
  patchEmbeddings?: {tokens: number; values: Uint16Array};
  /** Schema metadata (EMBEDDINGS_META keys and any others), written in key order. */
  metadata: Record<string, string>;
}

/** One batch holding a flat typed array as a fixed-size list (nested lists for `strides` of two). */
function fixedListColumn(values: Float32Array | Uint16Array, rows: number, strides: number[], half: boolean): Column<unknown> {
  const leafType = half ? float16() : float32();
  let batch = new (batchType(leafType))({length: values.length, nullCount: 0, type: leafType, validity: new Uint8Array(0), values});
  let length = values.length;
  for (const stride of [...strides].reverse()) {
    const type = fixedSizeList(field("item", batch.type, false), stride);
    length /= stride;
    batch = new (batchType(type))({length, nullCount: 0, type, validity: new Uint8Array(0), children: [batch]});
  }
  if (length !== rows) throw new Error(`embedding table: ${values.length} values do not make ${rows} rows of ${strides.join(" x ")}`);
  return new Column([batch]);
}

/** The Arrow IPC file (format "file") of an embedding table. */
export function encodeEmbeddingTable(data: EmbeddingTableData): Uint8Array {
  const n = data.ids.length;
  if (data.embeddings.length !== n * data.embedDim) throw new Error(`embedding table: ${data.embeddings.length} embedding values for ${n} rows of ${data.embedDim}`);
  const columns: [string, Column<unknown>][] = [
    ["id", columnFromArray(data.ids, utf8())],
    ["embedding", fixedListColumn(data.embeddings, n, [data.embedDim], false)]
  ];
  for (const column of data.columns) {
    if (column.values.length !== n) throw new Error(`embedding table: column ${column.name} has ${column.values.length} values for ${n} rows`);
    if (column.name === "id" || column.name === "embedding" || column.name === "patch_embeddings") throw new Error(`embedding table: ${column.name} is a reserved column name`);
    columns.push([column.name, columnFromArray(column.values, column.type === "utf8" ? utf8() : float64())]);
  }
  if (data.patchEmbeddings) {
    columns.push(["patch_embeddings", fixedListColumn(data.patchEmbeddings.values, n, [data.patchEmbeddings.tokens, data.embedDim], true)]);
  }
  const table = tableFromColumns(columns);
  (table.schema as {metadata: Map<string, string> | null}).metadata = new Map(Object.keys(data.metadata).sort().map((k) => [k, data.metadata[k]!]));
  return tableToIPC(table, {format: "file"})!;
}

type AnyBatch = {length: number; values?: ArrayLike<number>; children?: AnyBatch[]};

/** The flat leaf values of a fixed-size-list column, whatever its batches. */
function leafValues<T extends Float32Array | Uint16Array>(column: {data: AnyBatch[]}, Type: {new (n: number): T}, perRow: number): T {
  const total = column.data.reduce((s, b) => s + b.length, 0);
  const out = new Type(total * perRow);
  let offset = 0;
  for (const batch of column.data) {
    let leaf = batch;
    while (leaf.children?.[0]) leaf = leaf.children[0];
    const values = leaf.values as unknown as T;
    out.set(values.subarray(0, batch.length * perRow), offset);
    offset += batch.length * perRow;
  }
  return out;
}

/** Reads an embeddings.arrow written by encodeEmbeddingTable (or any table with `id` and `embedding` columns). */
export function decodeEmbeddingTable(bytes: Uint8Array | ArrayBuffer): EmbeddingTableData {
  const table = tableFromIPC(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const fields = table.schema.fields;
  const byName = new Map(fields.map((f) => [f.name, f]));
  const embeddingField = byName.get("embedding");
  if (!byName.has("id") || !embeddingField) throw new Error("embeddings table: expected `id` and `embedding` columns");
  const embedDim = (embeddingField.type as {stride?: number}).stride;
  if (!embedDim) throw new Error("embeddings table: `embedding` is not a fixed-size list");
  const ids = Array.from(table.getChild("id")!, (v) => String(v));
  const embeddings = leafValues(table.getChild("embedding") as unknown as {data: AnyBatch[]}, Float32Array, embedDim);
  const columns: EmbeddingTableColumn[] = [];
  let patchEmbeddings: EmbeddingTableData["patchEmbeddings"];
  for (const f of fields) {
    if (f.name === "id" || f.name === "embedding") continue;
    const column = table.getChild(f.name)!;
    if (f.name === "patch_embeddings") {
      const tokens = (f.type as {stride: number}).stride;
      patchEmbeddings = {tokens, values: leafValues(column as unknown as {data: AnyBatch[]}, Uint16Array, tokens * embedDim)};
      continue;
    }
    const values = Array.from(column, (v) => (v === null || v === undefined ? null : typeof v === "number" ? v : String(v)));
    const isText = f.type.typeId === Type.Utf8 || f.type.typeId === Type.LargeUtf8 || f.type.typeId === Type.Dictionary;
    columns.push({name: f.name, type: isText ? "utf8" : "float64", values});
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of table.schema.metadata ?? []) metadata[k] = v;
  return {ids, embedDim, embeddings, columns, patchEmbeddings, metadata};
}
