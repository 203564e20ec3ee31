// Zero-shot evaluation of a bundle on real fetal ultrasound datasets in their
// original layout, as FetalCLIP's scripts score them:
// - FETAL_PLANES_DB: five planes (9 prompt classes, 'Other' images left out)
//   and brain sub-planes (images labelled TT / TC / TV);
// - African fetal standard planes: the same five-planes prompts (4 planes present);
// - HC18: zero-shot GA, valid-prediction rate against the WHO HC band.
//
//   npx fetalclip evaluate --model models/fetalclip --planes-db DIR --african DIR --hc18 DIR
import {resolve} from "node:path";
import type {ClipModel} from "../../src/lib/clipModel.js";
import type {ClassificationScores, ConfusionMatrix, ValidPredictionRate} from "../../src/lib/metrics.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {readAfricanPlanes, readFetalPlanesDb, readHc18, type PlaneImage} from "../datasets/realDatasets.js";
import type {ModelVariant} from "../../src/lib/bundle.js";
import {loadNodeModel} from "../nodeModel.js";
import type {ExecutionProvider} from "../session.js";
import {zeroShotGa} from "../../src/lib/tasks/gestationalAge.js";
import {zeroShotClassify} from "../../src/lib/tasks/zeroShot.js";
import {encodeImageFiles, type ImageFailure} from "./imageFiles.js";

export interface ClassificationReport {
  images: number;
  classes: string[];
  macroF1: number;
  f1: Record<string, number>;
  accuracy: number;
  confusion: ConfusionMatrix;
}

export interface GaReport {
  images: number;
  scored: number;
  vpr: ValidPredictionRate;
  distinctSpacings: number;
}

export interface RealDataReport {
  bundle: string;
  datasets: {
    planesDb?: {dir: string; planes: ClassificationReport; subPlanes: ClassificationReport | null; skipped: ImageFailure[]};
    african?: {dir: string; planes: ClassificationReport; skipped: ImageFailure[]};
    hc18?: {dir: string; ga: GaReport; skipped: ImageFailure[]};
  };
  seconds: number;
}

export interface RealDataOptions {
  bundleDir: string;
  planesDbDir?: string;
  africanDir?: string;
  hc18Dir?: string;
  ep?: ExecutionProvider | "auto";
  variant?: ModelVariant;
  threads?: number;
  log?: (message: string) => void;
}

function report(scores: ClassificationScores, confusion: ConfusionMatrix): ClassificationReport {
  return {
    images: scores.count,
    classes: scores.classes,
    macroF1: scores.macroF1,
    f1: Object.fromEntries(scores.classes.map((c, i) => [c, scores.f1[i]!])),
    accuracy: scores.accuracy,
    confusion
  };
}

async function planesReport(model: ClipModel, images: PlaneImage[], log: (m: string) => void) {
  const labelled = images.filter((im) => im.plane !== null);
  if (labelled.length === 0) throw new Error("no images with a FetalCLIP plane label");
  const encoded = await encodeImageFiles(model, labelled.map((im) => im.path), log);
  const {embeds} = encoded;
  if (embeds.length === 0) throw new Error(`none of the ${labelled.length} images could be read (first: ${encoded.failed[0]?.path}: ${encoded.failed[0]?.reason})`);
  const scoredImages = encoded.ok.map((i) => labelled[i]!);
  const planes = await zeroShotClassify(model, embeds, scoredImages.map((im) => im.plane!), FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  const brain = scoredImages.flatMap((im, i) => (im.plane === "brain" && im.subPlane ? [i] : []));
  const subPlanes = brain.length > 0
    ? await zeroShotClassify(model, brain.map((i) => embeds[i]!), brain.map((i) => scoredImages[i]!.subPlane!), BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS)
    : null;
  return {
    planes: report(planes.scores, planes.confusion),
    subPlanes: subPlanes ? report(subPlanes.scores, subPlanes.confusion) : null,
    skipped: encoded.failed
  };
}

/** Runs every dataset given; each must be in its original layout (labels.csv + images/). */
export async function evaluateRealData(options: RealDataOptions): Promise<RealDataReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  if (!options.planesDbDir && !options.africanDir && !options.hc18Dir) throw new Error("evaluateRealData: give at least one dataset folder");
  // Read every labels.csv first: a bad folder fails before the model loads.
  const planesDb = options.planesDbDir ? {dir: resolve(options.planesDbDir), images: readFetalPlanesDb(resolve(options.planesDbDir))} : null;
  const african = options.africanDir ? {dir: resolve(options.africanDir), images: readAfricanPlanes(resolve(options.africanDir))} : null;
  const hc18 = options.hc18Dir ? {dir: resolve(options.hc18Dir), heads: readHc18(resolve(options.hc18Dir))} : null;
  const {model} = await loadNodeModel(options.bundleDir, {ep: options.ep ?? "cpu", variant: options.variant, threads: options.threads, log});
  const datasets: RealDataReport["datasets"] = {};
  if (planesDb) {
    log(`FETAL_PLANES_DB: ${planesDb.dir}`);
    datasets.planesDb = {dir: planesDb.dir, ...(await planesReport(model, planesDb.images, log))};
  }
  if (african) {
    log(`African planes: ${african.dir}`);
    const {planes, skipped} = await planesReport(model, african.images, log);
    datasets.african = {dir: african.dir, planes, skipped};
  }
  if (hc18) {
    log(`HC18: ${hc18.dir}`);
    const {heads} = hc18;
    const {embeds, sizes, ok, failed} = await encodeImageFiles(model, heads.map((h) => h.path), log);
    const ga = await zeroShotGa(model, ok.map((headIndex, k) => {
      const h = heads[headIndex]!;
      return {embed: embeds[k]!, width: sizes[k]![0], height: sizes[k]![1], pixelSizeMm: h.pixelSizeMm, trueHcMm: h.hcMm};
    }), log);
    datasets.hc18 = {dir: hc18.dir, ga: {images: heads.length, scored: ga.scored, vpr: ga.vpr, distinctSpacings: ga.distinctSpacings}, skipped: failed};
  }
  return {bundle: resolve(options.bundleDir), datasets, seconds: (Date.now() - started) / 1000};
}

/** One line per dataset: the headline numbers. */
export interface RealDataSummary {
  planesDbPlanesMacroF1: number | null;
  planesDbSubPlanesMacroF1: number | null;
  africanPlanesMacroF1: number | null;
  hc18GaValidRate: number | null;
  /** Images listed in the labels that could not be read or decoded (each is in the report's `skipped`). */
  skippedImages: number;
}

export function summariseRealData(r: RealDataReport): RealDataSummary {
  const d = r.datasets;
  return {
    planesDbPlanesMacroF1: d.planesDb?.planes.macroF1 ?? null,
    planesDbSubPlanesMacroF1: d.planesDb?.subPlanes?.macroF1 ?? null,
    africanPlanesMacroF1: d.african?.planes.macroF1 ?? null,
    hc18GaValidRate: d.hc18?.ga.vpr.rate ?? null,
    skippedImages: (d.planesDb?.skipped.length ?? 0) + (d.african?.skipped.length ?? 0) + (d.hc18?.skipped.length ?? 0)
  };
}
