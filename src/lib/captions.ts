// Training captions for the demo CLIP, written from a phantom sample's facts
// in the register of FetalCLIP's captions and prompts (Maani et al. 2025:
// GPT-4o captions of the form "Ultrasound image at W weeks and D days
// gestation focusing on the fetal brain, ... with a pixel spacing of S
// mm/pixel"). Wording is drawn at random from synonyms so the text encoder
// learns anatomy, sub-plane, GA and pixel spacing rather than one sentence.

import {formatSpacing} from "./gestationalAge.js";
import type {BrainSubPlane, PhantomPlane} from "./phantom/types.js";

/** Anatomy classes a caption can name: FetalCLIP's zero-shot prompt classes. */
export type CaptionPlane = PhantomPlane;
/** Brain sub-planes: FetalCLIP's sub-plane prompt classes. */
export type CaptionSubPlane = BrainSubPlane;

export interface CaptionFacts {
  plane: CaptionPlane;
  subPlane?: CaptionSubPlane | null;
  gaDays: number;
  /**
   * Pixel spacing of the image as the model sees it: after zero-padding to a
   * square and resizing to the model's input size, max(w, h) / inputSize *
   * spacing (gestationalAge.ts pixelSpacingAfterResize with the model's
   * input size), printed as FetalCLIP's GA prompts print it (formatSpacing).
   */
  inputSpacingMmPerPx: number;
}

/** Which facts beyond the plane a caption states (the trainer's soft targets need them). */
export interface CaptionStates {
  ga: boolean;
  subPlane: boolean;
  spacing: boolean;
}

export interface Caption {
  text: string;
  states: CaptionStates;
}

/** A uniform random number in [0, 1): pass a seeded generator for reproducible captions. */
export type UniformRandom = () => number;

const OPENERS = [
  "Ultrasound image", "Fetal ultrasound image", "Ultrasound scan", "Fetal ultrasound", "Fetal ultrasound scan",
  "Sonographic image", "Prenatal ultrasound image", "Obstetric ultrasound scan", "Sonogram",
  "Clear ultrasound image", "Detailed ultrasound scan", "Focused ultrasound image", "Clear ultrasound",
  "Detailed ultrasound", "Focused ultrasound", "Ultrasound"
];

const VERBS = [
  "focusing on", "highlighting", "showing", "showcasing", "emphasizing", "displaying", "depicting",
  "capturing", "presenting", "visualizing"
];

const ANATOMY: Record<CaptionPlane, string[]> = {
  brain: [
    "the fetal brain", "the developing brain", "the fetal head", "the fetal brain structures",
    "the developing fetal brain", "the fetal skull and brain", "the brain of the fetus", "the fetal cranium"
  ],
  abdomen: [
    "the fetal abdomen", "the fetal abdominal area", "the developing abdomen", "the fetal abdominal structures",
    "the abdominal circumference plane", "the fetal stomach and abdominal wall", "the abdomen of the fetus"
  ],
  femur: [
    "the fetal femur", "the developing femur", "the fetal thigh bone", "the femoral shaft",
    "the femur of the fetus", "the ossified fetal femur"
  ],
  heart: [
    "the fetal heart", "the fetal thorax", "the fetal chest and heart", "the four-chamber view of the heart",
    "the developing heart", "the fetal cardiac structures", "the heart of the fetus", "the fetal thoracic cavity"
  ],
  cervix: [
    "the maternal cervix", "the cervix", "the cervical region", "the uterine cervix", "the cervical canal",
    "the cervix of the mother"
  ],
  kidney: [
    "the fetal kidney", "the fetal kidneys", "the renal area", "the fetal renal structures", "the kidneys of the fetus",
    "the developing kidney"
  ],
  lips_nose: [
    "the fetal lips and nose", "the lips and nose", "the fetal upper lip and nostrils", "the coronal view of the lips and nose",
    "the fetal mouth and nose", "the nose and lips of the fetus"
  ],
  profile_patient: [
    "the fetal profile", "the fetal face in profile", "the midsagittal profile of the face", "the facial profile",
    "the profile of the fetus", "the fetal facial profile"
  ],
  spine: [
    "the fetal spine", "the vertebral column", "the developing spine", "the fetal vertebrae", "the spinal column of the fetus",
    "the fetal spinal canal"
  ]
};

