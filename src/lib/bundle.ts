// The model bundle manifest (models/<id>/model.json): the contract between the
// importer (Node), the loaders and the live pages (browser).

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

export interface ModelManifest {
  format: "fetalclip-explorer/model@1";
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
  /** Graph files: float32 (always), float16-weight and int8 dynamic-quantized variants (optional). */
  files: {image: string; text: string; imageFp16?: string; textFp16?: string; imageInt8?: string; textInt8?: string};
  /** Free-form model card: training recipe, data, caveats. */
  card?: Record<string, unknown>;
}

/** OpenAI CLIP normalisation constants, used by open_clip for FetalCLIP. */
export const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
