// Transverse fetal head (ISUOG biometry/neurosonography planes): an echogenic
// skull ellipse whose outer edge is the HC, the midline falx interrupted by
// the cavum septi pellucidi (CSP), and the landmark of each sub-plane:
// trans-thalamic (two hypoechoic thalami), trans-cerebellum (dumbbell
// cerebellum and cisterna magna in the posterior fossa), trans-ventricular
// (atrium of the far lateral ventricle filled by bright choroid plexus).

import {ellipsePerimeter} from "../../biometry.js";
import type {Rng} from "../../random.js";
import {localEllipse, localEllipsePx, pathPx, toPx, type Frame, frameHalfExtent} from "../frame.js";
import {bone, fluid, mmToPx, soft, textured, type Scene} from "../scene.js";
import {ellipse, halfPlane, innerBand, intersect, outline, tube} from "../shapes.js";
import {ECHO} from "../tissueMap.js";
import {MASK_LABELS, type BrainSubPlane, type PhantomPatient} from "../types.js";
import type {AnatomyLayout} from "./layout.js";

/** Head ellipse semi-axes (mm) whose outer perimeter is the HC. */
export function headSemiAxesMm(hcMm: number, aspect: number): {aMm: number; bMm: number} {
  const aMm = hcMm / ellipsePerimeter(1, aspect);
  return {aMm, bMm: aMm * aspect};
}

/** Skull ossification advances with GA: thicker, more shadowing bone later in pregnancy. */
function ossification(gaDays: number): number {
  return Math.min(1, Math.max(0, (gaDays - 98) / 182));
}

/** Head frame with +v pointing to the deeper (far) hemisphere, the one the beam shows clearly. */
function headFrame(scene: Scene, cx: number, cy: number, aPx: number, bPx: number, angle: number): Frame {
  const deepSign = Math.cos(angle) >= 0 ? 1 : -1;
  return {cx, cy, angle, a: aPx, b: bPx, mirror: deepSign};
}

function drawMidline(scene: Scene, f: Frame, segments: ReadonlyArray<readonly [number, number]>, echo: number): void {
  for (const [u0, u1] of segments) {
    scene.map.paint(tube(pathPx(f, [[u0, 0], [u1, 0]]), 0.6), {echo, softPx: 1.3});
  }
}

function drawCsp(scene: Scene, f: Frame, u: number, halfLenU: number, halfWidthPx: number): void {
  const c = toPx(f, u, 0);
  const box = ellipse(c.x, c.y, halfLenU * f.a, halfWidthPx, f.angle);
  scene.map.paint(box, fluid());
  scene.map.paint(outline(box, 1.2), {echo: 0.7});
}

function drawThalamic(scene: Scene, f: Frame, rng: Rng): void {
  const cspU = rng.uniform(0.3, 0.4);
  drawMidline(scene, f, [[-0.93, -0.22], [cspU + 0.12, 0.93]], 0.45);
  drawCsp(scene, f, cspU, 0.09, Math.max(1.5, 0.06 * f.b));
  // Thalami: paired hypoechoic ovals either side of the third ventricle, converging anteriorly (heart shape).
  // Drawn a little larger and darker than life, with bright borders, so the small demo ViT can find them at 112 px.
  const tu = rng.uniform(-0.08, 0.02);
  for (const side of [-1, 1]) {
    const thalamus = localEllipse(f, tu, side * 0.17, 0.3, 0.17, side * 0.35);
    scene.map.paint(outline(thalamus, 2), {echo: 0.8, softPx: 1.5});
    scene.map.paint(thalamus, {echo: textured(scene, 0.012, 0.3), softPx: 1.5});
  }
  scene.map.paint(tube(pathPx(f, [[tu - 0.22, 0], [tu + 0.22, 0]]), 0.8), {echo: 0.9, softPx: 1.2});
  // Sylvian fissure (insula) of the far hemisphere: a bright, bent line.
  scene.map.paint(tube(pathPx(f, [[0.28, 0.5], [0.12, 0.62], [-0.08, 0.6]]), 0.7), {echo: 0.5, softPx: 1.3});
  // Frontal horns of the lateral ventricles beside the CSP.
  for (const side of [-1, 1]) {
    scene.map.paint(localEllipse(f, cspU + 0.14, side * 0.15, 0.09, 0.04, side * 0.3), {...fluid(), softPx: 1.5});
  }
}

