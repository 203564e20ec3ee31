// Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., algorithm 7.4
// and 7.5) with a backtracking Armijo line search: the solver of the fast probe mode.
// Small and deterministic; the objective is smooth and convex there, where this
// plain variant converges in tens of iterations.

/** Writes the gradient at `x` into `gradient` and returns the objective's value. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Most iterations (default 200). */
  maxIterations?: number;
  /** Correction pairs kept (default 10). */
  memory?: number;
  /** Stop when the gradient's max-norm falls under this (default 1e-5). */
  gradientTolerance?: number;
  /** Stop when the objective improves by less than this, relative to its size (default 1e-9). */
  relativeTolerance?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Minimises `objective` from `start` (left unchanged). */
export function minimiseLbfgs(objective: Objective, start: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIterations = options.maxIterations ?? 200;
  const memory = options.memory ?? 10;
  const gtol = options.gradientTolerance ?? 1e-5;
  const rtol = options.relativeTolerance ?? 1e-9;
  const n = start.length;
  let x: Float64Array = Float64Array.from(start);
  let g: Float64Array = new Float64Array(n);
  let f = objective(x, g);
  let evaluations = 1;
  if (!Number.isFinite(f)) throw new Error(`minimiseLbfgs: the objective is ${f} at the start`);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  const direction = new Float64Array(n);
  let xNext: Float64Array = new Float64Array(n);
  let gNext: Float64Array = new Float64Array(n);
  let iterations = 0;
  let converged = maxAbs(g) < gtol;
  while (!converged && iterations < maxIterations) {
    // Two-loop recursion: direction = -H g.
    for (let i = 0; i < n; i++) direction[i] = -g[i]!;
    for (let k = s.length - 1; k >= 0; k--) {
      alpha[k] = rho[k]! * dot(s[k]!, direction);
      const yk = y[k]!;
      for (let i = 0; i < n; i++) direction[i] -= alpha[k]! * yk[i]!;
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma = dot(s[last]!, y[last]!) / dot(y[last]!, y[last]!);
      for (let i = 0; i < n; i++) direction[i] *= gamma;
    }
    for (let k = 0; k < s.length; k++) {
      const beta = rho[k]! * dot(y[k]!, direction);
      const sk = s[k]!;
      for (let i = 0; i < n; i++) direction[i] += (alpha[k]! - beta) * sk[i]!;
    }
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (rounding): restart from steepest descent.
      s.length = 0; y.length = 0; rho.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -g[i]!;
      slope = dot(g, direction);
    }
    // First step scaled so that it moves about one unit; later steps try the full quasi-Newton step.
    let step = s.length === 0 && iterations === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let fNext = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNext[i] = x[i]! + step * direction[i]!;
      fNext = objective(xNext, gNext);
      evaluations += 1;
      if (Number.isFinite(fNext) && fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNext <= f + 1e-4 * step * slope)) break; // no decrease found: as good as it gets in floating point
    iterations += 1;
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = xNext[i]! - x[i]!;
      yk[i] = gNext[i]! - g[i]!;
    }
    const sy = dot(sk, yk);
    // Keep the pair only when curvature is positive, so H stays positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(sk, sk) * dot(yk, yk))) {
      if (s.length === memory) {
        s.shift(); y.shift(); rho.shift();
      }
      s.push(sk); y.push(yk); rho.push(1 / sy);
    }
    const improvement = f - fNext;
    [x, xNext] = [xNext, x];
    [g, gNext] = [gNext, g];
    f = fNext;
    if (maxAbs(g) < gtol || improvement <= rtol * Math.max(1, Math.abs(f))) converged = true;
  }
  return {x, value: f, iterations, evaluations, converged};
}
