// The state-dict keys and shapes an open_clip CLIP of a given config holds
// (open_clip 2.26.1 layout), e.g. to write random-weight checkpoints of the
// real FetalCLIP shape for benchmarks without the real 1.7 GB file.
import type {OpenClipConfig} from "../../src/lib/bundle.js";

export interface TensorShape {
  name: string;
  shape: number[];
  /** How a random initialisation should fill it. */
  init: "normal" | "ones" | "zeros" | "logit_scale";
}

function block(prefix: string, width: number, mlpWidth: number): TensorShape[] {
  return [
    {name: `${prefix}.ln_1.weight`, shape: [width], init: "ones"},
    {name: `${prefix}.ln_1.bias`, shape: [width], init: "zeros"},
    {name: `${prefix}.attn.in_proj_weight`, shape: [3 * width, width], init: "normal"},
    {name: `${prefix}.attn.in_proj_bias`, shape: [3 * width], init: "zeros"},
    {name: `${prefix}.attn.out_proj.weight`, shape: [width, width], init: "normal"},
    {name: `${prefix}.attn.out_proj.bias`, shape: [width], init: "zeros"},
    {name: `${prefix}.ln_2.weight`, shape: [width], init: "ones"},
    {name: `${prefix}.ln_2.bias`, shape: [width], init: "zeros"},
    {name: `${prefix}.mlp.c_fc.weight`, shape: [mlpWidth, width], init: "normal"},
    {name: `${prefix}.mlp.c_fc.bias`, shape: [mlpWidth], init: "zeros"},
    {name: `${prefix}.mlp.c_proj.weight`, shape: [width, mlpWidth], init: "normal"},
    {name: `${prefix}.mlp.c_proj.bias`, shape: [width], init: "zeros"}
  ];
}

export function openClipStateDictShapes(config: OpenClipConfig): TensorShape[] {
  const v = config.vision_cfg;
  const t = config.text_cfg;
  const grid = v.image_size / v.patch_size;
  const vMlp = Math.round(v.width * (v.mlp_ratio ?? 4));
  const tMlp = Math.round(t.width * (t.mlp_ratio ?? 4));
  const shapes: TensorShape[] = [
    {name: "visual.class_embedding", shape: [v.width], init: "normal"},
    {name: "visual.positional_embedding", shape: [grid * grid + 1, v.width], init: "normal"},
    {name: "visual.proj", shape: [v.width, config.embed_dim], init: "normal"},
    {name: "visual.conv1.weight", shape: [v.width, 3, v.patch_size, v.patch_size], init: "normal"},
    {name: "visual.ln_pre.weight", shape: [v.width], init: "ones"},
    {name: "visual.ln_pre.bias", shape: [v.width], init: "zeros"}
  ];
  for (let i = 0; i < v.layers; i++) shapes.push(...block(`visual.transformer.resblocks.${i}`, v.width, vMlp));
  shapes.push(
    {name: "visual.ln_post.weight", shape: [v.width], init: "ones"},
    {name: "visual.ln_post.bias", shape: [v.width], init: "zeros"},
    {name: "positional_embedding", shape: [t.context_length, t.width], init: "normal"},
    {name: "text_projection", shape: [t.width, config.embed_dim], init: "normal"},
    {name: "logit_scale", shape: [], init: "logit_scale"},
    {name: "token_embedding.weight", shape: [t.vocab_size, t.width], init: "normal"}
  );
  for (let i = 0; i < t.layers; i++) shapes.push(...block(`transformer.resblocks.${i}`, t.width, tMlp));
  shapes.push({name: "ln_final.weight", shape: [t.width], init: "ones"}, {name: "ln_final.bias", shape: [t.width], init: "zeros"});
  return shapes;
}

/** Multiply-accumulates of one image through the image encoder (patch embedding, blocks, projection). */
export function imageEncoderMacs(config: OpenClipConfig): number {
  const v = config.vision_cfg;
  const grid = v.image_size / v.patch_size;
  const tokens = grid * grid + 1;
  const d = v.width;
  const mlp = d * (v.mlp_ratio ?? 4);
  const patch = grid * grid * d * 3 * v.patch_size * v.patch_size;
  const perBlock = tokens * d * 3 * d + 2 * tokens * tokens * d + tokens * d * d + 2 * tokens * d * mlp;
  return patch + v.layers * perBlock + d * config.embed_dim;
}
