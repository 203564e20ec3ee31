// A probe report for one task of one embedding table: the full-data linear probe
// (folds x runs, as FetalCLIP's probing scripts) and the few-shot curve (patient counts x
// support sets x runs, as its few-data scripts), on patient-level splits from the
// released files or drawn with a seed. What `fetalclip probe` prints and the Probes
// page's loader calls; isomorphic, synchronous.
import type {EmbeddingTableData} from "../embeddingTable.js";
import {createRng} from "../random.js";
import {OFFICIAL_AUGMENT_COPIES} from "./augmentChoice.js";
import {fewShotCurve, perClassMeans, testProbeScores, type CurvePoint} from "./fewShot.js";
import {fitProbe, testProbe, type FitSettings, type ProbeMode} from "./fitProbe.js";
import {FEW_SHOT_SETTINGS, PROBING_SETTINGS, type PaperProbeSettings} from "./linearProbe.js";
import {FAST_SETTINGS, type FastProbeSettings} from "./logisticRegression.js";
import {drawPatientSplits, drawTestPatients, patientKey, type FewShotSupports, type PatientFold} from "./patientSplits.js";
import {patientSet, taskData, trainingSet, type TaskData} from "./probeData.js";
import {meanStd} from "./probeScores.js";
import {probeTask} from "./probeTasks.js";
import {zeroShotSetup} from "./zeroShotReference.js";
import {classificationScores, confusionMatrix} from "../metrics.js";
import {aurocWithCi, rocCurve} from "./roc.js";

export interface ZeroShotReference {
  /** Zero-shot macro F1 on the same test patients, scored as FetalCLIP's zero-shot scripts score it. */
  macroF1: number;
  /** Per-class zero-shot F1 (the true classes it scores). */
  f1?: Record<string, number>;
  /** How it was scored, in words. */
  note?: string;
}

export interface ProbeOptions {
  /** "six-planes", "brain-subplanes" (the paper's tasks) or any label column. */
  label: string;
  /** Column of patient ids (default "patient"): every split is by patient. */
  group?: string;
  mode?: ProbeMode;
  seed?: string | number;
  /** Runs per fold and per support set (default 5; fast mode runs once, it is deterministic). */
  runs?: number;
  /** Few-shot patient counts (default: the task's counts in the paper, as far as the splits hold them). */
  shots?: readonly number[];
  /** Splits from FetalCLIP's released files (parsed with parseSplitFile); what is missing is drawn with the seed. */
  splits?: {test?: readonly string[]; folds?: readonly PatientFold[]; fewShot?: readonly FewShotSupports[]};
  /** Share of patients drawn for testing when neither a test split nor a `split` column says (default 0.5, as FETAL_PLANES_DB's). */
  testFraction?: number;
  /** Folds drawn when no probing split file is given (default 5). */
  folds?: number;
  /** Skip the full-data probe or the few-shot curve. */
  full?: boolean;
  curve?: boolean;
  /** Binary tasks: the positive class (default: the one not named normal, negative, healthy, control, no, false, 0 or absent; else the second). */
  positive?: string;
  /** The zero-shot reference: a value, or a function of the test rows (table row indices) that scores it there. */
  zeroShot?: ZeroShotReference | null | ((testRows: Int32Array) => ZeroShotReference | null);
  /**
   * Augmented copies per training image (a table from embed-dataset --augment): `full` for
   * the full-data probe, `fewShot` for the curve; 0 trains on the images themselves.
   * Default for such a table: the official 5 and 10, as far as the table holds them.
   */
  augment?: {full: number; fewShot: number};
  /** Bootstrap resamples for the AUROC CI (default 2000). */
  resamples?: number;
  /** Overrides of the paper's settings (tests and benchmarks use fewer epochs). */
  settings?: {probing?: Partial<PaperProbeSettings>; fewShot?: Partial<PaperProbeSettings>; fast?: Partial<FastProbeSettings>};
  /** Names the table in errors. */
  source?: string;
  log?: (message: string) => void;
}

