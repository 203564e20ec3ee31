// Maternal cervix, transvaginal sagittal view (FETAL_PLANES_DB 'Maternal
// cervix'): a tight, wide sector from a probe in the anterior fornix; the
// cervix an elongated band of stroma whose canal is an echogenic mucus line
// flanked by hypoechoic endocervical mucosa, from the external os near the
// probe to the internal os at the amniotic cavity. No fetal parts.

import type {Rng} from "../../random.js";
import {frameHalfExtent, localEllipse, pathPx, toPx, type Frame} from "../frame.js";
import {fluid, mmToPx, soft, textured, type Scene} from "../scene.js";
import {ellipse, outline, tube} from "../shapes.js";
import {ATTENUATION, ECHO} from "../tissueMap.js";
import type {PhantomPatient} from "../types.js";
import type {AnatomyLayout} from "./layout.js";

export function planCervix(patient: PhantomPatient, rng: Rng): AnatomyLayout {
  const lengthMm = patient.cervixLengthMm;
  const widthMm = rng.uniform(22, 30);
  // External os near the probe (upper side), internal os deeper, either direction across the screen.
  const tilt = rng.uniform(0.15, 0.7);
  const angle = rng.chance(0.5) ? tilt : Math.PI - tilt;
  const extent = frameHalfExtent(lengthMm * 0.6, widthMm * 0.55, angle);
  return {
    halfWidthMm: extent.hx,
    halfHeightMm: extent.hy,
    fill: [0.45, 0.7],
    probes: ["transvaginal"],
    obstetricSurroundings: false,
    draw(scene, cx, cy) {
      const {map, width, height} = scene;
      // Pelvic soft tissue everywhere (vaginal wall, paracervical tissue).
      map.paint(ellipse(width / 2, height / 2, width * 2, height * 2), {...soft(scene, 0.18, 0.55), echo: textured(scene, 0.18, 0.55, 10)});
      const f: Frame = {cx, cy, angle, a: mmToPx(scene, lengthMm / 2), b: mmToPx(scene, widthMm / 2), mirror: Math.cos(angle) >= 0 ? 1 : -1};
      // Amniotic cavity beyond the internal os (u > 1), with the lower uterine wall around it.
      const sac = localEllipse(f, 1.9, 0.15, 1.1, 1.6, rng.uniform(-0.3, 0.3));
      map.paint(outline(sac, mmToPx(scene, 5)), {...soft(scene, 0.24, 0.3), softPx: 2});
      map.paint(sac, {...fluid(), softPx: 2});
      // Bladder, anterior and shallow, in some frames.
      if (rng.chance(0.45)) {
        const bladder = localEllipse(f, rng.uniform(0.3, 1.0), -1.9, 0.7, 0.6, rng.uniform(-0.4, 0.4));
        map.paint(bladder, {...fluid(), softPx: 1.5});
        map.paint(outline(bladder, 1.2), {echo: 0.45});
      }
      // Cervical stroma, slightly brighter than its surroundings.
      const body = localEllipse(f, 0, 0, 1.08, 1);
      map.paint(body, {...soft(scene, 0.3, 0.35), echo: textured(scene, 0.3, 0.35, 6), softPx: 3});
      // Canal: hypoechoic mucosa band, echogenic mucus line along its centre.
      const bend = rng.uniform(-0.12, 0.12);
      const canal = pathPx(f, [[-1.02, 0], [-0.5, bend * 0.6], [0, bend], [0.5, bend * 0.6], [1.02, 0.02]]);
      map.paint(tube(canal, Math.max(1.5, mmToPx(scene, rng.uniform(2, 3.2)))), {echo: textured(scene, 0.09, 0.3, 4), attenuation: ATTENUATION.softTissue, softPx: 2});
      map.paint(tube(canal, Math.max(0.6, mmToPx(scene, 0.5))), {echo: ECHO.bright * 0.7, softPx: 1.3});
      // Rectal gas posteriorly: a bright curved line with a dirty shadow.
      if (rng.chance(0.5)) {
        const gas = pathPx(f, [[-0.6, 1.7], [0.2, 1.9], [0.9, 1.75]]);
        map.paint(tube(gas, 1.3), {echo: 1.6, attenuation: 5, softPx: 1.5});
      }
      // Keep the external os end in view near the probe.
      const ext = toPx(f, -1, 0);
      map.paint(ellipse(ext.x, ext.y, f.b * 0.35, f.b * 0.5, angle), {echo: 0.24, mode: "over", softPx: 3});
    }
  };
}
