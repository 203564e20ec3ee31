// Procedural fetal-ultrasound phantom: seeded, deterministic B-mode images of
// FetalCLIP's plane classes with biometry that follows gestational age.

export * from "./types.js";
export {generateSample, renderLayout, validateSpec, drawScannerSettings, PHANTOM_GENERATOR_VERSION, SPACING_RANGE_MM_PER_PX, spacingRangeMmPerPx} from "./generate.js";
export {planDataset, DEFAULT_CLASS_SHARES, DEFAULT_SPLIT_SHARES, DEFAULT_DATASET_COUNT, type DatasetOptions, type PlannedSample, type Split} from "./dataset.js";
export {samplePatient, hcAtZ, type PatientOptions} from "./patient.js";
export {renderBMode, DEFAULT_SCANNER, type ScannerSettings} from "./bmode.js";
export type {Probe, SectorProbe, LinearProbe} from "./probe.js";
export {planChdDataset, generateChdSample, CHD_DIAGNOSES, CHD_MASK_LABELS, CHD_STRUCTURES, CHD_GENERATOR_VERSION, CHD_GA_DAYS_RANGE, DEFAULT_CHD_SEED, DEFAULT_CHD_COUNT, DEFAULT_CHD_SHARES, drawFourChamberHeart, planFourChamberView, type ChdDiagnosis, type ChdSpec, type ChdSample, type PlannedChdSample, type ChdDatasetOptions, type FourChamberHeart} from "./chd.js";
