// A probe task's view of an embedding table: the rows that have a class, grouped by
// patient (matched by patientKey, so split files' "Patient00305" finds CSV patient
// "305"), and the training/validation/test sets of given patient lists.
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
}

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
    const list = rowsByPatient.get(key);
    if (list) list.push(i);
    else rowsByPatient.set(key, [i]);
  }
  return {task, embeddings: table.embeddings, dim: table.embedDim, labels, rowsByPatient, patientOfRow, rowsWithoutPatient};
}

/** The task rows of the given patients, in table order. */
export function patientSet(data: TaskData, patients: readonly string[]): PatientSet {
  const rows: number[] = [];
  const found: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const p of patients) {
    const key = patientKey(p);
    if (seen.has(key)) continue;
    seen.add(key);
    const list = data.rowsByPatient.get(key);
    if (list) {
      found.push(p);
      rows.push(...list);
    } else missing.push(p);
  }
  rows.sort((a, b) => a - b);
  const r = Int32Array.from(rows);
  return {embeddings: data.embeddings, dim: data.dim, rows: r, labels: r.map((i) => data.labels[i]!), patients: found, missing};
}
