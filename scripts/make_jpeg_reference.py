#!/usr/bin/python3
"""Test JPEGs and the pixels PIL decodes from them, for tests/jpegDecode.test.ts.

FetalCLIP's preprocessing (open_clip) opens images with PIL, whose JPEG decoder is
libjpeg(-turbo): ISLOW integer IDCT, "fancy" triangular chroma upsampling and
libjpeg's fixed-point YCbCr->RGB. The project's decoder must give the same bytes.

Each case is built here in code (small images, a few KB each) and saved as
tests/fixtures/jpeg/<case>.jpg, with PIL's Image.open(p).convert("RGB") saved
losslessly as <case>.png. Restart intervals, arithmetic coding and the 1x2 / 4x1
chroma samplings come from libjpeg-turbo's own tools (jpegtran, cjpeg), which
Pillow 9.4 cannot ask for. A CMYK (Adobe) JPEG is kept without a reference: the
project refuses CMYK by design.

Run once, with Debian's Pillow (libjpeg62-turbo) and libjpeg-turbo-progs:
  apt-get install -y python3-pil python3-numpy libjpeg-turbo-progs
  /usr/bin/python3 scripts/make_jpeg_reference.py
"""
import io
import os
import subprocess

import numpy as np
import PIL
from PIL import Image, features

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "jpeg")


def scan(w, h, seed):
    """An ultrasound-like grey fan (speckle, a bright ring) tinted by a colour gradient."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = np.hypot(x - w / 2, y + h * 0.2)
    fan = (np.abs(np.arctan2(x - w / 2, y + h * 0.2)) < 0.7) & (r < h * 1.1)
    ring = np.exp(-((np.hypot(x - w * 0.5, y - h * 0.55) - h * 0.25) ** 2) / 6.0)
    grey = fan * (60 + 40 * rng.random((h, w)) + 150 * ring)
    rgb = np.stack([grey + 60 * x / w, grey + 40 * y / h, grey + 80 * (1 - x / w)], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def checkerboard(w, h, side, a, b):
    """Saturated two-colour squares; `side` not a divisor of 8 so edges cross blocks."""
    y, x = np.mgrid[0:h, 0:w]
    on = ((x // side + y // side) % 2).astype(bool)[..., None]
    return Image.fromarray(np.where(on, np.array(a, np.uint8), np.array(b, np.uint8)).astype(np.uint8), "RGB")


def stripes(w, h):
    """Vertical stripes of saturated colours, 3 px wide, with a diagonal band."""
    colours = np.array([[255, 0, 0], [0, 255, 255], [0, 0, 255], [255, 255, 0], [0, 255, 0], [255, 0, 255]], np.uint8)
    y, x = np.mgrid[0:h, 0:w]
    img = colours[(x // 3) % len(colours)]
    img[np.abs(x - y) < 4] = [255, 255, 255]
    return Image.fromarray(img, "RGB")


def save(img, **options):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **options)
    return buf.getvalue()


def tool(args, data):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def ppm(img):
    buf = io.BytesIO()
    img.save(buf, "PPM")
    return buf.getvalue()


def cases():
    scene = scan(64, 48, 1)
    odd = scan(61, 45, 2)
    checker = checkerboard(48, 40, 5, (255, 0, 0), (0, 0, 255))
    yield "baseline-420", "RGB 64x48, 4:2:0, quality 90", save(scene, quality=90, subsampling=2)
    yield "baseline-422", "RGB 64x48, 4:2:2, quality 90", save(scene, quality=90, subsampling=1)
    yield "baseline-444", "RGB 64x48, 4:4:4, quality 90", save(scene, quality=90, subsampling=0)
    yield "progressive-420", "RGB 64x48, progressive, 4:2:0, quality 85", save(scene, quality=85, subsampling=2, progressive=True)
    yield "odd-size-420", "RGB 61x45 (not multiples of 16), 4:2:0, quality 90", save(odd, quality=90, subsampling=2)
    yield "odd-size-422", "RGB 61x45, 4:2:2, quality 80", save(odd, quality=80, subsampling=1)
    yield "grey", "greyscale 61x45, quality 90", save(odd.convert("L"), quality=90)
    yield "grey-progressive", "greyscale 64x48, progressive, quality 75", save(scene.convert("L"), quality=75, progressive=True)
    yield "checker-red-blue-420", "red/blue 5 px checkerboard 48x40, 4:2:0, quality 95", save(checker, quality=95, subsampling=2)
    yield "checker-red-blue-444", "red/blue 5 px checkerboard 48x40, 4:4:4, quality 95", save(checker, quality=95, subsampling=0)
    yield "stripes-422", "saturated 3 px stripes 57x41, 4:2:2, quality 75", save(stripes(57, 41), quality=75, subsampling=1)
    yield "progressive-checker-420", "red/green 3 px checkerboard 63x47, progressive, 4:2:0, quality 90", save(
        checkerboard(63, 47, 3, (255, 0, 0), (0, 255, 0)), quality=90, subsampling=2, progressive=True
    )
    yield "restart-rows-420", "baseline-420 with a restart marker every MCU row (jpegtran -restart 1)", tool(["jpegtran", "-restart", "1"], save(scene, quality=90, subsampling=2))
    yield "restart-blocks-progressive", "odd-size progressive 4:2:0, restart every 3 MCUs (jpegtran -restart 3B)", tool(
        ["jpegtran", "-restart", "3B"], save(odd, quality=85, subsampling=2, progressive=True)
    )
    yield "arithmetic-420", "baseline-420 recoded with arithmetic coding (jpegtran -arithmetic)", tool(["jpegtran", "-arithmetic"], save(scene, quality=90, subsampling=2))
    yield "sample-1x2", "RGB 61x45, chroma halved vertically only (cjpeg -sample 1x2)", tool(["cjpeg", "-quality", "90", "-sample", "1x2"], ppm(odd))
    yield "sample-4x1", "RGB 61x45, chroma quartered horizontally (cjpeg -sample 4x1)", tool(["cjpeg", "-quality", "90", "-sample", "4x1"], ppm(odd))


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = []
    total = 0
    for name, what, data in cases():
        path = os.path.join(OUT, name + ".jpg")
        with open(path, "wb") as f:
            f.write(data)
        ref = os.path.join(OUT, name + ".png")
        Image.open(path).convert("RGB").save(ref, optimize=True)
        total += len(data) + os.path.getsize(ref)
        rows.append(f"| {name} | {what} |")
    cmyk = Image.fromarray(np.asarray(scan(32, 24, 3)), "RGB").convert("CMYK")
    data = save(cmyk, quality=90)
    with open(os.path.join(OUT, "cmyk-adobe.jpg"), "wb") as f:
        f.write(data)
    total += len(data)
    rows.append("| cmyk-adobe | CMYK 32x24 with an Adobe marker (no .png: the project refuses CMYK) |")
    readme = [
        "# JPEG decoding fixtures",
        "",
        "`<case>.jpg` and `<case>.png`: PIL's `Image.open(jpg).convert(\"RGB\")`, stored losslessly.",
        f"Made by `/usr/bin/python3 scripts/make_jpeg_reference.py` with Debian's Pillow {PIL.__version__}",
        f"(libjpeg-turbo {features.version('jpg')} API, libjpeg62-turbo 2.1.5) and libjpeg-turbo-progs' jpegtran/cjpeg.",
        "Read by tests/jpegDecode.test.ts, which never runs Python.",
        "",
        "| case | what it is |",
        "| --- | --- |",
        *rows,
        "",
    ]
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(readme))
    print(f"{len(rows)} JPEGs, {total} bytes of JPEG + PNG in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
