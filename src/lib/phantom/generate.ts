// One phantom image: draw the plane's anatomy at the patient's biometry,
// choose the sonographer's zoom (hence the pixel spacing), probe and
// settings, surround it with maternal and fetal tissue, and image it.

import {createRng, type Rng} from "../random.js";
import {planAbdomen, planKidney} from "./anatomy/abdomen.js";
import {planBrain} from "./anatomy/brain.js";
import {planCervix} from "./anatomy/cervix.js";
import {planLipsNose, planProfile} from "./anatomy/face.js";
import {planFemur} from "./anatomy/femur.js";
import {planHeart} from "./anatomy/heart.js";
import type {AnatomyLayout, ProbeKind} from "./anatomy/layout.js";
import {planSpine} from "./anatomy/spine.js";
import {drawClutter, drawMaternalWall, drawPlacenta, drawPosteriorWall} from "./anatomy/surroundings.js";
import {renderBMode, type ScannerSettings} from "./bmode.js";
import {inFieldOfView, type Probe} from "./probe.js";
import type {Scene} from "./scene.js";
import {TissueMap} from "./tissueMap.js";
import {BRAIN_SUB_PLANES, PHANTOM_PLANES, type PhantomSample, type PhantomSpec} from "./types.js";

/** Bumped whenever a change alters the generated pixels (dataset caches key on it). */
export const PHANTOM_GENERATOR_VERSION = "1.1.0";

/**
 * Pixel spacing bounds at 224 px wide (scaled by 224 / width for other sizes). Zoom follows the structure,
 * so spacing grows with GA: about 0.09 mm/px for an early femur to 0.95 for a term head, as HC18's spacings
 * (0.05-0.35 mm/px at 800 px) become 0.18-1.24 mm/px once resized to FetalCLIP's 224 px.
 */
export const SPACING_RANGE_MM_PER_PX = [0.07, 1.1] as const;

export function spacingRangeMmPerPx(width: number): readonly [number, number] {
  const scale = 224 / width;
  return [SPACING_RANGE_MM_PER_PX[0] * scale, SPACING_RANGE_MM_PER_PX[1] * scale];
}

function planAnatomy(spec: PhantomSpec, rng: Rng): AnatomyLayout {
  const p = spec.patient;
  switch (spec.plane) {
    case "brain": return planBrain(p, spec.subPlane ?? "trans-thalamic", rng);
    case "abdomen": return planAbdomen(p, rng);
    case "femur": return planFemur(p, rng);
    case "heart": return planHeart(p, rng);
    case "cervix": return planCervix(p, rng);
    case "kidney": return planKidney(p, rng);
    case "lips_nose": return planLipsNose(p, rng);
    case "spine": return planSpine(p, rng);
    case "profile_patient": return planProfile(p, rng);
  }
}

/** Throws a clear error for a spec the generator cannot draw (unknown plane, bad size or biometry). */
export function validateSpec(spec: PhantomSpec): void {
  const where = `generateSample(spec ${JSON.stringify(spec.id)})`;
  if (!PHANTOM_PLANES.includes(spec.plane)) throw new Error(`${where}: plane must be one of ${PHANTOM_PLANES.join(", ")}, got ${JSON.stringify(spec.plane)}`);
  if (spec.plane === "brain" ? !BRAIN_SUB_PLANES.includes(spec.subPlane as never) : spec.subPlane !== null) {
    throw new Error(`${where}: subPlane must be one of ${BRAIN_SUB_PLANES.join(", ")} for brain and null otherwise, got ${JSON.stringify(spec.subPlane)} for ${spec.plane}`);
  }
  for (const [key, value] of [["width", spec.width], ["height", spec.height]] as const) {
    if (!Number.isInteger(value) || value < 64 || value > 2048) throw new Error(`${where}: ${key} must be an integer in [64, 2048] px, got ${value}`);
  }
  const p = spec.patient;
  for (const key of ["gaDays", "hcMm", "acMm", "flMm", "headAspect", "abdomenAspect", "cervixLengthMm"] as const) {
    if (!(Number.isFinite(p[key]) && p[key] > 0)) throw new Error(`${where}: patient.${key} must be a positive number, got ${p[key]}`);
  }
}

