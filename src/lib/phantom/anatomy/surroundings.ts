// What lies around the target anatomy: the maternal abdominal wall under the
// probe, the uterine wall and placenta, amniotic fluid, and other fetal parts
// (limbs, cord loops) drifting in the fluid, as in any real obstetric frame.

import {depthPx, type Probe} from "../probe.js";
import {bone, fluid, soft, textured, type Scene} from "../scene.js";
import {ellipse, intersect, outline, type Shape} from "../shapes.js";
import {valueNoise} from "../texture.js";
import {ECHO} from "../tissueMap.js";

/** Region of the image where a structure sits: an axis-aligned ellipse (px) clutter must stay out of. */
export interface Footprint {
  cx: number;
  cy: number;
  hx: number;
  hy: number;
}

/** Pixels between depths d0 and d1 (px from the probe face), with wavy boundaries. */
export function depthBand(scene: Scene, d0: number, d1: number, wobblePx = 0): Shape {
  const probe: Probe = scene.probe;
  const wobble = wobblePx > 0 ? valueNoise(scene.rng, scene.width, scene.height, 30) : null;
  // Rows the band can reach: depth grows at least as fast as y below the probe face, at most 1/cos(half-angle) as fast.
  const slack = wobblePx + 2;
  let top = 0;
  let bottom = scene.height;
  if (probe.kind === "linear") {
    top = probe.y0 + d0 - slack;
    bottom = probe.y0 + d1 + slack;
  } else {
    bottom = probe.apexY + probe.radiusStartPx + d1 + slack;
    top = probe.apexY + (probe.radiusStartPx + d0) * Math.cos(probe.halfAngleRad) - slack;
  }
  return {
    bbox: [0, Math.max(0, top), scene.width, Math.min(scene.height, bottom)],
    sdf(x, y) {
      const d = depthPx(probe, x, y) + (wobble ? wobblePx * wobble(x, y) : 0);
      return Math.max(d0 - d, d - d1);
    }
  };
}

/** Maternal skin, fat, muscle and myometrium under the probe; returns the depth (px) where the amniotic cavity starts. */
export function drawMaternalWall(scene: Scene, thicknessPx: number): number {
  const {map, rng} = scene;
  const t = thicknessPx;
  const fat = t * rng.uniform(0.25, 0.45);
  const muscle = fat + t * rng.uniform(0.2, 0.35);
  map.paint(depthBand(scene, -40, fat, 1.5), {...soft(scene, 0.28, 0.5), echo: textured(scene, 0.28, 0.6, 4)});
  map.paint(depthBand(scene, -40, 1.2), {echo: ECHO.bright, mode: "over"});
  map.paint(depthBand(scene, fat, fat + 1.2, 1.5), {echo: 0.7});
  map.paint(depthBand(scene, fat + 1.2, muscle, 2), soft(scene, 0.22, 0.6));
  map.paint(depthBand(scene, muscle, muscle + 1.2, 2), {echo: 0.6});
  map.paint(depthBand(scene, muscle + 1.2, t, 3), soft(scene, 0.2, 0.35));
  return t;
}

/** Placenta: a granular, moderately echogenic slab on the uterine wall (anterior, under the wall, or posterior, deep). */
export function drawPlacenta(scene: Scene, wallDepthPx: number, deepestPx: number): void {
  const {rng, width} = scene;
  const thickness = rng.uniform(0.08, 0.16) * scene.height;
  const anterior = rng.chance(0.5);
  const d0 = anterior ? wallDepthPx - 2 : deepestPx;
  const cx = rng.uniform(0, width);
  const lateral = ellipse(cx, scene.height / 2, rng.uniform(0.35, 0.7) * width, scene.height * 2);
  const slab = intersect(depthBand(scene, d0, d0 + thickness, 4), lateral);
  scene.map.paint(slab, {echo: textured(scene, 0.3, 0.45, 3), attenuation: 0.1, softPx: 2});
}

/** Posterior uterine wall and maternal tissue beyond it, from depth `d0` px down. */
export function drawPosteriorWall(scene: Scene, d0: number): void {
  scene.map.paint(depthBand(scene, d0, d0 + 2, 3), {echo: 0.45});
  scene.map.paint(depthBand(scene, d0 + 2, 10_000, 3), soft(scene, 0.2, 0.5));
}

function overlaps(f: Footprint, x: number, y: number, r: number): boolean {
  const dx = (x - f.cx) / (f.hx + r);
  const dy = (y - f.cy) / (f.hy + r);
  return dx * dx + dy * dy < 1;
}

/** Other fetal parts in the fluid: limb sections (soft tissue round a bone), cord loops (vessels), body wall. */
export function drawClutter(scene: Scene, avoid: Footprint, count: number, topPx: number): void {
  const {rng, map, width, height} = scene;
  for (let k = 0; k < count; k++) {
    let placed = false;
    for (let attempt = 0; attempt < 12 && !placed; attempt++) {
      const r = rng.uniform(0.05, 0.16) * width;
      const x = rng.uniform(-0.1, 1.1) * width;
      const y = rng.uniform(topPx + r * 0.5, height * 1.05);
      if (overlaps(avoid, x, y, r)) continue;
      placed = true;
      const kind = rng.next();
      if (kind < 0.45) {
        // Limb in cross- or long-section: skin, muscle and an ossified shaft casting a shadow.
        const angle = rng.uniform(0, Math.PI);
        const aspect = rng.uniform(0.35, 1);
        const limb = ellipse(x, y, r, r * aspect, angle);
        map.paint(limb, {...soft(scene, 0.24, 0.4), softPx: 1.5});
        map.paint(outline(limb, 1.2), {echo: 0.5});
        if (rng.chance(0.7)) {
          map.paint(ellipse(x, y, Math.max(1.2, r * 0.6 * aspect), Math.max(1.2, r * 0.12), angle), bone(scene, {echo: 2.2, attenuation: 6}));
        }
      } else if (kind < 0.75) {
        // Umbilical cord loop: one vein and two arteries in Wharton's jelly.
        const rc = Math.max(3, r * 0.35);
        map.paint(ellipse(x, y, rc, rc * 0.9, rng.uniform(0, Math.PI)), {...soft(scene, 0.2, 0.2), softPx: 1.2});
        map.paint(ellipse(x + rc * 0.2, y, rc * 0.42, rc * 0.42), fluid());
        map.paint(ellipse(x - rc * 0.4, y - rc * 0.35, rc * 0.25, rc * 0.25), fluid());
        map.paint(ellipse(x - rc * 0.4, y + rc * 0.38, rc * 0.25, rc * 0.25), fluid());
      } else {
        // Part of the fetal trunk or uterine wall fold: a broad soft-tissue mass.
        const mass = ellipse(x, y, r * 1.3, r * rng.uniform(0.6, 1), rng.uniform(0, Math.PI));
        map.paint(mass, {...soft(scene, 0.26, 0.45), softPx: 2});
        map.paint(outline(mass, 1), {echo: 0.45});
      }
    }
  }
}
