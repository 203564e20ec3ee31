// Where the model looks: ScoreCAM as FetalCLIP's scripts compute it, one-pass patch
// similarity maps, localisation against structure masks, and the artifact format.
export * from "./upsample.js";
export * from "./scoreCam.js";
export * from "./similarityMap.js";
export * from "./localisation.js";
export * from "./camArtifact.js";
