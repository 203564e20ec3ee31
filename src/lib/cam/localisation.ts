// Putting a number on "the map falls on the anatomy": the share of a map's mass
// inside the structure that defines the class (the energy-based pointing score of
// Score-CAM's own evaluation, Wang et al. 2020, sec. 5.2), and the pointing game
// (Zhang et al. 2016: is the map's maximum inside). A uniform map scores the mask's
// area share, the baseline any useful map must beat.
export {labelMask, maskToInputGeometry} from "../image/masks.js";

/**
 * The phantom's label values (MASK_LABELS in ../phantom/types.ts) that define each
 * prompt class, as the generator paints them: brain planes and their sub-planes by the
 * head (label 1 covers the skull band and the brain inside it, anatomy/brain.ts),
 * abdomen by the trunk section at the stomach level (2, anatomy/abdomen.ts), femur by
 * the bone (3) and heart by the heart (4). Kidney, spine, the face planes and cervix
 * have no mask of their defining structure, so they are not scored.
 */
export const PHANTOM_CLASS_STRUCTURES: Readonly<Record<string, readonly number[]>> = {
  brain: [1],
  "trans-thalamic": [1],
  "trans-cerebellum": [1],
  "trans-ventricular": [1],
  abdomen: [2],
  femur: [3],
  heart: [4]
};

/** The structure each class is judged by, in words (the page's legend; the report). */
export const CLASS_STRUCTURE_NAMES: Readonly<Record<string, string>> = {
  brain: "head (skull and brain)",
  "trans-thalamic": "head (skull and brain)",
  "trans-cerebellum": "head (skull and brain)",
  "trans-ventricular": "head (skull and brain)",
  abdomen: "abdomen section",
  femur: "femur",
  heart: "heart"
};

export interface Localisation {
  /** Share of the map's mass inside the mask, in [0, 1]. */
  share: number;
  /** Pointing game: the map's maximum (first in row-major order on ties) is inside the mask. */
  hit: boolean;
  /** What a uniform map scores: the mask's share of the image area. */
  uniform: number;
}

/** Mask pixels / all pixels. */
export function maskAreaShare(mask: ArrayLike<number>): number {
  if (mask.length === 0) throw new Error("maskAreaShare: empty mask");
  let inside = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) inside++;
  return inside / mask.length;
}

/**
 * Localisation of a non-negative map (values as given: no rescaling) against a binary
 * mask of the same pixels. A map with no mass (all zeros: a constant map after
 * min-max) says nothing, so it scores as the uniform map; its pointing game falls on
 * pixel 0.
 */
export function localise(map: ArrayLike<number>, mask: ArrayLike<number>): Localisation {
  if (map.length !== mask.length) throw new Error(`localise: map has ${map.length} pixels, mask ${mask.length}`);
  const uniform = maskAreaShare(mask);
  let total = 0;
  let inside = 0;
  let best = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (!(v >= 0)) throw new Error(`localise: map value ${v} at pixel ${i} is negative or not a number`);
    total += v;
    if (mask[i]) inside += v;
    if (v > map[best]!) best = i;
  }
  return {share: total > 0 ? inside / total : uniform, hit: Boolean(mask[best]), uniform};
}

export interface LocalisationSummary {
  /** Images scored (those with a mask of their class's structure). */
  images: number;
  /** Mean share of map mass inside the mask (null when no image was scored). */
  meanLocalisation: number | null;
  /** Share of images whose map maximum is inside the mask. */
  pointingGame: number | null;
  /** Mean mask area share: a uniform map's localisation. */
  uniformBaseline: number | null;
}

export interface LocalisationReport extends LocalisationSummary {
  perClass: Record<string, LocalisationSummary>;
}

function summarise(rows: readonly Localisation[]): LocalisationSummary {
  if (rows.length === 0) return {images: 0, meanLocalisation: null, pointingGame: null, uniformBaseline: null};
  const mean = (f: (r: Localisation) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  return {images: rows.length, meanLocalisation: mean((r) => r.share), pointingGame: mean((r) => (r.hit ? 1 : 0)), uniformBaseline: mean((r) => r.uniform)};
}

/** Means over all scored images and per class (classes in first-seen order). */
export function summariseLocalisation(rows: readonly {label: string; localisation: Localisation}[]): LocalisationReport {
  const byClass = new Map<string, Localisation[]>();
  for (const row of rows) {
    if (!byClass.has(row.label)) byClass.set(row.label, []);
    byClass.get(row.label)!.push(row.localisation);
  }
  return {...summarise(rows.map((r) => r.localisation)), perClass: Object.fromEntries([...byClass].map(([label, list]) => [label, summarise(list)]))};
}
