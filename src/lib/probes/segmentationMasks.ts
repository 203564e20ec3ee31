// Masks for the segmentation probe, in the model's input geometry. Filling HC18's
// outlines, label maps to binary masks and the pad-and-resize to the encoder's input
// live in ../image/masks.ts (shared with the CAM localisation); re-exported here.
export {fillOutline, outlinePixels, labelMask as binaryMask, maskToInputSize} from "../image/masks.js";

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
