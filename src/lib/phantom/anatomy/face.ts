// The fetal face, two distractor planes. Lips and nose: a coronal tangential
// view of the lower face with the nose tip and its two nostrils, the upper
// lip, the mouth line, the lower lip and the chin, outlined by amniotic
// fluid. Profile: the mid-sagittal face with the skull vault, forehead, nasal
// bone, nose, lips and chin, facing into the fluid.

import type {Rng} from "../../random.js";
import {frameHalfExtent, localEllipse, pathPx, toPx, type Frame} from "../frame.js";
import {bone, fluid, mmToPx, soft, textured, type Scene} from "../scene.js";
import {ellipseArc, outline, polygon, smoothClosed, tube} from "../shapes.js";
import {ECHO} from "../tissueMap.js";
import type {PhantomPatient} from "../types.js";
import {headSemiAxesMm} from "./brain.js";
import {obstetricLayout, SMALL_PART_PROBES, type AnatomyLayout} from "./layout.js";

/** Biparietal diameter (mm) implied by the patient's head ellipse. */
function bpdMm(patient: PhantomPatient): number {
  return 2 * headSemiAxesMm(patient.hcMm, patient.headAspect).bMm;
}

export function planLipsNose(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  // Lower face about 0.8 BPD wide and 0.75 BPD from nose bridge to chin (fetal facial proportions, approximate).
  const halfW = 0.4 * bpdMm(patient);
  const halfH = 0.38 * bpdMm(patient);
  // +u points from chin to nose; mostly upright on screen, sometimes turned.
  const angle = -Math.PI / 2 + rng.normal(0, 0.3) + (rng.chance(0.2) ? Math.PI : 0);
  const extent = frameHalfExtent(halfH * 1.1, halfW * 1.1, angle);
  return obstetricLayout(extent, [0.5, 0.8], SMALL_PART_PROBES, (scene, cx, cy) => {
    const {map} = scene;
    const f: Frame = {cx, cy, angle, a: mmToPx(scene, halfH), b: mmToPx(scene, halfW), mirror: 1};
    // Cheeks and the face's outline, fading at the top (the rest of the head lies out of plane).
    const face = polygon(smoothClosed(pathPx(f, [[1, -0.55], [0.5, -0.98], [-0.2, -0.95], [-0.75, -0.6], [-1, 0], [-0.75, 0.6], [-0.2, 0.95], [0.5, 0.98], [1, 0.55]]), 4));
    map.paint(face, {...soft(scene, 0.1, 0.5), softPx: 2});
    map.paint(outline(face, 1.4), {echo: 0.6});
    const skinLine = Math.max(1.4, 0.025 * f.b);
    // Nose with two nostrils.
    const nose = localEllipse(f, 0.56, 0, 0.3, 0.34);
    map.paint(nose, {...soft(scene, 0.3, 0.25), softPx: 1.3});
    map.paint(outline(nose, skinLine), {echo: 1.0});
    for (const side of [-1, 1]) map.paint(localEllipse(f, 0.44, side * 0.13, 0.09, 0.08), {...fluid(), softPx: 1.2});
    // Nasolabial folds: fluid-filled creases either side of the lips.
    for (const side of [-1, 1]) {
      map.paint(tube(pathPx(f, [[0.42, side * 0.4], [0.05, side * 0.6], [-0.35, side * 0.56]]), Math.max(1, 0.035 * f.b)), {...fluid(), softPx: 1.4});
    }
    // Upper lip, mouth, lower lip: bright skin bands around the dark mouth line.
    const upper = localEllipse(f, 0.08, 0, 0.14, 0.5);
    map.paint(upper, {...soft(scene, 0.45, 0.2), softPx: 1.2});
    map.paint(outline(upper, skinLine), {echo: 1.1});
    map.paint(tube(pathPx(f, [[-0.07, -0.44], [-0.09, 0], [-0.07, 0.44]]), Math.max(1, rng.uniform(0.02, 0.045) * f.a)), {...fluid(), softPx: 1.2});
    const lower = localEllipse(f, -0.24, 0, 0.13, 0.42);
    map.paint(lower, {...soft(scene, 0.4, 0.2), softPx: 1.2});
    map.paint(outline(lower, skinLine), {echo: 1.0});
    // Chin.
    const chin = localEllipse(f, -0.64, 0, 0.24, 0.36);
    map.paint(chin, {...soft(scene, 0.25, 0.3), softPx: 1.5});
    map.paint(outline(chin, skinLine), {echo: 0.7});
  });
}

