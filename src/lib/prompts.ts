// FetalCLIP's zero-shot prompt ensembles (Maani et al., "FetalCLIP", arXiv:2502.14807;
// BioMedIA-MBZUAI/FetalCLIP zero_shot_planes_db), and how FETAL_PLANES_DB labels map
// onto their classes. Class order matters: it is the class index order of the
// official scripts, so confusion matrices and per-class metrics line up with theirs.

/** Prompt classes of the five-planes test, in the official index order: 5 targets and 4 distractors. */
export const FIVE_PLANES_CLASSES = ["abdomen", "brain", "femur", "heart", "kidney", "lips_nose", "profile_patient", "spine", "cervix"] as const;
export type FivePlanesClass = (typeof FIVE_PLANES_CLASSES)[number];
/** The five planes FetalCLIP's zero-shot test scores (FETAL_PLANES_DB 'Fetal thorax' = heart); the other four classes are distractors. */
export const SCORED_PLANES = ["abdomen", "brain", "femur", "heart", "cervix"] as const satisfies readonly FivePlanesClass[];

/** Brain sub-plane classes, in the official index order. */
export const BRAIN_SUBPLANE_CLASSES = ["trans-thalamic", "trans-cerebellum", "trans-ventricular"] as const;
export type BrainSubplaneClass = (typeof BRAIN_SUBPLANE_CLASSES)[number];

/** Five prompts per class; kidney, lips_nose, profile_patient and spine are distractors with no FETAL_PLANES_DB images. */
export const FIVE_PLANES_PROMPTS: Readonly<Record<FivePlanesClass, readonly string[]>> = {
  abdomen: [
    "Ultrasound image focusing on the fetal abdominal area, highlighting structural development.",
    "Detailed ultrasound highlighting the fetal abdomen, emphasizing anatomical structures.",
    "Ultrasound scan of the fetal abdomen, showcasing structural details.",
    "Focused ultrasound image highlighting the development of the fetal abdominal structures.",
    "Clear ultrasound of the fetal abdomen, emphasizing its anatomical development."
  ],
  brain: [
    "Ultrasound image focusing on the fetal brain, highlighting key anatomical features.",
    "Detailed ultrasound scan of the developing fetal brain, showcasing structural highlights.",
    "Ultrasound highlighting the fetal brain structures with detailed visualization.",
    "Focused ultrasound showing the fetal brain and its developing anatomical structures.",
    "Clear ultrasound of the fetal brain, emphasizing its structural development."
  ],
  femur: [
    "Ultrasound image focusing on the developing fetal femur, highlighting bone length and structure.",
    "Detailed ultrasound showcasing the fetal femur, providing a view of skeletal development.",
    "Ultrasound scan focusing on the fetal femur, emphasizing structural highlights.",
    "Clear ultrasound image highlighting the fetal femur and its bone development.",
    "Focused ultrasound showcasing the fetal femur, emphasizing skeletal details."
  ],
  heart: [
    "Fetal ultrasound image focusing on the heart, highlighting detailed cardiac structures.",
    "Ultrasound scan showcasing the fetal heart and its developing anatomy.",
    "Clear ultrasound of the fetal heart, emphasizing detailed structural highlights.",
    "Detailed ultrasound image highlighting the fetal heart and its development.",
    "Focused ultrasound scan showing the fetal heart and its anatomical features."
  ],
  kidney: [
    "Fetal ultrasound focusing on the kidney, showcasing structural details and development.",
    "Detailed ultrasound scan of the fetal kidney, emphasizing its anatomical position.",
    "Focused ultrasound highlighting the fetal kidney and its structural characteristics.",
    "Clear ultrasound image showing the fetal kidney, emphasizing its development.",
    "Ultrasound scan focusing on the fetal kidney, showcasing anatomical highlights."
  ],
  lips_nose: [
    "Ultrasound image focusing on the lips and nose, highlighting facial development.",
    "Detailed ultrasound scan showcasing the fetal lips and nose structures.",
    "Clear ultrasound image of the fetal lips and nose, emphasizing anatomical features.",
    "Focused ultrasound highlighting the development of the fetal lips and nose.",
    "Ultrasound scan showcasing the fetal lips and nose, emphasizing structural details."
  ],
  profile_patient: [
    "Ultrasound image showing the fetal profile, with clear visualization of facial features.",
    "Detailed ultrasound scan of the fetal profile, emphasizing facial development.",
    "Focused ultrasound highlighting the fetal profile and its anatomical details.",
    "Clear ultrasound image showcasing the fetal profile and facial structure.",
    "Ultrasound scan emphasizing the fetal profile, highlighting facial features."
  ],
  spine: [
    "Ultrasound image focusing on the fetal spine, highlighting vertebral alignment.",
    "Detailed ultrasound scan showcasing the fetal spine and its anatomical structures.",
    "Focused ultrasound image emphasizing the fetal spine and vertebral development.",
    "Clear ultrasound showing the fetal spine and its structural highlights.",
    "Ultrasound scan highlighting the fetal spine, showcasing vertebral anatomy."
  ],
  cervix: [
    "Ultrasound image highlighting the cervix, showcasing its structure and position.",
    "Detailed ultrasound scan of the cervix, emphasizing its length and anatomical features.",
    "Clear ultrasound image focusing on the cervix, providing structural insights.",
    "Focused ultrasound showcasing the cervical region and its anatomical details.",
    "Ultrasound image highlighting the cervix, emphasizing its structure and appearance."
  ]
};

