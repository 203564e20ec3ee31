// The scene before imaging: per pixel, how strongly tissue scatters sound
// (echo), how much it attenuates the beam passing through it (bone: a lot,
// fluid: little), and which labelled structure it belongs to.

import type {Shape} from "./shapes.js";

/** Echo amplitudes (linear backscatter, 1 = bright soft-tissue interface). */
export const ECHO = {
  fluid: 0.004,
  brain: 0.13,
  softTissue: 0.2,
  liver: 0.16,
  lung: 0.3,
  myocardium: 0.24,
  bright: 0.8,
  bone: 3.2
} as const;

/** Attenuation in dB per px, two-way (bone shadows; fluid enhances what lies behind it). */
export const ATTENUATION = {fluid: 0.06, softTissue: 0.1, bone: 9, partialBone: 2.5} as const;

export type EchoSource = number | ((x: number, y: number) => number);

export interface Tissue {
  echo: EchoSource;
  /** dB per px two-way; unchanged where omitted. */
  attenuation?: number;
  /** Label written where the shape covers at least half a pixel. */
  label?: number;
  /** "over" replaces (blended by coverage), "add" adds echo, "scale" multiplies echo by `echo`. */
  mode?: "over" | "add" | "scale";
  /** Edge softness in px (1 = anti-aliased hard edge). */
  softPx?: number;
  /** Specular reflector: echo scaled by floor + (1 - floor) * |cos(incidence)|^2 for the beam at (x, y). */
  specular?: {beamDirection: (x: number, y: number) => readonly [number, number]; floor: number};
}

export class TissueMap {
  readonly echo: Float32Array;
  readonly attenuation: Float32Array;
  readonly label: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: number = ECHO.fluid) {
    const n = width * height;
    this.echo = new Float32Array(n).fill(background);
    this.attenuation = new Float32Array(n).fill(ATTENUATION.fluid);
    this.label = new Uint8Array(n);
  }

  /** Paints a tissue into the pixels a shape covers. */
  paint(shape: Shape, tissue: Tissue): void {
    const {width, height} = this;
    const [bx0, by0, bx1, by1] = shape.bbox;
    const x0 = Math.max(0, Math.floor(bx0));
    const y0 = Math.max(0, Math.floor(by0));
    const x1 = Math.min(width - 1, Math.ceil(bx1));
    const y1 = Math.min(height - 1, Math.ceil(by1));
    const soft = tissue.softPx ?? 1;
    const mode = tissue.mode ?? "over";
    const source = tissue.echo;
    const specular = tissue.specular;
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5;
        const d = shape.sdf(px, py);
        const alpha = Math.min(1, Math.max(0, 0.5 - d / soft));
        if (alpha <= 0) continue;
        const i = y * width + x;
        let value = typeof source === "number" ? source : source(px, py);
        if (specular) {
          // Surface normal from the distance field's gradient; bone is brightest where the beam hits it head-on.
          const gx = shape.sdf(px + 0.75, py) - shape.sdf(px - 0.75, py);
          const gy = shape.sdf(px, py + 0.75) - shape.sdf(px, py - 0.75);
          const g = Math.sqrt(gx * gx + gy * gy);
          if (g > 1e-6) {
            const [dx, dy] = specular.beamDirection(px, py);
            const c = (gx * dx + gy * dy) / g;
            value *= specular.floor + (1 - specular.floor) * c * c;
          }
        }
        if (mode === "over") this.echo[i] = this.echo[i]! * (1 - alpha) + value * alpha;
        else if (mode === "add") this.echo[i] = Math.max(0, this.echo[i]! + value * alpha);
        else this.echo[i] = this.echo[i]! * (1 + (value - 1) * alpha);
        if (tissue.attenuation !== undefined) {
          this.attenuation[i] = this.attenuation[i]! * (1 - alpha) + tissue.attenuation * alpha;
        }
        if (tissue.label !== undefined && alpha >= 0.5) this.label[i] = tissue.label;
      }
    }
  }
}