export function planProfile(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  const {aMm} = headSemiAxesMm(patient.hcMm, patient.headAspect);
  // Sagittal head: occipito-frontal length 2a, vertex-to-chin height ~ 2a too; facing left or right.
  // Facing sideways, or up towards the probe (a supine fetus).
  const angle = rng.chance(0.5) ? (rng.chance(0.5) ? 0 : Math.PI) + rng.normal(0, 0.25) : -Math.PI / 2 + rng.normal(0, 0.4);
  // Frame the face: the view centres on the forehead-to-chin contour and crops the back of the head.
  const extent = frameHalfExtent(aMm * 0.8, aMm * 0.95, angle);
  const backShift = rng.uniform(0.3, 0.45);
  return obstetricLayout(extent, [0.75, 1.0], SMALL_PART_PROBES, (scene, cx, cy) => {
    const {map} = scene;
    // +u: the face's direction; +v: towards the chin (down on screen whichever way the face looks).
    const a = mmToPx(scene, aMm);
    const mirror: 1 | -1 = Math.cos(angle) >= 0 ? 1 : -1;
    const shifted = {x: cx - Math.cos(angle) * a * backShift, y: cy - Math.sin(angle) * a * backShift};
    const f: Frame = {cx: shifted.x, cy: shifted.y, angle, a, b: a, mirror};
    // Neck and upper chest behind and below the head.
    map.paint(localEllipse(f, -0.45, 1.15, 0.75, 0.55, 0.3), {...soft(scene, 0.22, 0.4), softPx: 2});
    const profile = smoothClosed(pathPx(f, [
      [-0.95, -0.1], [-0.75, -0.6], [-0.25, -0.88], [0.35, -0.82], [0.72, -0.52], [0.86, -0.2], [0.84, 0.0],
      [1.02, 0.16], [0.88, 0.24], [0.93, 0.31], [0.86, 0.37], [0.91, 0.43], [0.8, 0.52], [0.86, 0.63],
      [0.62, 0.76], [0.25, 0.72], [-0.2, 0.8], [-0.7, 0.55]
    ]), 4);
    const head = polygon(profile);
    map.paint(head, {...soft(scene, 0.16, 0.35), softPx: 1.3});
    map.paint(outline(head, Math.max(1.6, 0.025 * a)), {echo: 1.4});
    // Brain under the vault.
    map.paint(localEllipse(f, -0.1, -0.25, 0.72, 0.56, 0.1), {...soft(scene, ECHO.brain, 0.35), echo: textured(scene, ECHO.brain, 0.35, 8), softPx: 2});
    // Skull vault: frontal bone over the forehead to the occiput.
    const vault = ellipseArc(toPx(f, -0.1, -0.25).x, toPx(f, -0.1, -0.25).y, a * 0.77, a * 0.61, angle, -Math.PI * 0.05 * mirror, -Math.PI * 0.85 * mirror, 20);
    map.paint(tube(vault, Math.max(0.8, mmToPx(scene, 0.9))), bone(scene, {echo: 1.0, attenuation: 2.5, floor: 0.3}));
    // Nasal bone, palate and mandible.
    map.paint(tube(pathPx(f, [[0.84, -0.04], [0.93, 0.1]]), Math.max(0.8, 0.015 * a)), bone(scene, {echo: 2.8, attenuation: 5, floor: 0.4}));
    map.paint(tube(pathPx(f, [[0.35, 0.2], [0.8, 0.22]]), Math.max(0.8, 0.014 * a)), bone(scene, {echo: 1.8, attenuation: 3, floor: 0.4}));
    map.paint(tube(pathPx(f, [[0.3, 0.62], [0.58, 0.66], [0.8, 0.58]]), Math.max(0.9, 0.018 * a)), bone(scene, {echo: 2.2, attenuation: 4, floor: 0.4}));
    // Tongue and oral cavity.
    map.paint(localEllipse(f, 0.55, 0.4, 0.2, 0.08, 0), {...soft(scene, 0.3, 0.2), softPx: 1.5});
    map.paint(tube(pathPx(f, [[0.7, 0.37], [0.88, 0.37]]), 0.7), {...fluid(), softPx: 1.2});
  });
}
