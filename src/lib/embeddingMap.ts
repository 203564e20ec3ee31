// The Embeddings page's artifacts, written by the loaders in Node and read by the
// page in the browser with the same code: a map of one dataset under one model
// (Arrow IPC: id, UMAP x/y, the thumbnail cell, metadata, zero-shot prediction and
// correctness) and its image embeddings (Arrow IPC: id, unit-length float16 vectors).
// Selection by a data rectangle and the CSV of a selection live here too, so the
// browser test can compute with the core exactly what the page shows.
import {
  bool,
  dictionary,
  fixedSizeList,
  float16,
  float32,
  int32,
  tableFromArrays,
  tableFromIPC,
  tableToIPC,
  Type,
  utf8,
  type Table
} from "@uwdata/flechette";
import {float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits} from "./float16.js";

export const EMBEDDING_MAPS_FORMAT = "fetalclip-explorer/embedding-maps@1";

/** Columns of a map that are not metadata: the row's id, its UMAP position and its thumbnail. */
export const MAP_COLUMNS = {id: "id", x: "x", y: "y", cell: "cell"} as const;
/** The zero-shot columns the loaders add (FetalCLIP's five-planes prompts, 9 classes). */
export const ZERO_SHOT_COLUMNS = {prediction: "zero_shot", probability: "zero_shot_p", correct: "correct"} as const;

/** Colour-by fields first in this order; the others follow in column order. */
const FIELD_ORDER = ["plane", "zero_shot", "correct", "sub_plane", "split", "ga_days", "hc_mm", "spacing_mm", "zero_shot_p", "patient"];

/** Human names of the metadata columns the dataset registry uses. */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  plane: "plane",
  sub_plane: "brain sub-plane",
  patient: "patient",
  split: "split",
  ga_days: "GA (days)",
  hc_mm: "HC (mm)",
  spacing_mm: "pixel spacing (mm)",
  operator: "operator",
  machine: "machine",
  centre: "centre",
  zero_shot: "zero-shot prediction",
  zero_shot_p: "zero-shot probability",
  correct: "zero-shot correct"
};

/** One (dataset, model) pair of the site's artifacts, as the index lists it. */
export interface EmbeddingMapEntry {
  /** "<dataset>/<model>": also the folder of its members in the archives. */
  key: string;
  dataset: {id: string; name: string};
  model: {id: string; name: string};
  /** Rows (images embedded) and the embedding dimension. */
  n: number;
  dim: number;
  /** Member of embeddings.zip: the map (Arrow IPC). */
  points: string;
  /** Member of embedding-vectors.zip: the float16 unit embeddings (Arrow IPC). */
  vectors: string;
  /** Member of embeddings.zip: the dataset's thumbnail sprite sheet, shared by its models. */
  thumbnails: SpriteSheetInfo & {file: string};
  umap: {seed: number; nNeighbors: number; minDist: number; nEpochs: number; pcaDims: number | null};
  zeroShot: {classes: string[]; prompts: string; scored: number; accuracy: number | null};
  /** Images that could not be embedded (listed by the embedding job), not in the map. */
  failed: {id: string; error: string}[];
}

export interface EmbeddingMapsIndex {
  format: typeof EMBEDDING_MAPS_FORMAT;
  maps: EmbeddingMapEntry[];
}

/** Where each image's thumbnail lies in the sprite sheet: cell c at column c % columns, row floor(c / columns). */
export interface SpriteSheetInfo {
  /** Side of a square cell in pixels. */
  cell: number;
  columns: number;
  rows: number;
  /** Grey levels stored: 4 bits (16 levels) keeps 10,000 thumbnails of 48 px near 6 MB. */
  bits: 4 | 8;
}

export type MapField =
  | {name: string; label: string; kind: "category"; values: (string | null)[]; categories: string[]}
  | {name: string; label: string; kind: "number"; values: Float64Array; extent: [number, number]};

export interface EmbeddingMap {
  n: number;
  ids: string[];
  x: Float32Array;
  y: Float32Array;
  /** Thumbnail cell per row (-1: none). */
  cell: Int32Array;
  /** Metadata and zero-shot columns, colour-by order. */
  fields: MapField[];
}

