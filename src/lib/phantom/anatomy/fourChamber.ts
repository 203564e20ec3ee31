// The four-chamber view of the CHD set (ISUOG cardiac screening guidelines,
// Ultrasound Obstet Gynecol 2013;41:348-359), drawn in the default heart plane's
// style (thorax, lungs, spine, descending aorta, ribs) but with every cardiac
// structure labelled: left and right ventricles and atria, the interventricular
// septum, the AV valves at the crux (the tricuspid inserting slightly more
// apically than the mitral valve), the moderator band in the right ventricle,
// the foramen ovale flap. Two defects an echocardiographer recognises in this
// view: a ventricular septal defect (a gap in the septum, perimembranous just
// below the valves or muscular further towards the apex, with bright edges, the
// "T-sign") and a hypoplastic left heart (a small, echogenic-walled left
// ventricle that does not reach the apex, an atretic mitral valve, a small left
// atrium, the right ventricle forming the apex). The default phantom's heart
// plane (heart.ts) is not drawn by this module and keeps its pixels.

import type {Rng} from "../../random.js";
import {localEllipse, toPx, type Frame} from "../frame.js";
import {fluid, mmToPx, soft, textured, type Scene} from "../scene.js";
import {ellipse, intersect, offset, outline, tube, type Shape} from "../shapes.js";
import {ECHO} from "../tissueMap.js";
import type {PhantomPatient} from "../types.js";
import type {AnatomyLayout} from "./layout.js";
import {placeHeart} from "./heart.js";
import {drawRibs, drawSpineSection, drawTrunkSection, planTorso, torsoLayout} from "./torso.js";

export const CHD_DIAGNOSES = ["normal", "vsd", "hlhs"] as const;
/** normal: no defect; vsd: ventricular septal defect; hlhs: hypoplastic left heart syndrome. */
export type ChdDiagnosis = (typeof CHD_DIAGNOSES)[number];

/** Values of the CHD set's label masks (the default phantom's `heart` value, 4, is the heart wall here). */
export const CHD_MASK_LABELS = {background: 0, heart: 4, lv: 5, rv: 6, la: 7, ra: 8, septum: 9, vsd: 10} as const;

/** Structures of the CHD set as sets of mask values: `heart` is the whole heart, walls and cavities. */
export const CHD_STRUCTURES: Readonly<Record<string, readonly number[]>> = {
  heart: [4, 5, 6, 7, 8, 9, 10],
  lv: [5],
  rv: [6],
  la: [7],
  ra: [8],
  septum: [9]
};

/** One fetus's heart: its diagnosis and the sizes every image of it shares. */
export interface FourChamberHeart {
  diagnosis: ChdDiagnosis;
  /** Left ventricle's length (base to apex) and width, as factors of a normal one. */
  lvLength: number;
  lvWidth: number;
  rvScale: number;
  laScale: number;
  raScale: number;
  /** Interventricular septum: half thickness and its position across the heart (0: midline, < 0 towards the left), in units of the heart's half-width. */
  septumHalfThickness: number;
  septumShift: number;
  /** The defect along the septum (units of the heart's half-length from its centre, apex +), VSD only. */
  vsd: {centreU: number; halfLengthU: number; kind: "perimembranous" | "muscular"} | null;
}

/** Thoracic / abdominal circumference ratio, about 0.89 through the 2nd and 3rd trimesters (Chitkara et al., AJOG 1987;156:1069), as heart.ts. */
const THORAX_TO_AC = 0.89;

/** Draws a heart of the diagnosis: normal sizes vary a little (about 5%) between fetuses. */
export function drawFourChamberHeart(diagnosis: ChdDiagnosis, rng: Rng): FourChamberHeart {
  const vary = (sd: number) => Math.max(1 - 2.5 * sd, Math.min(1 + 2.5 * sd, rng.normal(1, sd)));
  const heart: FourChamberHeart = {
    diagnosis,
    lvLength: vary(0.05),
    lvWidth: vary(0.05),
    rvScale: vary(0.05),
    laScale: vary(0.06),
    raScale: vary(0.06),
    septumHalfThickness: rng.uniform(0.065, 0.095),
    septumShift: rng.uniform(-0.03, 0.03),
    vsd: null
  };
  if (diagnosis === "vsd") {
    // Perimembranous defects (about 80% of VSDs) lie just below the AV valves; muscular ones in the trabecular septum.
    const kind = rng.chance(0.7) ? "perimembranous" : "muscular";
    heart.vsd = {
      kind,
      centreU: kind === "perimembranous" ? rng.uniform(-0.2, -0.1) : rng.uniform(0.1, 0.45),
      halfLengthU: rng.uniform(0.08, 0.14)
    };
  } else if (diagnosis === "hlhs") {
    // A slit-like left ventricle, far from the apex; the septum bows to the left; the right heart dilates.
    heart.lvLength = rng.uniform(0.35, 0.6);
    heart.lvWidth = rng.uniform(0.3, 0.55);
    heart.septumShift = -rng.uniform(0.16, 0.28);
    heart.rvScale *= rng.uniform(1.05, 1.15);
    heart.laScale *= rng.uniform(0.6, 0.8);
    heart.raScale *= rng.uniform(1.08, 1.2);
  }
  return heart;
}

