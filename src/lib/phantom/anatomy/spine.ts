// Sagittal fetal spine (a distractor): two parallel rows of bright dots,
// the vertebral bodies anteriorly and the posterior arches behind, with the
// dark spinal canal between, converging towards the sacrum, under the intact
// skin of the back, each ossification centre casting a shadow.

import type {Rng} from "../../random.js";
import {frameHalfExtent, pathPx, toPx, type Frame} from "../frame.js";
import {bone, mmToPx, soft, textured, type Scene} from "../scene.js";
import {outline, polygon, tube} from "../shapes.js";
import {ECHO} from "../tissueMap.js";
import type {PhantomPatient} from "../types.js";
import {obstetricLayout, SMALL_PART_PROBES, type AnatomyLayout} from "./layout.js";

/** Cervical-to-sacral spine length, taken as 0.45 HC (an approximation of fetal proportions, not a chart). */
const SPINE_TO_HC = 0.45;
/** Vertebrae drawn between C1 and the sacrum. */
const VERTEBRAE = 29;

export function planSpine(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  const spineMm = SPINE_TO_HC * patient.hcMm;
  // Show a stretch of the spine, usually the lower thoracic to sacral part.
  const visibleMm = spineMm * rng.uniform(0.55, 0.9);
  const trunkMm = (patient.acMm / Math.PI) * rng.uniform(0.8, 1.0);
  const angle = rng.normal(0, 0.15) + (rng.chance(0.5) ? Math.PI : 0);
  const extent = frameHalfExtent(visibleMm / 2, trunkMm / 2, angle);
  const curve = rng.uniform(0.04, 0.12);
  return obstetricLayout(extent, [0.75, 1.05], SMALL_PART_PROBES, (scene, cx, cy) => {
    const {map} = scene;
    // +u cranial, +v anterior (away from the probe: the back faces up, the usual view for the spine).
    const mirror: 1 | -1 = Math.cos(angle) >= 0 ? 1 : -1;
    const f: Frame = {cx, cy, angle, a: mmToPx(scene, visibleMm / 2), b: mmToPx(scene, trunkMm / 2), mirror};
    const bend = (u: number) => curve * (1 - u * u);
    // Trunk: the back's skin just above the posterior arches, the body wall deep.
    const outlineUv: Array<[number, number]> = [];
    for (let i = 0; i <= 12; i++) {
      const u = -1.3 + (2.6 * i) / 12;
      outlineUv.push([u, -0.72 + bend(u)]);
    }
    for (let i = 12; i >= 0; i--) {
      const u = -1.3 + (2.6 * i) / 12;
      outlineUv.push([u, 1.15 + bend(u) * 0.5]);
    }
    const trunk = polygon(pathPx(f, outlineUv));
    map.paint(trunk, {...soft(scene, 0.22, 0.45), echo: textured(scene, 0.22, 0.45, 6), softPx: 1.5});
    map.paint(outline(trunk, 1.1), {echo: 0.55});
    // Spinal canal between the rows.
    const canal = Array.from({length: 13}, (_, i) => {
      const u = -1.1 + (2.2 * i) / 12;
      return [u, -0.3 + bend(u) + 0.12 * Math.max(0, -u - 0.3)] as const;
    });
    map.paint(tube(pathPx(f, canal), Math.max(1, 0.09 * f.b)), {echo: 0.06, attenuation: 0.05, softPx: 1.5});
    // Ossification centres: vertebral bodies (front row) and posterior arches (back row), converging at the sacrum.
    const pitchPx = mmToPx(scene, spineMm / VERTEBRAE);
    const count = Math.ceil((2.2 * f.a) / pitchPx);
    const rBody = Math.max(1, pitchPx * 0.32);
    const rArch = Math.max(0.9, pitchPx * 0.24);
    for (let k = 0; k <= count; k++) {
      const u = -1.1 + (k * pitchPx) / f.a;
      const taper = 1 - 0.6 * Math.max(0, Math.min(1, (-u - 0.4) / 0.7));
      const gap = 0.2 * taper;
      const vMid = -0.3 + bend(u) + 0.12 * Math.max(0, -u - 0.3);
      const front = toPx(f, u, vMid + gap);
      const back = toPx(f, u, vMid - gap);
      const size = 0.7 + 0.3 * taper;
      map.paint(tube([toPx(f, u - (rBody * 0.6) / f.a, vMid + gap), toPx(f, u + (rBody * 0.6) / f.a, vMid + gap)], rBody * size),
        bone(scene, {echo: ECHO.bone, attenuation: 7, floor: 0.5}));
      map.paint(tube([back, {x: back.x + (front.x - back.x) * 0.05, y: back.y + (front.y - back.y) * 0.05}], rArch * size),
        bone(scene, {echo: ECHO.bone * 0.9, attenuation: 6, floor: 0.5}));
    }
    // Skin over the spine, intact.
    const skin = Array.from({length: 13}, (_, i) => {
      const u = -1.3 + (2.6 * i) / 12;
      return [u, -0.72 + bend(u)] as const;
    });
    map.paint(tube(pathPx(f, skin), 0.8), {echo: ECHO.bright, softPx: 1.2});
  });
}
