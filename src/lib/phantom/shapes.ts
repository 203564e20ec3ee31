// Signed-distance shapes in image pixels (negative inside): one description
// serves filling, anti-aliased edges (coverage from the distance) and
// surface normals (its gradient) for specular bone echoes.

export interface Shape {
  /** Bounding box [x0, y0, x1, y1] in px, inclusive of the anti-aliasing margin. */
  readonly bbox: readonly [number, number, number, number];
  /** Signed distance in px from (x, y) to the outline: < 0 inside. */
  sdf(x: number, y: number): number;
}

export interface Point {
  x: number;
  y: number;
}

/** A rotated ellipse: centre, semi-axes (rx along the rotated x axis) and angle in radians. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, angle = 0): Shape {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const ex = Math.sqrt(rx * rx * cos * cos + ry * ry * sin * sin) + 2;
  const ey = Math.sqrt(rx * rx * sin * sin + ry * ry * cos * cos) + 2;
  const minR = Math.min(rx, ry);
  return {
    bbox: [cx - ex, cy - ey, cx + ex, cy + ey],
    sdf(x, y) {
      const dx = x - cx;
      const dy = y - cy;
      const u = dx * cos + dy * sin;
      const v = -dx * sin + dy * cos;
      // Inigo Quilez's ellipse distance approximation: exact on the outline, smooth near it.
      const pu = u / rx;
      const pv = v / ry;
      const qu = pu / rx;
      const qv = pv / ry;
      const k0 = Math.sqrt(pu * pu + pv * pv);
      const k1 = Math.sqrt(qu * qu + qv * qv);
      if (k1 < 1e-9) return -minR;
      return (k0 * (k0 - 1)) / k1;
    }
  };
}

/** The band of `thickness` px just inside a shape's outline (a skull, a skin line). */
export function innerBand(shape: Shape, thickness: number): Shape {
  return {bbox: shape.bbox, sdf: (x, y) => {
    const d = shape.sdf(x, y);
    return Math.max(d, -(d + thickness));
  }};
}

/** The band of `thickness` px centred on a shape's outline. */
export function outline(shape: Shape, thickness: number): Shape {
  const [x0, y0, x1, y1] = shape.bbox;
  const m = thickness / 2 + 1;
  return {bbox: [x0 - m, y0 - m, x1 + m, y1 + m], sdf: (x, y) => Math.abs(shape.sdf(x, y)) - thickness / 2};
}

/** A shape grown (positive) or shrunk (negative) by `px`. */
export function offset(shape: Shape, px: number): Shape {
  const [x0, y0, x1, y1] = shape.bbox;
  const m = Math.max(0, px);
  return {bbox: [x0 - m, y0 - m, x1 + m, y1 + m], sdf: (x, y) => shape.sdf(x, y) - px};
}

/** Intersection of two shapes (bbox of the first). */
export function intersect(a: Shape, b: Shape): Shape {
  return {bbox: a.bbox, sdf: (x, y) => Math.max(a.sdf(x, y), b.sdf(x, y))};
}

function bounds(points: readonly Point[]): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
  }
  return [x0, y0, x1, y1];
}

/** Segment table [ax, ay, ex, ey, 1/|e|^2] per segment, flat, for tight distance loops. */
function segmentTable(points: readonly Point[], closed: boolean): Float64Array {
  const count = closed ? points.length : points.length - 1;
  const table = new Float64Array(count * 5);
  for (let i = 0; i < count; i++) {
    const a = points[i]!;
    const b = points[(i + 1) % points.length]!;
    const ex = b.x - a.x;
    const ey = b.y - a.y;
    const len2 = ex * ex + ey * ey;
    table.set([a.x, a.y, ex, ey, len2 > 0 ? 1 / len2 : 0], i * 5);
  }
  return table;
}

/** Squared distance from (x, y) to the nearest segment of a table. */
function nearestSquared(table: Float64Array, x: number, y: number): number {
  let best = Infinity;
  for (let k = 0; k < table.length; k += 5) {
    const wx = x - table[k]!;
    const wy = y - table[k + 1]!;
    const ex = table[k + 2]!;
    const ey = table[k + 3]!;
    let t = (wx * ex + wy * ey) * table[k + 4]!;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const qx = wx - ex * t;
    const qy = wy - ey * t;
    const d2 = qx * qx + qy * qy;
    if (d2 < best) best = d2;
  }
  return best;
}

/** A polyline of capsules with radius `radius` px (a bone, a vessel, a canal). */
export function tube(points: readonly Point[], radius: number): Shape {
  if (points.length < 2) throw new Error(`tube: needs at least 2 points, got ${points.length}`);
  const [x0, y0, x1, y1] = bounds(points);
  const table = segmentTable(points, false);
  const m = radius + 2;
  return {bbox: [x0 - m, y0 - m, x1 + m, y1 + m], sdf: (x, y) => Math.sqrt(nearestSquared(table, x, y)) - radius};
}

/** Distances beyond this many px from a polygon's outline are reported as exactly this (enough for edges, outlines, normals). */
export const POLYGON_DISTANCE_CAP_PX = 6;

