import {describe, expect, it} from "vitest";
import {acMedianMm, ellipsePerimeter, flMedianMm, gaFromAcMm, gaFromFlMm, gaFromHcMm, hcMedianMm, hcQuantileMm} from "../src/lib/biometry.js";
import {createRng, hashSeed} from "../src/lib/random.js";
import {
  BRAIN_SUB_PLANES,
  DEFAULT_CLASS_SHARES,
  generateSample,
  MASK_LABELS,
  PHANTOM_PLANES,
  planDataset,
  samplePatient,
  SPACING_RANGE_MM_PER_PX,
  type BrainSubPlane,
  type PhantomPatient,
  type PhantomPlane,
  type PhantomSample,
  type PhantomSpec
} from "../src/lib/phantom/index.js";

function spec(plane: PhantomPlane, patient: PhantomPatient, subPlane: BrainSubPlane | null = null): PhantomSpec {
  return {id: `${plane}-${patient.patientId}`, plane, subPlane: plane === "brain" ? (subPlane ?? "trans-thalamic") : null, patient, width: 224, height: 224};
}

function patientAt(gaDays: number, id = "T1"): PhantomPatient {
  const p = samplePatient(createRng(`test/${id}`), id, {gaDaysRange: [gaDays, gaDays]});
  return p;
}

/** Semi-axes (px) of the ellipse with the same second moments as the pixels carrying `label`. */
function momentEllipse(sample: PhantomSample, label: number): {a: number; b: number; count: number} {
  let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (let y = 0; y < sample.height; y++) {
    for (let x = 0; x < sample.width; x++) {
      if (sample.masks[y * sample.width + x] !== label) continue;
      n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
    }
  }
  const mx = sx / n, my = sy / n;
  const cxx = sxx / n - mx * mx, cyy = syy / n - my * my, cxy = sxy / n - mx * my;
  const tr = cxx + cyy;
  const det = cxx * cyy - cxy * cxy;
  const l1 = tr / 2 + Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  const l2 = tr / 2 - Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  // A filled ellipse has variance a^2/4 along its major axis.
  return {a: 2 * Math.sqrt(l1), b: 2 * Math.sqrt(l2), count: n};
}

describe("seeded random numbers", () => {
  it("repeat the same stream for the same seed and differ between seeds", () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const xa = Array.from({length: 5}, () => a.next());
    expect(Array.from({length: 5}, () => b.next())).toEqual(xa);
    expect(Array.from({length: 5}, () => c.next())).not.toEqual(xa);
    expect(hashSeed("42")).not.toBe(hashSeed(42));
  });

  it("draw normals with mean 0 and sd 1 (20,000 draws, within 0.03)", () => {
    const rng = createRng("normal");
    let s = 0, s2 = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z; s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(s2 / n - (s / n) ** 2) - 1)).toBeLessThan(0.03);
  });
});

describe("biometry", () => {
  it("gives the WHO HC quantiles computed by hand from the coefficients", () => {
    // exp(b0 + b1 t + b2 t^2 + b3 t^3), evaluated independently (Python) for t = 14, 20, 28, 40 weeks.
    expect(hcQuantileMm(98, 0.5)).toBeCloseTo(99.5363, 3);
    expect(hcQuantileMm(140, 0.025)).toBeCloseTo(157.0057, 3);
    expect(hcQuantileMm(140, 0.5)).toBeCloseTo(173.3886, 3);
    expect(hcQuantileMm(140, 0.975)).toBeCloseTo(188.4548, 3);
    expect(hcQuantileMm(196, 0.5)).toBeCloseTo(263.5722, 3);
    expect(hcMedianMm(280)).toBeCloseTo(342.0883, 3);
    expect(hcQuantileMm(280, 0.975)).toBeCloseTo(363.4012, 3);
  });

  it("inverts the median HC curve to GA by bisection", () => {
    for (const ga of [100, 150, 200, 270]) expect(gaFromHcMm(hcMedianMm(ga))).toBeCloseTo(ga, 6);
  });

  it("gives Hadlock 1984 AC and FL medians that date back to the same GA", () => {
    expect(acMedianMm(140)).toBeCloseTo(147.151, 2);
    expect(flMedianMm(140)).toBeCloseTo(32.105, 2);
    expect(flMedianMm(280)).toBeCloseTo(78.233, 2);
    for (const ga of [98, 182, 280]) {
      expect(gaFromAcMm(acMedianMm(ga))).toBeCloseTo(ga, 6);
      expect(gaFromFlMm(flMedianMm(ga))).toBeCloseTo(ga, 6);
    }
  });

  it("rejects a non-positive GA with the function's name", () => {
    expect(() => hcMedianMm(0)).toThrow(/hcQuantileMm: gaDays/);
  });
});

