// Zero-shot evaluation of a bundle on real fetal ultrasound datasets in their
// original layout, as FetalCLIP's scripts score them:
// - FETAL_PLANES_DB: five planes (9 prompt classes, 'Other' images left out)
//   and brain sub-planes (images labelled TT / TC / TV);
// - African fetal standard planes: the same five-planes prompts (4 planes present);
// - HC18: zero-shot GA, valid-prediction rate against the WHO HC band.
//
//   npx tsx loaders/evaluation/realData.ts --bundle models/fetalclip-demo [--data ../shared/data] [--out report.json] [--card card.json]
//   fetalclip evaluate --bundle models/fetalclip --planes-db DIR --african DIR --hc18 DIR
import {existsSync, readFileSync, writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {parseArgs} from "node:util";
import type {ClipModel} from "../../src/lib/clipModel.js";
import type {ClassificationScores, ConfusionMatrix, ValidPredictionRate} from "../../src/lib/metrics.js";
import {BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {DEMO_BUNDLE_DIR, ensureDemoBundle} from "../demo/bundle.js";
import {readAfricanPlanes, readFetalPlanesDb, readHc18, type PlaneImage} from "../datasets/realDatasets.js";
import {loadNodeModel, type ModelVariant} from "../nodeModel.js";
import type {ExecutionProvider} from "../session.js";
import {encodeImageFiles, zeroShotClassify, zeroShotGa} from "./zeroShotEval.js";

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
    planesDb?: {dir: string; planes: ClassificationReport; subPlanes: ClassificationReport | null};
    african?: {dir: string; planes: ClassificationReport};
    hc18?: {dir: string; ga: GaReport};
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
  const {embeds} = await encodeImageFiles(model, labelled.map((im) => im.path), log);
  const planes = await zeroShotClassify(model, embeds, labelled.map((im) => im.plane!), FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  const brain = labelled.flatMap((im, i) => (im.plane === "brain" && im.subPlane ? [i] : []));
  const subPlanes = brain.length > 0
    ? await zeroShotClassify(model, brain.map((i) => embeds[i]!), brain.map((i) => labelled[i]!.subPlane!), BRAIN_SUBPLANE_CLASSES, BRAIN_SUBPLANE_PROMPTS)
    : null;
  return {
    planes: report(planes.scores, planes.confusion),
    subPlanes: subPlanes ? report(subPlanes.scores, subPlanes.confusion) : null
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
    datasets.african = {dir: african.dir, planes: (await planesReport(model, african.images, log)).planes};
  }
  if (hc18) {
    log(`HC18: ${hc18.dir}`);
    const {heads} = hc18;
    const {embeds, sizes} = await encodeImageFiles(model, heads.map((h) => h.path), log);
    const ga = await zeroShotGa(model, heads.map((h, i) => ({
      embed: embeds[i]!, width: sizes[i]![0], height: sizes[i]![1], pixelSizeMm: h.pixelSizeMm, trueHcMm: h.hcMm
    })), log);
    datasets.hc18 = {dir: hc18.dir, ga: {images: heads.length, scored: ga.scored, vpr: ga.vpr, distinctSpacings: ga.distinctSpacings}};
  }
  return {bundle: resolve(options.bundleDir), datasets, seconds: (Date.now() - started) / 1000};
}

/** One line per dataset: the headline numbers. */
export interface RealDataSummary {
  planesDbPlanesMacroF1: number | null;
  planesDbSubPlanesMacroF1: number | null;
  africanPlanesMacroF1: number | null;
  hc18GaValidRate: number | null;
}

export function summariseRealData(r: RealDataReport): RealDataSummary {
  const d = r.datasets;
  return {
    planesDbPlanesMacroF1: d.planesDb?.planes.macroF1 ?? null,
    planesDbSubPlanesMacroF1: d.planesDb?.subPlanes?.macroF1 ?? null,
    africanPlanesMacroF1: d.african?.planes.macroF1 ?? null,
    hc18GaValidRate: d.hc18?.ga.vpr.rate ?? null
  };
}

/**
 * The model card's real-data section: the headline numbers, where they came from,
 * and a sentence on the domain gap between the phantom the demo trained on and
 * real scans, written from the numbers so it stays true after retraining.
 */
export function realDataCardSection(r: RealDataReport, phantom: {planesMacroF1: number; subPlanesMacroF1: number; gaValidRate: number}) {
  const s = summariseRealData(r);
  const f = (x: number | null) => (x === null ? "n/a" : x.toFixed(2));
  const d = r.datasets;
  return {
    datasets: {
      planesDb: d.planesDb ? {images: d.planesDb.planes.images, subPlaneImages: d.planesDb.subPlanes?.images ?? 0, source: "FETAL_PLANES_DB (Burgos-Artizzu et al., Sci Rep 2020), CC BY 4.0"} : null,
      african: d.african ? {images: d.african.planes.images, source: "African fetal standard planes (Sendra-Balcells et al., Sci Rep 2023), CC BY 4.0"} : null,
      hc18: d.hc18 ? {images: d.hc18.ga.images, scored: d.hc18.ga.scored, source: "HC18 (van den Heuvel et al., PLoS ONE 2018), CC BY 4.0"} : null
    },
    ...s,
    domainGap:
      `On real scans the demo model is far weaker than on its phantom: five-planes macro F1 ${f(s.planesDbPlanesMacroF1)} on FETAL_PLANES_DB ` +
      `and ${f(s.africanPlanesMacroF1)} on the African planes (phantom ${phantom.planesMacroF1.toFixed(2)}), brain sub-planes ${f(s.planesDbSubPlanesMacroF1)} ` +
      `(phantom ${phantom.subPlanesMacroF1.toFixed(2)}), HC18 GA valid-prediction rate ${f(s.hc18GaValidRate)} (phantom ${phantom.gaValidRate.toFixed(2)}). ` +
      "It has only seen the phantom's drawn anatomy, speckle and zoom habits, not real fetal tissue, machines or annotations, " +
      "so these numbers measure the phantom-to-real domain gap, not FetalCLIP; bring the real FetalCLIP weights for real data."
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {values} = parseArgs({
    options: {
      bundle: {type: "string", default: "models/fetalclip-demo"},
      data: {type: "string", default: "../shared/data"},
      threads: {type: "string", default: "2"},
      out: {type: "string"},
      card: {type: "string"}
    }
  });
  // The embedded default is imported on first use, as `npm run setup` would.
  if (resolve(values.bundle!) === DEMO_BUNDLE_DIR) await ensureDemoBundle({log: (m) => console.error(m)});
  const data = resolve(values.data!);
  const dir = (name: string) => (existsSync(join(data, name, "labels.csv")) ? join(data, name) : undefined);
  const result = await evaluateRealData({
    bundleDir: values.bundle!, planesDbDir: dir("planes"), africanDir: dir("african"), hc18Dir: dir("hc18"),
    threads: Number(values.threads), log: (m) => console.error(m)
  });
  console.log(JSON.stringify({bundle: result.bundle, ...summariseRealData(result), seconds: result.seconds}, null, 2));
  if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
  if (values.card) {
    // The demo's card: its phantom test scores sit in evaluation.test (scripts/train_demo.py).
    const card = JSON.parse(readFileSync(values.card, "utf8"));
    const phantom = card?.evaluation?.test;
    if (!phantom) throw new Error(`${values.card}: no evaluation.test section (a card written by scripts/train_demo.py)`);
    card.evaluation.realData = realDataCardSection(result, {
      planesMacroF1: phantom.planesMacroF1, subPlanesMacroF1: phantom.subPlanesMacroF1, gaValidRate: phantom.gaValidRate
    });
    writeFileSync(values.card, JSON.stringify(card, null, 2) + "\n");
    console.error(`wrote evaluation.realData into ${values.card}`);
  }
}
