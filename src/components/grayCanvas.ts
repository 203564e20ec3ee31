// A grayscale (or label-map) raster drawn on a canvas, optionally with a mask overlay.

/** Tint of each mask label, indexed by label value (0 is background and never tinted). */
export const MASK_TINTS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [255, 170, 0], // 1 skull: orange
  [0, 200, 255], // 2 abdomen: blue
  [120, 255, 90], // 3 femur: green
  [255, 60, 120] // 4 heart: pink
];

/**
 * Draws `pixels` (row-major, one byte per pixel) at its own resolution. The canvas is shown at
 * `scale` times its size, or at `width` CSS pixels (height keeps the aspect ratio) when given;
 * both default to the raster's own size.
 */
export function grayCanvas(
  pixels: Uint8Array,
  width: number,
  height: number,
  options: {mask?: Uint8Array; scale?: number; width?: number} = {}
): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.style.height = "auto";
  canvas.style.maxWidth = "100%";
  canvas.style.imageRendering = "pixelated";
  const scale = options.width !== undefined ? options.width / width : options.scale ?? 1;
  canvas.style.width = `${width * scale}px`;
  // A CPU-backed canvas: we only put pixels; a GPU-backed one would upload each image through the GPU process.
  const ctx = canvas.getContext("2d", {willReadFrequently: true})!;
  const image = ctx.createImageData(width, height);
  const data = image.data;
  const mask = options.mask;
  // Plain indexed writes, no per-pixel arrays: this runs on the main thread for every image shown.
  for (let i = 0, o = 0; i < width * height; i++, o += 4) {
    const v = pixels[i]!;
    const label = mask ? mask[i]! : 0;
    if (label) {
      const [tr, tg, tb] = MASK_TINTS[label % MASK_TINTS.length]!;
      data[o] = Math.round(0.55 * v + 0.45 * tr);
      data[o + 1] = Math.round(0.55 * v + 0.45 * tg);
      data[o + 2] = Math.round(0.55 * v + 0.45 * tb);
    } else {
      data[o] = v;
      data[o + 1] = v;
      data[o + 2] = v;
    }
    data[o + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}