// Plane-specific detail, in the vocabulary of FetalCLIP's prompts.
const DETAILS: Record<CaptionPlane, string[]> = {
  brain: [
    "highlighting the skull outline", "showing the midline echo", "emphasizing brain anatomy",
    "with a clear view of the head contour", "highlighting the cranial structures", "showing the developing brain"
  ],
  abdomen: [
    "showing the stomach bubble", "highlighting the umbilical vein", "emphasizing the abdominal circumference",
    "with a view of the abdominal organs", "highlighting the abdominal wall", "showing the liver and stomach"
  ],
  femur: [
    "highlighting bone length", "showing skeletal development", "emphasizing the femur length",
    "with a clear view of the diaphysis", "highlighting the bright bone echo", "showing the long bone"
  ],
  heart: [
    "highlighting the cardiac chambers", "showing the four chambers", "emphasizing cardiac anatomy",
    "with a view of the atria and the septum", "highlighting the heart within the chest", "showing the ribs around the heart"
  ],
  cervix: [
    "highlighting its length", "showing the internal os", "emphasizing cervical length",
    "with a view of the cervical canal", "highlighting its position", "showing the cervical structure"
  ],
  kidney: [
    "highlighting the renal pelvis", "showing the renal cortex", "emphasizing its anatomical position",
    "with a view of both kidneys", "highlighting renal development", "showing the kidney outline"
  ],
  lips_nose: [
    "highlighting facial development", "showing the upper lip", "emphasizing the nostrils",
    "with a view of the intact lip", "highlighting the nose and mouth", "showing facial structures"
  ],
  profile_patient: [
    "highlighting the forehead, nose and chin", "showing the nasal bone", "emphasizing facial features",
    "with a view of the facial outline", "highlighting facial development", "showing the chin and lips"
  ],
  spine: [
    "highlighting vertebral alignment", "showing the vertebral bodies", "emphasizing the ossification centres",
    "with a view of the skin over the spine", "highlighting vertebral development", "showing the spinal canal"
  ]
};

const GENERIC_DETAILS = [
  "highlighting key anatomical features", "emphasizing structural details", "showing anatomical structures",
  "providing a clear anatomical view", "highlighting structural development", "with detailed visualization",
  "emphasizing the anatomy", "providing visual insights for prenatal assessment", "with clear structural highlights",
  "useful for biometry"
];

const SUB_PLANES: Record<CaptionSubPlane, string[]> = {
  "trans-thalamic": [
    "in the transthalamic plane", "in a transverse view at the level of the thalami", "in the thalamic transverse view",
    "showing the thalamus in a transverse section", "in the trans-thalamic plane", "with the thalami visible in a transverse plane",
    "at the thalamic level"
  ],
  "trans-cerebellum": [
    "in the transcerebellar plane", "in a transverse section through the cerebellum",
    "showing the cerebellum with its butterfly shape", "in the trans-cerebellar view", "showing the cerebellar hemispheres",
    "in a transverse view of the posterior fossa and cerebellum", "at the cerebellar level"
  ],
  "trans-ventricular": [
    "in the transventricular plane", "in a transverse view of the lateral ventricles", "showing the ventricular system",
    "in the trans-ventricular view", "showing the brain ventricles in a transverse section", "at the ventricular level",
    "with the lateral ventricle visible in a transverse plane"
  ]
};

const GA_PHRASES = [
  "at {w} weeks and {d} days gestation", "at {w} weeks, {d} days of gestation", "at {w} weeks and {d} days gestational age",
  "at {w} weeks and {d} days", "at a gestational age of {w} weeks and {d} days", "taken at {w} weeks and {d} days of pregnancy",
  "at {w} weeks {d} days gestation", "of a fetus at {w} weeks and {d} days"
];

const SPACING_PHRASES = [
  "with a pixel spacing of {s} mm/pixel", "with an image pixel spacing of {s} mm/pixel", "at a pixel spacing of {s} mm/pixel",
  "pixel spacing {s} mm/pixel", "with a resolution of {s} mm/pixel", "with a pixel size of {s} mm/pixel"
];

