#!/usr/bin/python3
"""OpenCV outputs for tests/augment.test.ts: the training-time augmentation of FetalCLIP's
probing / few-data notebooks (preprocess_data.ipynb), op by op.

The notebook runs albumentations 2.0.8 (with albucore 0.0.24) on each padded training
image: ColorJitter(0.2, 0.2, 0.2, 0.2, p=0.5), CLAHE(p=0.5),
ShiftScaleRotate(0.2, 0.0, 20, INTER_LINEAR, BORDER_CONSTANT, p=1), then
Resize(224, 224, INTER_CUBIC). Every pixel operation underneath is OpenCV's, so the
references here call cv2 4.6 directly: createCLAHE().apply, warpAffine, resize, cvtColor,
addWeighted. Where albumentations/albucore do the arithmetic in numpy (the brightness and
contrast look-up tables, the hue shift table) it is written out below following
albumentations/augmentations/pixel/functional.py (adjust_*_torchvision) and
albucore/functions.py (multiply_lut, multiply_add_lut: float32 table, np.clip, astype
uint8, i.e. truncation). The affine matrix is built as
albumentations/augmentations/geometric/functional.py create_affine_transformation_matrix
does for ShiftScaleRotate (centre ((w-1)/2, (h-1)/2), rotation [[c, s], [-s, c]],
translation in whole pixels).

Albumentations itself is not needed (nor installed here): only the pixel operations are
compared; its random draws are Python's and cannot be matched.

Inputs are seeded synthetic ultrasound-like scans (a speckled fan with a bright ring),
grey at 97x61 (neither side a multiple of CLAHE's 8x8 grid), 128x100 (width a multiple,
height not: OpenCV then pads a whole extra tile column) and 216x160 (both multiples), and
one RGB scan; everything is saved as PNG with a manifest.json, under ~300 KB in all.

Run once:  /usr/bin/python3 scripts/augment_reference.py
"""
import json
import math
import os

import cv2
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "augment")


