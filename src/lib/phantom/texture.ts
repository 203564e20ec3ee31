// Smooth random fields for tissue heterogeneity: real parenchyma is not a
// flat grey, and a classifier should not learn flat greys.

import type {Rng} from "../random.js";

/** A smooth field (x, y) -> roughly [-1, 1], with features about `cellPx` apart. */
export type Field = (x: number, y: number) => number;

/** Value noise: random values on a grid of `cellPx`, smoothstep-interpolated. */
export function valueNoise(rng: Rng, width: number, height: number, cellPx: number): Field {
  const cell = Math.max(1, cellPx);
  const nx = Math.ceil(width / cell) + 3;
  const ny = Math.ceil(height / cell) + 3;
  const grid = new Float32Array(nx * ny);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.uniform(-1, 1);
  return (x, y) => {
    const gx = Math.min(nx - 2, Math.max(0, x / cell + 1));
    const gy = Math.min(ny - 2, Math.max(0, y / cell + 1));
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    let fx = gx - ix;
    let fy = gy - iy;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    const i = iy * nx + ix;
    const top = grid[i]! + (grid[i + 1]! - grid[i]!) * fx;
    const bottom = grid[i + nx]! + (grid[i + nx + 1]! - grid[i + nx]!) * fx;
    return top + (bottom - top) * fy;
  };
}

/** Two octaves of value noise (coarse lobules plus fine grain). */
export function fractalNoise(rng: Rng, width: number, height: number, cellPx: number): Field {
  const coarse = valueNoise(rng, width, height, cellPx);
  // Finer than ~2.5 px the speckle already supplies the grain.
  const fine = valueNoise(rng, width, height, Math.max(2.5, cellPx / 2.7));
  return (x, y) => 0.65 * coarse(x, y) + 0.35 * fine(x, y);
}