/** How often a caption states each fact (brain captions state GA more: the GA method reads brain prompts). */
const P_GA: Record<CaptionPlane, number> = {
  brain: 0.75, abdomen: 0.5, femur: 0.5, heart: 0.5, cervix: 0.3, kidney: 0.5, lips_nose: 0.5, profile_patient: 0.5, spine: 0.5
};
const P_SPACING_WITH_GA = 0.85;
const P_SPACING_WITHOUT_GA = 0.15;
const P_SUB_PLANE = 0.6;

function pick<T>(items: readonly T[], rng: UniformRandom): T {
  return items[Math.min(items.length - 1, Math.floor(rng() * items.length))];
}

/** "22 weeks and 3 days" parts of a GA in days. */
export function gaWeeksDays(gaDays: number): {weeks: number; days: number} {
  if (!Number.isFinite(gaDays) || gaDays < 0) throw new Error(`gaDays must be a non-negative number, got ${gaDays}`);
  const whole = Math.round(gaDays);
  return {weeks: Math.floor(whole / 7), days: whole % 7};
}

function checkFacts(facts: CaptionFacts): void {
  if (!(facts.plane in ANATOMY)) throw new Error(`caption: unknown plane "${facts.plane}" (expected one of ${Object.keys(ANATOMY).join(", ")})`);
  if (facts.subPlane && !(facts.subPlane in SUB_PLANES)) {
    throw new Error(`caption: unknown sub-plane "${facts.subPlane}" (expected one of ${Object.keys(SUB_PLANES).join(", ")})`);
  }
  if (!(facts.inputSpacingMmPerPx > 0)) throw new Error(`caption: inputSpacingMmPerPx must be positive, got ${facts.inputSpacingMmPerPx}`);
  if (facts.subPlane && facts.plane !== "brain") throw new Error(`caption: a sub-plane (${facts.subPlane}) needs plane "brain", got "${facts.plane}"`);
}

/**
 * One caption for a sample, its wording and the facts it states drawn from `rng`.
 * The draws do not depend on the GA, spacing or sub-plane values, so a generator
 * with the same seed gives the same words with other facts: hard-negative captions.
 */
export function writeCaption(facts: CaptionFacts, rng: UniformRandom): Caption {
  checkFacts(facts);
  const {weeks, days} = gaWeeksDays(facts.gaDays);
  const statesGa = rng() < P_GA[facts.plane];
  const statesSpacing = rng() < (statesGa ? P_SPACING_WITH_GA : P_SPACING_WITHOUT_GA);
  const statesSubPlane = !!facts.subPlane && rng() < P_SUB_PLANE;
  const ga = pick(GA_PHRASES, rng).replace("{w}", String(weeks)).replace("{d}", String(days));
  const spacing = pick(SPACING_PHRASES, rng).replace("{s}", formatSpacing(facts.inputSpacingMmPerPx));
  const subPlane = statesSubPlane ? pick(SUB_PLANES[facts.subPlane!], rng) : "";
  const anatomy = pick(ANATOMY[facts.plane], rng);
  const opener = pick(OPENERS, rng);
  const verb = pick(VERBS, rng);
  let detail = rng() < 0.5 ? pick(DETAILS[facts.plane], rng) : pick(GENERIC_DETAILS, rng);
  // Avoid "showing ..., showing ...": draw once more when the detail repeats the verb.
  if (detail.startsWith(verb.split(" ")[0])) detail = pick(GENERIC_DETAILS.filter((d) => !d.startsWith(verb.split(" ")[0])), rng);

  // The head clause, with GA before or after the anatomy (both orders occur in FetalCLIP's prompts).
  const gaFirst = rng() < 0.6;
  let head = `${opener}${statesGa && gaFirst ? ` ${ga}` : ""} ${verb} ${anatomy}`;
  if (subPlane) head += ` ${subPlane}`;
  if (statesGa && !gaFirst) head += ` ${ga}`;
  // Optional clauses in random order: the detail, the spacing.
  const tail: string[] = [];
  if (rng() < 0.7 || (!statesSpacing && !subPlane && !statesGa)) tail.push(detail);
  if (statesSpacing) tail.splice(rng() < 0.5 ? 0 : tail.length, 0, spacing);
  const text = [head, ...tail].join(", ") + ".";
  return {text, states: {ga: statesGa, subPlane: statesSubPlane, spacing: statesSpacing}};
}
