// The demo model card's real-data section (`fetalclip demo real-data --card`):
// the headline zero-shot numbers on the small real datasets beside the project,
// and a sentence on the phantom-to-real domain gap written from those numbers.
import {existsSync, readFileSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {summariseRealData, type RealDataReport} from "../evaluation/realData.js";

/** The dataset folders of a ../shared/data-style root (planes/, african/, hc18/, each with labels.csv) that exist. */
export function realDataDirs(dataRoot: string): {planesDbDir?: string; africanDir?: string; hc18Dir?: string} {
  const dir = (name: string) => (existsSync(join(dataRoot, name, "labels.csv")) ? join(dataRoot, name) : undefined);
  return {planesDbDir: dir("planes"), africanDir: dir("african"), hc18Dir: dir("hc18")};
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


/** Writes evaluation.realData into a card written by scripts/train_demo.py (its phantom test scores sit in evaluation.test). */
export function writeRealDataCard(cardPath: string, report: RealDataReport): void {
  let card: {evaluation?: {test?: {planesMacroF1: number; subPlanesMacroF1: number; gaValidRate: number}; realData?: unknown}};
  try {
    card = JSON.parse(readFileSync(cardPath, "utf8"));
  } catch (error) {
    throw new Error(`${cardPath}: cannot read the model card (${(error as Error).message})`);
  }
  const phantom = card?.evaluation?.test;
  if (!phantom) throw new Error(`${cardPath}: no evaluation.test section (a card written by scripts/train_demo.py)`);
  card.evaluation!.realData = realDataCardSection(report, {
    planesMacroF1: phantom.planesMacroF1, subPlanesMacroF1: phantom.subPlanesMacroF1, gaValidRate: phantom.gaValidRate
  });
  writeFileSync(cardPath, JSON.stringify(card, null, 2) + "\n");
}
