#!/usr/bin/python3
"""Reference outputs of a checkpoint in open_clip's fixture layout, computed by
plain torch (scripts/openclip_model.py, open_clip 2.26.1's math), so the
project's ONNX import can be checked against PyTorch (`fetalclip verify`).

Reads REF/tokens.json ({ids}) and REF/images/<name>.input.f32 (1x3xSxS float32,
the exact tensors the project's preprocessing made); writes REF/expected.json
({images: [{image, features}], text_features, logit_scale, torch}).

Run: /usr/bin/python3 scripts/export_reference.py --weights W --config C --ref DIR
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openclip_model import CLIP  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--ref", required=True)
    args = p.parse_args()
    cfg = json.load(open(args.config))
    model = CLIP(cfg)
    model.load_state_dict({k: v.float() for k, v in torch.load(args.weights, map_location="cpu").items()})
    model.eval()
    size = cfg["vision_cfg"]["image_size"]
    names = sorted(f[: -len(".input.f32")] for f in os.listdir(os.path.join(args.ref, "images")) if f.endswith(".input.f32"))
    images = []
    with torch.no_grad():
        for name in names:
            x = np.fromfile(os.path.join(args.ref, "images", name + ".input.f32"), dtype="<f4").reshape(1, 3, size, size)
            images.append({"image": name, "features": model.encode_image(torch.from_numpy(x))[0].tolist()})
        ids = torch.tensor(json.load(open(os.path.join(args.ref, "tokens.json")))["ids"], dtype=torch.long)
        text = model.encode_text(ids).tolist()
    out = {"torch": torch.__version__, "images": images, "text_features": text, "logit_scale": float(model.logit_scale)}
    with open(os.path.join(args.ref, "expected.json"), "w") as f:
        json.dump(out, f)
    print(f"wrote {len(images)} image and {len(text)} text features to {args.ref}/expected.json")


if __name__ == "__main__":
    main()
