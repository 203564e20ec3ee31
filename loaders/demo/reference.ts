// Inputs for the demo model's parity reference: a few held-out phantom images,
// preprocessed by the project (.input.f32), and tokenised prompts. The PyTorch
// side (scripts/export_reference.py) adds expected.json; the import of the
// committed weights is then verified against it on every fresh install.
//
//   npx fetalclip demo reference   (after the phantom exists and the demo is trained)
import {copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {OPENAI_CLIP_MEAN, OPENAI_CLIP_STD} from "../../src/lib/bundle.js";
import {GA_PROMPT_TEMPLATES, gaPrompt} from "../../src/lib/gestationalAge.js";
import {preprocessImage} from "../../src/lib/preprocess.js";
import {FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {readMergesFile, Tokenizer} from "../../src/lib/tokenizer.js";
import {readOpenClipConfig} from "../openClipConfig.js";
import {PHANTOM_DIR, readPhantomManifest} from "../phantomDataset.js";
import {DEMO_SOURCE_DIR} from "./bundle.js";
import "../jpeg.js"; // loads the JPEG decoder before any image is decoded

export const DEMO_REFERENCE_DIR = join(DEMO_SOURCE_DIR, "reference");

/** Writes the reference inputs into DEMO_REFERENCE_DIR (which the project owns: it is emptied first). */
export function writeDemoReferenceInputs(): void {
  const config = readOpenClipConfig(join(DEMO_SOURCE_DIR, "config.json"));
  const tokenizer = Tokenizer.fromMerges(readMergesFile(new Uint8Array(readFileSync(join(DEMO_SOURCE_DIR, "merges.txt")))));
  const samples = readPhantomManifest(PHANTOM_DIR).filter((s) => s.split === "test");
  const picks = [
    samples.find((s) => s.subPlane === "trans-thalamic"),
    samples.find((s) => s.plane === "abdomen"),
    samples.find((s) => s.plane === "femur"),
    samples.find((s) => s.plane === "heart")
  ];
  rmSync(DEMO_REFERENCE_DIR, {recursive: true, force: true});
  mkdirSync(join(DEMO_REFERENCE_DIR, "images"), {recursive: true});
  for (const s of picks) {
    if (!s) throw new Error("the phantom's test split lacks one of the reference planes");
    const name = `${s.id}.png`;
    copyFileSync(join(PHANTOM_DIR, s.file), join(DEMO_REFERENCE_DIR, "images", name));
    const pixels = preprocessImage(new Uint8Array(readFileSync(join(PHANTOM_DIR, s.file))), {size: config.vision_cfg.image_size, mean: OPENAI_CLIP_MEAN, std: OPENAI_CLIP_STD});
    writeFileSync(join(DEMO_REFERENCE_DIR, "images", `${name}.input.f32`), new Uint8Array(pixels.buffer));
  }
  const texts = [...FIVE_PLANES_CLASSES.map((c) => FIVE_PLANES_PROMPTS[c][0]), gaPrompt(GA_PROMPT_TEMPLATES[0], 22, 3, 0.45)];
  const ids = tokenizer.tokenize(texts, config.text_cfg.context_length);
  writeFileSync(join(DEMO_REFERENCE_DIR, "tokens.json"), JSON.stringify({context_length: config.text_cfg.context_length, texts, ids}) + "\n");
}
