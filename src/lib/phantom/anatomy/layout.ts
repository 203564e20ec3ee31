// The contract between the generator and one plane's anatomy drawer: how big
// the structure is (so the generator can pick zoom and pixel spacing), which
// probe scans it, and how to draw it once placed.

import type {Scene} from "../scene.js";

export type ProbeKind = "curved" | "linear" | "transvaginal";

export interface AnatomyLayout {
  /** Axis-aligned half extents (mm) of the structure, including its skin, after its rotation. */
  halfWidthMm: number;
  halfHeightMm: number;
  /** Range of the image width the structure's width spans (the sonographer's zoom). */
  fill: readonly [number, number];
  /** Probes this plane is scanned with (one is drawn). */
  probes: readonly ProbeKind[];
  /** Whether the maternal wall, placenta and floating fetal parts surround it (not for the transvaginal cervix). */
  obstetricSurroundings: boolean;
  /** Draws the structure centred at (cx, cy) px. */
  draw(scene: Scene, cx: number, cy: number): void;
}

/** Probes of the limb, face and spine planes (scanned with curved probes, sometimes a linear one). */
export const SMALL_PART_PROBES: readonly ProbeKind[] = ["curved", "curved", "linear"];

/** The layout of an obstetric plane of half extents `extent` (mm), scanned with `probes`, drawn by `draw`. */
export function obstetricLayout(
  extent: {hx: number; hy: number},
  fill: readonly [number, number],
  probes: readonly ProbeKind[],
  draw: AnatomyLayout["draw"]
): AnatomyLayout {
  return {halfWidthMm: extent.hx, halfHeightMm: extent.hy, fill, probes, obstetricSurroundings: true, draw};
}
