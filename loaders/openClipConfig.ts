// Reading and checking an open_clip model config (FetalCLIP_config.json schema).
import {readFileSync} from "node:fs";
import {parseJsonStrict} from "../src/lib/json.js";
import type {OpenClipConfig} from "../src/lib/bundle.js";

function positiveInt(value: unknown, key: string, file: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${file}: "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Parses and validates a config; errors name the file and the key. */
export function parseOpenClipConfig(json: unknown, file = "config"): OpenClipConfig {
  if (typeof json !== "object" || json === null) throw new Error(`${file}: expected a JSON object`);
  const c = json as Record<string, any>;
  if (typeof c.vision_cfg !== "object" || c.vision_cfg === null) throw new Error(`${file}: "vision_cfg" is missing`);
  if (typeof c.text_cfg !== "object" || c.text_cfg === null) throw new Error(`${file}: "text_cfg" is missing`);
  const v = c.vision_cfg;
  const t = c.text_cfg;
  const config: OpenClipConfig = {
    embed_dim: positiveInt(c.embed_dim, "embed_dim", file),
    vision_cfg: {
      image_size: positiveInt(v.image_size, "vision_cfg.image_size", file),
      layers: positiveInt(v.layers, "vision_cfg.layers", file),
      width: positiveInt(v.width, "vision_cfg.width", file),
      patch_size: positiveInt(v.patch_size, "vision_cfg.patch_size", file),
      head_width: v.head_width === undefined ? 64 : positiveInt(v.head_width, "vision_cfg.head_width", file),
      mlp_ratio: v.mlp_ratio === undefined ? 4 : Number(v.mlp_ratio)
    },
    text_cfg: {
      context_length: positiveInt(t.context_length ?? 77, "text_cfg.context_length", file),
      vocab_size: positiveInt(t.vocab_size ?? 49408, "text_cfg.vocab_size", file),
      width: positiveInt(t.width, "text_cfg.width", file),
      heads: positiveInt(t.heads, "text_cfg.heads", file),
      layers: positiveInt(t.layers, "text_cfg.layers", file),
      mlp_ratio: t.mlp_ratio === undefined ? 4 : Number(t.mlp_ratio)
    }
  };
  const vc = config.vision_cfg;
  if (vc.image_size % vc.patch_size !== 0) {
    throw new Error(`${file}: vision_cfg.image_size ${vc.image_size} is not a multiple of patch_size ${vc.patch_size}`);
  }
  if (vc.width % vc.head_width! !== 0) throw new Error(`${file}: vision_cfg.width ${vc.width} is not a multiple of head_width ${vc.head_width}`);
  if (config.text_cfg.width % config.text_cfg.heads !== 0) {
    throw new Error(`${file}: text_cfg.width ${config.text_cfg.width} is not a multiple of text_cfg.heads ${config.text_cfg.heads}`);
  }
  for (const key of ["timm_model_name", "hf_model_name"]) {
    if (v[key] || t[key]) throw new Error(`${file}: ${key} models are not supported; only open_clip's built-in ViT and text transformer`);
  }
  return config;
}

export function readOpenClipConfig(path: string): OpenClipConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`${path}: not a readable JSON config (${(error as Error).message})`);
  }
  const json = parseJsonStrict(text, path);
  return parseOpenClipConfig(json, path);
}