export interface EmbeddingMapInput {
  ids: readonly string[];
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  cell: ArrayLike<number>;
  /** Metadata columns by name: strings (null for missing), numbers (null or NaN for missing) or booleans. */
  columns: Record<string, readonly (string | number | boolean | null)[]>;
}

// ---------------------------------------------------------------------------
// The map (points): written in Node, read anywhere.

function columnType(name: string, values: readonly (string | number | boolean | null)[]) {
  const sample = values.find((v) => v !== null && v !== undefined);
  if (typeof sample === "boolean") return bool();
  if (typeof sample === "number") return float32();
  if (sample === undefined || typeof sample === "string") return dictionary(utf8());
  throw new Error(`encodeEmbeddingMap: column "${name}" holds ${typeof sample} values; expected strings, numbers or booleans`);
}

/** The map as Arrow IPC (file format): strings dictionary-encoded, numbers float32. */
export function encodeEmbeddingMap(input: EmbeddingMapInput): Uint8Array {
  const n = input.ids.length;
  for (const [name, values] of [["x", input.x], ["y", input.y], ["cell", input.cell], ...Object.entries(input.columns)] as const) {
    if (values.length !== n) throw new Error(`encodeEmbeddingMap: column "${name}" has ${values.length} rows, ids ${n}`);
  }
  const reserved = new Set<string>(Object.values(MAP_COLUMNS));
  const clash = Object.keys(input.columns).find((c) => reserved.has(c));
  if (clash) throw new Error(`encodeEmbeddingMap: metadata column "${clash}" clashes with a map column`);
  const data: Record<string, unknown> = {
    id: [...input.ids],
    x: Float32Array.from(input.x),
    y: Float32Array.from(input.y),
    cell: Int32Array.from(input.cell)
  };
  const types: Record<string, unknown> = {id: utf8(), x: float32(), y: float32(), cell: int32()};
  for (const [name, values] of Object.entries(input.columns)) {
    types[name] = columnType(name, values);
    data[name] = values.map((v) => (typeof v === "number" && Number.isNaN(v) ? null : v));
  }
  const table = tableFromArrays(data as Parameters<typeof tableFromArrays>[0], {types: types as never});
  return tableToIPC(table, {format: "file"})!;
}

function readTable(bytes: Uint8Array | ArrayBuffer, what: string): Table {
  try {
    return tableFromIPC(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  } catch (error) {
    throw new Error(`${what}: not an Arrow IPC file (${(error as Error).message})`);
  }
}

function requireColumn(table: Table, name: string, what: string) {
  const column = table.getChild(name);
  if (!column) throw new Error(`${what}: no "${name}" column (columns: ${table.names.join(", ")})`);
  return column;
}

function numbers(values: ArrayLike<unknown>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v === null || v === undefined ? Number.NaN : Number(v);
  }
  return out;
}

