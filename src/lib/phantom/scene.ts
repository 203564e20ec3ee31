// What an anatomy drawer works with: the tissue map, the probe (for bone
// shadows and specular echoes), the pixel spacing and a random stream, plus
// tissue helpers so every drawer speaks of bone, fluid and parenchyma alike.

import type {Rng} from "../random.js";
import {beamDirection, type Probe} from "./probe.js";
import {fractalNoise} from "./texture.js";
import {ATTENUATION, ECHO, type EchoSource, type Tissue, type TissueMap} from "./tissueMap.js";

export interface Scene {
  readonly map: TissueMap;
  readonly probe: Probe;
  readonly rng: Rng;
  readonly spacingMmPerPx: number;
  readonly width: number;
  readonly height: number;
}

/** Pixels spanning `mm` millimetres at the scene's spacing. */
export function mmToPx(scene: Scene, mm: number): number {
  return mm / scene.spacingMmPerPx;
}

/** A heterogeneous echo: base * (1 + amount * smooth noise with `cellPx` lobules). */
export function textured(scene: Scene, base: number, amount: number, cellPx = 7): EchoSource {
  const noise = fractalNoise(scene.rng, scene.width, scene.height, cellPx);
  return (x, y) => Math.max(0, base * (1 + amount * noise(x, y)));
}

/** Soft tissue (parenchyma, muscle, skin) with ordinary attenuation. */
export function soft(scene: Scene, echo: number, amount = 0.25, label?: number): Tissue {
  return {echo: amount > 0 ? textured(scene, echo, amount) : echo, attenuation: ATTENUATION.softTissue, label};
}

/** Fluid (amniotic, ventricles, stomach, vessels): anechoic and barely attenuating. */
export function fluid(label?: number): Tissue {
  return {echo: ECHO.fluid, attenuation: ATTENUATION.fluid, label};
}

/** Ossified bone: a specular echo brightest face-on to the beam, and a shadow behind it. */
export function bone(scene: Scene, options: {echo?: number; attenuation?: number; label?: number; floor?: number} = {}): Tissue {
  const probe = scene.probe;
  return {
    echo: options.echo ?? ECHO.bone,
    attenuation: options.attenuation ?? ATTENUATION.bone,
    label: options.label,
    specular: {beamDirection: (x, y) => beamDirection(probe, x, y), floor: options.floor ?? 0.35}
  };
}