export interface FullProbe {
  /** Mean macro F1 over folds x runs. */
  macroF1: number;
  macroF1Std: number;
  meanClassAccuracy: number;
  meanClassAccuracyStd: number;
  accuracy: number;
  /** Mean per-class F1. */
  f1: Record<string, number>;
  /** Mean per-class recall. */
  classAccuracy: Record<string, number>;
  /** Test predictions summed over every fit: counts[true][predicted] in `classes` order (each test image once per fit). */
  confusion: {classes: string[]; counts: number[][]};
  /** Fits: folds x runs. */
  runs: number;
  folds: number;
  /** Macro F1 of each fit, fold by fold. */
  values: number[];
  /** Paper mode: the kept epoch of each fit; fast mode: the kept L2 penalty. */
  selected: number[];
  trainImages: number;
  /**
   * The paper's tasks: the same fits scored by the zero-shot rule, so the two compare on
   * one footing - only test images of the classes zero-shot scores (six planes: not Other),
   * macro F1 over those true classes, any other prediction a miss.
   */
  scoredAsZeroShot?: {macroF1: number; macroF1Std: number; f1: Record<string, number>; images: number};
}

export interface ProbeAuroc {
  positive: string;
  /** AUROC of the positive-class probability averaged over the fits, per test image. */
  auroc: number;
  /** Percentile bootstrap 95% CI, test patients resampled (seeded). */
  ci95: [number, number];
  resamples: number;
  /** AUROC of each fit: mean and std. */
  perRun: {mean: number; std: number};
  /** The ROC curve of the averaged probability. */
  roc: {fpr: number[]; tpr: number[]};
  positives: number;
  negatives: number;
}

export interface ProbeReport {
  /** The task: "six-planes", "brain-subplanes" or the label column. */
  label: string;
  column: string;
  classes: string[];
  mode: ProbeMode;
  seed: string | number;
  group: string;
  /** Task images and patients in the table, and images per class. */
  data: {images: number; patients: number; perClass: Record<string, number>; rowsWithoutPatient: number};
  splits: {
    /** Where the test patients came from: a split file, the table's `split` column, or a seeded draw. */
    test: "file" | "split column" | "seeded";
    folds: "file" | "seeded";
    fewShot: "file" | "seeded";
    testPatients: number;
    testImages: number;
    trainValPatients: number;
    /** Patients named in split files that have no task rows in the table. */
    missingPatients: number;
  };
  protocol: {
    full: PaperProbeSettings | FastProbeSettings;
    fewShot: PaperProbeSettings | FastProbeSettings;
    runs: number;
    /** Augmented copies each training image contributed (0: the images themselves). */
    augment: {full: number; fewShot: number};
  };
  curve: CurvePoint[];
  full: FullProbe | null;
  auroc?: ProbeAuroc;
  zeroShot: ZeroShotReference | null;
  seconds: number;
}

function withOverrides(base: PaperProbeSettings, over: Partial<PaperProbeSettings> | undefined): PaperProbeSettings {
  return {...base, ...(over ?? {})};
}

/** Names of the negative class of a binary label: the other class is the positive one. */
const NEGATIVE_NAMES = new Set(["normal", "negative", "healthy", "control", "no", "false", "0", "absent"]);

/** The positive class of a binary task: the one that is not named as a negative (normal, 0, ...), else the second. */
export function defaultPositive(classes: readonly string[]): number {
  const negative = classes.map((c) => NEGATIVE_NAMES.has(c.trim().toLowerCase()));
  return negative[1] && !negative[0] ? 0 : 1;
}

/** Test patients: a split file, else the table's split column, else a seeded draw from the task's patients. */
function chooseTestPatients(table: Pick<EmbeddingTableData, "columns">, data: TaskData, options: ProbeOptions): {source: ProbeReport["splits"]["test"]; patients: string[]} {
  const splitColumn = table.columns.find((c) => c.name === "split");
  if (options.splits?.test) return {source: "file", patients: [...options.splits.test]};
  if (splitColumn && splitColumn.values.some((v) => v === "test")) {
    const keys = new Set<string>();
    splitColumn.values.forEach((v, i) => {
      const p = data.patientOfRow[i];
      if (v === "test" && p !== null && data.labels[i]! >= 0) keys.add(patientKey(p));
    });
    return {source: "split column", patients: [...keys].sort()};
  }
  const task = data.task.name;
  return {source: "seeded", patients: drawTestPatients([...data.rowsByPatient.keys()], options.testFraction ?? 0.5, `${options.seed ?? 0}/${task}`)};
}

/**
 * The test patients (as patientKey gives them) runProbe will use for a task: known from the
 * table's ids and columns alone, so a job can embed augmented copies of the other patients
 * only. `table.embeddings` may be empty (embedDim 0).
 */
export function probeTestPatients(table: EmbeddingTableData, options: ProbeOptions): Set<string> {
  return taskTestSplit(table, options).test;
}

