// FetalCLIP's released outputs (the configured reference folder: fetalclip.config.json
// "reference" or FETALCLIP_REFERENCE) scored with the project's own metrics, beside the
// numbers the paper's scripts printed; or, with no folder configured, a note saying so.
// Framework caches this by the loader's own date: `fetalclip setup` (before dev and build)
// removes the cached copy when the configured folder has changed.
import {paperReferenceArtifact} from "../../loaders/paperReference.js";

process.stdout.write(JSON.stringify(paperReferenceArtifact()));
