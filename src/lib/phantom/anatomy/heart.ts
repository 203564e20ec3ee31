// Four-chamber view of the fetal heart (ISUOG cardiac screening): a thorax
// section with echogenic lungs, the spine and descending aorta posteriorly
// and whole ribs at the sides; the heart fills about a third of the chest,
// its apex pointing anteriorly to the left at about 45 degrees, with two
// ventricles, two atria, the interventricular septum and the AV valves at
// the crux.

import type {Rng} from "../../random.js";
import {localEllipse, toPx, type Frame} from "../frame.js";
import {fluid, mmToPx, soft, textured, type Scene} from "../scene.js";
import {ellipse, outline, tube} from "../shapes.js";
import {ECHO} from "../tissueMap.js";
import {MASK_LABELS, type PhantomPatient} from "../types.js";
import type {AnatomyLayout} from "./layout.js";
import {drawRibs, drawSpineSection, drawTrunkSection, planTorso, torsoLayout} from "./torso.js";

/** Thoracic / abdominal circumference ratio, about 0.89 through the 2nd and 3rd trimesters (Chitkara et al., AJOG 1987;156:1069). */
const THORAX_TO_AC = 0.89;

/**
 * Where a four-chamber heart sits in the chest (shared by the default heart plane and the CHD
 * set): its frame, +u towards the apex and +v anterior (right ventricle and atrium at +v, left
 * chambers at -v); a = half-length, b = half-width.
 */
export function placeHeart(chest: Frame, rng: Rng): Frame {
  const r = Math.sqrt(chest.a * chest.b);
  // Heart centre left-anterior of the chest centre; long axis towards the left anterior chest wall.
  const c = toPx(chest, rng.uniform(0.05, 0.18), rng.uniform(0.12, 0.22));
  const axisAngle = rng.uniform(0.6, 0.95);
  const apexDir = toPx(chest, 0.1 + Math.cos(axisAngle), 0.17 + Math.sin(axisAngle) * (chest.a / chest.b));
  const angle = Math.atan2(apexDir.y - c.y, apexDir.x - c.x);
  const length = r * rng.uniform(0.56, 0.64);
  const width = length * rng.uniform(0.72, 0.82);
  // Which side of the heart's long axis faces the front of the chest: the right ventricle lies there.
  const probe = toPx({cx: c.x, cy: c.y, angle, a: length, b: width, mirror: 1}, 0, 1);
  const front = toPx(chest, 1, 0);
  const back = toPx(chest, -1, 0);
  const towardsFront = (probe.x - c.x) * (front.x - back.x) + (probe.y - c.y) * (front.y - back.y) > 0;
  return {cx: c.x, cy: c.y, angle, a: length, b: width, mirror: towardsFront ? 1 : -1};
}

function drawFourChambers(scene: Scene, chest: Frame, rng: Rng): void {
  const {map} = scene;
  const h = placeHeart(chest, rng);
  const heart = ellipse(h.cx, h.cy, h.a, h.b, h.angle);
  map.paint(heart, {...soft(scene, ECHO.myocardium, 0.2, MASK_LABELS.heart), echo: textured(scene, ECHO.myocardium, 0.25, 4), softPx: 1.2});
  map.paint(outline(heart, 1.3), {echo: 0.6});
  const chamber = {...fluid(), softPx: 1.3};
  // Chambers fill most of the heart, leaving the septa and the crux between them.
  map.paint(localEllipse(h, 0.28, -0.47, 0.56, 0.4, 0.06), chamber); // left ventricle
  map.paint(localEllipse(h, 0.24, 0.5, 0.52, 0.42, -0.06), chamber); // right ventricle
  map.paint(localEllipse(h, -0.64, -0.46, 0.3, 0.4, 0), chamber); // left atrium
  map.paint(localEllipse(h, -0.64, 0.5, 0.3, 0.42, 0), chamber); // right atrium
  // Crux: AV valve leaflets across, foramen ovale flap in the atrial septum, moderator band near the RV apex.
  for (const side of [-1, 1]) {
    map.paint(tube([toPx(h, -0.3, side * 0.1), toPx(h, -0.27, side * 0.7)], 0.6), {echo: 0.5, softPx: 1.2});
  }
  map.paint(tube([toPx(h, -0.55, 0.0), toPx(h, -0.68, -0.14)], 0.5), {echo: 0.4, softPx: 1.2});
  map.paint(localEllipse(h, 0.62, 0.42, 0.07, 0.09), {echo: 0.45, softPx: 1.5});
}

export function planHeart(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  const torso = planTorso(patient.acMm * THORAX_TO_AC * rng.uniform(0.96, 1.04), Math.min(0.98, patient.abdomenAspect + 0.03), rng);
  return torsoLayout(torso, patient.mirrored, [0.6, 0.86], (scene, f) => {
    drawTrunkSection(scene, f, mmToPx(scene, torso.skinMm), {...soft(scene, ECHO.lung, 0.2), echo: textured(scene, ECHO.lung, 0.2, 10)});
    // Descending aorta: left of the spine, in front of it.
    scene.map.paint(localEllipse(f, -0.62, 0.14, 0.07, (0.07 * f.a) / f.b), {...fluid(), softPx: 1.2});
    drawFourChambers(scene, f, rng);
    drawSpineSection(scene, f, patient.gaDays);
    drawRibs(scene, f, 1, 1.4, 1.9, 0.45, rng);
    drawRibs(scene, f, rng.int(0, 1), 0.7, 1.3, 0.3, rng);
  });
}
