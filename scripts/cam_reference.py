#!/usr/bin/python3
"""ScoreCAM reference maps, computed by PyTorch as FetalCLIP's cam/cam_five_planes.py
computes them, for tests/cam.test.ts.

The model is scripts/openclip_model.py (open_clip 2.26.1's math) loaded from a
checkpoint; the explained score is the script's wrapper (softmax over the prompt
classes of 100 x cosine with the prompt-ensemble class embeddings); ScoreCAM is
pytorch-grad-cam 1.5.4's (score_cam.py get_cam_weights, base_cam.py
get_cam_image / compute_cam_per_layer / aggregate_multi_layers, utils/image.py
scale_cam_image), re-typed here step by step because grad-cam is not installable
on these machines: UpsamplingBilinear2d (align corners) channel masks min-max
scaled with eps 1e-8, masked inputs scored 16 at a time, softmax over channels of
the target-class probabilities, ReLU of the weighted sum, min-max (eps 1e-7),
cv2.resize to the input size, ReLU, min-max again.

Inputs: REF/images/<name>.input.f32 (the exact 1x3xSxS tensors open_clip fed the
model) and REF/tokens.json (open_clip's token ids of every FetalCLIP prompt).
Writes OUT/scorecam-<tag>.json (per image: target, class probabilities, the
[channels x classes] masked-input probabilities, channel weights, the grid map)
and OUT/scorecam-<tag>.maps.u8 (each image's final SxS map as round(255 x v)).

Run: /usr/bin/python3 scripts/cam_reference.py --weights W --config C --ref DIR \
        --prompts ../shared/reference/fetalclip/test_five_planes_prompts.json \
        --targets 010_HC.png=brain ... --out tests/fixtures/cam --tag micro
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openclip_model import CLIP  # noqa: E402

BATCH_SIZE = 16  # grad-cam ScoreCAM's default; the FetalCLIP scripts do not set it


def scale_cam_image(cam, target_size=None):
    """pytorch_grad_cam.utils.image.scale_cam_image (1.5.4), 2-D maps only."""
    result = []
    for img in cam:
        img = img - np.min(img)
        img = img / (1e-7 + np.max(img))
        if target_size is not None:
            img = cv2.resize(img, target_size)
        result.append(img)
    return np.float32(result)


class ZeroShotWrapper(torch.nn.Module):
    """The script's model wrapper: softmax over classes of 100 x cosine."""

    def __init__(self, model, class_embeds):
        super().__init__()
        self.model = model
        self.class_embeds = class_embeds

    def forward(self, x):
        feats = self.model.encode_image(x)
        feats = feats / feats.norm(dim=-1, keepdim=True)
        return (100.0 * feats @ self.class_embeds.T).softmax(dim=-1)


def reshape_transform(tensor, grid):
    """The script's reshape_transform: class token dropped, patches on the grid, channels first."""
    result = tensor[:, 1:, :].reshape(tensor.size(0), grid, grid, tensor.size(2))
    return result.transpose(2, 3).transpose(1, 2)


def class_embeddings(model, prompts, tokens):
    ids_of = dict(zip(tokens["texts"], tokens["ids"]))
    out = []
    for name, texts in prompts.items():
        ids = torch.tensor([ids_of[t] for t in texts], dtype=torch.long)
        e = model.encode_text(ids)
        e = e / e.norm(dim=-1, keepdim=True)
        e = e.mean(dim=0)
        out.append(e / e.norm())
    return torch.stack(out)


