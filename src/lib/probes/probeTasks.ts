// What a probe learns: a label column of the embedding table, its classes in index
// order, and the paper's few-shot settings. The two tasks of FetalCLIP's probing and
// few-data scripts (utils.py) are presets; any other column is a task of its own.
import type {EmbeddingTableData} from "../embeddingTable.js";

export interface ProbeTask {
  /** The task's name in reports: "six-planes", "brain-subplanes" or the column's name. */
  name: string;
  /** The table column the labels come from. */
  column: string;
  /** Class names in index order. */
  classes: string[];
  /** The class index of a column value, or -1 to leave the row out. */
  classOf(value: string | number | null): number;
  /** Few-shot patient counts the paper runs for this task. */
  defaultShots: number[];
  /** Few-shot learning rate (paper mode). */
  fewShotLearningRate: number;
}

/**
 * FETAL_PLANES_DB's six classes in the official index order (Other 0, Fetal abdomen 1,
 * Fetal brain 2, Maternal cervix 3, Fetal femur 4, Fetal thorax 5), named as the
 * project's plane column names them ("heart" is FETAL_PLANES_DB's Fetal thorax, as in
 * FetalCLIP's prompts). Every other plane (the phantom's kidney, spine, lips/nose and
 * profile views; FETAL_PLANES_DB's "other") is Other.
 */
export const SIX_PLANES_CLASSES = ["other", "abdomen", "brain", "cervix", "femur", "heart"] as const;

/** Brain sub-planes in the official index order (Trans-thalamic 0, Trans-cerebellum 1, Trans-ventricular 2). */
export const BRAIN_SUBPLANES_CLASSES = ["trans-thalamic", "trans-cerebellum", "trans-ventricular"] as const;

export const SIX_PLANES_TASK: ProbeTask = {
  name: "six-planes",
  column: "plane",
  classes: [...SIX_PLANES_CLASSES],
  classOf(value) {
    if (value === null || value === "") return -1;
    const i = (SIX_PLANES_CLASSES as readonly string[]).indexOf(String(value));
    return i >= 0 ? i : 0;
  },
  // few_data_training/classification_six_fetal_planes/train_fetalclip.py runs 2..64 ("128" is in the JSON, not run).
  defaultShots: [2, 4, 8, 16, 32, 64],
  fewShotLearningRate: 3e-4
};

export const BRAIN_SUBPLANES_TASK: ProbeTask = {
  name: "brain-subplanes",
  column: "sub_plane",
  classes: [...BRAIN_SUBPLANES_CLASSES],
  // Rows that are not brain images, or brain planes of no sub-plane ("other"), are dropped, as utils.py drops them.
  classOf: (value) => (BRAIN_SUBPLANES_CLASSES as readonly string[]).indexOf(String(value)),
  defaultShots: [4, 8, 16, 32, 64],
  fewShotLearningRate: 1e-4
};

export const PROBE_TASKS: Readonly<Record<string, ProbeTask>> = {"six-planes": SIX_PLANES_TASK, "brain-subplanes": BRAIN_SUBPLANES_TASK};

/** Most classes a column task may have: a label column, not an id column. */
export const MAX_COLUMN_CLASSES = 256;

/**
 * The task of a preset name ("six-planes", "brain-subplanes") or of any label column of
 * the table: its distinct non-empty values, sorted, are the classes.
 */
export function probeTask(label: string, table: Pick<EmbeddingTableData, "columns">, source = "the embeddings table"): ProbeTask {
  const preset = PROBE_TASKS[label];
  const column = table.columns.find((c) => c.name === (preset?.column ?? label));
  if (!column) {
    const names = table.columns.map((c) => c.name).join(", ");
    throw new Error(`${source}: no column "${preset?.column ?? label}"${preset ? ` (task ${label})` : ""}; its columns are ${names || "(none)"}`);
  }
  if (preset) return preset;
  const values = [...new Set(column.values.filter((v) => v !== null && v !== "").map(String))].sort();
  if (values.length < 2) throw new Error(`${source}: column "${label}" has ${values.length} distinct value(s); a probe needs at least 2 classes`);
  if (values.length > MAX_COLUMN_CLASSES) throw new Error(`${source}: column "${label}" has ${values.length} distinct values, over ${MAX_COLUMN_CLASSES}; is it a label column?`);
  const index = new Map(values.map((v, i) => [v, i]));
  return {
    name: label,
    column: label,
    classes: values,
    classOf: (value) => (value === null || value === "" ? -1 : index.get(String(value)) ?? -1),
    defaultShots: [2, 4, 8, 16, 32, 64],
    fewShotLearningRate: 3e-4
  };
}
