// Masks in the model's input geometry, shared by the segmentation probe and the CAM
// localisation: HC18's ellipse outlines filled as FetalCLIP's preprocessing fills them
// (the external contour, outline included), label maps turned into binary masks, and the
// zero-pad-to-square + nearest-neighbour resize that the official notebooks apply to
// masks (cv2.INTER_NEAREST), so a mask lines up with the image the encoder saw.
import {squarePadding} from "./pad.js";

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

/** A binary mask (1 inside) of the pixels of a label map whose value is one of `labels`. */
export function labelMask(labelMap: ArrayLike<number>, labels: readonly number[]): Uint8Array {
  const out = new Uint8Array(labelMap.length);
  if (labelMap instanceof Uint8Array) {
    // 8-bit label maps: a lookup table (the same answer as the set, faster).
    const table = new Uint8Array(256);
    for (const l of labels) table[l] = 1;
    for (let i = 0; i < out.length; i++) out[i] = table[labelMap[i]!]!;
    return out;
  }
  const wanted = new Set(labels);
  for (let i = 0; i < labelMap.length; i++) if (wanted.has(labelMap[i]!)) out[i] = 1;
  return out;
}

/**
 * A mask in the model's input geometry: zero-padded to a centred square as the image is
 * (FetalCLIP's make_image_square_with_zero_padding, the offsets padToSquare uses), then
 * resized to size x size by nearest neighbour (cv2.INTER_NEAREST: source index
 * floor(dst * side / size)), as the official notebooks resize masks. `binary` writes 1
 * for any nonzero source pixel; otherwise values are copied (label maps). `caller` names
 * the function in errors.
 */
export function resampleMask(mask: ArrayLike<number>, width: number, height: number, size: number, binary: boolean, caller: string): Uint8Array {
  if (mask.length !== width * height) throw new Error(`${caller}: ${mask.length} pixels for ${width} x ${height}`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`${caller}: size must be a positive integer, got ${size}`);
  const {side, left, top} = squarePadding(width, height);
  const scale = side / size;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(side - 1, Math.floor(y * scale)) - top;
    if (sy < 0 || sy >= height) continue;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(side - 1, Math.floor(x * scale)) - left;
      if (sx >= 0 && sx < width) {
        const v = mask[sy * width + sx]!;
        if (binary) {
          if (v) out[y * size + x] = 1;
        } else {
          out[y * size + x] = v;
        }
      }
    }
  }
  return out;
}

/** A mask (or label map) in the encoder's input geometry, values copied. */
export function maskToInputSize(mask: Uint8Array, width: number, height: number, size: number): Uint8Array {
  return resampleMask(mask, width, height, size, false, "maskToInputSize");
}

/** A mask in the model's input geometry, 1 wherever the source pixel is nonzero. */
export function maskToInputGeometry(mask: ArrayLike<number>, width: number, height: number, size: number): Uint8Array {
  return resampleMask(mask, width, height, size, true, "maskToInputGeometry");
}
