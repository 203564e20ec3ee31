// A probe task's view of an embedding table: the rows that have a class, grouped by
// patient (matched by patientKey, so split files' "Patient00305" finds CSV patient
// "305"), and the training/validation/test sets of given patient lists. A table with
// augmented copies (an `augmentation` column: 0 the image as is, k its k-th augmented
// copy) trains on copies 1..N and validates and tests on copy 0, as FetalCLIP's probing
// notebooks store only augmented copies of training images.
import type {EmbeddingTableData} from "../embeddingTable.js";
import type {ProbeRows} from "./linearHead.js";
import {patientKey} from "./patientSplits.js";
import type {ProbeTask} from "./probeTasks.js";

export interface TaskData {
  task: ProbeTask;
  embeddings: Float32Array;
  dim: number;
  /** Class index of every table row (-1: not in the task). */
  labels: Int32Array;
  /** Table rows of each patient (by patientKey) that are in the task, ascending. */
  rowsByPatient: Map<string, number[]>;
  /** The patient value of each table row as the table writes it (null when missing). */
  patientOfRow: (string | null)[];
  /** Task rows left out for want of a patient. */
  rowsWithoutPatient: number;
  /** Tables with augmented copies: the copy index of each row, and each patient's augmented rows (copies >= 1), ascending. */
  augmented?: {copyOfRow: Int32Array; rowsByPatient: Map<string, number[]>; maxCopy: number};
}

/** The column of augmented copies in an augmented embedding table (0: the image itself). */
export const AUGMENTATION_COLUMN = "augmentation";

export interface PatientSet extends ProbeRows {
  /** Patients asked for that have rows in the task. */
  patients: string[];
  /** Patients asked for that have none. */
  missing: string[];
}

export function taskData(table: EmbeddingTableData, task: ProbeTask, group: string, source = "the embeddings table"): TaskData {
  const n = table.ids.length;
  if (table.embeddings.length !== n * table.embedDim) throw new Error(`${source}: ${table.embeddings.length} embedding values for ${n} rows of ${table.embedDim}`);
  const labelColumn = table.columns.find((c) => c.name === task.column);
  if (!labelColumn) throw new Error(`${source}: no column "${task.column}"`);
  const groupColumn = table.columns.find((c) => c.name === group);
  if (!groupColumn) {
    throw new Error(`${source}: no column "${group}" to group rows by patient; its columns are ${table.columns.map((c) => c.name).join(", ") || "(none)"} (--group names another)`);
  }
  const labels = new Int32Array(n);
  const rowsByPatient = new Map<string, number[]>();
  const copyColumn = table.columns.find((c) => c.name === AUGMENTATION_COLUMN);
  const copyOfRow = copyColumn ? new Int32Array(n) : null;
  const augmentedRows = new Map<string, number[]>();
  let maxCopy = 0;
  const patientOfRow: (string | null)[] = [];
  let rowsWithoutPatient = 0;
  for (let i = 0; i < n; i++) {
    const raw = groupColumn.values[i];
    const patient = raw === null || raw === undefined || raw === "" ? null : String(raw);
    patientOfRow.push(patient);
    const label = task.classOf(labelColumn.values[i] ?? null);
    labels[i] = label;
    if (label < 0) continue;
    if (patient === null) {
      labels[i] = -1;
      rowsWithoutPatient += 1;
      continue;
    }
    for (let k = 0; k < table.embedDim; k++) {
      if (!Number.isFinite(table.embeddings[i * table.embedDim + k]!)) throw new Error(`${source}: row ${i} (${table.ids[i]}) has a non-finite embedding value at ${k}`);
    }
    const key = patientKey(patient);
    let target = rowsByPatient;
    if (copyOfRow) {
      const copy = copyColumn!.values[i];
      if (typeof copy !== "number" || !Number.isInteger(copy) || copy < 0) throw new Error(`${source}: row ${i} (${table.ids[i]}) has augmentation ${JSON.stringify(copy)}; expected 0 (the image) or a copy number`);
      copyOfRow[i] = copy;
      if (copy > 0) {
        target = augmentedRows;
        maxCopy = Math.max(maxCopy, copy);
      }
    }
    const list = target.get(key);
    if (list) list.push(i);
    else target.set(key, [i]);
  }
  const data: TaskData = {task, embeddings: table.embeddings, dim: table.embedDim, labels, rowsByPatient, patientOfRow, rowsWithoutPatient};
  if (copyOfRow) data.augmented = {copyOfRow, rowsByPatient: augmentedRows, maxCopy};
  return data;
}

/** The task rows of the given patients, in table order (copy 0 only when the table holds augmented copies). */
export function patientSet(data: TaskData, patients: readonly string[]): PatientSet {
  return rowsOfPatients(data, patients, data.rowsByPatient, () => true);
}

/**
 * A training set: with `copies` > 0, the patients' augmented copies 1..copies (not the
 * images themselves, as the official notebooks store them); else their images.
 */
export function trainingSet(data: TaskData, patients: readonly string[], copies: number): PatientSet {
  if (copies <= 0) return patientSet(data, patients);
  const augmented = data.augmented;
  if (!augmented || augmented.maxCopy < copies) throw new Error(`probe: ${copies} augmented copies asked for; the table holds ${augmented?.maxCopy ?? 0}`);
  const set = rowsOfPatients(data, patients, augmented.rowsByPatient, (row) => augmented.copyOfRow[row]! <= copies);
  const images = patientSet(data, patients).rows.length;
  if (set.rows.length !== images * copies) {
    throw new Error(`probe: the table holds ${set.rows.length} augmented copies (1..${copies}) of ${images} training images, not ${images * copies}; embed them with \`fetalclip embed-dataset --augment ${copies}\` or give --model and --dataset`);
  }
  return set;
}

function rowsOfPatients(data: TaskData, patients: readonly string[], byPatient: Map<string, number[]>, keep: (row: number) => boolean): PatientSet {
  const rows: number[] = [];
  const found: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const p of patients) {
    const key = patientKey(p);
    if (seen.has(key)) continue;
    seen.add(key);
    const list = byPatient.get(key);
    if (list) {
      found.push(p);
      for (const row of list) if (keep(row)) rows.push(row);
    } else missing.push(p);
  }
  rows.sort((a, b) => a - b);
  const r = Int32Array.from(rows);
  return {embeddings: data.embeddings, dim: data.dim, rows: r, labels: r.map((i) => data.labels[i]!), patients: found, missing};
}