function fieldOf(name: string, typeId: number, raw: ArrayLike<unknown>): MapField {
  const label = FIELD_LABELS[name] ?? name.replace(/_/g, " ");
  if (typeId === Type.Int || typeId === Type.Float) {
    const values = numbers(raw);
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (!Number.isNaN(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    return {name, label, kind: "number", values, extent: lo <= hi ? [lo, hi] : [0, 0]};
  }
  const values: (string | null)[] = Array.from({length: raw.length}, (_, i) => {
    const v = raw[i];
    if (v === null || v === undefined) return null;
    if (typeof v === "boolean") return name === ZERO_SHOT_COLUMNS.correct ? (v ? "correct" : "incorrect") : String(v);
    return String(v);
  });
  const categories = [...new Set(values.filter((v): v is string => v !== null))].sort(categoryOrder);
  return {name, label, kind: "category", values, categories};
}

/** Categories sorted naturally (P2 before P10), "correct" before "incorrect". */
function categoryOrder(a: string, b: string): number {
  return a.localeCompare(b, "en", {numeric: true});
}

/** Reads a map written by encodeEmbeddingMap (or any Arrow file with id, x, y and cell columns). */
export function decodeEmbeddingMap(bytes: Uint8Array | ArrayBuffer, what = "embedding map"): EmbeddingMap {
  const table = readTable(bytes, what);
  const ids = requireColumn(table, MAP_COLUMNS.id, what).toArray() as unknown as string[];
  const x = Float32Array.from(requireColumn(table, MAP_COLUMNS.x, what).toArray() as ArrayLike<number>);
  const y = Float32Array.from(requireColumn(table, MAP_COLUMNS.y, what).toArray() as ArrayLike<number>);
  const cellColumn = table.getChild(MAP_COLUMNS.cell);
  const cell = cellColumn ? Int32Array.from(cellColumn.toArray() as ArrayLike<number>, (c) => c ?? -1) : new Int32Array(ids.length).fill(-1);
  const reserved = new Set<string>(Object.values(MAP_COLUMNS));
  const fields = table.schema.fields
    .filter((f) => !reserved.has(f.name))
    .map((f) => {
      const typeId = f.type.typeId === Type.Dictionary ? (f.type as {dictionary: {typeId: number}}).dictionary.typeId : f.type.typeId;
      return fieldOf(f.name, typeId, table.getChild(f.name)!.toArray() as ArrayLike<unknown>);
    });
  const rank = (name: string) => {
    const at = FIELD_ORDER.indexOf(name);
    return at < 0 ? FIELD_ORDER.length : at;
  };
  fields.sort((a, b) => rank(a.name) - rank(b.name));
  return {n: ids.length, ids: Array.from(ids, String), x, y, cell, fields};
}

// ---------------------------------------------------------------------------
// The embeddings: unit length, float16.

/** Rows scaled to unit length, then rounded to float16 (their cosines are then plain dot products, to float16 precision). */
export function unitFloat16Rows(vectors: ArrayLike<number>, n: number, dim: number): Uint16Array {
  if (vectors.length !== n * dim) throw new Error(`unitFloat16Rows: expected ${n} x ${dim} = ${n * dim} values, got ${vectors.length}`);
  const out = new Uint16Array(n * dim);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < dim; c++) sum += vectors[i * dim + c]! ** 2;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let c = 0; c < dim; c++) out[i * dim + c] = float32ToFloat16Bits(vectors[i * dim + c]! * scale);
  }
  return out;
}

/** Arrow IPC with `id` and `embedding` (fixed-size list of float16): the bits given, unchanged. */
export function encodeEmbeddingVectors(ids: readonly string[], bits: Uint16Array, dim: number): Uint8Array {
  const n = ids.length;
  if (bits.length !== n * dim) throw new Error(`encodeEmbeddingVectors: expected ${n} x ${dim} = ${n * dim} values, got ${bits.length}`);
  // flechette converts numbers to float16 itself; half values convert to their own bits exactly.
  const rows = Array.from({length: n}, (_, i) => Array.from(bits.subarray(i * dim, (i + 1) * dim), float16BitsToFloat32));
  const table = tableFromArrays({id: [...ids], embedding: rows}, {types: {id: utf8(), embedding: fixedSizeList(float16(), dim)}});
  return tableToIPC(table, {format: "file"})!;
}

export interface EmbeddingVectors {
  n: number;
  dim: number;
  ids: string[];
  /** n x dim float32 values decoded from the stored float16 bits (unit rows, to float16 precision). */
  vectors: Float32Array;
}

