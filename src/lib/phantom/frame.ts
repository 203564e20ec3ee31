// An anatomical structure's own coordinates: u along its long axis, v across
// it, both in units of its semi-axes, so drawers place organs the way an
// anatomy atlas describes them ("thalami at the centre, cerebellum posterior").

import {ellipse, type Point, type Shape} from "./shapes.js";

export interface Frame {
  /** Centre in image px. */
  cx: number;
  cy: number;
  /** Direction of +u in the image, radians. */
  angle: number;
  /** Semi-axes in px: a along u, b along v. */
  a: number;
  b: number;
  /** -1 mirrors v (left/right of the fetus, or which hemisphere lies deeper). */
  mirror: 1 | -1;
}

/** Image position of local (u, v). */
export function toPx(frame: Frame, u: number, v: number): Point {
  const lu = u * frame.a;
  const lv = v * frame.b * frame.mirror;
  const cos = Math.cos(frame.angle);
  const sin = Math.sin(frame.angle);
  return {x: frame.cx + lu * cos - lv * sin, y: frame.cy + lu * sin + lv * cos};
}

/** Many local points at once. */
export function pathPx(frame: Frame, uv: ReadonlyArray<readonly [number, number]>): Point[] {
  return uv.map(([u, v]) => toPx(frame, u, v));
}

/** An ellipse centred at local (u, v) with radii ru * a and rv * b, turned by `turn` radians from the frame's axes. */
export function localEllipse(frame: Frame, u: number, v: number, ru: number, rv: number, turn = 0): Shape {
  const c = toPx(frame, u, v);
  return ellipse(c.x, c.y, ru * frame.a, rv * frame.b, frame.angle + frame.mirror * turn);
}

/** An ellipse in local position but with radii given in px. */
export function localEllipsePx(frame: Frame, u: number, v: number, rxPx: number, ryPx: number, turn = 0): Shape {
  const c = toPx(frame, u, v);
  return ellipse(c.x, c.y, rxPx, ryPx, frame.angle + frame.mirror * turn);
}

/** Axis-aligned half extents (px) of the frame's ellipse once rotated. */
export function frameHalfExtent(a: number, b: number, angle: number): {hx: number; hy: number} {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return {hx: Math.sqrt(a * a * cos * cos + b * b * sin * sin), hy: Math.sqrt(a * a * sin * sin + b * b * cos * cos)};
}
