// A grayscale (or label-map) raster drawn on a canvas, optionally with a mask overlay.
export function grayCanvas(pixels: Uint8Array, width: number, height: number, options: {mask?: Uint8Array; scale?: number} = {}): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const scale = options.scale ?? 1;
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  canvas.style.imageRendering = "pixelated";
  const ctx = canvas.getContext("2d")!;
  const image = ctx.createImageData(width, height);
  // Mask labels tinted: skull, abdomen, femur, heart.
  const tints: [number, number, number][] = [[0, 0, 0], [255, 170, 0], [0, 200, 255], [120, 255, 90], [255, 60, 120]];
  for (let i = 0; i < width * height; i++) {
    let r = pixels[i];
    let g = r;
    let b = r;
    const label = options.mask?.[i] ?? 0;
    if (label) {
      const [tr, tg, tb] = tints[label % tints.length];
      r = Math.round(0.55 * r + 0.45 * tr);
      g = Math.round(0.55 * g + 0.45 * tg);
      b = Math.round(0.55 * b + 0.45 * tb);
    }
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}
