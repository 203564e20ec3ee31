import {createHash} from "node:crypto";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {decode} from "fast-png";
import {afterAll, describe, expect, it} from "vitest";
import {ensureDemoBundle} from "../loaders/demo/bundle.js";
import {isRegisteredDataset, openDataset} from "../loaders/datasets/registry.js";
import {ensureEmbeddings, readEmbeddings} from "../loaders/embeddings/store.js";
import {generatePhantomDataset, PHANTOM_CHD_DIR, type PhantomManifest} from "../loaders/phantomDataset.js";
import {runProbe} from "../src/lib/probes/probe.js";
import {
  CHD_DIAGNOSES,
  CHD_MASK_LABELS,
  CHD_STRUCTURES,
  generateChdSample,
  generateSample,
  planChdDataset,
  planDataset,
  type ChdDiagnosis
} from "../src/lib/phantom/index.js";

const L = CHD_MASK_LABELS;

function labelCounts(masks: Uint8Array): number[] {
  const counts = new Array<number>(256).fill(0);
  for (const m of masks) counts[m]! += 1;
  return counts;
}

describe("CHD phantom set", () => {
  const planned = planChdDataset({seed: "chd-1", count: 400});

  it("plans the same fetuses, hearts and splits for a seed, and others for another seed", () => {
    expect(planChdDataset({seed: "chd-1", count: 400})).toEqual(planned);
    const other = planChdDataset({seed: "chd-2", count: 400});
    expect(other.map((p) => p.heart.diagnosis)).not.toEqual(planned.map((p) => p.heart.diagnosis));
    expect(planned).toHaveLength(400);
    // Every image of a fetus shares its heart and split; fetuses have 1-2 images.
    const byPatient = new Map<string, typeof planned>();
    for (const p of planned) byPatient.set(p.patient.patientId, [...(byPatient.get(p.patient.patientId) ?? []), p]);
    for (const images of byPatient.values()) {
      expect(images.length).toBeGreaterThanOrEqual(1);
      expect(images.length).toBeLessThanOrEqual(2);
      expect(new Set(images.map((p) => JSON.stringify([p.heart, p.split]))).size).toBe(1);
    }
    // Half the fetuses normal, a quarter each defect; each split holds every diagnosis.
    const fetuses = [...byPatient.values()].map((images) => images[0]!);
    const share = (d: ChdDiagnosis) => fetuses.filter((p) => p.heart.diagnosis === d).length / fetuses.length;
    expect(share("normal")).toBeCloseTo(0.5, 2);
    expect(share("vsd")).toBeCloseTo(0.25, 1);
    for (const split of ["train", "val", "test"] as const) {
      for (const d of CHD_DIAGNOSES) expect(fetuses.some((p) => p.split === split && p.heart.diagnosis === d)).toBe(true);
    }
    const test = fetuses.filter((p) => p.split === "test").length / fetuses.length;
    expect(test).toBeGreaterThan(0.17);
    expect(test).toBeLessThan(0.23);
  });

  it("draws the same bytes for the same seed and spec", () => {
    const spec = planned.find((p) => p.heart.diagnosis === "vsd")!;
    const a = generateChdSample(spec.seed, spec);
    const b = generateChdSample(spec.seed, spec);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Buffer.from(a.masks).equals(Buffer.from(b.masks))).toBe(true);
    expect(a.diagnosis).toBe("vsd");
    const other = generateChdSample(spec.seed + 1, spec);
    expect(Buffer.from(other.pixels).equals(Buffer.from(a.pixels))).toBe(false);
  });

  it("differs from normal in the drawn structure: a gap in the septum (VSD), a small left ventricle (HLHS)", () => {
    const take = (d: ChdDiagnosis) => planned.filter((p) => p.heart.diagnosis === d).slice(0, 8).map((p) => labelCounts(generateChdSample(p.seed, p).masks));
    const normal = take("normal");
    const vsd = take("vsd");
    const hlhs = take("hlhs");
    for (const c of [...normal, ...vsd, ...hlhs]) {
      // Every image shows the four chambers and the septum.
      for (const label of [L.lv, L.rv, L.la, L.ra, L.septum]) expect(c[label]).toBeGreaterThan(40);
    }
    // The defect: septum pixels turned to blood between the ventricles, in VSD hearts only.
    for (const c of [...normal, ...hlhs]) expect(c[L.vsd]).toBe(0);
    for (const c of vsd) expect(c[L.vsd]).toBeGreaterThan(40);
    // Left/right ventricle area: about 1 in normal and VSD hearts, under a quarter in HLHS.
    const ratio = (c: number[]) => c[L.lv]! / c[L.rv]!;
    for (const c of [...normal, ...vsd]) expect(ratio(c)).toBeGreaterThan(0.7);
    for (const c of hlhs) expect(ratio(c)).toBeLessThan(0.25);
    // The whole heart covers all its labelled parts.
    expect(CHD_STRUCTURES.heart).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });

  it("leaves the default phantom's pixels as they were (the demo model's scores depend on them)", () => {
    // Digest of every 100th image of data/phantom (seed 1, 3000 images), pixels, masks and spacing,
    // computed before the CHD set existed.
    const digest = createHash("sha256");
    for (const p of planDataset({seed: 1, count: 3000}).filter((_, i) => i % 100 === 0)) {
      const s = generateSample(p.seed, p);
      digest.update(s.pixels);
      digest.update(s.masks);
      digest.update(String(s.spacingMmPerPx));
    }
    expect(digest.digest("hex")).toBe("57b33030224b1beb683030d3829fdbe5fb621b84b87db7875dfa81e5e6eb9639");
  });
});