/** Scanner settings of one image: gain, dynamic range, TGC and frequency vary between sonographers and machines. */
export function drawScannerSettings(rng: Rng): ScannerSettings {
  return {
    gainDb: rng.normal(0, 2.5),
    dynamicRangeDb: rng.uniform(44, 60),
    tgcDb: Array.from({length: 5}, () => rng.normal(0, 2)),
    attenuationScale: rng.uniform(0.8, 1.25),
    tgcCompensation: rng.uniform(0.65, 0.9),
    psfAxial: rng.uniform(0.6, 1.1),
    psfLateral: rng.uniform(1.2, 2.2),
    noiseFloor: rng.uniform(0.001, 0.004),
    hazeAmplitude: rng.uniform(0.02, 0.08),
    hazeDepthPx: rng.uniform(10, 30),
    gamma: rng.uniform(1.35, 1.9)
  };
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function placeProbe(kind: ProbeKind, box: Box, width: number, height: number, rng: Rng): Probe {
  const margin = 3;
  if (kind === "linear") {
    const x0 = Math.min(box.x0 - margin, rng.uniform(0, 0.12) * width);
    const x1 = Math.max(box.x1 + margin, width - rng.uniform(0, 0.12) * width);
    return {kind: "linear", x0: Math.max(0, x0), x1: Math.min(width, x1), y0: rng.uniform(0, 2), y1: height};
  }
  const apexX = width / 2;
  if (kind === "transvaginal") {
    const r0 = rng.uniform(0.03, 0.06) * height;
    const apexY = rng.uniform(1, 3) - r0;
    return {kind: "sector", apexX, apexY, radiusStartPx: r0, radiusEndPx: height * rng.uniform(0.92, 1.0) - apexY, halfAngleRad: (rng.uniform(62, 75) * Math.PI) / 180};
  }
  const half = (rng.uniform(30, 40) * Math.PI) / 180;
  const tan = Math.tan(half);
  const faceY = rng.uniform(0, 2);
  let apexY = -rng.uniform(0.3, 0.75) * height;
  // Move the virtual apex up until the structure's box lies inside the sector.
  const widest = Math.max(Math.abs(box.x0 - apexX), Math.abs(box.x1 - apexX)) + margin;
  apexY = Math.min(apexY, box.y0 - margin - widest / tan);
  let r1 = height * rng.uniform(0.93, 1.02) - apexY;
  r1 = Math.max(r1, Math.hypot(widest, box.y1 + margin - apexY));
  return {kind: "sector", apexX, apexY, radiusStartPx: faceY - apexY, radiusEndPx: r1, halfAngleRad: half};
}

/** Generates one phantom B-mode image; the same seed and spec always give the same bytes. */
export function generateSample(seed: number | string, spec: PhantomSpec): PhantomSample {
  validateSpec(spec);
  const rng = createRng(seed);
  return renderLayout(rng, spec, planAnatomy(spec, rng.fork("anatomy")));
}

/**
 * Images an anatomy layout planned for `spec`: zoom, probe, surroundings, B-mode and label
 * masks, all drawn from `rng`'s forks ("view", "tissue", "speckle"), so a layout planned
 * elsewhere (the CHD four-chamber set) is imaged exactly as the default planes are.
 */
export function renderLayout(rng: Rng, spec: PhantomSpec, layout: AnatomyLayout): PhantomSample {
  const {width, height} = spec;
  const view = rng.fork("view");
  const surroundings = layout.obstetricSurroundings;
  const wallPx = surroundings ? view.uniform(0.06, 0.2) * height : height * 0.1;
  const bottomMargin = 0.03 * height;
  const available = height - wallPx - bottomMargin;
  // Zoom: the structure spans a share of the width, unless its height would not fit.
  const fill = view.uniform(layout.fill[0], layout.fill[1]);
  const [spacingMin, spacingMax] = spacingRangeMmPerPx(width);
  const fitted = Math.max((2 * layout.halfWidthMm) / (fill * width), (2 * layout.halfHeightMm) / (0.97 * available));
  const spacingMmPerPx = Math.min(spacingMax, Math.max(spacingMin, fitted));
  const hx = layout.halfWidthMm / spacingMmPerPx;
  const hy = layout.halfHeightMm / spacingMmPerPx;
  const cx = width / 2 + view.uniform(-1, 1) * Math.max(0, width / 2 - hx) * 0.35;
  const cy = wallPx + hy + view.uniform(0, 1) * Math.max(0, available - 2 * hy);
  const box = {x0: cx - hx, y0: cy - hy, x1: cx + hx, y1: cy + hy};
  const probe = placeProbe(view.pick(layout.probes), box, width, height, view);
  const map = new TissueMap(width, height);
  const scene: Scene = {map, probe, rng: rng.fork("tissue"), spacingMmPerPx, width, height};
  if (surroundings) {
    drawMaternalWall(scene, wallPx);
    const deepest = box.y1 + view.uniform(0.02, 0.12) * height;
    if (view.chance(0.55)) drawPlacenta(scene, wallPx, deepest);
    if (view.chance(0.6)) drawPosteriorWall(scene, deepest);
    drawClutter(scene, {cx, cy, hx: hx * 1.05, hy: hy * 1.05}, view.int(1, 4), wallPx);
  }
  layout.draw(scene, cx, cy);
  const pixels = renderBMode(map, probe, drawScannerSettings(view), rng.fork("speckle"));
  const masks = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (map.label[i] && inFieldOfView(probe, x + 0.5, y + 0.5)) masks[i] = map.label[i]!;
    }
  }
  const p = spec.patient;
  return {
    id: spec.id,
    pixels,
    width,
    height,
    plane: spec.plane,
    subPlane: spec.subPlane,
    gaDays: p.gaDays,
    hcMm: p.hcMm,
    acMm: p.acMm,
    flMm: p.flMm,
    spacingMmPerPx,
    patientId: p.patientId,
    masks
  };
}