/**
 * The ids of the rows a probe may train on (task rows of patients outside the test split):
 * the images that need augmented copies. Like probeTestPatients, from ids and columns alone.
 */
export function probeTrainingPool(table: EmbeddingTableData, options: ProbeOptions): Set<string> {
  const {data, test} = taskTestSplit(table, options);
  const pool = new Set<string>();
  for (const [patient, rows] of data.rowsByPatient) if (!test.has(patient)) for (const row of rows) pool.add(table.ids[row]!);
  return pool;
}

/** The task's view of a table and its test patients (by patientKey), as runProbe chooses them. */
function taskTestSplit(table: EmbeddingTableData, options: ProbeOptions): {data: TaskData; test: Set<string>} {
  const source = options.source ?? "the embeddings table";
  const data = taskData(table, probeTask(options.label, table, source), options.group ?? "patient", source);
  return {data, test: new Set(chooseTestPatients(table, data, options).patients.map(patientKey))};
}

/** Augmented copies per training image: as asked, else the official 5 / 10 as far as an augmented table holds them. */
function chooseCopies(data: TaskData, options: ProbeOptions, log: (m: string) => void): {full: number; fewShot: number} {
  const held = data.augmented?.maxCopy ?? 0;
  if (options.augment) {
    for (const [what, n] of Object.entries(options.augment)) {
      if (!Number.isInteger(n) || n < 0) throw new Error(`probe: augment.${what} should be a whole number of copies, got ${n}`);
      if (n > held) throw new Error(`probe: ${n} augmented copies per training image asked for (${what === "full" ? "full data" : "few-shot"}); ${held === 0 ? "the table holds none (make one with `fetalclip embed-dataset --augment N`, or give --model and --dataset)" : `the table holds ${held}`}`);
    }
    return {...options.augment};
  }
  if (held === 0) return {full: 0, fewShot: 0};
  const chosen = {full: Math.min(OFFICIAL_AUGMENT_COPIES.full, held), fewShot: Math.min(OFFICIAL_AUGMENT_COPIES.fewShot, held)};
  log(`probe: the table holds ${held} augmented copies per image; training on ${chosen.full} (full data) and ${chosen.fewShot} (few-shot)`);
  return chosen;
}

