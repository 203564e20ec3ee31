// Transducer field of view in image px: a curved-array sector (abdominal
// obstetric scans), a tight wide sector (transvaginal) or a linear strip.
// Beams run from the probe face into depth along +r.

export interface SectorProbe {
  kind: "sector";
  /** Virtual apex where the beams meet (usually above the image, negative y). */
  apexX: number;
  apexY: number;
  /** Radius of the probe face arc and of the deepest sample, px from the apex. */
  radiusStartPx: number;
  radiusEndPx: number;
  /** Half the sector's opening angle, radians. */
  halfAngleRad: number;
}

export interface LinearProbe {
  kind: "linear";
  x0: number;
  x1: number;
  /** Probe face (top) and deepest sample (bottom) rows, px. */
  y0: number;
  y1: number;
}

export type Probe = SectorProbe | LinearProbe;

/** Whether image point (x, y) lies inside the field of view. */
export function inFieldOfView(probe: Probe, x: number, y: number): boolean {
  if (probe.kind === "linear") return x >= probe.x0 && x <= probe.x1 && y >= probe.y0 && y <= probe.y1;
  const dx = x - probe.apexX;
  const dy = y - probe.apexY;
  const r = Math.sqrt(dx * dx + dy * dy);
  if (r < probe.radiusStartPx || r > probe.radiusEndPx || dy <= 0) return false;
  return Math.abs(Math.atan2(dx, dy)) <= probe.halfAngleRad;
}

/** Unit direction of the beam through (x, y), pointing away from the probe. */
export function beamDirection(probe: Probe, x: number, y: number): readonly [number, number] {
  if (probe.kind === "linear") return [0, 1];
  const dx = x - probe.apexX;
  const dy = y - probe.apexY;
  const r = Math.sqrt(dx * dx + dy * dy) || 1;
  return [dx / r, dy / r];
}

/** Depth (px along the beam from the probe face) of point (x, y). */
export function depthPx(probe: Probe, x: number, y: number): number {
  if (probe.kind === "linear") return y - probe.y0;
  const dx = x - probe.apexX;
  const dy = y - probe.apexY;
  return Math.sqrt(dx * dx + dy * dy) - probe.radiusStartPx;
}

/** Whether a whole axis-aligned box (px) fits inside the field of view, with `marginPx` to spare. */
export function boxInFieldOfView(probe: Probe, x0: number, y0: number, x1: number, y1: number, marginPx = 0): boolean {
  const m = marginPx;
  const steps = 8;
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const xs = x0 - m + (x1 - x0 + 2 * m) * t;
    const ys = y0 - m + (y1 - y0 + 2 * m) * t;
    if (!inFieldOfView(probe, xs, y0 - m) || !inFieldOfView(probe, xs, y1 + m)) return false;
    if (!inFieldOfView(probe, x0 - m, ys) || !inFieldOfView(probe, x1 + m, ys)) return false;
  }
  return true;
}
