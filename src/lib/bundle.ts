// The model bundle manifest (models/<id>/model.json): the contract between the
// importer (Node), the loaders and the live pages (browser).
import {parseJsonStrict} from "./json.js";

/** open_clip model config, the schema of FetalCLIP_config.json. */
export interface OpenClipConfig {
  embed_dim: number;
  vision_cfg: {
    image_size: number;
    layers: number;
    width: number;
    patch_size: number;
    head_width?: number; // open_clip default 64: heads = width / head_width
    mlp_ratio?: number; // open_clip default 4
  };
  text_cfg: {
    context_length: number;
    vocab_size: number;
    width: number;
    heads: number;
    layers: number;
    mlp_ratio?: number;
  };
}

/** Names of the graph inputs and outputs every bundle's ONNX files use. */
export const IMAGE_INPUT = "pixel_values"; // float32 [batch, 3, size, size]
export const IMAGE_EMBEDS = "image_embeds"; // float32 [batch, embed_dim], open_clip encode_image (not normalised)
export const PATCH_EMBEDS = "patch_embeds"; // float32 [batch, grid*grid, embed_dim]: ln_post + proj on patch tokens
export const LN1_LAST = "ln1_last"; // float32 [batch, 1 + grid*grid, width]: last block's ln_1 output (ScoreCAM target)
export const TEXT_INPUT = "input_ids"; // int64 [batch, context_length]
export const TEXT_EMBEDS = "text_embeds"; // float32 [batch, embed_dim], open_clip encode_text (not normalised)

export interface SourceFile {
  role: "weights" | "config" | "vocab";
  name: string;
  sha256: string;
  bytes: number;
}

/** The manifest's format tag: readers refuse any other. */
export const BUNDLE_FORMAT = "fetalclip-explorer/model@1";

export interface ModelManifest {
  format: typeof BUNDLE_FORMAT;
  id: string;
  name: string;
  licence: string;
  source: {files: SourceFile[]; importedAt: string; importer: string};
  config: OpenClipConfig;
  params: {image: number; text: number; total: number};
  image: {
    size: number;
    mean: [number, number, number];
    std: [number, number, number];
    resize: "bicubic";
    pad: "centre-square-zero";
  };
  text: {
    contextLength: number;
    vocab: string;
    sot: number;
    eot: number;
    /** The text graph takes [batch, sequence <= contextLength]: padding columns after the last EOT may be dropped (absent in bundles imported before this field existed: they get full-length rows). */
    variableLength?: boolean;
  };
  embedDim: number;
  /** The raw logit_scale parameter; logits are scaled by exp(logitScale). */
  logitScale: number;
  /** Graph files: float32 (always), float16-weight and int8 dynamic-quantized variants (optional); see VARIANT_FILE_KEYS. */
  files: {image: string; text: string; imageFp16?: string; textFp16?: string; imageInt8?: string; textInt8?: string};
  /** Free-form model card: training recipe, data, caveats. */
  card?: Record<string, unknown>;
}

/** OpenAI CLIP normalisation constants, used by open_clip for FetalCLIP. */
export const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** Which of a bundle's graph files to run: float32, float16 weights, or int8 dynamic-quantized Linears. */
export type ModelVariant = "fp32" | "fp16" | "int8";
export const MODEL_VARIANTS: readonly ModelVariant[] = ["fp32", "fp16", "int8"];

/** The variant table: the manifest `files` keys of each variant's image and text graphs. */
export const VARIANT_FILE_KEYS: Readonly<Record<ModelVariant, {image: keyof ModelManifest["files"]; text: keyof ModelManifest["files"]}>> = {
  fp32: {image: "image", text: "text"},
  fp16: {image: "imageFp16", text: "textFp16"},
  int8: {image: "imageInt8", text: "textInt8"}
};

