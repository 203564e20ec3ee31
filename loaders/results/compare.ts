// compare.json, the Compare page's artifact: one row per (model, dataset) with the zero-shot
// and GA metrics and their 95% CIs, all from the core with the same bootstrap settings
// (zeroShotMetrics, gaMetrics: 10,000 resamples, seed 42): every bundle on the phantom's
// held-out patients and, when a reference folder is configured, FetalCLIP's released outputs
// beside the numbers its own scripts printed.
import {gaMetrics} from "../../src/lib/tasks/gestationalAge.js";
import {zeroShotMetrics} from "../../src/lib/tasks/zeroShot.js";
import {modelRuns, paperOutputs, PHANTOM_TEST_NAME, referenceDir, resultsKey, withoutPath} from "./sources.js";

export const COMPARE_FORMAT = "fetalclip-explorer/compare@1";

/** One score with its interval; `reported` is a published number for the same predictions. */
export interface ComparedScore {
  value: number;
  ci95: [number, number];
  n: number;
  reported: number | null;
}

export interface CompareRow {
  id: string;
  /** The bundle folder (the project config's model name, as the Probes page's artifact keys it), or null for released outputs. */
  bundle: string | null;
  model: string;
  dataset: string;
  /** "project": scored from this project's own run of the model; "released": from FetalCLIP's released outputs. */
  kind: "project" | "released";
  planesMacroF1: ComparedScore | null;
  subPlanesMacroF1: ComparedScore | null;
  gaVpr: ComparedScore | null;
  /** Mean |predicted - WHO median GA of the true HC|, days. */
  gaMaeDays: number | null;
  /** Mean |predicted - true GA|, days, where the true GA is known (the phantom). */
  gaMaeTrueDays: number | null;
  note: string;
}

export interface CompareArtifact {
  format: typeof COMPARE_FORMAT;
  rows: CompareRow[];
  skipped: {source: string; error: string}[];
  bootstrap: {resamples: number; seed: number};
  key: string;
}

const BOOTSTRAP = {resamples: 10_000, seed: 42};

function zeroShotScore(trueLabels: readonly string[], predicted: readonly string[], classes: readonly string[], reported: number | null): ComparedScore {
  const m = zeroShotMetrics(trueLabels, predicted, classes, BOOTSTRAP);
  return {value: m.macroF1, ci95: m.ci95, n: m.n, reported};
}

export async function buildCompare(log: (m: string) => void): Promise<CompareArtifact> {
  const key = resultsKey();
  const rows: CompareRow[] = [];
  const {runs, skipped} = await modelRuns(log);
  for (const run of runs) {
    const {planes, subPlanes, ga} = run.evaluation.details;
    const gam = gaMetrics(ga.dotProducts.map((dotProducts, i) => ({trueHcMm: ga.trueHcMm[i]!, dotProducts})), {gaDays: ga.binDays, ...BOOTSTRAP});
    const scored = gam.predictions.filter((p) => p.scored);
    rows.push({
      id: `${run.id}-phantom`,
      bundle: run.id,
      model: run.name,
      dataset: PHANTOM_TEST_NAME,
      kind: "project",
      planesMacroF1: zeroShotScore(planes.trueLabels, planes.predicted, planes.classes, null),
      subPlanesMacroF1: zeroShotScore(subPlanes.trueLabels, subPlanes.predicted, subPlanes.classes, null),
      gaVpr: {value: gam.vpr, ci95: gam.ci95, n: gam.n, reported: null},
      gaMaeDays: gam.maeDays,
      gaMaeTrueDays: scored.reduce((sum, p) => sum + Math.abs(p.predictedGaDays - ga.trueGaDays[p.index]!), 0) / scored.length,
      note: "this project's run of the bundle (zero-shot and GA with FetalCLIP's prompts and rules)"
    });
  }
  const dir = referenceDir();
  if (dir) {
    try {
      const paper = paperOutputs(dir)!;
      const gam = gaMetrics(paper.ga.rows, {gaDays: paper.ga.gaDays, ...BOOTSTRAP});
      rows.push({
        id: "fetalclip-paper",
        bundle: null,
        model: "FetalCLIP (released outputs)",
        dataset: "FETAL_PLANES_DB (zero-shot) · HC18 (GA)",
        kind: "released",
        planesMacroF1: zeroShotScore(paper.fivePlanes.predictions.trueLabels, paper.fivePlanes.predictions.predictedLabels, paper.fivePlanes.classes, paper.fivePlanes.results.macroF1),
        subPlanesMacroF1: zeroShotScore(paper.brainSubplanes.predictions.trueLabels, paper.brainSubplanes.predictions.predictedLabels, paper.brainSubplanes.classes, paper.brainSubplanes.results.macroF1),
        gaVpr: {value: gam.vpr, ci95: gam.ci95, n: gam.n, reported: paper.gaReported.vpr},
        gaMaeDays: gam.maeDays,
        gaMaeTrueDays: null,
        note: "FetalCLIP's released per-image predictions and GA dot products, scored with the project's metrics; 'reported' is what FetalCLIP's own scripts printed"
      });
    } catch (error) {
      const message = withoutPath((error as Error).message, dir);
      log(`compare: the released outputs: skipped: ${message}`);
      skipped.push({source: "FetalCLIP (released outputs)", error: message});
    }
  }
  return {format: COMPARE_FORMAT, rows, skipped, bootstrap: BOOTSTRAP, key};
}