def scan(w, h, seed):
    """Grey fan-shaped scan: blurred speckle (as ultrasound speckle is), a bright ring, black outside."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    apex_y = -h * 0.15
    r = np.hypot(x - w / 2, y - apex_y)
    fan = (np.abs(np.arctan2(x - w / 2, y - apex_y)) < 0.75) & (r < h * 1.1) & (r > h * 0.18)
    speckle = cv2.GaussianBlur(rng.random((h, w)), (0, 0), 1.5)
    speckle = (speckle - speckle.min()) / (np.ptp(speckle) + 1e-9)
    ring = np.exp(-((np.hypot(x - w * 0.5, y - h * 0.55) - min(w, h) * 0.22) ** 2) / 8.0)
    depth = 1.0 - 0.5 * np.clip(r / (h * 1.1), 0, 1)
    grey = fan * (25 + 110 * speckle * depth + 120 * ring)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def tinted(w, h, seed):
    """An RGB scan: the grey fan under a smooth colour cast, with a saturated colour-Doppler-like blob."""
    g = scan(w, h, seed).astype(np.float64)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.stack([g * (0.85 + 0.3 * x / w), g * (0.9 + 0.1 * y / h), g * (1.1 - 0.3 * x / w)], axis=-1)
    blob = np.hypot(x - w * 0.4, y - h * 0.45) < min(w, h) * 0.12
    rgb[blob] = [220, 60, 30]
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def ssr_matrix(w, h, angle, dx, dy):
    """albumentations 2.0.8 create_affine_transformation_matrix for ShiftScaleRotate (scale 1, no shear)."""
    cx, cy = w / 2 - 0.5, h / 2 - 0.5
    rad = np.deg2rad(angle % 360)
    shift_topleft = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    scale = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1]])
    rotate = np.array([[np.cos(rad), np.sin(rad), 0], [-np.sin(rad), np.cos(rad), 0], [0, 0, 1]])
    shear = np.array([[1, np.tan(np.deg2rad(-0.0)), 0], [np.tan(np.deg2rad(-0.0)), 1, 0], [0, 0, 1]])
    translate = np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]])
    shift_center = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]])
    m = shift_center @ translate @ shear @ rotate @ scale @ shift_topleft
    m[2] = [0, 0, 1]
    return m


def warp(img, m):
    h, w = img.shape[:2]
    return cv2.warpAffine(img, m[:2], (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def clahe(img, clip):
    op = cv2.createCLAHE(clipLimit=clip, tileGridSize=(8, 8))
    if img.ndim == 2:
        return op.apply(img)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = op.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def brightness(img, f):
    # albucore multiply_lut: float32 table * float32(value), np.clip, astype(uint8).
    lut = np.clip(np.arange(256, dtype=np.float32) * np.array(f, dtype=np.float32), 0, 255).astype(np.uint8)
    return lut[img]


def contrast(img, f):
    # adjust_contrast_torchvision: mean of the grey image (cv2 RGB2GRAY for colour), then albucore
    # multiply_add_lut: float32 table * factor + mean * (1 - factor), np.clip, astype(uint8).
    mean = img.mean() if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).mean()
    value = float(mean * (1 - f))
    lut = np.clip(np.arange(256, dtype=np.float32) * f + value, 0, 255).astype(np.uint8)
    return lut[img]


def saturation(img, f):
    gray = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(img, f, gray, 1 - f, gamma=0)


def hue(img, f):
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    lut = np.mod(np.arange(0, 256, dtype=np.int16) + 180 * f, 180).astype(np.uint8)
    hsv[..., 0] = lut[hsv[..., 0]]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def pad_square(img):
    """make_image_square_with_zero_padding: centred at ((side - w) // 2, (side - h) // 2)."""
    h, w = img.shape[:2]
    side = max(w, h)
    out = np.zeros((side, side) + img.shape[2:], np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    out[top:top + h, left:left + w] = img
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    entries = []

    def save(name, arr):
        Image.fromarray(arr, "L" if arr.ndim == 2 else "RGB").save(os.path.join(OUT, name + ".png"), optimize=True)
        return name + ".png"

    def add(source, name, op, arr, **params):
        entries.append({"source": source, "file": save(name, arr), "op": op, "width": arr.shape[1], "height": arr.shape[0],
                        "channels": 1 if arr.ndim == 2 else 3, "params": params})

    inputs = {
        "grey97x61": scan(97, 61, 7),
        "grey128x100": scan(128, 100, 11),
        "grey216x160": scan(216, 160, 23),
        "rgb80x60": tinted(80, 60, 31),
    }
    sources = []
    for key, img in inputs.items():
        sources.append({"name": key, "file": save(key, img), "width": img.shape[1], "height": img.shape[0],
                        "channels": 1 if img.ndim == 2 else 3})

    for key in ["grey97x61", "grey128x100", "grey216x160"]:
        img = inputs[key]
        for clip in [1.0, 2.5, 4.0]:
            add(key, f"{key}-clahe{clip}", "clahe", clahe(img, clip), clipLimit=clip)
    add("rgb80x60", "rgb80x60-clahe2.5", "clahe", clahe(inputs["rgb80x60"], 2.5), clipLimit=2.5)
    add("rgb80x60", "rgb80x60-lab", "rgb2lab", cv2.cvtColor(inputs["rgb80x60"], cv2.COLOR_RGB2LAB))

    warps = {
        "grey97x61": [(13.7, 9, -5), (-19.2, -19, 12), (0.0, 7, 3)],
        "grey128x100": [(5.3, -25, 20), (-11.9, 0, 0)],
        "grey216x160": [(17.4, 31, -32), (-2.1, -43, 0)],
        "rgb80x60": [(-8.6, 11, -17)],
    }
    for key, cases in warps.items():
        img = inputs[key]
        h, w = img.shape[:2]
        for i, (angle, dx, dy) in enumerate(cases):
            m = ssr_matrix(w, h, angle, dx, dy)
            add(key, f"{key}-warp{i}", "warpAffine", warp(img, m), angleDeg=angle, dx=dx, dy=dy, matrix=m[:2].ravel().tolist())

    for key in ["grey97x61", "grey128x100", "grey216x160"]:
        add(key, f"{key}-cubic224", "resizeCubic", cv2.resize(inputs[key], (224, 224), interpolation=cv2.INTER_CUBIC), width=224, height=224)
    # Shrinking: the same code path as a large scan going down to 224.
    add("grey216x160", "grey216x160-cubic150x97", "resizeCubic",
        cv2.resize(inputs["grey216x160"], (150, 97), interpolation=cv2.INTER_CUBIC), width=150, height=97)
    add("rgb80x60", "rgb80x60-cubic53x41", "resizeCubic",
        cv2.resize(inputs["rgb80x60"], (53, 41), interpolation=cv2.INTER_CUBIC), width=53, height=41)

    for key in ["grey97x61", "rgb80x60"]:
        img = inputs[key]
        for f in [0.8137, 1.1862]:
            add(key, f"{key}-brightness{f}", "brightness", brightness(img, f), factor=f)
            add(key, f"{key}-contrast{f}", "contrast", contrast(img, f), factor=f)
    rgb = inputs["rgb80x60"]
    for f in [0.8411, 1.1733]:
        add("rgb80x60", f"rgb80x60-saturation{f}", "saturation", saturation(rgb, f), factor=f)
    for f in [-0.1874, 0.0931]:
        add("rgb80x60", f"rgb80x60-hue{f}", "hue", hue(rgb, f), factor=f)

    # One whole training view: pad, jitter (contrast then brightness), CLAHE 2.9, warp, cubic 224.
    padded = pad_square(inputs["grey97x61"])
    side = padded.shape[0]
    m = ssr_matrix(side, side, -7.5, 12, -9)
    view = cv2.resize(warp(clahe(brightness(contrast(padded, 1.07), 0.91), 2.9), m), (224, 224), interpolation=cv2.INTER_CUBIC)
    add("grey97x61", "grey97x61-pipeline", "pipeline", view, contrast=1.07, brightness=0.91, clipLimit=2.9,
        angleDeg=-7.5, dx=12, dy=-9)

    manifest = {
        "generator": "scripts/augment_reference.py",
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "sources": sources,
        "cases": entries,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(entries)} cases, {total / 1024:.0f} KB in {OUT}")


if __name__ == "__main__":
    main()
