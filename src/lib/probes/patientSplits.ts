// Patient-level splits for probes, in the structure of FetalCLIP's released split files:
// - probing: train_val_split.json = {"0".."4": [train_pids, val_pids]}, five folds whose
//   validation lists partition the train-val patients;
// - few-data: train_val_split.json = {"N": five [train_pids, val_pids] support sets},
//   N patients in each list;
// - test_split.json = the list of test patients, the same for every run.
// Readers for those files (parsed JSON in, errors naming the file), and the same
// structure drawn with a seed for any dataset with a patient column.
import {createRng} from "../random.js";

export interface PatientFold {
  train: string[];
  val: string[];
}

/** The support sets of one few-shot patient count. */
export interface FewShotSupports {
  patients: number;
  supports: PatientFold[];
}

export interface PatientSplits {
  test: string[];
  folds: PatientFold[];
  fewShot: FewShotSupports[];
}

export type SplitFile =
  | {kind: "probing"; folds: PatientFold[]}
  | {kind: "few-shot"; counts: FewShotSupports[]}
  | {kind: "test"; patients: string[]};

/**
 * The key a patient id is matched by: FETAL_PLANES_DB's split files say "Patient00305"
 * where its CSV's Patient_num says "305", and HC18's say "5" and "005" for one subject
 * (the official scripts compare them as integers). Numbers with or without a "Patient"
 * prefix and leading zeros become the bare integer; other ids stay as they are, trimmed.
 */
export function patientKey(id: string | number): string {
  const text = String(id).trim();
  const m = /^(?:patient[ _-]?)?0*(\d+)$/i.exec(text);
  return m ? m[1]! || "0" : text;
}

function idList(value: unknown, file: string, where: string): string[] {
  if (!Array.isArray(value)) throw new Error(`${file}: ${where} should be a list of patient ids`);
  return value.map((id, i) => {
    if (typeof id === "string" && id.trim() !== "") return id;
    if (typeof id === "number" && Number.isInteger(id)) return String(id);
    throw new Error(`${file}: ${where}[${i}] is not a patient id (${JSON.stringify(id)})`);
  });
}

function fold(value: unknown, file: string, where: string): PatientFold {
  if (!Array.isArray(value) || value.length !== 2) throw new Error(`${file}: ${where} should be [train_ids, val_ids]`);
  const train = idList(value[0], file, `${where}[0]`);
  const val = idList(value[1], file, `${where}[1]`);
  const trainKeys = new Set(train.map(patientKey));
  const both = val.filter((id) => trainKeys.has(patientKey(id)));
  if (both.length > 0) throw new Error(`${file}: ${where}: patient ${both[0]} is in both its train and val lists`);
  return {train, val};
}

/**
 * Reads one split file (already parsed): a list (or an {id: "test"} object) of test
 * patients, probing folds keyed "0".."k", or few-shot support sets keyed by patient count.
 */
export function parseSplitFile(json: unknown, file: string): SplitFile {
  if (Array.isArray(json)) {
    const patients = idList(json, file, "the test list");
    if (patients.length === 0) throw new Error(`${file}: the test list is empty`);
    return {kind: "test", patients};
  }
  if (json === null || typeof json !== "object") throw new Error(`${file}: expected a list of test patients or an object of splits`);
  const entries = Object.entries(json as Record<string, unknown>);
  if (entries.length === 0) throw new Error(`${file}: no splits in the file`);
  if (entries.every(([, v]) => typeof v === "string")) return {kind: "test", patients: entries.map(([k]) => k)};
  for (const [key] of entries) {
    if (!/^\d+$/.test(key)) throw new Error(`${file}: key "${key}" is neither a fold number nor a patient count`);
  }
  // Few-shot values are lists of [train, val] pairs; probing values are one pair.
  const isFewShot = entries.every(([, v]) => Array.isArray(v) && v.length > 0 && v.every((s) => Array.isArray(s) && s.length === 2 && Array.isArray(s[0])));
  if (isFewShot) {
    const counts = entries
      .map(([key, value]) => {
        const patients = Number(key);
        if (patients < 1) throw new Error(`${file}: patient count "${key}" should be at least 1`);
        const supports = (value as unknown[]).map((s, i) => fold(s, file, `"${key}"[${i}]`));
        return {patients, supports};
      })
      .sort((a, b) => a.patients - b.patients);
    return {kind: "few-shot", counts};
  }
  const keys = entries.map(([k]) => Number(k)).sort((a, b) => a - b);
  if (keys.some((k, i) => k !== i)) throw new Error(`${file}: fold keys should be "0".."${entries.length - 1}", got ${entries.map(([k]) => `"${k}"`).join(", ")}`);
  const folds = keys.map((k) => fold((json as Record<string, unknown>)[String(k)], file, `fold "${k}"`));
  return {kind: "probing", folds};
}

export interface DrawSplitOptions {
  seed: string | number;
  /** Probing folds (default 5, as the official splits). */
  folds?: number;
  /** Few-shot patient counts; those needing more than the pool (2N patients) are left out. */
  counts?: readonly number[];
  /** Support sets per count (default 5). */
  supports?: number;
}

/**
 * Folds and few-shot support sets drawn with a seed from the train-val patients (test
 * patients given): the validation lists of the folds partition the pool; each support
 * set takes N training and N validation patients from a fresh shuffle of the pool.
 */
export function drawPatientSplits(trainVal: readonly string[], test: readonly string[], options: DrawSplitOptions): PatientSplits {
  const k = options.folds ?? 5;
  const supportsPerCount = options.supports ?? 5;
  const pool = [...new Set(trainVal)].sort();
  const testKeys = new Set(test.map(patientKey));
  const overlap = pool.find((p) => testKeys.has(patientKey(p)));
  if (overlap !== undefined) throw new Error(`drawPatientSplits: patient ${overlap} is both a test and a train-val patient`);
  if (pool.length < 2) throw new Error(`drawPatientSplits: ${pool.length} train-val patient(s); folds need at least 2`);
  const rng = createRng(options.seed);
  const folds: PatientFold[] = [];
  const shuffled = rng.fork("folds").shuffle([...pool]);
  const foldCount = Math.min(k, pool.length);
  for (let f = 0; f < foldCount; f++) {
    const from = Math.floor((f * pool.length) / foldCount), to = Math.floor(((f + 1) * pool.length) / foldCount);
    folds.push({train: [...shuffled.slice(0, from), ...shuffled.slice(to)], val: shuffled.slice(from, to)});
  }
  const fewShot: FewShotSupports[] = [];
  for (const n of [...(options.counts ?? [])].sort((a, b) => a - b)) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`drawPatientSplits: patient count ${n} should be a positive integer`);
    if (2 * n > pool.length) continue;
    const supports: PatientFold[] = [];
    for (let s = 0; s < supportsPerCount; s++) {
      const draw = rng.fork(`few-shot/${n}/${s}`).shuffle([...pool]);
      supports.push({train: draw.slice(0, n), val: draw.slice(n, 2 * n)});
    }
    fewShot.push({patients: n, supports});
  }
  return {test: [...test], folds, fewShot};
}

/** Test patients drawn with a seed: `fraction` of the patients (FETAL_PLANES_DB's official test split holds half). */
export function drawTestPatients(patients: readonly string[], fraction: number, seed: string | number): string[] {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`drawTestPatients: fraction ${fraction} should be between 0 and 1`);
  const pool = [...new Set(patients)].sort();
  const count = Math.max(1, Math.min(pool.length - 1, Math.round(pool.length * fraction)));
  return createRng(seed).fork("test").shuffle(pool).slice(0, count).sort();
}
