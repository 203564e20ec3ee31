// The CHD set: a seeded phantom dataset of four-chamber views, normal hearts and
// congenital heart defects (ventricular septal defect, hypoplastic left heart),
// for CHD detection (AUROC) and cardiac segmentation. Its own seed and plan: the
// default phantom's plan and pixels do not change. Each simulated fetus has one
// heart (diagnosis, chamber sizes, defect) shared by its 1-2 images; the split
// is patient-level and stratified by diagnosis, so every split holds each defect.

import {createRng, hashSeed} from "../random.js";
import {CHD_DIAGNOSES, drawFourChamberHeart, planFourChamberView, type ChdDiagnosis, type FourChamberHeart} from "./anatomy/fourChamber.js";
import {allocate, DEFAULT_SPLIT_SHARES, type DatasetOptions, type PlannedSample, type Split} from "./dataset.js";
import {renderLayout, validateSpec} from "./generate.js";
import {samplePatient} from "./patient.js";
import {DEFAULT_IMAGE_SIZE, type PhantomSample, type PhantomSpec} from "./types.js";

export {CHD_DIAGNOSES, CHD_MASK_LABELS, CHD_STRUCTURES, drawFourChamberHeart, planFourChamberView, type ChdDiagnosis, type FourChamberHeart} from "./anatomy/fourChamber.js";

/** Bumped whenever a change alters the CHD set's pixels (with PHANTOM_GENERATOR_VERSION, which its imaging shares). */
export const CHD_GENERATOR_VERSION = "1.0.0";
export const DEFAULT_CHD_SEED = "chd-1";
export const DEFAULT_CHD_COUNT = 400;
/** Half the fetuses normal, a quarter each defect: enough of each for an AUROC with a CI. */
export const DEFAULT_CHD_SHARES: Readonly<Record<ChdDiagnosis, number>> = {normal: 0.5, vsd: 0.25, hlhs: 0.25};
/** The four-chamber view is part of the 18-22 week anomaly scan and of later growth scans: 18w0d-40w0d. */
export const CHD_GA_DAYS_RANGE: readonly [number, number] = [126, 280];

export interface ChdSpec extends PhantomSpec {
  heart: FourChamberHeart;
}

export interface PlannedChdSample extends ChdSpec, Omit<PlannedSample, keyof PhantomSpec> {}

export interface ChdSample extends PhantomSample {
  diagnosis: ChdDiagnosis;
}

/** The default phantom's options with the CHD set's own defaults (400 images, 1 or 2 per fetus), plus each diagnosis's share. */
export interface ChdDatasetOptions extends DatasetOptions {
  shares?: Readonly<Record<ChdDiagnosis, number>>;
}

/** Plans the CHD set; the same options always give the same plan. Patient ids are C00001, C00002, ... */
export function planChdDataset(options: ChdDatasetOptions): PlannedChdSample[] {
  const count = options.count ?? DEFAULT_CHD_COUNT;
  const width = options.width ?? DEFAULT_IMAGE_SIZE;
  const height = options.height ?? DEFAULT_IMAGE_SIZE;
  const [minPer, maxPer] = options.imagesPerPatient ?? [1, 2];
  const splitShares = options.splitShares ?? DEFAULT_SPLIT_SHARES;
  const shares = options.shares ?? DEFAULT_CHD_SHARES;
  if (!Number.isInteger(count) || count < 1) throw new Error(`planChdDataset: count must be a positive integer, got ${count}`);
  if (!(Number.isInteger(minPer) && Number.isInteger(maxPer) && minPer >= 1 && maxPer >= minPer)) {
    throw new Error(`planChdDataset: imagesPerPatient must be integers [min, max] with 1 <= min <= max, got [${minPer}, ${maxPer}]`);
  }
  const rng = createRng(`phantom-chd/${String(options.seed)}`);
  // Fetuses with their image counts until the images are used up.
  const perPatient: number[] = [];
  for (let left = count; left > 0; ) {
    const n = Math.min(left, rng.int(minPer, maxPer));
    perPatient.push(n);
    left -= n;
  }
  // Diagnoses: exact shares of fetuses, shuffled.
  const diagnosisCounts = allocate(perPatient.length, CHD_DIAGNOSES.map((d) => shares[d]));
  const diagnoses: ChdDiagnosis[] = [];
  CHD_DIAGNOSES.forEach((d, i) => {
    for (let k = 0; k < diagnosisCounts[i]!; k++) diagnoses.push(d);
  });
  rng.shuffle(diagnoses);
  // Patient-level split, stratified: each diagnosis's fetuses are split by the shares.
  const splitNames: Split[] = ["train", "val", "test"];
  const splitOf = new Array<Split>(perPatient.length);
  for (const d of CHD_DIAGNOSES) {
    const members = rng.shuffle(diagnoses.flatMap((x, i) => (x === d ? [i] : [])));
    const counts = allocate(members.length, splitNames.map((s) => splitShares[s]));
    let cursor = 0;
    splitNames.forEach((name, s) => {
      for (let k = 0; k < counts[s]!; k++) splitOf[members[cursor++]!] = name;
    });
  }
  const out: PlannedChdSample[] = [];
  perPatient.forEach((n, pi) => {
    const patientId = `C${String(pi + 1).padStart(5, "0")}`;
    const patientRng = rng.fork(`patient/${patientId}`);
    const patient = samplePatient(patientRng, patientId, {gaDaysRange: options.gaDaysRange ?? CHD_GA_DAYS_RANGE});
    const heart = drawFourChamberHeart(diagnoses[pi]!, patientRng.fork("heart"));
    for (let k = 0; k < n; k++) {
      const id = `${patientId}-${String(k + 1).padStart(2, "0")}`;
      out.push({id, plane: "heart", subPlane: null, patient, heart, width, height, seed: hashSeed(`chd/${String(options.seed)}/${id}`), split: splitOf[pi]!});
    }
  });
  return out;
}

/** One four-chamber image of a planned CHD sample; the same seed and spec give the same bytes. */
export function generateChdSample(seed: number | string, spec: ChdSpec): ChdSample {
  if (spec.plane !== "heart" || spec.subPlane !== null) throw new Error(`generateChdSample(spec ${JSON.stringify(spec.id)}): the CHD set draws the heart plane only`);
  if (!CHD_DIAGNOSES.includes(spec.heart?.diagnosis)) throw new Error(`generateChdSample(spec ${JSON.stringify(spec.id)}): heart.diagnosis must be one of ${CHD_DIAGNOSES.join(", ")}`);
  validateSpec(spec);
  const rng = createRng(seed);
  const sample = renderLayout(rng, spec, planFourChamberView(spec.patient, spec.heart, rng.fork("anatomy")));
  return {...sample, diagnosis: spec.heart.diagnosis};
}
