// A phantom dataset plan: simulated patients, each with one GA and anatomy,
// contributing several images of different planes; class shares like a
// screening archive; and a patient-level train/val/test split, so no
// patient's anatomy leaks between splits (as FetalCLIP's evaluation splits).

import {createRng, hashSeed} from "../random.js";
import {samplePatient, type PatientOptions} from "./patient.js";
import {BRAIN_SUB_PLANES, DEFAULT_IMAGE_SIZE, type BrainSubPlane, type PhantomPlane, type PhantomSpec} from "./types.js";

export type Split = "train" | "val" | "test";

/** Image shares per class: brain 30% (sub-planes equal), abdomen/femur/heart 12% each, cervix 6%, distractors 7% each. */
export const DEFAULT_CLASS_SHARES: ReadonlyArray<{plane: PhantomPlane; subPlane: BrainSubPlane | null; share: number}> = [
  ...BRAIN_SUB_PLANES.map((subPlane) => ({plane: "brain" as const, subPlane, share: 0.1})),
  {plane: "abdomen", subPlane: null, share: 0.12},
  {plane: "femur", subPlane: null, share: 0.12},
  {plane: "heart", subPlane: null, share: 0.12},
  {plane: "cervix", subPlane: null, share: 0.06},
  {plane: "kidney", subPlane: null, share: 0.07},
  {plane: "lips_nose", subPlane: null, share: 0.07},
  {plane: "spine", subPlane: null, share: 0.07},
  {plane: "profile_patient", subPlane: null, share: 0.07}
];

export const DEFAULT_SPLIT_SHARES: Readonly<Record<Split, number>> = {train: 0.7, val: 0.1, test: 0.2};
export const DEFAULT_DATASET_COUNT = 3000;

export interface DatasetOptions extends PatientOptions {
  seed: number | string;
  /** Number of images; default 3000. */
  count?: number;
  /** Image size in px; default 224 x 224 (FetalCLIP's input size). */
  width?: number;
  height?: number;
  /** Images per patient, inclusive range; default [2, 6]. */
  imagesPerPatient?: readonly [number, number];
  splitShares?: Readonly<Record<Split, number>>;
}

/** One planned image: what to draw, the seed to draw it with, and its split. */
export interface PlannedSample extends PhantomSpec {
  seed: number;
  split: Split;
}

/** Largest-remainder allocation of `count` items over shares (the phantom sets' class and split counts). */
export function allocate(count: number, shares: readonly number[]): number[] {
  const total = shares.reduce((s, x) => s + x, 0);
  const exact = shares.map((s) => (count * s) / total);
  const out = exact.map(Math.floor);
  let left = count - out.reduce((s, x) => s + x, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((p, q) => q[0] - p[0] || p[1] - q[1]);
  for (let k = 0; left > 0; k++, left--) out[order[k % order.length]![1]]! += 1;
  return out;
}

/** Plans a dataset; the same options always give the same plan. */
export function planDataset(options: DatasetOptions): PlannedSample[] {
  const count = options.count ?? DEFAULT_DATASET_COUNT;
  const width = options.width ?? DEFAULT_IMAGE_SIZE;
  const height = options.height ?? DEFAULT_IMAGE_SIZE;
  const [minPer, maxPer] = options.imagesPerPatient ?? [2, 6];
  const splitShares = options.splitShares ?? DEFAULT_SPLIT_SHARES;
  if (!Number.isInteger(count) || count < 1) throw new Error(`planDataset: count must be a positive integer, got ${count}`);
  if (!(Number.isInteger(minPer) && Number.isInteger(maxPer) && minPer >= 1 && maxPer >= minPer)) {
    throw new Error(`planDataset: imagesPerPatient must be integers [min, max] with 1 <= min <= max, got [${minPer}, ${maxPer}]`);
  }
  const rng = createRng(`phantom-dataset/${String(options.seed)}`);
  // The exact class counts, shuffled into a pool.
  const counts = allocate(count, DEFAULT_CLASS_SHARES.map((c) => c.share));
  const pool: Array<{plane: PhantomPlane; subPlane: BrainSubPlane | null}> = [];
  DEFAULT_CLASS_SHARES.forEach((c, i) => {
    for (let k = 0; k < counts[i]!; k++) pool.push({plane: c.plane, subPlane: c.subPlane});
  });
  rng.shuffle(pool);
  // Patients take several images each, preferring planes they do not have yet.
  const patients: Array<{id: string; images: typeof pool}> = [];
  while (pool.length > 0) {
    const want = Math.min(pool.length, rng.int(minPer, maxPer));
    const images: typeof pool = [];
    const seen = new Set<string>();
    for (let i = 0; i < pool.length && images.length < want; ) {
      const item = pool[i]!;
      const key = `${item.plane}/${item.subPlane}`;
      if (!seen.has(key)) {
        seen.add(key);
        images.push(item);
        pool.splice(i, 1);
      } else i++;
    }
    while (images.length < want) images.push(pool.shift()!);
    patients.push({id: `P${String(patients.length + 1).padStart(5, "0")}`, images});
  }
  // Patient-level split with exact patient counts per split.
  const order = rng.shuffle(patients.map((_, i) => i));
  const splitNames: Split[] = ["train", "val", "test"];
  const splitCounts = allocate(patients.length, splitNames.map((s) => splitShares[s]));
  const splitOf = new Array<Split>(patients.length);
  let cursor = 0;
  splitNames.forEach((name, s) => {
    for (let k = 0; k < splitCounts[s]!; k++) splitOf[order[cursor++]!] = name;
  });
  const out: PlannedSample[] = [];
  patients.forEach((p, pi) => {
    const patient = samplePatient(rng.fork(`patient/${p.id}`), p.id, options);
    p.images.forEach((img, k) => {
      const id = `${p.id}-${String(k + 1).padStart(2, "0")}`;
      out.push({id, plane: img.plane, subPlane: img.subPlane, patient, width, height, seed: hashSeed(`${String(options.seed)}/${id}`), split: splitOf[pi]!});
    });
  });
  return out;
}