function drawCerebellar(scene: Scene, f: Frame, rng: Rng, gaDays: number, skullPx: number): void {
  const cspU = rng.uniform(0.32, 0.42);
  drawMidline(scene, f, [[cspU + 0.12, 0.93]], 0.45);
  drawCsp(scene, f, cspU, 0.09, Math.max(1.5, 0.06 * f.b));
  // Cerebral peduncles: faint hypoechoic ovals anterior to the posterior fossa.
  for (const side of [-1, 1]) {
    scene.map.paint(localEllipse(f, 0.02, side * 0.1, 0.13, 0.09, side * 0.3), {echo: 0.06, softPx: 2.5});
  }
  // Transcerebellar diameter (mm) ~ GA in weeks up to ~24 weeks, growing faster after (Goldstein et al., AJOG 1987).
  const weeks = gaDays / 7;
  const tcdMm = (weeks + Math.max(0, weeks - 24) * 0.6) * rng.uniform(0.94, 1.06);
  const tcdPx = Math.min(0.56 * 2 * f.b, mmToPx(scene, tcdMm));
  const r = tcdPx / 4.1;
  const cisternaPx = Math.min(0.14 * f.a, mmToPx(scene, rng.uniform(4, 8)));
  const uc = -1 + (skullPx + cisternaPx + r * 1.05) / f.a;
  // Cisterna magna: fluid between the vermis and the occipital bone.
  const cm = toPx(f, -1 + (skullPx + cisternaPx * 0.6) / f.a, 0);
  scene.map.paint(ellipse(cm.x, cm.y, cisternaPx * 0.8, r * 1.5, f.angle), {...fluid(), softPx: 1.5});
  // Hemispheres: round, hypoechoic, bright-rimmed; vermis: echogenic, joining them into a dumbbell.
  for (const side of [-1, 1]) {
    const hemi = localEllipsePx(f, uc, (side * (tcdPx / 2 - r)) / f.b, r * 0.95, r, 0);
    scene.map.paint(hemi, {echo: textured(scene, 0.025, 0.4, 3), softPx: 1.2});
    scene.map.paint(outline(hemi, 2), {echo: 1.0});
  }
  scene.map.paint(localEllipsePx(f, uc - (0.15 * r) / f.a, 0, r * 0.85, r * 0.42, 0), {echo: textured(scene, 0.9, 0.3, 3), softPx: 1.2});
  // Falx cerebelli / posterior midline through the cisterna.
  drawMidline(scene, f, [[-0.97, -1 + (skullPx + cisternaPx * 0.3) / f.a]], 0.35);
}

