// The embedded default's acceptance numbers, on the committed demo weights as a
// fresh clone imports them: the default phantom's held-out (test) patients, scored
// with the project's TS pipeline as FetalCLIP's scripts score them.
import {readdirSync, statSync} from "node:fs";
import {join} from "node:path";
import {beforeAll, describe, expect, it} from "vitest";
import {DEMO_BUNDLE_DIR, DEMO_SOURCE_DIR, ensureDemoBundle} from "../loaders/demo/bundle.js";
import {verifyBundle} from "../loaders/verify.js";
import {DEMO_TARGETS, evaluateDemo, type DemoEvaluation} from "../loaders/demo/evaluate.js";
import {generatePhantomDataset, PHANTOM_DIR, readPhantomManifest} from "../loaders/phantomDataset.js";

let result: DemoEvaluation;

beforeAll(async () => {
  // Idempotent: a no-op when `npm run setup` already made both.
  await generatePhantomDataset({});
  await ensureDemoBundle({});
  result = await evaluateDemo({bundleDir: DEMO_BUNDLE_DIR, phantomDir: PHANTOM_DIR, split: "test", threads: 1});
  const r = result;
  process.stderr.write(
    `demo model on ${r.images} held-out phantom images: planes macro F1 ${r.planes.scores.macroF1.toFixed(3)}, ` +
      `sub-planes ${r.subPlanes.scores.macroF1.toFixed(3)}, GA VPR ${r.ga.vpr.rate.toFixed(3)} (${r.ga.vpr.count} heads)\n`
  );
}, 900_000);

describe("embedded demo model on held-out phantom patients", () => {
  it("evaluates only test-split patients, none of which the model trained on", () => {
    const all = readPhantomManifest(PHANTOM_DIR);
    const testPatients = new Set(all.filter((s) => s.split === "test").map((s) => s.patientId));
    const trainPatients = new Set(all.filter((s) => s.split === "train").map((s) => s.patientId));
    expect(testPatients.size).toBeGreaterThan(50);
    expect([...testPatients].some((p) => trainPatients.has(p))).toBe(false);
    expect(result.images).toBe(all.filter((s) => s.split === "test").length);
  });

  it(`classifies the five standard planes zero-shot with macro F1 >= ${DEMO_TARGETS.planesMacroF1}`, () => {
    expect(result.planes.scores.count).toBeGreaterThan(300);
    expect(result.planes.scores.macroF1).toBeGreaterThanOrEqual(DEMO_TARGETS.planesMacroF1);
  });

  it(`tells the three brain sub-planes apart with macro F1 >= ${DEMO_TARGETS.subPlanesMacroF1}`, () => {
    expect(result.subPlanes.scores.count).toBeGreaterThan(100);
    expect(result.subPlanes.scores.macroF1).toBeGreaterThanOrEqual(DEMO_TARGETS.subPlanesMacroF1);
  });

  it(`estimates GA from 875 spacing-dependent prompts with valid-prediction rate >= ${DEMO_TARGETS.gaValidRate}`, () => {
    expect(result.ga.vpr.count).toBeGreaterThan(100);
    expect(result.ga.vpr.rate).toBeGreaterThanOrEqual(DEMO_TARGETS.gaValidRate);
  });

  it("imports the committed weights exactly: the bundle matches the committed PyTorch reference outputs", async () => {
    const parity = await verifyBundle(DEMO_BUNDLE_DIR, join(DEMO_SOURCE_DIR, "reference"), {ep: "cpu"});
    expect(parity.images.length).toBe(4);
    expect(Math.min(...parity.images.map((i) => i.cosine))).toBeGreaterThan(0.99999);
    expect(parity.texts.count).toBeGreaterThanOrEqual(10);
    expect(parity.texts.minCosine).toBeGreaterThan(0.99999);
    expect(parity.pass).toBe(true);
  });

  it("keeps the whole bundle within 20 MB", () => {
    const bytes = readdirSync(DEMO_BUNDLE_DIR, {recursive: true})
      .map((f) => join(DEMO_BUNDLE_DIR, String(f)))
      .filter((p) => statSync(p).isFile())
      .reduce((sum, p) => sum + statSync(p).size, 0);
    expect(bytes).toBeGreaterThan(1e6);
    expect(bytes).toBeLessThanOrEqual(20 * 1024 * 1024);
  });
});