describe("phantom patients", () => {
  it("keep HC inside the WHO 2.5-97.5% band at their GA and GA within 14w0d..40w0d", () => {
    const rng = createRng("patients");
    for (let i = 0; i < 500; i++) {
      const p = samplePatient(rng, `P${i}`);
      expect(p.gaDays).toBeGreaterThanOrEqual(98);
      expect(p.gaDays).toBeLessThanOrEqual(280);
      expect(p.hcMm).toBeGreaterThanOrEqual(hcQuantileMm(p.gaDays, 0.025) - 1e-9);
      expect(p.hcMm).toBeLessThanOrEqual(hcQuantileMm(p.gaDays, 0.975) + 1e-9);
      expect(p.acMm / acMedianMm(p.gaDays)).toBeGreaterThan(0.85);
      expect(p.flMm / flMedianMm(p.gaDays)).toBeLessThan(1.15);
    }
  });
});

describe("phantom images", () => {
  const patient = patientAt(180);

  it("are byte-identical for the same seed and spec", () => {
    const a = generateSample(7, spec("abdomen", patient));
    const b = generateSample(7, spec("abdomen", patient));
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Buffer.from(a.masks).equals(Buffer.from(b.masks))).toBe(true);
    expect(a.spacingMmPerPx).toBe(b.spacingMmPerPx);
  });

  it("differ for different seeds (most pixels change)", () => {
    const a = generateSample(7, spec("brain", patient));
    const b = generateSample(8, spec("brain", patient));
    let differ = 0;
    for (let i = 0; i < a.pixels.length; i++) if (a.pixels[i] !== b.pixels[i]) differ++;
    expect(differ / a.pixels.length).toBeGreaterThan(0.5);
  });

  it("carry the skull mask whose ellipse perimeter matches HC within 3% for each sub-plane and GA", () => {
    let k = 0;
    for (const ga of [100, 170, 275]) {
      for (const sub of BRAIN_SUB_PLANES) {
        const p = patientAt(ga, `hc${k++}`);
        const s = generateSample(`hc/${k}`, spec("brain", p, sub));
        expect(s.subPlane).toBe(sub);
        const e = momentEllipse(s, MASK_LABELS.skull);
        const hcFromMaskMm = ellipsePerimeter(e.a, e.b) * s.spacingMmPerPx;
        expect(Math.abs(hcFromMaskMm / s.hcMm - 1)).toBeLessThan(0.03);
      }
    }
  });

  it("carry an abdomen mask matching AC within 3% and a femur mask as long as FL within 5%", () => {
    for (const ga of [110, 250]) {
      const p = patientAt(ga, `ac${ga}`);
      const abdomen = generateSample(`ac/${ga}`, spec("abdomen", p));
      const e = momentEllipse(abdomen, MASK_LABELS.abdomen);
      expect(Math.abs((ellipsePerimeter(e.a, e.b) * abdomen.spacingMmPerPx) / p.acMm - 1)).toBeLessThan(0.03);
      const femur = generateSample(`fl/${ga}`, spec("femur", p));
      // Length along the mask's principal axis.
      const pts: Array<[number, number]> = [];
      femur.masks.forEach((v, i) => {
        if (v === MASK_LABELS.femur) pts.push([i % femur.width, Math.floor(i / femur.width)]);
      });
      const mx = pts.reduce((s, q) => s + q[0], 0) / pts.length;
      const my = pts.reduce((s, q) => s + q[1], 0) / pts.length;
      let cxx = 0, cyy = 0, cxy = 0;
      for (const [x, y] of pts) { cxx += (x - mx) ** 2; cyy += (y - my) ** 2; cxy += (x - mx) * (y - my); }
      const theta = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
      const proj = pts.map(([x, y]) => (x - mx) * Math.cos(theta) + (y - my) * Math.sin(theta));
      const lengthPx = Math.max(...proj) - Math.min(...proj) + 1;
      expect(Math.abs((lengthPx * femur.spacingMmPerPx) / p.flMm - 1)).toBeLessThan(0.05);
    }
  });

  it("label the heart in the four-chamber view and nothing in the cervix view", () => {
    const p = patientAt(200, "h");
    const heart = generateSample("heart", spec("heart", p));
    expect(heart.masks.filter((v) => v === MASK_LABELS.heart).length).toBeGreaterThan(500);
    const cervix = generateSample("cervix", spec("cervix", p));
    expect(cervix.masks.every((v) => v === 0)).toBe(true);
  });

  it("keep pixel spacing within SPACING_RANGE_MM_PER_PX and a mean grey between 10 and 160, for every class at 14w0d and 40w0d", () => {
    const [lo, hi] = SPACING_RANGE_MM_PER_PX;
    const rng = createRng("spacing");
    for (const plane of PHANTOM_PLANES) {
      for (const ga of [98, 280]) {
        const p = samplePatient(rng, `S${plane}${ga}`, {gaDaysRange: [ga, ga]});
        const s = generateSample(`${plane}/${ga}`, spec(plane, p, plane === "brain" ? rng.pick(BRAIN_SUB_PLANES) : null));
        expect(s.spacingMmPerPx).toBeGreaterThanOrEqual(lo);
        expect(s.spacingMmPerPx).toBeLessThanOrEqual(hi);
        expect(s.gaDays).toBe(ga);
        const mean = s.pixels.reduce((t, v) => t + v, 0) / s.pixels.length;
        expect(mean).toBeGreaterThan(10);
        expect(mean).toBeLessThan(160);
      }
    }
  });

  it("reject a sub-plane on a non-brain plane, naming the spec", () => {
    expect(() => generateSample(1, {...spec("femur", patient), subPlane: "trans-thalamic"})).toThrow(/femur-T1.*subPlane/);
  });
});