/** Reads embeddings written by encodeEmbeddingVectors: the float16 bits decoded by the core's fromFloat16Bits. */
export function decodeEmbeddingVectors(bytes: Uint8Array | ArrayBuffer, what = "embedding vectors"): EmbeddingVectors {
  const table = readTable(bytes, what);
  const ids = Array.from(requireColumn(table, "id", what).toArray() as ArrayLike<string>, String);
  const column = requireColumn(table, "embedding", what);
  const type = column.type as {typeId: number; stride?: number; listSize?: number; children?: {type: {typeId: number; precision?: number}}[]};
  const dim = type.listSize ?? type.stride ?? 0;
  const child = type.children?.[0]?.type;
  if (type.typeId !== Type.FixedSizeList || !child || child.typeId !== Type.Float || child.precision !== 0) {
    throw new Error(`${what}: "embedding" must be a fixed-size list of float16`);
  }
  const bits = new Uint16Array(ids.length * dim);
  let at = 0;
  for (const batch of column.data as unknown as {length: number; children: {values: Uint16Array}[]}[]) {
    bits.set(batch.children[0]!.values.subarray(0, batch.length * dim), at);
    at += batch.length * dim;
  }
  if (at !== bits.length) throw new Error(`${what}: ${at / dim} embedding rows for ${ids.length} ids`);
  return {n: ids.length, dim, ids, vectors: fromFloat16Bits(bits)};
}

// ---------------------------------------------------------------------------
// Selections.

export interface DataRect {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Rows whose (x, y) lie inside the rectangle, edges included, in row order. */
export function pointsInRect(x: ArrayLike<number>, y: ArrayLike<number>, rect: DataRect): Int32Array {
  const [x0, x1] = rect.x0 <= rect.x1 ? [rect.x0, rect.x1] : [rect.x1, rect.x0];
  const [y0, y1] = rect.y0 <= rect.y1 ? [rect.y0, rect.y1] : [rect.y1, rect.y0];
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const px = x[i]!, py = y[i]!;
    if (px >= x0 && px <= x1 && py >= y0 && py <= y1) out.push(i);
  }
  return Int32Array.from(out);
}

/**
 * Rows whose (x, y) lie inside a lasso polygon (vertices in order, closed back to the
 * first), in row order. Even-odd rule: where a drawn loop crosses itself, the doubly
 * enclosed part is out, as it is for SVG's fill-rule evenodd. A polygon under three
 * vertices encloses nothing.
 */
export function pointsInPolygon(x: ArrayLike<number>, y: ArrayLike<number>, polygon: readonly (readonly [number, number])[]): Int32Array {
  const m = polygon.length;
  if (m < 3) return new Int32Array(0);
  const vx = Float64Array.from(polygon, (p) => p[0]);
  const vy = Float64Array.from(polygon, (p) => p[1]);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < m; k++) {
    x0 = Math.min(x0, vx[k]!), x1 = Math.max(x1, vx[k]!), y0 = Math.min(y0, vy[k]!), y1 = Math.max(y1, vy[k]!);
  }
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const px = x[i]!, py = y[i]!;
    if (!(px >= x0 && px <= x1 && py >= y0 && py <= y1)) continue;
    // Crossings of a ray towards +x with the edges (each edge half-open in y, so a vertex counts once).
    let inside = false;
    for (let a = 0, b = m - 1; a < m; b = a++) {
      const ay = vy[a]!, by = vy[b]!;
      if (ay > py !== by > py && px < ((vx[b]! - vx[a]!) * (py - ay)) / (by - ay) + vx[a]!) inside = !inside;
    }
    if (inside) out.push(i);
  }
  return Int32Array.from(out);
}

function csvCell(value: string | number | null): string {
  if (value === null || (typeof value === "number" && Number.isNaN(value))) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Text of a number in the CSV: float32 columns printed at float32 precision (7 significant digits). */
function csvNumber(v: number): number | string {
  return Number.isInteger(v) ? v : Number(v.toPrecision(7));
}

/** The selected rows as CSV: id, x, y and every field, in the order given. */
export function selectionCsv(map: EmbeddingMap, rows: ArrayLike<number>): string {
  const header = ["id", "x", "y", ...map.fields.map((f) => f.name)];
  const lines = [header.map(csvCell).join(",")];
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    const cells: (string | number | null)[] = [map.ids[i]!, csvNumber(map.x[i]!), csvNumber(map.y[i]!)];
    for (const f of map.fields) cells.push(f.kind === "number" ? (Number.isNaN(f.values[i]!) ? null : csvNumber(f.values[i]!)) : f.values[i]!);
    lines.push(cells.map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}