/** The probe report of one task of an embedding table. */
export function runProbe(table: EmbeddingTableData, options: ProbeOptions): ProbeReport {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const source = options.source ?? "the embeddings table";
  const mode: ProbeMode = options.mode ?? "paper";
  if (mode !== "paper" && mode !== "fast") throw new Error(`probe: mode "${mode as string}" should be paper or fast`);
  const seed = options.seed ?? 0;
  const runs = options.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`probe: runs should be a positive integer, got ${runs}`);
  const group = options.group ?? "patient";
  const task = probeTask(options.label, table, source);
  const classes = task.classes;
  const data = taskData(table, task, group, source);
  if (data.rowsByPatient.size < 3) throw new Error(`${source}: ${data.rowsByPatient.size} patient(s) with ${task.name} labels; a probe needs at least 3 (test, train, validation)`);
  if (data.rowsWithoutPatient > 0) log(`probe: ${data.rowsWithoutPatient} ${task.name} rows have no "${group}" value and are left out`);
  const taskPatients = [...data.rowsByPatient.keys()];
  const fast: FastProbeSettings = {...FAST_SETTINGS, ...(options.settings?.fast ?? {})};
  let positive: number | undefined;
  if (classes.length === 2) {
    positive = options.positive === undefined ? defaultPositive(classes) : classes.indexOf(options.positive);
    if (positive < 0) throw new Error(`probe: positive class "${options.positive}" is not one of ${classes.join(", ")}`);
  } else if (options.positive !== undefined) throw new Error(`probe: --positive needs a binary label; ${task.name} has ${classes.length} classes`);

  const {source: testSource, patients: testPatients} = chooseTestPatients(table, data, options);
  const augment = chooseCopies(data, options, log);
  const test = patientSet(data, testPatients);
  if (test.rows.length === 0) throw new Error(`${source}: none of the ${testPatients.length} test patients has ${task.name} rows`);
  const testKeys = new Set(test.patients.map(patientKey));
  const pool = taskPatients.filter((p) => !testKeys.has(p)).sort();

  // Folds and support sets: files where given, else drawn from the train-val pool.
  const counts = options.shots ? [...options.shots] : task.defaultShots;
  const drawn = drawPatientSplits(pool, test.patients, {seed: `${seed}/${task.name}`, folds: options.folds ?? 5, counts});
  const folds = options.splits?.folds ? [...options.splits.folds] : drawn.folds;
  let fewShot: FewShotSupports[];
  if (options.splits?.fewShot) {
    const held = new Map(options.splits.fewShot.map((c) => [c.patients, c]));
    const absent = counts.filter((n) => !held.has(n));
    if (options.shots && absent.length > 0) throw new Error(`probe: the few-shot split file holds no support sets for ${absent.join(", ")} patients (it holds ${[...held.keys()].join(", ")})`);
    fewShot = counts.filter((n) => held.has(n)).map((n) => held.get(n)!);
  } else {
    fewShot = drawn.fewShot;
    const dropped = counts.filter((n) => !fewShot.some((c) => c.patients === n));
    if (dropped.length > 0) log(`probe: ${pool.length} train-val patients with ${task.name} rows; few-shot counts ${dropped.join(", ")} need 2N and are left out`);
  }
  // Split-file patients the table does not hold (a subset of the dataset, say).
  const named = new Set<string>();
  for (const f of [...(options.splits?.folds ?? []), ...(options.splits?.fewShot ?? []).flatMap((c) => c.supports)]) for (const p of [...f.train, ...f.val]) named.add(patientKey(p));
  for (const p of options.splits?.test ?? []) named.add(patientKey(p));
  const missingPatients = [...named].filter((p) => !data.rowsByPatient.has(p)).length;
  if (missingPatients > 0) log(`probe: ${missingPatients} of ${named.size} patients in the split files have no ${task.name} rows in ${source}`);
  const leak = folds.flatMap((f) => [...f.train, ...f.val]).find((p) => testKeys.has(patientKey(p)));
  if (leak !== undefined) throw new Error(`probe: patient ${leak} is in a training fold and in the test split`);

  const probingFit: FitSettings = {mode, paper: withOverrides(PROBING_SETTINGS, options.settings?.probing), fast};
  const fewShotFit: FitSettings = {mode, paper: withOverrides({...FEW_SHOT_SETTINGS, learningRate: task.fewShotLearningRate}, options.settings?.fewShot), fast};
  const effectiveRuns = mode === "fast" ? 1 : runs;
  const base = createRng(seed);

  let full: FullProbe | null = null;
  let aurocReport: ProbeAuroc | undefined;
  if (options.full !== false) {
    const values: number[] = [], recall: number[] = [], accuracy: number[] = [], perFitF1: number[][] = [], perFitRecall: number[][] = [], selected: number[] = [], images: number[] = [];
    const confusion = classes.map(() => new Array<number>(classes.length).fill(0));
    const positiveProbability = new Float64Array(test.rows.length);
    const runAurocs: number[] = [];
    // The zero-shot rule's rows (test images of the classes it scores) and their true labels.
    const setup = zeroShotSetup(task.name);
    const zsColumn = setup ? table.columns.find((c) => c.name === setup.column) : undefined;
    const zsAt: number[] = [], zsTrue: string[] = [];
    if (setup && zsColumn) {
      test.rows.forEach((row, i) => {
        const value = zsColumn.values[row];
        if (typeof value === "string" && setup.scored.includes(value)) {
          zsAt.push(i);
          zsTrue.push(value);
        }
      });
    }
    const zsFits: {macroF1: number; f1: Record<string, number>}[] = [];
    let fits = 0;
    folds.forEach((fold, f) => {
      const train = trainingSet(data, fold.train, augment.full);
      const val = patientSet(data, fold.val);
      if (train.rows.length === 0) {
        log(`probe: fold ${f} has no ${task.name} training rows and is left out`);
        return;
      }
      images.push(train.rows.length);
      for (let r = 0; r < effectiveRuns; r++) {
        const fitted = fitProbe(train, val, classes.length, probingFit, base.fork(`${task.name}/full/${f}/${r}`));
        const {scores, probabilities, predicted} = testProbe(fitted.head, test);
        fits += 1;
        if (zsAt.length > 0) {
          const zs = classificationScores(confusionMatrix(zsTrue, zsAt.map((i) => classes[predicted[i]!]!), [...new Set([...classes, ...zsTrue])]));
          zsFits.push({macroF1: zs.macroF1, f1: Object.fromEntries(zs.classes.map((c, k) => [c, zs.f1[k]!]))});
        }
        values.push(scores.macroF1);
        recall.push(scores.meanClassAccuracy);
        accuracy.push(scores.accuracy);
        perFitF1.push(scores.f1);
        perFitRecall.push(scores.classAccuracy);
        selected.push(mode === "paper" ? fitted.bestEpoch! : fitted.penalty!);
        scores.confusion.forEach((row, t) => row.forEach((count, p) => (confusion[t]![p]! += count)));
        if (positive !== undefined) {
          for (let i = 0; i < test.rows.length; i++) positiveProbability[i] += probabilities[i * classes.length + positive]!;
          const result = testProbeScores(fitted.head, test, positive);
          if (result.auroc !== undefined) runAurocs.push(result.auroc);
        }
        log(`probe ${task.name} fold ${f} run ${r}: macro F1 ${scores.macroF1.toFixed(3)} (${mode === "paper" ? `epoch ${fitted.bestEpoch}` : `penalty ${fitted.penalty}`})`);
      }
    });
    if (fits === 0) throw new Error(`${source}: no fold has ${task.name} training rows`);
    const f1 = meanStd(values), acc = meanStd(recall);
    full = {
      macroF1: f1.mean,
      macroF1Std: f1.std,
      meanClassAccuracy: acc.mean,
      meanClassAccuracyStd: acc.std,
      accuracy: meanStd(accuracy).mean,
      f1: perClassMeans(classes, perFitF1),
      classAccuracy: perClassMeans(classes, perFitRecall),
      confusion: {classes: [...classes], counts: confusion},
      runs: fits,
      folds: folds.length,
      values,
      selected,
      trainImages: meanStd(images).mean
    };
    if (zsFits.length > 0) {
      const zsF1 = meanStd(zsFits.map((z) => z.macroF1));
      const names = Object.keys(zsFits[0]!.f1);
      full.scoredAsZeroShot = {
        macroF1: zsF1.mean,
        macroF1Std: zsF1.std,
        f1: Object.fromEntries(names.map((c) => [c, meanStd(zsFits.map((z) => z.f1[c]!)).mean])),
        images: zsAt.length
      };
    }
    if (positive !== undefined) {
      const labels = Array.from(test.labels, (l) => l === positive);
      if (labels.some((l) => l) && labels.some((l) => !l)) {
        const mean = Array.from(positiveProbability, (p) => p / fits);
        const groups = Array.from(test.rows, (row) => patientKey(data.patientOfRow[row]!));
        const ci = aurocWithCi(mean, labels, {groups, seed: `${seed}/${task.name}/auroc`, resamples: options.resamples ?? 2000});
        const roc = rocCurve(mean, labels);
        aurocReport = {
          positive: classes[positive]!,
          auroc: ci.auroc,
          ci95: ci.ci95,
          resamples: ci.resamples,
          perRun: meanStd(runAurocs),
          roc: {fpr: roc.fpr, tpr: roc.tpr},
          positives: ci.positives,
          negatives: ci.negatives
        };
      } else log(`probe: the test patients hold one class only; no AUROC`);
    }
  }

  const curve = options.curve === false ? [] : fewShotCurve(data, fewShot, test, {fit: fewShotFit, runs, seed, positive, copies: augment.fewShot, resamples: options.resamples, log});

  const perClass = Object.fromEntries(classes.map((c) => [c, 0]));
  let images = 0;
  for (const rows of data.rowsByPatient.values()) for (const row of rows) {
    perClass[classes[data.labels[row]!]!]! += 1;
    images += 1;
  }
  const report: ProbeReport = {
    label: task.name,
    column: task.column,
    classes: [...classes],
    mode,
    seed,
    group,
    data: {images, patients: data.rowsByPatient.size, perClass, rowsWithoutPatient: data.rowsWithoutPatient},
    splits: {
      test: testSource,
      folds: options.splits?.folds ? "file" : "seeded",
      fewShot: options.splits?.fewShot ? "file" : "seeded",
      testPatients: test.patients.length,
      testImages: test.rows.length,
      trainValPatients: pool.length,
      missingPatients
    },
    protocol: {full: mode === "paper" ? probingFit.paper : fast, fewShot: mode === "paper" ? fewShotFit.paper : fast, runs: effectiveRuns, augment},
    curve,
    full,
    zeroShot: typeof options.zeroShot === "function" ? options.zeroShot(test.rows) : options.zeroShot ?? null,
    seconds: (performance.now() - started) / 1000
  };
  if (aurocReport) report.auroc = aurocReport;
  return report;
}