describe("phantom dataset plan", () => {
  const plan = planDataset({seed: 5, count: 3000});

  it("is deterministic", () => {
    const again = planDataset({seed: 5, count: 3000});
    expect(again.map((s) => [s.id, s.plane, s.seed, s.split])).toEqual(plan.map((s) => [s.id, s.plane, s.seed, s.split]));
    expect(planDataset({seed: 6, count: 3000}).map((s) => s.plane)).not.toEqual(plan.map((s) => s.plane));
  });

  it("has the class shares (brain 30% in equal sub-planes, abdomen/femur/heart 12%, cervix 6%, distractors 7%)", () => {
    expect(plan).toHaveLength(3000);
    for (const c of DEFAULT_CLASS_SHARES) {
      const n = plan.filter((s) => s.plane === c.plane && s.subPlane === c.subPlane).length;
      expect(n).toBe(Math.round(3000 * c.share));
    }
  });

  it("splits by patient: no patient in two splits, about 70/10/20 of images", () => {
    const splitOf = new Map<string, string>();
    for (const s of plan) {
      const prev = splitOf.get(s.patient.patientId);
      if (prev) expect(s.split).toBe(prev);
      splitOf.set(s.patient.patientId, s.split);
    }
    const share = (name: string) => plan.filter((s) => s.split === name).length / plan.length;
    expect(share("train")).toBeGreaterThan(0.65);
    expect(share("train")).toBeLessThan(0.75);
    expect(share("val")).toBeGreaterThan(0.07);
    expect(share("val")).toBeLessThan(0.13);
    expect(share("test")).toBeGreaterThan(0.16);
    expect(share("test")).toBeLessThan(0.24);
  });

  it("gives each patient one GA and several images, mostly of different planes", () => {
    const byPatient = new Map<string, typeof plan>();
    for (const s of plan) byPatient.set(s.patient.patientId, [...(byPatient.get(s.patient.patientId) ?? []), s]);
    let distinct = 0;
    for (const images of byPatient.values()) {
      expect(new Set(images.map((s) => s.patient.gaDays)).size).toBe(1);
      expect(images.length).toBeGreaterThanOrEqual(1);
      expect(images.length).toBeLessThanOrEqual(6);
      if (new Set(images.map((s) => `${s.plane}/${s.subPlane}`)).size === images.length) distinct++;
    }
    expect(byPatient.size).toBeGreaterThan(3000 / 6);
    expect(distinct / byPatient.size).toBeGreaterThan(0.9);
  });
});
