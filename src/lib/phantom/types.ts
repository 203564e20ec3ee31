// The phantom's vocabulary: FetalCLIP's zero-shot prompt classes, the brain
// sub-planes, a patient's biometry, and what one generated image carries.

/**
 * Plane classes, keyed exactly as FetalCLIP's zero-shot prompts
 * (test_five_planes_prompts.json): five target planes (FETAL_PLANES_DB's
 * 'Fetal thorax' is `heart`) and four distractors.
 */
export const PHANTOM_PLANES = [
  "abdomen",
  "brain",
  "femur",
  "heart",
  "cervix",
  "kidney",
  "lips_nose",
  "spine",
  "profile_patient"
] as const;
export type PhantomPlane = (typeof PHANTOM_PLANES)[number];

/** Brain sub-planes, keyed exactly as test_brain_subplanes_prompts.json. */
export const BRAIN_SUB_PLANES = ["trans-thalamic", "trans-cerebellum", "trans-ventricular"] as const;
export type BrainSubPlane = (typeof BRAIN_SUB_PLANES)[number];

/** Values of the label map in `PhantomSample.masks`. */
export const MASK_LABELS = {background: 0, skull: 1, abdomen: 2, femur: 3, heart: 4} as const;
export type MaskLabel = (typeof MASK_LABELS)[keyof typeof MASK_LABELS];

/** Default image size: FetalCLIP's ViT-L/14 input (224 px), so no resize sits between phantom and model. */
export const DEFAULT_IMAGE_SIZE = 224;

/** One simulated pregnancy: a GA and the anatomy every image of it shares. */
export interface PhantomPatient {
  patientId: string;
  gaDays: number;
  /** Head circumference (outer skull ellipse), mm. */
  hcMm: number;
  /** Abdominal circumference (skin ellipse at the stomach / umbilical vein level), mm. */
  acMm: number;
  /** Femur diaphysis length, mm. */
  flMm: number;
  /** Head ellipse minor/major axis ratio (about BPD/OFD). */
  headAspect: number;
  /** Abdominal section minor/major axis ratio. */
  abdomenAspect: number;
  /** Maternal cervical length, mm. */
  cervixLengthMm: number;
  /** Whether the fetus is drawn mirrored (situs, left/right of the image). */
  mirrored: boolean;
}

/** What to draw: a plane (and brain sub-plane) of one patient, at one image size. */
export interface PhantomSpec {
  id: string;
  plane: PhantomPlane;
  subPlane: BrainSubPlane | null;
  patient: PhantomPatient;
  width: number;
  height: number;
}

/** One generated B-mode image with its labels and metadata. */
export interface PhantomSample {
  id: string;
  /** Grayscale, row-major, width * height. */
  pixels: Uint8Array;
  width: number;
  height: number;
  plane: PhantomPlane;
  subPlane: BrainSubPlane | null;
  gaDays: number;
  hcMm: number;
  acMm: number;
  flMm: number;
  spacingMmPerPx: number;
  patientId: string;
  /** Label map (MASK_LABELS), row-major, width * height; zero outside the field of view. */
  masks: Uint8Array;
}