export function parseModelVariant(value: string): ModelVariant {
  if ((MODEL_VARIANTS as readonly string[]).includes(value)) return value as ModelVariant;
  throw new Error(`unknown model variant "${value}": use one of ${MODEL_VARIANTS.join(", ")}`);
}

/** The image and text graph files of one variant; a clear error naming `where` when the bundle was imported without it. */
export function variantFiles(manifest: ModelManifest, variant: ModelVariant, where: string): {image: string; text: string} {
  const keys = VARIANT_FILE_KEYS[variant];
  if (!keys) throw new Error(`unknown model variant ${JSON.stringify(variant)}: use one of ${MODEL_VARIANTS.join(", ")}`);
  const image = manifest.files[keys.image];
  const text = manifest.files[keys.text];
  if (!image || !text) throw new Error(`${where}: this bundle has no ${variant} variant (import it with --${variant})`);
  return {image, text};
}

/** Parity of a bundle's ONNX graphs against reference outputs (parity.json, written by `fetalclip verify`). */
export interface ParityReport {
  reference: string;
  checkedAt: string;
  ep: string;
  images: {name: string; cosine: number; maxAbsDiff: number}[];
  texts: {count: number; minCosine: number; maxAbsDiff: number};
  thresholds: {cosine: number};
  pass: boolean;
}

/** A file name inside the bundle folder: no folders, no "..", nothing a manifest could use to reach outside it. */
function isBundleFileName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= 255 && !/[\\/\0]/.test(name) && name !== "." && name !== "..";
}

/**
 * Parses and checks a model.json (text or bytes): its format tag, the fields every
 * reader uses, and graph / vocabulary names that stay inside the bundle. `where`
 * names the file in errors (a path in Node, a URL or "model.json" in the browser).
 */
export function parseManifest(source: string | Uint8Array, where = "model.json"): ModelManifest {
  const text = typeof source === "string" ? source : new TextDecoder().decode(source);
  const manifest = parseJsonStrict(text, where) as ModelManifest;
  if (manifest === null || typeof manifest !== "object") throw new Error(`${where}: expected a JSON object`);
  if (manifest.format !== BUNDLE_FORMAT) {
    throw new Error(`${where}: unknown bundle format ${JSON.stringify(manifest.format)}, expected "${BUNDLE_FORMAT}"`);
  }
  const problems: string[] = [];
  const positive = (value: unknown) => typeof value === "number" && Number.isInteger(value) && value > 0;
  if (typeof manifest.id !== "string" || manifest.id === "") problems.push("id is missing");
  if (!positive(manifest.embedDim)) problems.push("embedDim must be a positive integer");
  if (!positive(manifest.image?.size)) problems.push("image.size must be a positive integer");
  if (!Array.isArray(manifest.image?.mean) || manifest.image.mean.length !== 3) problems.push("image.mean must hold 3 numbers");
  if (!Array.isArray(manifest.image?.std) || manifest.image.std.length !== 3) problems.push("image.std must hold 3 numbers");
  if (!positive(manifest.text?.contextLength)) problems.push("text.contextLength must be a positive integer");
  if (!isBundleFileName(manifest.text?.vocab)) problems.push(`text.vocab ${JSON.stringify(manifest.text?.vocab)} is not a file name inside the bundle`);
  if (typeof manifest.logitScale !== "number" || !Number.isFinite(manifest.logitScale)) problems.push("logitScale must be a finite number");
  if (manifest.files === null || typeof manifest.files !== "object") problems.push("files is missing");
  else {
    for (const [key, name] of Object.entries(manifest.files)) {
      if (!isBundleFileName(name)) problems.push(`files.${key} ${JSON.stringify(name)} is not a file name inside the bundle`);
    }
    if (!manifest.files.image || !manifest.files.text) problems.push("files.image and files.text are required");
  }
  if (problems.length > 0) throw new Error(`${where}: not a valid model bundle manifest: ${problems.join("; ")}`);
  return manifest;
}
