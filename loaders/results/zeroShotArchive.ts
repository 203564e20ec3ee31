// zero-shot-images.zip, the Zero-shot page's drill-down artifact: per source and task,
// every image's true and predicted class, its class probabilities and thumbnail when the
// source has them, and the core's metrics (zeroShotMetrics with bootstrap CIs, top-k
// accuracy). Sources: every bundle on the phantom's held-out patients, and FetalCLIP's
// released FETAL_PLANES_DB predictions when a reference folder is configured (labels
// only: no image names, no probabilities).
import {zipSync} from "fflate";
import {join} from "node:path";
import {topKAccuracy} from "../../src/lib/metrics.js";
import {zeroShotMetrics} from "../../src/lib/tasks/zeroShot.js";
import {
  drilldownImages, ZERO_SHOT_DRILLDOWN_FORMAT, type DrilldownImages, type DrilldownIndex, type DrilldownSource, type DrilldownTask,
  type ReportedScores
} from "../../src/lib/zeroShotDrilldown.js";
import type {ZeroShotImages} from "../demo/evaluate.js";
import type {PaperResults} from "../../src/lib/paperReference.js";
import {PHANTOM_DIR} from "../phantomDataset.js";
import {modelRuns, paperOutputs, PHANTOM_TEST_NAME, referenceDir, resultsKey, withoutPath} from "./sources.js";
import {imageSheet} from "./thumbnails.js";

/** Gallery thumbnails: the Embeddings page's size and depth. */
export const GALLERY_THUMBNAIL = {cell: 48, bits: 4} as const;

const TASK_NAMES = {planes: "Five standard planes (9 prompt classes)", "sub-planes": "Brain sub-planes (3 prompt classes)"} as const;

function metricsWithoutConfusion(trueLabels: readonly string[], predicted: readonly string[], classes: readonly string[]): DrilldownTask["metrics"] {
  const {confusion: _confusion, ...metrics} = zeroShotMetrics(trueLabels, predicted, classes);
  return metrics;
}

function reportedScores(results: PaperResults): ReportedScores {
  const topK = Object.fromEntries(Object.entries(results.columns).flatMap(([h, v]) => (/^acc_top\d+$/.test(h) ? [[h.slice("acc_top".length), v]] : [])));
  return {
    macroF1: results.macroF1,
    meanAccuracy: results.meanAccuracy,
    f1: results.f1,
    accuracy: results.accuracy,
    topK,
    note: "the numbers FetalCLIP's evaluation script printed for these predictions (its results CSV)"
  };
}

export async function buildZeroShotArchive(log: (m: string) => void): Promise<{index: DrilldownIndex; bytes: Uint8Array}> {
  const key = resultsKey();
  const sources: DrilldownSource[] = [];
  const members: Record<string, DrilldownImages> = {};
  const sheets = new Map<string, Uint8Array>();
  const {runs, skipped} = await modelRuns(log);

  for (const run of runs) {
    const {planes, subPlanes} = run.evaluation.details;
    // One sheet of every held-out image either task shows, in first-seen order.
    const ids = [...new Set([...planes.ids, ...subPlanes.ids])];
    const sheetFile = "thumbnails/phantom-test.png";
    const sheet = imageSheet("zero-shot-phantom-test", ids.map((id) => ({id, path: join(PHANTOM_DIR, id)})), {...GALLERY_THUMBNAIL, log});
    sheets.set(sheetFile, sheet.png);
    const id = `${run.id}-phantom`;
    const task = (taskId: DrilldownTask["id"], images: ZeroShotImages): DrilldownTask => {
      const file = `${id}/${taskId}.json`;
      members[file] = drilldownImages(images.classes, images.trueLabels, images.predicted, {
        ids: images.ids,
        cell: images.ids.map((i) => sheet.cellOf.get(i) ?? -1),
        probabilities: images.probabilities
      });
      const ks = Array.from({length: Math.min(3, images.classes.length)}, (_, k) => k + 1);
      return {
        id: taskId,
        name: TASK_NAMES[taskId],
        file,
        n: images.ids.length,
        classes: images.classes,
        probabilities: true,
        metrics: metricsWithoutConfusion(images.trueLabels, images.predicted, images.classes),
        topK: ks.map((k) => topKAccuracy(images.probabilities, images.trueLabels, images.classes, k)),
        reported: null
      };
    };
    sources.push({
      id,
      name: `${run.name} · phantom`,
      model: run.name,
      dataset: PHANTOM_TEST_NAME,
      note: `${run.name} on the phantom's held-out patients, scored by this project with FetalCLIP's prompts and rules.`,
      thumbnails: {file: sheetFile, ...sheet.info},
      tasks: [task("planes", planes), task("sub-planes", subPlanes)]
    });
  }

  const dir = referenceDir();
  if (dir) {
    try {
      const paper = paperOutputs(dir)!;
      const id = "fetalclip-paper-fetal-planes-db";
      const task = (taskId: DrilldownTask["id"], test: typeof paper.fivePlanes): DrilldownTask => {
        const file = `${id}/${taskId}.json`;
        const {trueLabels, predictedLabels} = test.predictions;
        members[file] = drilldownImages(test.classes, trueLabels, predictedLabels);
        return {
          id: taskId,
          name: TASK_NAMES[taskId],
          file,
          n: trueLabels.length,
          classes: test.classes,
          probabilities: false,
          metrics: metricsWithoutConfusion(trueLabels, predictedLabels, test.classes),
          topK: null,
          reported: reportedScores(test.results)
        };
      };
      sources.push({
        id,
        name: "FetalCLIP (released outputs) · FETAL_PLANES_DB",
        model: "FetalCLIP (released outputs)",
        dataset: "FETAL_PLANES_DB (whole database, Other excluded)",
        note: "FetalCLIP's own per-image predictions as its repository released them (test_*_prediction.json), scored here with the project's metrics. The files hold each image's true and predicted class only: no image names (so no pictures) and no class scores (so no probabilities or top-k).",
        thumbnails: null,
        tasks: [task("planes", paper.fivePlanes), task("sub-planes", paper.brainSubplanes)]
      });
    } catch (error) {
      const message = withoutPath((error as Error).message, dir);
      log(`zero-shot: the released predictions: skipped: ${message}`);
      skipped.push({source: "FetalCLIP (released outputs) × FETAL_PLANES_DB", error: message});
    }
  }

  const index: DrilldownIndex = {format: ZERO_SHOT_DRILLDOWN_FORMAT, sources, skipped, key};
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const files: Record<string, [Uint8Array, {level: 0 | 9}]> = {"index.json": [json(index), {level: 9}]};
  for (const [file, images] of Object.entries(members)) files[file] = [json(images), {level: 9}];
  for (const [file, png] of sheets) files[file] = [png, {level: 0}];
  return {index, bytes: zipSync(files, {mtime: new Date("2025-01-01T00:00:00Z")})};
}