function drawVentricular(scene: Scene, f: Frame, rng: Rng, bMm: number): void {
  const cspU = rng.uniform(0.35, 0.45);
  drawMidline(scene, f, [[-0.94, cspU - 0.11], [cspU + 0.11, 0.94]], 0.5);
  drawCsp(scene, f, cspU, 0.08, Math.max(1.5, 0.05 * f.b));
  // Atrium of the lateral ventricle: 6-8 mm wide at every GA (normal < 10 mm; Cardoza et al., Radiology 1988).
  const atriumV = Math.min(0.35, rng.uniform(6, 8.5) / bMm);
  const vMid = rng.uniform(0.3, 0.38);
  const ua = rng.uniform(-0.55, -0.42);
  const body: Array<readonly [number, number]> = [[cspU + 0.1, 0.16], [0.1, vMid - atriumV * 0.25], [ua + 0.1, vMid], [ua - 0.12, vMid + 0.02]];
  // Ventricle lumen (fluid) along the body, widening into the atrium.
  scene.map.paint(tube(pathPx(f, body), Math.max(1.2, atriumV * 0.22 * f.b)), {...fluid(), softPx: 1.5});
  scene.map.paint(localEllipse(f, ua, vMid, 0.16, atriumV * 0.55, 0.1), {...fluid(), softPx: 1.5});
  // Ventricle walls: bright lines lateral and medial to the lumen.
  const shift = (d: number) => body.map(([u, v]) => [u, v + d] as const);
  scene.map.paint(tube(pathPx(f, shift(atriumV * 0.5)), 0.8), {echo: 0.8, softPx: 1.2});
  scene.map.paint(tube(pathPx(f, shift(-atriumV * 0.45)), 0.7), {echo: 0.6, softPx: 1.2});
  // Choroid plexus: echogenic, filling most of the atrium.
  scene.map.paint(localEllipse(f, ua + 0.02, vMid, 0.2, Math.max(atriumV * 0.45, 0.07), 0.15), {echo: textured(scene, 1.5, 0.3, 3), softPx: 1.5});
  // The near ventricle, half hidden by reverberation.
  scene.map.paint(localEllipse(f, ua, -vMid, 0.14, atriumV * 0.4, -0.1), {echo: 0.05, softPx: 3});
}

export function planBrain(patient: PhantomPatient, subPlane: BrainSubPlane, rng: Rng): AnatomyLayout {
  const {aMm, bMm} = headSemiAxesMm(patient.hcMm, patient.headAspect);
  const angle = rng.normal(0, 0.22) + (rng.chance(0.5) ? Math.PI : 0);
  const scalpMm = 1.5 + 2.5 * ossification(patient.gaDays) + rng.uniform(0, 1);
  const extent = frameHalfExtent(aMm + scalpMm, bMm + scalpMm, angle);
  return {
    halfWidthMm: extent.hx,
    halfHeightMm: extent.hy,
    fill: [0.62, 0.86],
    probes: ["curved", "curved", "curved", "linear"],
    obstetricSurroundings: true,
    draw(scene, cx, cy) {
      const {map} = scene;
      const a = mmToPx(scene, aMm);
      const b = mmToPx(scene, bMm);
      const scalp = mmToPx(scene, scalpMm);
      const f = headFrame(scene, cx, cy, a, b, angle);
      const head = ellipse(cx, cy, a, b, angle);
      map.paint(ellipse(cx, cy, a + scalp, b + scalp, angle), {...soft(scene, 0.25, 0.4), softPx: 1.2});
      map.paint(outline(ellipse(cx, cy, a + scalp, b + scalp, angle), 1), {echo: 0.5});
      map.paint(head, {...soft(scene, ECHO.brain, 0.3, MASK_LABELS.skull), echo: textured(scene, ECHO.brain, 0.3, 9)});
      const ossified = ossification(patient.gaDays);
      const skullPx = Math.max(1.6, mmToPx(scene, 1.2 + 1.8 * ossified));
      if (subPlane === "trans-thalamic") drawThalamic(scene, f, rng);
      else if (subPlane === "trans-cerebellum") drawCerebellar(scene, f, rng, patient.gaDays, skullPx);
      else drawVentricular(scene, f, rng, bMm);
      // Reverberation clutters the near hemisphere.
      const near = halfPlane(toPx(f, 0, 0), -Math.sin(f.angle) * f.mirror, Math.cos(f.angle) * f.mirror, head.bbox);
      map.paint(intersect(head, near), {echo: textured(scene, 0.07, 0.8, 5), mode: "add", softPx: 6});
      map.paint(innerBand(head, skullPx), {
        // The fetal skull passes much of the beam: 6-14 dB two-way across its thickness, more as it ossifies.
        ...bone(scene, {echo: 1.8 + 1.8 * ossified, attenuation: (6 + 8 * ossified) / skullPx, label: MASK_LABELS.skull, floor: 0.45})
      });
    }
  };
}
