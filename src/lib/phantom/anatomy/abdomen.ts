// Transverse fetal abdomen. The AC plane (ISUOG): a round section with the
// stomach bubble on the left, the intrahepatic umbilical vein curving into
// the portal sinus ("hockey stick"), the spine posteriorly and short rib
// segments. The kidney plane (a distractor): the same trunk lower down, with
// two paraspinal kidneys (dark pelvis, bright capsule) and echogenic bowel.

import type {Rng} from "../../random.js";
import {localEllipse, pathPx, toPx, type Frame} from "../frame.js";
import {fluid, mmToPx, soft, textured, type Scene} from "../scene.js";
import {outline, quadraticCurve, tube} from "../shapes.js";
import {ECHO} from "../tissueMap.js";
import {MASK_LABELS, type PhantomPatient} from "../types.js";
import type {AnatomyLayout} from "./layout.js";
import {drawRibs, drawSpineSection, drawTrunkSection, planTorso, torsoLayout} from "./torso.js";

function drawVessel(scene: Scene, f: Frame, u: number, v: number, r: number): void {
  const vessel = localEllipse(f, u, v, r, (r * f.a) / f.b);
  scene.map.paint(vessel, {...fluid(), softPx: 1.2});
}

function drawStomachAndVein(scene: Scene, f: Frame, rng: Rng): void {
  const {map} = scene;
  // Stomach: fluid-filled, on the fetal left (+v), anterior to the spine.
  const stomach = localEllipse(f, rng.uniform(-0.05, 0.2), rng.uniform(0.32, 0.45), rng.uniform(0.18, 0.28), rng.uniform(0.13, 0.2), rng.uniform(-0.6, 0.6));
  map.paint(stomach, {...fluid(), softPx: 1.3});
  map.paint(outline(stomach, 1), {echo: 0.35});
  // Umbilical vein: enters anteriorly, runs back and hooks to the fetal right into the portal sinus.
  const entry = toPx(f, 0.92, rng.uniform(-0.12, 0.05));
  const bend = toPx(f, rng.uniform(0.25, 0.4), rng.uniform(-0.08, 0.05));
  const end = toPx(f, rng.uniform(0.05, 0.2), rng.uniform(-0.42, -0.28));
  const radius = Math.max(1.1, 0.05 * f.b);
  const path = quadraticCurve(entry, bend, end, 14);
  map.paint(tube(path, radius + 1), {echo: 0.5, softPx: 1.2});
  map.paint(tube(path, radius), {...fluid(), softPx: 1.2});
  // Aorta and inferior vena cava in front of the spine.
  drawVessel(scene, f, -0.55, 0.1, 0.055);
  drawVessel(scene, f, -0.4, -0.16, 0.06);
}

export function planAbdomen(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  const torso = planTorso(patient.acMm, patient.abdomenAspect, rng);
  return torsoLayout(torso, patient.mirrored, [0.55, 0.82], (scene, f) => {
    drawTrunkSection(scene, f, mmToPx(scene, torso.skinMm), {...soft(scene, ECHO.liver, 0.3), echo: textured(scene, ECHO.liver, 0.3, 8)}, MASK_LABELS.abdomen);
    drawStomachAndVein(scene, f, rng);
    drawSpineSection(scene, f, patient.gaDays);
    drawRibs(scene, f, rng.int(1, 2), 1.75, 2.45, 0.35, rng);
  });
}

export function planKidney(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  const torso = planTorso(patient.acMm * rng.uniform(0.92, 0.98), patient.abdomenAspect, rng);
  return torsoLayout(torso, patient.mirrored, [0.55, 0.82], (scene, f) => {
    const {map} = scene;
    // Bowel fills the front of the lower abdomen: brighter and coarser than liver.
    drawTrunkSection(scene, f, mmToPx(scene, torso.skinMm), {...soft(scene, 0.22, 0.5), echo: textured(scene, 0.22, 0.6, 4)}, MASK_LABELS.abdomen);
    for (let k = 0; k < rng.int(1, 3); k++) {
      map.paint(localEllipse(f, rng.uniform(0.2, 0.6), rng.uniform(-0.4, 0.4), 0.06, 0.05), {...fluid(), softPx: 1.3});
    }
    // Kidneys: paraspinal ovals, hypoechoic cortex, bright capsule (perirenal fat), fluid pelvis facing the spine.
    const ku = rng.uniform(-0.5, -0.38);
    for (const side of [-1, 1]) {
      const kv = side * rng.uniform(0.38, 0.46);
      const kidney = localEllipse(f, ku, kv, 0.3, 0.25, side * rng.uniform(0.2, 0.5));
      map.paint(outline(kidney, Math.max(2, 0.03 * f.b)), {echo: 0.7});
      map.paint(kidney, {echo: textured(scene, 0.05, 0.35, 3), attenuation: 0.1, softPx: 1.2});
      map.paint(localEllipse(f, ku + 0.02, kv - side * 0.08, 0.1, 0.07, side * 0.4), {...fluid(), softPx: 1.2});
      const pelvis = pathPx(f, [[ku + 0.02, kv - side * 0.07], [ku + 0.03, kv - side * 0.16]]);
      map.paint(tube(pelvis, Math.max(0.8, 0.025 * f.b)), {...fluid(), softPx: 1.2});
    }
    drawVessel(scene, f, -0.6, 0.08, 0.05);
    drawSpineSection(scene, f, patient.gaDays);
  });
}
