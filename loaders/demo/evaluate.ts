// The demo model's acceptance numbers, computed with the project's own TS
// pipeline (preprocess -> ONNX image/text encoders -> zero-shot / GA scoring)
// on the phantom's held-out patients, scored as FetalCLIP's scripts score them:
// - five planes: macro F1 over the 5 target planes, top-1 over 9 prompt classes;
// - brain sub-planes: macro F1 over the 3 sub-planes;
// - GA: valid-prediction rate of the 875-prompt method on brain images.
//
//   npx tsx loaders/demo/evaluate.ts --bundle models/fetalclip-demo [--phantom data/phantom] [--split test] [--out report.json]
//   npx tsx loaders/demo/evaluate.ts --source models/sources/fetalclip-demo   (imports into data/cache first)
import {writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {parseArgs} from "node:util";
import type {ClassificationScores, ConfusionMatrix, ValidPredictionRate} from "../../src/lib/metrics.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {batch1LatencyMs, encodeImageFiles, zeroShotClassify, zeroShotGa} from "../evaluation/zeroShotEval.js";
import {importModel} from "../importer.js";
import {loadNodeModel} from "../nodeModel.js";
import {readPhantomManifest} from "../phantomDataset.js";
import {SCORED_PLANES} from "./prepare.js";

/** Acceptance targets of the embedded demo model (on held-out phantom patients). */
export const DEMO_TARGETS = {planesMacroF1: 0.9, subPlanesMacroF1: 0.75, gaValidRate: 0.8} as const;

export interface DemoEvaluationOptions {
  bundleDir: string;
  phantomDir: string;
  split?: "train" | "val" | "test";
  threads?: number;
  log?: (message: string) => void;
}

export interface DemoEvaluation {
  bundle: string;
  split: string;
  images: number;
  planes: {scores: ClassificationScores; confusion: ConfusionMatrix};
  subPlanes: {scores: ClassificationScores; confusion: ConfusionMatrix};
  ga: {vpr: ValidPredictionRate; meanAbsErrorDays: number; distinctSpacings: number};
  /** Median image-encoder latency at batch 1 (ms) in onnxruntime-node on this machine. */
  imageEncoderMsBatch1: number;
  pass: {planes: boolean; subPlanes: boolean; ga: boolean};
  seconds: number;
}

export async function evaluateDemo(options: DemoEvaluationOptions): Promise<DemoEvaluation> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const split = options.split ?? "test";
  const phantomDir = resolve(options.phantomDir);
  const samples = readPhantomManifest(phantomDir).filter((s) => s.split === split);
  if (samples.length === 0) throw new Error(`${phantomDir}/manifest.json: no samples in split "${split}"`);
  const {model} = await loadNodeModel(options.bundleDir, {ep: "cpu", threads: options.threads});
  log(`${samples.length} ${split} images; bundle ${model.manifest.id} (${model.imageSize} px)`);
  const {embeds, sizes} = await encodeImageFiles(model, samples.map((s) => join(phantomDir, s.file)), log);

  // Five planes: images of the 5 target planes, predictions over all 9 prompt classes.
  const planeRows = samples.flatMap((s, i) => ((SCORED_PLANES as readonly string[]).includes(s.plane) ? [i] : []));
  const planeResult = await zeroShotClassify(model, planeRows.map((i) => embeds[i]!), planeRows.map((i) => samples[i]!.plane), FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  const brainRows = samples.flatMap((s, i) => (s.plane === "brain" && s.subPlane ? [i] : []));
  const subResult = await zeroShotClassify(model, brainRows.map((i) => embeds[i]!), brainRows.map((i) => samples[i]!.subPlane!), BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS);
  const ga = await zeroShotGa(model, brainRows.map((i) => {
    const s = samples[i]!;
    return {embed: embeds[i]!, width: sizes[i]![0], height: sizes[i]![1], pixelSizeMm: s.spacingMmPerPx, trueHcMm: s.hcMm, trueGaDays: s.gaDays};
  }), log);
  const vpr = ga.vpr;
  const planes = planeResult.scores;
  const subPlanes = subResult.scores;
  const imageEncoderMsBatch1 = await batch1LatencyMs(model);
  return {
    bundle: resolve(options.bundleDir),
    split,
    images: samples.length,
    planes: {scores: planes, confusion: planeResult.confusion},
    subPlanes: {scores: subPlanes, confusion: subResult.confusion},
    ga: {vpr, meanAbsErrorDays: ga.meanAbsErrorDays ?? Number.NaN, distinctSpacings: ga.distinctSpacings},
    imageEncoderMsBatch1,
    pass: {
      planes: planes.macroF1 >= DEMO_TARGETS.planesMacroF1,
      subPlanes: subPlanes.macroF1 >= DEMO_TARGETS.subPlanesMacroF1,
      ga: vpr.rate >= DEMO_TARGETS.gaValidRate
    },
    seconds: (Date.now() - started) / 1000
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({
    options: {
      bundle: {type: "string"},
      source: {type: "string"},
      phantom: {type: "string", default: "data/phantom"},
      split: {type: "string", default: "test"},
      threads: {type: "string", default: "2"},
      out: {type: "string"}
    }
  });
  const log = (m: string) => console.error(m);
  let bundleDir = values.bundle;
  if (!bundleDir) {
    if (!values.source) throw new Error("give --bundle DIR (an imported bundle) or --source DIR (weights.pt, config.json, merges.txt)");
    bundleDir = resolve("data/cache/demo-eval-bundle");
    await importModel({
      weights: join(values.source, "weights.pt"), config: join(values.source, "config.json"), vocab: join(values.source, "merges.txt"),
      outDir: bundleDir, id: "fetalclip-demo-eval", log
    });
  }
  const result = await evaluateDemo({
    bundleDir, phantomDir: values.phantom!, split: values.split as DemoEvaluationOptions["split"], threads: Number(values.threads), log
  });
  const summary = {
    split: result.split,
    planesMacroF1: result.planes.scores.macroF1,
    planesF1: Object.fromEntries(result.planes.scores.classes.map((c, i) => [c, result.planes.scores.f1[i]])),
    subPlanesMacroF1: result.subPlanes.scores.macroF1,
    gaValidRate: result.ga.vpr.rate,
    gaCi95: result.ga.vpr.ci95,
    gaScored: result.ga.vpr.count,
    gaMeanAbsErrorDays: result.ga.meanAbsErrorDays,
    imageEncoderMsBatch1: result.imageEncoderMsBatch1,
    pass: result.pass,
    seconds: result.seconds
  };
  console.log(JSON.stringify(summary, null, 2));
  if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
}
