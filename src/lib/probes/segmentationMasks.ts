// Masks for the segmentation probe, in the model's input geometry: HC18's ellipse
// outlines filled as FetalCLIP's preprocessing fills them (the external contour,
// outline included), label maps turned into one binary mask per structure, and the
// zero-pad-to-square + nearest-neighbour resize that the official notebooks apply to
// masks (cv2.INTER_NEAREST), so a mask lines up with the image the encoder saw.
import {squarePadding} from "../image/pad.js";

/**
 * Fills a closed outline: every pixel not reachable from the image border without
 * crossing the outline (4-connected steps, so an 8-connected outline holds) is inside.
 * The outline's own pixels are inside too, as OpenCV's drawContours(thickness=-1) of the
 * external contour gives. `outline` is nonzero on the outline.
 */
export function fillOutline(outline: Uint8Array, width: number, height: number): Uint8Array {
  if (outline.length !== width * height) throw new Error(`fillOutline: ${outline.length} pixels for ${width} x ${height}`);
  const outside = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  let top = 0;
  const push = (i: number) => {
    if (!outline[i] && !outside[i]) {
      outside[i] = 1;
      stack[top++] = i;
    }
  };
  for (let x = 0; x < width; x++) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (top > 0) {
    const i = stack[--top]!;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < (height - 1) * width) push(i + width);
  }
  const filled = new Uint8Array(width * height);
  for (let i = 0; i < filled.length; i++) filled[i] = outside[i] ? 0 : 1;
  return filled;
}

/** Outline pixels of an annotation image: any channel above 127 (HC18's outlines are drawn white on black). */
export function outlinePixels(data: ArrayLike<number>, width: number, height: number, channels: number): Uint8Array {
  if (data.length !== width * height * channels) throw new Error(`outlinePixels: ${data.length} samples for ${width} x ${height} x ${channels}`);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    for (let c = 0; c < channels; c++) {
      if (data[i * channels + c]! > 127) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}

/** A binary mask (1 where the label map holds one of `labels`). */
export function binaryMask(labelMap: Uint8Array, labels: readonly number[]): Uint8Array {
  const set = new Uint8Array(256);
  for (const l of labels) set[l] = 1;
  const out = new Uint8Array(labelMap.length);
  for (let i = 0; i < out.length; i++) out[i] = set[labelMap[i]!]!;
  return out;
}

/**
 * A mask (or label map) in the encoder's input geometry: zero-padded to a centred square
 * (the offsets padToSquare uses for the image), then resized to size x size by OpenCV's
 * INTER_NEAREST rule (source index floor(dst * side / size)).
 */
export function maskToInputSize(mask: Uint8Array, width: number, height: number, size: number): Uint8Array {
  if (mask.length !== width * height) throw new Error(`maskToInputSize: ${mask.length} pixels for ${width} x ${height}`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`maskToInputSize: size must be a positive integer, got ${size}`);
  const {side, left, top} = squarePadding(width, height);
  const scale = side / size;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(side - 1, Math.floor(y * scale)) - top;
    if (sy < 0 || sy >= height) continue;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(side - 1, Math.floor(x * scale)) - left;
      if (sx >= 0 && sx < width) out[y * size + x] = mask[sy * width + sx]!;
    }
  }
  return out;
}

/** Area, centroid and the semi-axes (px) of the ellipse with the same second moments as a binary mask. */
export function momentEllipse(mask: Uint8Array, width: number): {area: number; cx: number; cy: number; a: number; b: number} {
  let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = i % width;
    const y = (i - x) / width;
    n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
  }
  if (n === 0) return {area: 0, cx: NaN, cy: NaN, a: 0, b: 0};
  const cx = sx / n, cy = sy / n;
  const cxx = sxx / n - cx * cx, cyy = syy / n - cy * cy, cxy = sxy / n - cx * cy;
  const half = (cxx + cyy) / 2;
  const root = Math.sqrt(Math.max(0, half * half - (cxx * cyy - cxy * cxy)));
  // A filled ellipse of semi-axis a has variance a^2 / 4 along it.
  return {area: n, cx, cy, a: 2 * Math.sqrt(half + root), b: 2 * Math.sqrt(Math.max(0, half - root))};
}