function drawHeart(scene: Scene, chest: Frame, spec: FourChamberHeart, rng: Rng): void {
  const {map} = scene;
  const L = CHD_MASK_LABELS;
  // Placed as the default heart plane's heart: +u towards the apex; +v anterior (right chambers).
  const h = placeHeart(chest, rng);
  const {angle, a: length, b: width} = h;
  const heart = ellipse(h.cx, h.cy, length, width, angle);
  map.paint(heart, {...soft(scene, ECHO.myocardium, 0.2, L.heart), echo: textured(scene, ECHO.myocardium, 0.25, 4), softPx: 1.2});
  map.paint(outline(heart, 1.3), {echo: 0.6});

  // Interventricular septum: a band along the long axis from the crux to the apex, then the ventricles carved out on either side.
  const vs = spec.septumShift;
  const t = spec.septumHalfThickness;
  const crux = -0.28;
  const septumLine = [toPx(h, crux - 0.02, vs), toPx(h, 0.72, vs)];
  const septum = tube(septumLine, 1.6 * t * width);
  map.paint(septum, {...soft(scene, ECHO.myocardium * 1.15, 0.2, L.septum), softPx: 1.2});
  const chamber = (label: number) => ({...fluid(label), softPx: 1.3});
  // Left ventricle: its septal edge at vs - t, its base at the crux.
  const lvRu = 0.56 * spec.lvLength;
  const lvRv = 0.4 * spec.lvWidth;
  const lvShape = localEllipse(h, crux + lvRu, vs - t - lvRv, lvRu, lvRv, 0.06);
  map.paint(lvShape, chamber(L.lv));
  // Right ventricle: from the septum to near the free wall; it forms the apex when the left ventricle is small.
  const rvOuter = Math.min(0.93, 0.92 * spec.rvScale);
  const rvRv = Math.max(0.2, (rvOuter - (vs + t)) / 2);
  const rvRu = 0.52 * spec.rvScale * (spec.diagnosis === "hlhs" ? 1.08 : 1);
  const rvShape = localEllipse(h, crux + 0.02 + rvRu, vs + t + rvRv, rvRu, rvRv, -0.06);
  map.paint(rvShape, chamber(L.rv));
  // Atria behind the crux, the atrial septum between them.
  map.paint(localEllipse(h, -0.64, -0.06 - 0.4 * spec.laScale, 0.3 * spec.laScale, 0.4 * spec.laScale, 0), chamber(L.la));
  map.paint(localEllipse(h, -0.64, 0.08 + 0.42 * spec.raScale, 0.3 * spec.raScale, 0.42 * spec.raScale, 0), chamber(L.ra));

  if (spec.vsd) {
    // The gap: the septum's own pixels over the defect's length become blood, flow between the ventricles.
    const {centreU, halfLengthU} = spec.vsd;
    const gap: Shape = intersect(localEllipse(h, centreU, vs, halfLengthU, 4 * t), offset(septum, 1));
    map.paint(gap, chamber(L.vsd));
    // "T-sign": the defect's margins are brighter than the septum around them.
    for (const end of [-1, 1]) {
      const p = toPx(h, centreU + end * halfLengthU * 1.05, vs);
      map.paint(ellipse(p.x, p.y, Math.max(0.9, 0.05 * length), Math.max(0.9, 1.4 * t * width), angle + Math.PI / 2), {echo: 0.45, softPx: 1.2});
    }
  }
  if (spec.diagnosis === "hlhs") {
    // Endocardial fibroelastosis: the small left ventricle's wall is echogenic.
    map.paint(outline(lvShape, Math.max(1, 0.05 * width)), {echo: 0.55, softPx: 1.2});
  }
  // Crux: AV valve leaflets (tricuspid slightly more apical; an atretic mitral valve is a thick bright plate).
  const mitralAtretic = spec.diagnosis === "hlhs";
  map.paint(tube([toPx(h, crux - 0.03, vs - 0.1), toPx(h, crux - 0.01, -0.1 - 0.55 * spec.laScale)], mitralAtretic ? 1.2 : 0.6), {echo: mitralAtretic ? 0.65 : 0.5, softPx: 1.2});
  map.paint(tube([toPx(h, crux + 0.03, vs + 0.1), toPx(h, crux + 0.06, 0.12 + 0.58 * spec.raScale)], 0.6), {echo: 0.5, softPx: 1.2});
  // Foramen ovale flap bulging into the left atrium; moderator band across the right ventricle near the apex.
  map.paint(tube([toPx(h, -0.55, 0.0), toPx(h, -0.68, -0.14)], 0.5), {echo: 0.4, softPx: 1.2});
  map.paint(localEllipse(h, crux + 0.02 + 1.75 * rvRu, vs + t + 0.9 * rvRv, 0.07, 0.09), {echo: 0.45, softPx: 1.5});
}

/** The thorax at the four-chamber level with the given heart, framed and imaged like the default heart plane. */
export function planFourChamberView(patient: PhantomPatient, heart: FourChamberHeart, rng: Rng): AnatomyLayout {
  const torso = planTorso(patient.acMm * THORAX_TO_AC * rng.uniform(0.96, 1.04), Math.min(0.98, patient.abdomenAspect + 0.03), rng);
  return torsoLayout(torso, patient.mirrored, [0.6, 0.86], (scene, f) => {
    drawTrunkSection(scene, f, mmToPx(scene, torso.skinMm), {...soft(scene, ECHO.lung, 0.2), echo: textured(scene, ECHO.lung, 0.2, 10)});
    // Descending aorta: left of the spine, in front of it.
    scene.map.paint(localEllipse(f, -0.62, 0.14, 0.07, (0.07 * f.a) / f.b), {...fluid(), softPx: 1.2});
    drawHeart(scene, f, heart, rng);
    drawSpineSection(scene, f, patient.gaDays);
    drawRibs(scene, f, 1, 1.4, 1.9, 0.45, rng);
    drawRibs(scene, f, rng.int(0, 1), 0.7, 1.3, 0.3, rng);
  });
}