/**
 * A closed polygon (even-odd rule). Its distance is exact within POLYGON_DISTANCE_CAP_PX of the outline and
 * capped beyond: a coarse grid of cells remembers which edges come near each cell, so pixels far from the
 * outline cost one lookup instead of a pass over every edge.
 */
export function polygon(points: readonly Point[]): Shape {
  if (points.length < 3) throw new Error(`polygon: needs at least 3 points, got ${points.length}`);
  const [x0, y0, x1, y1] = bounds(points);
  const table = segmentTable(points, true);
  const cap = POLYGON_DISTANCE_CAP_PX;
  const cell = 8;
  const gx0 = x0 - cap - cell;
  const gy0 = y0 - cap - cell;
  const nx = Math.ceil((x1 - gx0 + cap + cell) / cell) + 1;
  const ny = Math.ceil((y1 - gy0 + cap + cell) / cell) + 1;
  const exactInside = (x: number, y: number): boolean => {
    let inside = false;
    for (let k = 0; k < table.length; k += 5) {
      const ay = table[k + 1]!;
      const by = ay + table[k + 3]!;
      if ((ay > y) !== (by > y)) {
        const ax = table[k]!;
        if (x < ax + (table[k + 2]! * (y - ay)) / table[k + 3]!) inside = !inside;
      }
    }
    return inside;
  };
  // Per cell: the edges within reach (cap + half a cell diagonal), or none and the cell's constant side.
  const reach = cap + cell * 0.7072;
  const near: Array<Float64Array | null> = new Array(nx * ny);
  const side = new Int8Array(nx * ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const cx = gx0 + (i + 0.5) * cell;
      const cy = gy0 + (j + 0.5) * cell;
      const picked: number[] = [];
      for (let k = 0; k < table.length; k += 5) {
        const single = table.subarray(k, k + 5);
        if (nearestSquared(single, cx, cy) <= reach * reach) picked.push(k);
      }
      if (picked.length === 0) {
        near[j * nx + i] = null;
        side[j * nx + i] = exactInside(cx, cy) ? -1 : 1;
      } else {
        const sub = new Float64Array(picked.length * 5);
        picked.forEach((k, n) => sub.set(table.subarray(k, k + 5), n * 5));
        near[j * nx + i] = sub;
      }
    }
  }
  return {
    bbox: [x0 - 2, y0 - 2, x1 + 2, y1 + 2],
    sdf(x, y) {
      const i = Math.floor((x - gx0) / cell);
      const j = Math.floor((y - gy0) / cell);
      if (i < 0 || j < 0 || i >= nx || j >= ny) return cap;
      const edges = near[j * nx + i];
      if (!edges) return side[j * nx + i]! * cap;
      const d = Math.min(cap, Math.sqrt(nearestSquared(edges, x, y)));
      return exactInside(x, y) ? -d : d;
    }
  };
}

/** Points of a closed Catmull-Rom spline through `controls` (smooth organ outlines). */
export function smoothClosed(controls: readonly Point[], stepsPerSegment = 8): Point[] {
  const n = controls.length;
  const out: Point[] = [];
  for (let i = 0; i < n; i++) {
    const p0 = controls[(i - 1 + n) % n]!;
    const p1 = controls[i]!;
    const p2 = controls[(i + 1) % n]!;
    const p3 = controls[(i + 2) % n]!;
    for (let s = 0; s < stepsPerSegment; s++) {
      const t = s / stepsPerSegment;
      const t2 = t * t;
      const t3 = t2 * t;
      const f = (a: number, b: number, c: number, d: number) =>
        0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (-a + 3 * b - 3 * c + d) * t3);
      out.push({x: f(p0.x, p1.x, p2.x, p3.x), y: f(p0.y, p1.y, p2.y, p3.y)});
    }
  }
  return out;
}

/** Points along an open quadratic Bezier curve (a femur's bow, the umbilical vein's hook). */
export function quadraticCurve(a: Point, control: Point, b: Point, steps = 12): Point[] {
  const out: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    out.push({x: u * u * a.x + 2 * u * t * control.x + t * t * b.x, y: u * u * a.y + 2 * u * t * control.y + t * t * b.y});
  }
  return out;
}

/** Points along an elliptical arc from angle a0 to a1 (radians, in the ellipse's own frame). */
export function ellipseArc(cx: number, cy: number, rx: number, ry: number, angle: number, a0: number, a1: number, steps = 16): Point[] {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const out: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = a0 + ((a1 - a0) * i) / steps;
    const u = rx * Math.cos(t);
    const v = ry * Math.sin(t);
    out.push({x: cx + u * cos - v * sin, y: cy + u * sin + v * cos});
  }
  return out;
}

/** The half-plane on the side of the line through `p` that the unit normal (nx, ny) points away from. */
export function halfPlane(p: Point, nx: number, ny: number, bbox: Shape["bbox"]): Shape {
  return {bbox, sdf: (x, y) => (x - p.x) * nx + (y - p.y) * ny};
}
