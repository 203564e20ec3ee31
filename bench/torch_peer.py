#!/usr/bin/python3
"""PyTorch eager peer for `npm run bench -- model`: open_clip's image encoder
(plain torch, open_clip 2.26.1 layout, scripts/openclip_model.py) loading the
same checkpoint, timed at the given batch sizes and thread count.
Prints one JSON line: {"torch", "blas", "threads", "results": [{batch, runs, seconds, imagesPerSecond}]}.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from openclip_model import CLIP  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", default="1,8")
    p.add_argument("--seconds", type=float, default=20.0, help="time budget per batch size after warm-up")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    cfg = json.load(open(args.config))
    model = CLIP(cfg)
    state = torch.load(args.weights, map_location="cpu")
    if "state_dict" in state:
        state = state["state_dict"]
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    model.load_state_dict(state)
    model = model.float().eval()
    size = cfg["vision_cfg"]["image_size"]
    results = []
    gen = torch.Generator().manual_seed(0)
    for batch in [int(b) for b in args.batches.split(",")]:
        x = torch.randn(batch, 3, size, size, generator=gen)
        with torch.inference_mode():
            model.encode_image(x)  # warm-up
            runs, start = 0, time.perf_counter()
            while runs < 1 or (time.perf_counter() - start < args.seconds and runs < 50):
                model.encode_image(x)
                runs += 1
            seconds = time.perf_counter() - start
        results.append({"batch": batch, "runs": runs, "seconds": seconds, "imagesPerSecond": batch * runs / seconds})
    # Debian's torch is built with BLAS_INFO=generic: the BLAS actually loaded decides its speed.
    with open("/proc/self/maps") as maps:
        blas = sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1].lower()})
    print(json.dumps({"torch": torch.__version__, "blas": blas, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
