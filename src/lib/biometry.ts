// Fetal biometry against gestational age (GA): the growth curves the phantom
// draws its sizes from and FetalCLIP's GA evaluation scores against.

/** Head-circumference quantiles FetalCLIP's GA evaluation uses. */
export type HcQuantile = 0.025 | 0.5 | 0.975;

/**
 * WHO fetal growth charts (Kiserud et al., PLoS Med 14(1):e1002220, 2017),
 * head circumference: HC_q(t) = exp(b0 + b1 t + b2 t^2 + b3 t^3) mm, t = GA in
 * weeks; the coefficients FetalCLIP's GA script (BioMedIA-MBZUAI/FetalCLIP) uses.
 */
export const WHO_HC_COEFFICIENTS: Readonly<Record<HcQuantile, readonly [number, number, number, number]>> = {
  0.025: [1.59317517131532, 0.29459800552433, -0.0073860372566707, 0.0000656951770216148],
  0.5: [2.09924879247164, 0.253373656106037, -0.00605647816678282, 0.0000514256072059917],
  0.975: [2.50074069629423, 0.220067854715719, -0.00493623111462443, 0.0000389066000946519]
};

/** GA range the phantom covers and FetalCLIP's GA prompts span (14w0d .. 40w0d). */
export const GA_MIN_DAYS = 14 * 7;
export const GA_MAX_DAYS = 40 * 7;

function checkGaDays(gaDays: number, fn: string): void {
  if (!Number.isFinite(gaDays) || gaDays <= 0) throw new Error(`${fn}: gaDays must be a positive number of days, got ${gaDays}`);
}

/** WHO head-circumference quantile (mm) at a gestational age in days. */
export function hcQuantileMm(gaDays: number, q: HcQuantile): number {
  checkGaDays(gaDays, "hcQuantileMm");
  const b = WHO_HC_COEFFICIENTS[q];
  if (!b) throw new Error(`hcQuantileMm: quantile must be 0.025, 0.5 or 0.975, got ${q}`);
  const t = gaDays / 7;
  return Math.exp(b[0] + b[1] * t + b[2] * t * t + b[3] * t * t * t);
}

/** WHO median head circumference (mm) at a gestational age in days. */
export function hcMedianMm(gaDays: number): number {
  return hcQuantileMm(gaDays, 0.5);
}

/**
 * GA (days) whose WHO median HC equals hcMm, by bisection over 10w..44w
 * (the median curve is increasing there); clamps to the ends outside it.
 */
export function gaFromHcMm(hcMm: number): number {
  if (!Number.isFinite(hcMm) || hcMm <= 0) throw new Error(`gaFromHcMm: hcMm must be a positive length in mm, got ${hcMm}`);
  let lo = 70;
  let hi = 308;
  if (hcMm <= hcMedianMm(lo)) return lo;
  if (hcMm >= hcMedianMm(hi)) return hi;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (hcMedianMm(mid) < hcMm) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// Hadlock FP, Deter RL, Harrist RB, Park SK. Estimating fetal age: computer-assisted
// analysis of multiple fetal growth parameters. Radiology 1984;152:497-501.
// GA(weeks) = 8.14 + 0.753 AC + 0.0036 AC^2 and GA = 10.35 + 2.460 FL + 0.170 FL^2
// (AC, FL in cm). These regress GA on the measurement; solving them for the
// measurement gives the size whose Hadlock-dated GA is the given GA, which we
// use as the median size at that GA.

/** Root of c2 x^2 + c1 x + (c0 - gaWeeks) = 0 that is positive, in cm. */
function solveHadlockCm(gaWeeks: number, c0: number, c1: number, c2: number): number {
  const disc = c1 * c1 - 4 * c2 * (c0 - gaWeeks);
  return (-c1 + Math.sqrt(Math.max(0, disc))) / (2 * c2);
}

/** Median abdominal circumference (mm) at a GA in days (Hadlock 1984, inverted). */
export function acMedianMm(gaDays: number): number {
  checkGaDays(gaDays, "acMedianMm");
  return 10 * solveHadlockCm(gaDays / 7, 8.14, 0.753, 0.0036);
}

/** Median femur length (mm) at a GA in days (Hadlock 1984, inverted). */
export function flMedianMm(gaDays: number): number {
  checkGaDays(gaDays, "flMedianMm");
  return 10 * solveHadlockCm(gaDays / 7, 10.35, 2.46, 0.17);
}

/** GA (days) Hadlock 1984 assigns to an abdominal circumference in mm. */
export function gaFromAcMm(acMm: number): number {
  const cm = acMm / 10;
  return 7 * (8.14 + 0.753 * cm + 0.0036 * cm * cm);
}

/** GA (days) Hadlock 1984 assigns to a femur length in mm. */
export function gaFromFlMm(flMm: number): number {
  const cm = flMm / 10;
  return 7 * (10.35 + 2.46 * cm + 0.17 * cm * cm);
}

/** Ellipse perimeter (Ramanujan's second approximation; error < 1e-5 relative for fetal head shapes). */
export function ellipsePerimeter(semiMajor: number, semiMinor: number): number {
  const a = semiMajor;
  const b = semiMinor;
  const h = ((a - b) * (a - b)) / ((a + b) * (a + b));
  return Math.PI * (a + b) * (1 + (3 * h) / (10 + Math.sqrt(4 - 3 * h)));
}
