import {describe, expect, it} from "vitest";
import {gaWeeksDays, writeCaption, type CaptionFacts} from "../src/lib/captions.js";

// Park-Miller minimal standard generator: enough for seeded test draws.
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

const brain: CaptionFacts = {plane: "brain", subPlane: "trans-cerebellum", gaDays: 157, inputSpacingMmPerPx: 1.2345};

describe("gaWeeksDays", () => {
  it("splits GA days into weeks and days", () => {
    expect(gaWeeksDays(157)).toEqual({weeks: 22, days: 3});
    expect(gaWeeksDays(98)).toEqual({weeks: 14, days: 0});
  });
});

describe("writeCaption", () => {
  it("is reproducible from the seed", () => {
    const a = Array.from({length: 20}, ((r) => () => writeCaption(brain, r).text)(lcg(3)));
    const b = Array.from({length: 20}, ((r) => () => writeCaption(brain, r).text)(lcg(3)));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(15);
  });

  it("states GA, spacing and sub-plane exactly when it says it does", () => {
    const rng = lcg(11);
    let ga = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const {text, states} = writeCaption(brain, rng);
      expect(/22 weeks(,| and)? 3 days/.test(text)).toBe(states.ga);
      expect(text.includes("1.23 mm/pixel")).toBe(states.spacing);
      expect(/thalam|cerebell|ventric|posterior fossa/.test(text)).toBe(states.subPlane);
      expect(text).toMatch(/^[A-Z].*\.$/);
      if (states.ga) ga++;
    }
    // Brain captions state GA three times in four (the GA method reads brain prompts).
    expect(ga / n).toBeGreaterThan(0.71);
    expect(ga / n).toBeLessThan(0.79);
  });

  it("names the anatomy of the plane and rejects impossible facts", () => {
    const rng = lcg(5);
    for (let i = 0; i < 50; i++) expect(writeCaption({plane: "femur", gaDays: 200, inputSpacingMmPerPx: 0.8}, rng).text).toMatch(/femur|femoral|thigh/);
    for (let i = 0; i < 50; i++) expect(writeCaption({plane: "heart", gaDays: 200, inputSpacingMmPerPx: 0.8}, rng).text).toMatch(/heart|thora|cardiac/);
    expect(() => writeCaption({plane: "femur", subPlane: "trans-thalamic", gaDays: 200, inputSpacingMmPerPx: 0.8}, rng)).toThrow(/needs plane "brain"/);
    expect(() => writeCaption({plane: "liver" as never, gaDays: 200, inputSpacingMmPerPx: 0.8}, rng)).toThrow(/unknown plane "liver"/);
  });
});

describe("hard-negative captions", () => {
  it("keep every word but the changed fact when drawn with the same seed", () => {
    for (let seed = 1; seed < 40; seed++) {
      const a = writeCaption(brain, lcg(seed));
      const b = writeCaption({...brain, gaDays: 250}, lcg(seed));
      const c = writeCaption({...brain, subPlane: "trans-thalamic"}, lcg(seed));
      expect(b.states).toEqual(a.states);
      expect(c.states).toEqual(a.states);
      expect(b.text === a.text).toBe(!a.states.ga);
      expect(b.text.replace("35 weeks", "22 weeks").replace(/(\b)5 days/, "$13 days")).toBe(a.text);
      expect(c.text === a.text).toBe(!a.states.subPlane);
    }
  });
});
