// The fetal trunk in transverse section, shared by the abdomen, kidney and
// four-chamber heart planes: skin ellipse, the spine's three ossification
// centres posteriorly (each casting a shadow), and rib arcs at the sides.
// Local frame: +u anterior (belly or chest wall), -u the spine, +v the fetal left.

import {ellipsePerimeter} from "../../biometry.js";
import type {Rng} from "../../random.js";
import {frameHalfExtent, localEllipsePx, type Frame} from "../frame.js";
import {bone, mmToPx, type Scene} from "../scene.js";
import {ellipse, ellipseArc, innerBand, tube} from "../shapes.js";
import {ECHO, type Tissue} from "../tissueMap.js";
import type {AnatomyLayout} from "./layout.js";

export interface TorsoSection {
  /** Semi-axes (mm) of the outer skin ellipse, on which AC is measured: antero-posterior (u) and transverse (v). */
  apMm: number;
  trMm: number;
  /** Direction of +u (anterior) in the image, radians. */
  angle: number;
  mirror: 1 | -1;
  skinMm: number;
}

/**
 * Orientation of +u (anterior): any, except with the spine up under the probe, whose shadow would hide
 * the section; sonographers turn to a spine-down or lateral view for AC and four-chamber planes.
 */
function spineAwayFromProbe(rng: Rng): number {
  for (;;) {
    const angle = rng.uniform(0, 2 * Math.PI);
    if (Math.sin(angle) < 0.4) return angle;
  }
}

/** A trunk section of circumference `circumferenceMm` with minor/major `aspect`, at a random orientation. */
export function planTorso(circumferenceMm: number, aspect: number, rng: Rng): TorsoSection {
  const major = circumferenceMm / ellipsePerimeter(1, aspect);
  // The AP diameter is usually the shorter one; sometimes the section is rounder the other way.
  const apShort = rng.chance(0.8);
  return {
    apMm: apShort ? major * aspect : major,
    trMm: apShort ? major : major * aspect,
    angle: spineAwayFromProbe(rng),
    mirror: rng.sign(),
    skinMm: rng.uniform(1.5, 3)
  };
}

export function torsoHalfExtentMm(t: TorsoSection): {hx: number; hy: number} {
  return frameHalfExtent(t.apMm, t.trMm, t.angle);
}

export function torsoFrame(scene: Scene, t: TorsoSection, cx: number, cy: number): Frame {
  return {cx, cy, angle: t.angle, a: mmToPx(scene, t.apMm), b: mmToPx(scene, t.trMm), mirror: t.mirror};
}

/**
 * The layout of a trunk-section plane (abdomen, kidney, four-chamber heart): the section's
 * extent, framing and probes; `drawInside` draws the plane's contents in the torso's frame.
 */
export function torsoLayout(torso: TorsoSection, mirrored: boolean, fill: [number, number], drawInside: (scene: Scene, f: Frame) => void): AnatomyLayout {
  torso.mirror = mirrored ? -1 : 1;
  const extent = torsoHalfExtentMm(torso);
  return {
    halfWidthMm: extent.hx,
    halfHeightMm: extent.hy,
    fill,
    probes: ["curved", "curved", "curved", "linear"],
    obstetricSurroundings: true,
    draw(scene, cx, cy) {
      drawInside(scene, torsoFrame(scene, torso, cx, cy));
    }
  };
}

/** The section up to its outer skin edge (the frame's ellipse, labelled `label`), then the interior inside the skin layer. */
export function drawTrunkSection(scene: Scene, f: Frame, skinPx: number, interior: Tissue, label?: number): void {
  const outer = ellipse(f.cx, f.cy, f.a, f.b, f.angle);
  scene.map.paint(outer, {echo: 0.3, attenuation: 0.1, softPx: 1.2, label});
  scene.map.paint(ellipse(f.cx, f.cy, f.a - skinPx, f.b - skinPx, f.angle), interior);
  scene.map.paint(innerBand(outer, 1.1), {echo: 0.55});
}

/** Vertebra in transverse section: body anteriorly, two laminae posteriorly, paraspinal muscle around. */
export function drawSpineSection(scene: Scene, f: Frame, gaDays: number): void {
  const r = Math.max(1.3, 0.075 * Math.min(f.a, f.b));
  const uBody = -1 + (r * 4.2) / f.a;
  const uLamina = -1 + (r * 1.9) / f.a;
  scene.map.paint(localEllipsePx(f, (uBody + uLamina) / 2, 0, r * 3.2, r * 3.6), {echo: 0.3, attenuation: 0.1, softPx: 2});
  scene.map.paint(localEllipsePx(f, (uBody + uLamina) / 2 + 0.01, 0, r * 1.3, r * 0.8), {echo: 0.06, softPx: 1});
  const ossified = 0.6 + 0.4 * Math.min(1, (gaDays - 98) / 120);
  const tissue = bone(scene, {echo: ECHO.bone * ossified, floor: 0.6});
  scene.map.paint(localEllipsePx(f, uBody, 0, r * 1.05, r * 1.15), tissue);
  for (const side of [-1, 1]) {
    scene.map.paint(localEllipsePx(f, uLamina, (side * r * 1.5) / f.b, r * 0.95, r * 0.55, side * 0.7), tissue);
  }
}

/** Rib arcs just inside the skin: `count` per side between polar angles (radians from +u) lo..hi. */
export function drawRibs(scene: Scene, f: Frame, count: number, lo: number, hi: number, arcLength: number, rng: Rng): void {
  const thickness = Math.max(0.8, 0.025 * Math.min(f.a, f.b));
  for (const side of [-1, 1]) {
    for (let k = 0; k < count; k++) {
      const center = rng.uniform(lo, hi);
      const a0 = side * (center - arcLength / 2) * f.mirror;
      const a1 = side * (center + arcLength / 2) * f.mirror;
      const inset = 0.92 - 0.04 * rng.next();
      const pts = ellipseArc(f.cx, f.cy, f.a * inset, f.b * inset, f.angle, a0, a1, 10);
      scene.map.paint(tube(pts, thickness), bone(scene, {echo: 1.6, attenuation: 5, floor: 0.3}));
    }
  }
}
