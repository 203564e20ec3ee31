import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {decode} from "fast-png";
import {afterAll, describe, expect, it} from "vitest";
import {generatePhantomDataset, PHANTOM_MANIFEST_FORMAT, type PhantomManifest} from "../loaders/phantomDataset.js";
import {generateSample, PHANTOM_GENERATOR_VERSION, planDataset} from "../src/lib/phantom/index.js";

describe("phantom dataset writer", () => {
  const root = mkdtempSync(join(tmpdir(), "phantom-test-"));
  const outDir = join(root, "phantom");
  afterAll(() => rmSync(root, {recursive: true, force: true}));

  it("writes images, label masks and a manifest that match generateSample byte for byte", async () => {
    const progress: number[] = [];
    const result = await generatePhantomDataset({outDir, seed: 3, count: 12, workers: 1, onProgress: (done) => progress.push(done)});
    expect(result.skipped).toBe(false);
    expect(progress.at(-1)).toBe(12);
    const manifest = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8")) as PhantomManifest;
    expect(manifest.format).toBe(PHANTOM_MANIFEST_FORMAT);
    expect(manifest.generatorVersion).toBe(PHANTOM_GENERATOR_VERSION);
    expect([manifest.seed, manifest.count, manifest.width, manifest.height]).toEqual([3, 12, 224, 224]);
    expect(manifest.samples).toHaveLength(12);
    expect(readdirSync(join(outDir, "images"))).toHaveLength(12);
    const planned = planDataset({seed: 3, count: 12});
    const first = manifest.samples[0]!;
    const spec = planned.find((p) => p.id === first.id)!;
    const expected = generateSample(spec.seed, spec);
    const png = decode(readFileSync(join(outDir, first.file)));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([224, 224, 1, 8]);
    expect(Buffer.from(png.data as Uint8Array).equals(Buffer.from(expected.pixels))).toBe(true);
    const mask = decode(readFileSync(join(outDir, first.maskFile)));
    expect(Buffer.from(mask.data as Uint8Array).equals(Buffer.from(expected.masks))).toBe(true);
    expect(first.spacingMmPerPx).toBe(expected.spacingMmPerPx);
    expect(first.subPlane === null || first.plane === "brain").toBe(true);
    expect(first.hcMm).toBe(spec.patient.hcMm);
  });

  it("skips an identical dataset and rebuilds atomically when the count changes", async () => {
    const again = await generatePhantomDataset({outDir, seed: 3, count: 12, workers: 1});
    expect(again.skipped).toBe(true);
    const changed = await generatePhantomDataset({outDir, seed: 3, count: 5, workers: 1});
    expect(changed.skipped).toBe(false);
    expect(readdirSync(join(outDir, "images"))).toHaveLength(5);
    // Nothing temporary left beside the dataset.
    expect(readdirSync(root)).toEqual(["phantom"]);
    expect(existsSync(join(outDir, "manifest.json"))).toBe(true);
  });
});
