// Femur length plane: the ossified femoral diaphysis as a bright, slightly
// bowed linear echo with a dense acoustic shadow beneath, inside the soft
// tissue of the thigh, the knee with its cartilaginous distal epiphysis (an
// ossification centre after ~32 weeks) and the lower leg beyond it.

import type {Rng} from "../../random.js";
import {frameHalfExtent, localEllipse, toPx, type Frame} from "../frame.js";
import {bone, mmToPx, soft, textured, type Scene} from "../scene.js";
import {ellipse, outline, quadraticCurve, tube} from "../shapes.js";
import {MASK_LABELS, type PhantomPatient} from "../types.js";
import {obstetricLayout, SMALL_PART_PROBES, type AnatomyLayout} from "./layout.js";

export function planFemur(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  const flMm = patient.flMm;
  const angle = rng.normal(0, 0.2) + (rng.chance(0.5) ? Math.PI : 0);
  // Thigh soft tissue around the shaft; the ossified diaphysis spans u in [-0.75, 0.75].
  const thighA = flMm / 1.5;
  const thighB = flMm * rng.uniform(0.2, 0.28);
  const extent = frameHalfExtent(thighA * 1.15, thighB * 1.2, angle);
  const bow = rng.uniform(0.01, 0.04) * rng.sign();
  const kneeAngle = rng.uniform(0.5, 1.6) * rng.sign();
  const showLowerLeg = rng.chance(0.4);
  return obstetricLayout(extent, [0.6, 0.9], SMALL_PART_PROBES, (scene, cx, cy) => {
    const {map} = scene;
    const f: Frame = {cx, cy, angle, a: mmToPx(scene, thighA), b: mmToPx(scene, thighB), mirror: 1};
    // Pelvis and lower trunk at the hip end.
    map.paint(localEllipse(f, -1.5, rng.uniform(-0.5, 0.5), 0.75, 2.2, rng.uniform(-0.3, 0.3)), {...soft(scene, 0.2, 0.5), softPx: 3});
    // Lower leg from the knee (u = +1), in some frames: soft tissue and the tibia/fibula pair, at a knee angle.
    if (showLowerLeg) {
      const knee = toPx(f, 0.95, 0);
      const legLen = mmToPx(scene, flMm * 0.9);
      const legDir = angle + kneeAngle;
      const lx = Math.cos(legDir);
      const ly = Math.sin(legDir);
      const legMid = {x: knee.x + lx * legLen * 0.55, y: knee.y + ly * legLen * 0.55};
      map.paint(ellipse(legMid.x, legMid.y, legLen * 0.62, f.b * 0.85, legDir), {...soft(scene, 0.18, 0.4), softPx: 1.5});
      const shaftPx = Math.max(1.1, mmToPx(scene, flMm * 0.035));
      for (const off of [-0.28, 0.3]) {
        const nx = -ly * f.b * off;
        const ny = lx * f.b * off;
        const p0 = {x: knee.x + lx * legLen * 0.2 + nx, y: knee.y + ly * legLen * 0.2 + ny};
        const p1 = {x: knee.x + lx * legLen * 0.95 + nx, y: knee.y + ly * legLen * 0.95 + ny};
        map.paint(tube([p0, p1], off < 0 ? shaftPx : shaftPx * 0.75), bone(scene, {echo: 1.4, attenuation: 4, floor: 0.2}));
      }
    }
    // Thigh.
    const thigh = localEllipse(f, 0, 0, 1.1, 1);
    map.paint(thigh, {...soft(scene, 0.24, 0.4), echo: textured(scene, 0.24, 0.45, 5), softPx: 1.5});
    map.paint(outline(thigh, 1), {echo: 0.45});
    // Distal epiphysis: hypoechoic cartilage cap, with its ossification centre from ~32 weeks (Chinn et al., 1983).
    const capR = mmToPx(scene, flMm * 0.09);
    const cap = toPx(f, 0.75 + (capR * 1.1) / f.a, 0);
    map.paint(ellipse(cap.x, cap.y, capR * 1.1, capR * 1.3, angle), {echo: 0.06, attenuation: 0.05, softPx: 1.5});
    if (patient.gaDays >= 224) {
      map.paint(ellipse(cap.x, cap.y, capR * 0.35, capR * 0.45, angle), bone(scene, {echo: 2, attenuation: 4, floor: 0.6}));
    }
    // Diaphysis: FL is its end-to-end length; round caps included.
    const half = mmToPx(scene, flMm) / 2;
    const thickness = Math.max(1.6, mmToPx(scene, flMm * rng.uniform(0.06, 0.08)));
    const endU = (half - thickness / 2) / f.a;
    const p0 = toPx(f, -endU, 0);
    const p1 = toPx(f, endU, 0);
    const ctrl = toPx(f, 0, (bow * 2 * half) / f.b);
    map.paint(tube(quadraticCurve(p0, ctrl, p1, 12), thickness / 2), bone(scene, {label: MASK_LABELS.femur, floor: 0.45}));
  });
}