describe("CHD phantom dataset writer", () => {
  const root = mkdtempSync(join(tmpdir(), "phantom-chd-test-"));
  const outDir = join(root, "phantom-chd");
  afterAll(() => rmSync(root, {recursive: true, force: true}));

  it("writes images, label masks and a manifest with diagnoses, read by the registry as a phantom", async () => {
    const result = await generatePhantomDataset({set: "chd", outDir, count: 10, workers: 1});
    expect(result.skipped).toBe(false);
    const manifest = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8")) as PhantomManifest;
    expect(manifest.set).toBe("chd");
    expect(manifest.seed).toBe("chd-1");
    expect(manifest.maskLabels).toEqual({...CHD_MASK_LABELS});
    expect(manifest.structures!.lv).toEqual([5]);
    const planned = planChdDataset({seed: "chd-1", count: 10});
    for (const [i, s] of manifest.samples.entries()) {
      expect(s.diagnosis).toBe(planned[i]!.heart.diagnosis);
      expect(s.chd).toBe(s.diagnosis === "normal" ? "normal" : "chd");
      expect(s.plane).toBe("heart");
    }
    const first = planned[0]!;
    const expected = generateChdSample(first.seed, first);
    const mask = decode(readFileSync(join(outDir, manifest.samples[0]!.maskFile)));
    expect(Buffer.from(mask.data as Uint8Array).equals(Buffer.from(expected.masks))).toBe(true);
    const dataset = openDataset(outDir);
    expect(dataset.layout).toBe("phantom");
    expect(dataset.columns).toEqual(["plane", "sub_plane", "patient", "split", "ga_days", "hc_mm", "spacing_mm", "diagnosis", "chd"]);
    expect(dataset.images.map((im) => im.meta.diagnosis)).toEqual(manifest.samples.map((s) => s.diagnosis));
    expect(isRegisteredDataset("phantom-chd")).toBe(true);
    // Idempotent for the same set, seed and count.
    expect((await generatePhantomDataset({set: "chd", outDir, count: 10, workers: 1})).skipped).toBe(true);
  });
});

describe("CHD detection on the CHD set with the demo model", () => {
  it("reports the linear probe's AUROC (chd vs normal) with a patient bootstrap 95% CI, its ROC curve and a few-shot curve", async () => {
    // data/phantom-chd is made by `fetalclip setup` (the tests' global setup); make it here too if it is missing.
    await generatePhantomDataset({set: "chd"});
    const model = await ensureDemoBundle({});
    const job = await ensureEmbeddings({name: "fetalclip-demo", dir: model, variant: "fp32"}, {name: "phantom-chd", dataset: "phantom-chd"}, {log: () => {}});
    const table = readEmbeddings(job.out);
    const a = runProbe(table, {label: "chd", mode: "paper", seed: 0, resamples: 1000});
    const b = runProbe(table, {label: "chd", mode: "paper", seed: 0, resamples: 1000});
    expect(b.auroc).toEqual(a.auroc);
    expect(a.classes).toEqual(["chd", "normal"]);
    const auroc = a.auroc!;
    expect(auroc.positive).toBe("chd");
    // The test split's images: every CHD and normal image of the held-out fetuses.
    const manifest = JSON.parse(readFileSync(join(PHANTOM_CHD_DIR, "manifest.json"), "utf8")) as PhantomManifest;
    const test = manifest.samples.filter((s) => s.split === "test");
    expect(auroc.positives).toBe(test.filter((s) => s.chd === "chd").length);
    expect(auroc.negatives).toBe(test.filter((s) => s.chd === "normal").length);
    expect(a.splits.test).toBe("split column");
    expect(auroc.ci95[0]).toBeLessThanOrEqual(auroc.auroc);
    expect(auroc.ci95[1]).toBeGreaterThanOrEqual(auroc.auroc);
    expect(auroc.roc.fpr[0]).toBe(0);
    expect(auroc.roc.tpr.at(-1)).toBe(1);
    expect(a.curve.length).toBeGreaterThan(3);
    for (const point of a.curve) expect(point.auroc!.mean).toBeGreaterThan(0);
    console.log(`CHD (demo model, paper probe): AUROC ${auroc.auroc.toFixed(3)} [${auroc.ci95.map((v) => v.toFixed(3)).join(", ")}] on ${auroc.positives} CHD / ${auroc.negatives} normal test images; few-shot AUROC ${a.curve.map((p) => `${p.patients}:${p.auroc!.mean.toFixed(3)}`).join(" ")}`);
  }, 120_000);
});