def score_cam(wrapper, layer, x, target, grid):
    captured = {}
    hook = layer.register_forward_hook(lambda m, i, o: captured.setdefault("a", o.detach()))
    with torch.no_grad():
        probabilities = wrapper(x)[0]
    hook.remove()
    activations = reshape_transform(captured["a"], grid).numpy()  # [1, C, g, g]
    with torch.no_grad():
        # score_cam.py get_cam_weights
        upsample = torch.nn.UpsamplingBilinear2d(size=x.shape[-2:])
        upsampled = upsample(torch.from_numpy(activations))
        maxs = upsampled.view(upsampled.size(0), upsampled.size(1), -1).max(dim=-1)[0]
        mins = upsampled.view(upsampled.size(0), upsampled.size(1), -1).min(dim=-1)[0]
        maxs, mins = maxs[:, :, None, None], mins[:, :, None, None]
        upsampled = (upsampled - mins) / (maxs - mins + 1e-8)
        input_tensors = x[:, None, :, :] * upsampled[:, :, None, :, :]
        all_probs = []
        for tensor in input_tensors:
            for i in range(0, tensor.size(0), BATCH_SIZE):
                all_probs.append(wrapper(tensor[i:i + BATCH_SIZE, :]))
        all_probs = torch.cat(all_probs)  # [C, classes]
        scores = all_probs[:, target].reshape(activations.shape[0], activations.shape[1])
        weights = torch.nn.Softmax(dim=-1)(scores).numpy()
    # base_cam.py get_cam_image, compute_cam_per_layer, aggregate_multi_layers
    cam = (weights[:, :, None, None] * activations).sum(axis=1)
    cam = np.maximum(cam, 0)
    grid_map = scale_cam_image(cam)[0]
    size = (x.shape[-1], x.shape[-2])
    per_layer = scale_cam_image(cam, size)[:, None, :]
    per_layer = np.maximum(per_layer, 0)
    final = scale_cam_image(np.mean(per_layer, axis=1))[0]
    return probabilities.numpy(), all_probs.numpy(), weights[0], grid_map, final


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--ref", required=True)
    p.add_argument("--prompts", required=True)
    p.add_argument("--targets", nargs="+", required=True, help="IMAGE=CLASS pairs, IMAGE as in REF/images")
    p.add_argument("--out", required=True)
    p.add_argument("--tag", required=True)
    args = p.parse_args()
    torch.set_num_threads(2)
    cfg = json.load(open(args.config))
    model = CLIP(cfg)
    model.load_state_dict({k: v.float() for k, v in torch.load(args.weights, map_location="cpu").items()})
    model.eval()
    prompts = json.load(open(args.prompts))
    classes = list(prompts)
    tokens = json.load(open(os.path.join(args.ref, "tokens.json")))
    with torch.no_grad():
        class_embeds = class_embeddings(model, prompts, tokens)
    wrapper = ZeroShotWrapper(model, class_embeds).eval()
    layer = model.visual.transformer.resblocks[-1].ln_1  # the script's target layer
    size = cfg["vision_cfg"]["image_size"]
    grid = size // cfg["vision_cfg"]["patch_size"]
    images, maps = [], []
    for pair in args.targets:
        name, target = pair.split("=")
        x = np.fromfile(os.path.join(args.ref, "images", name + ".input.f32"), dtype="<f4").reshape(1, 3, size, size)
        probs, all_probs, weights, grid_map, final = score_cam(wrapper, layer, torch.from_numpy(x), classes.index(target), grid)
        images.append({
            "image": name, "target": target, "probabilities": probs.tolist(),
            "channelScores": all_probs.reshape(-1).tolist(), "weights": weights.tolist(), "grid": grid_map.reshape(-1).tolist(),
        })
        maps.append(np.clip(np.round(final * 255), 0, 255).astype(np.uint8).reshape(-1))
        print(f"{name}: target {target} p={probs[classes.index(target)]:.4f}, weights {weights.min():.5f}..{weights.max():.5f}")
    os.makedirs(args.out, exist_ok=True)
    out = {
        "torch": torch.__version__, "opencv": cv2.__version__, "protocol": "pytorch-grad-cam 1.5.4 ScoreCAM, re-typed (scripts/cam_reference.py)",
        "classes": classes, "imageSize": size, "gridSize": grid, "batchSize": BATCH_SIZE, "images": images,
    }
    with open(os.path.join(args.out, f"scorecam-{args.tag}.json"), "w") as f:
        json.dump(out, f)
    np.concatenate(maps).tofile(os.path.join(args.out, f"scorecam-{args.tag}.maps.u8"))
    print(f"wrote {len(images)} maps to {args.out}/scorecam-{args.tag}.json and .maps.u8")


if __name__ == "__main__":
    main()