/** Five prompts per brain sub-plane (trans-thalamic, trans-cerebellum, trans-ventricular). */
export const BRAIN_SUBPLANE_PROMPTS: Readonly<Record<BrainSubplaneClass, readonly string[]>> = {
  "trans-thalamic": [
    "Ultrasound image emphasizing the transverse view of the fetal brain with clear visualization of the thalamus.",
    "Fetal ultrasound image highlighting the brain thalamic region in a transverse plane.",
    "Ultrasound image focusing on the fetal brain thalamic (transverse) view.",
    "Fetal ultrasound image showcasing the brain thalamic (transverse) view.",
    "Fetal ultrasound image emphasizing the transverse view of the brain thalamus."
  ],
  "trans-cerebellum": [
    "Transverse fetal ultrasound image focusing on the cerebellum, highlighting its typical butterfly shape.",
    "Fetal ultrasound image emphasizing the transverse view of the cerebellum.",
    "Fetal ultrasound image showcasing the transverse section of the brain cerebellum.",
    "Transverse fetal ultrasound image emphasizing the cerebellum.",
    "Transverse fetal ultrasound highlighting the cerebellum with a clear view of its typical butterfly shape."
  ],
  "trans-ventricular": [
    "Transverse fetal ultrasound highlighting the brain ventricles.",
    "Transverse fetal ultrasound image emphasizing the brain ventricular view.",
    "Transverse fetal ultrasound image showcasing the brain ventricular region.",
    "Transverse fetal ultrasound image highlighting the brain ventricles.",
    "Fetal ultrasound image focusing on the brain's transverse view, emphasizing the ventricular system."
  ]
};

/** FETAL_PLANES_DB `Plane` column to five-planes class ('Fetal thorax' images are four-chamber heart views); 'Other' is not scored. */
export const FETAL_PLANES_DB_PLANE_TO_CLASS: Readonly<Record<string, FivePlanesClass>> = {
  "Fetal abdomen": "abdomen",
  "Fetal brain": "brain",
  "Fetal femur": "femur",
  "Fetal thorax": "heart",
  "Maternal cervix": "cervix"
};

/** FETAL_PLANES_DB `Brain_plane` column to brain sub-plane class; 'Other' and 'Not A Brain' are not scored. */
export const FETAL_PLANES_DB_BRAIN_PLANE_TO_SUBPLANE: Readonly<Record<string, BrainSubplaneClass>> = {
  "Trans-thalamic": "trans-thalamic",
  "Trans-cerebellum": "trans-cerebellum",
  "Trans-ventricular": "trans-ventricular"
};

/** Five-planes class of a FETAL_PLANES_DB `Plane` label, or null for planes the evaluation leaves out ('Other'). */
export function planeClassOf(plane: string): FivePlanesClass | null {
  return Object.hasOwn(FETAL_PLANES_DB_PLANE_TO_CLASS, plane) ? FETAL_PLANES_DB_PLANE_TO_CLASS[plane]! : null;
}

/** Brain sub-plane class of a FETAL_PLANES_DB `Brain_plane` label, or null ('Other', 'Not A Brain'). */
export function brainSubplaneOf(brainPlane: string): BrainSubplaneClass | null {
  return Object.hasOwn(FETAL_PLANES_DB_BRAIN_PLANE_TO_SUBPLANE, brainPlane)
    ? FETAL_PLANES_DB_BRAIN_PLANE_TO_SUBPLANE[brainPlane]!
    : null;
}
