// A simulated pregnancy: one GA and biometry shared by all its images. Sizes
// vary around the growth-chart medians the way real fetuses do, so HC is a
// noisy (not exact) function of GA, as in HC18 and FETAL_PLANES_DB.

import {acMedianMm, flMedianMm, GA_MAX_DAYS, GA_MIN_DAYS, hcMedianMm, hcQuantileMm} from "../biometry.js";
import type {Rng} from "../random.js";
import type {PhantomPatient} from "./types.js";

/** z of the 97.5th percentile: the WHO band's edges sit at z = +-1.96. */
const Z975 = 1.959964;

/** Coefficients of variation of AC and FL around their medians (roughly the WHO chart's spread, Kiserud 2017). */
const AC_LOG_SD = 0.055;
const FL_LOG_SD = 0.05;

export interface PatientOptions {
  /** GA range in days, inclusive; default 14w0d..40w0d. */
  gaDaysRange?: readonly [number, number];
}

/** HC at a GA for a size z-score, interpolating the WHO quantiles in log space (z clipped to the 2.5-97.5% band). */
export function hcAtZ(gaDays: number, z: number): number {
  const zc = Math.max(-Z975, Math.min(Z975, z));
  const median = hcMedianMm(gaDays);
  const edge = hcQuantileMm(gaDays, zc >= 0 ? 0.975 : 0.025);
  return median * Math.pow(edge / median, Math.abs(zc) / Z975);
}

function clippedNormal(rng: Rng, limit: number): number {
  for (;;) {
    const z = rng.normal();
    if (Math.abs(z) <= limit) return z;
  }
}

/** Draws one patient: GA uniform over the range, correlated size z-scores for HC, AC and FL. */
export function samplePatient(rng: Rng, patientId: string, options: PatientOptions = {}): PhantomPatient {
  const [gaMin, gaMax] = options.gaDaysRange ?? [GA_MIN_DAYS, GA_MAX_DAYS];
  if (!(gaMin > 0 && gaMax >= gaMin)) throw new Error(`samplePatient: gaDaysRange must be [min, max] days with 0 < min <= max, got [${gaMin}, ${gaMax}]`);
  const gaDays = rng.int(Math.round(gaMin), Math.round(gaMax));
  // A big head tends to come with a big abdomen and long femur: shared size factor plus own variation.
  const size = rng.normal();
  const zHc = Math.max(-Z975, Math.min(Z975, 0.7 * size + 0.71 * rng.normal()));
  const zAc = Math.max(-2.5, Math.min(2.5, 0.7 * size + 0.71 * rng.normal()));
  const zFl = Math.max(-2.5, Math.min(2.5, 0.6 * size + 0.8 * rng.normal()));
  return {
    patientId,
    gaDays,
    hcMm: hcAtZ(gaDays, zHc),
    acMm: acMedianMm(gaDays) * Math.exp(AC_LOG_SD * zAc),
    flMm: flMedianMm(gaDays) * Math.exp(FL_LOG_SD * zFl),
    // Cephalic index BPD/OFD: mean 78.3%, SD 4.4% (Hadlock et al., AJR 1981;137:83-85).
    headAspect: 0.783 + 0.044 * clippedNormal(rng, 2),
    abdomenAspect: 0.9 + 0.04 * clippedNormal(rng, 2),
    // Transvaginal cervical length at 24 weeks: mean 35.2 mm, SD 8.3 mm (Iams et al., NEJM 1996;334:567-572).
    cervixLengthMm: 35.2 + 8.3 * clippedNormal(rng, 1.8),
    mirrored: rng.chance(0.5)
  };
}
