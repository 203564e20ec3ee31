// The text graph takes [batch, sequence <= context_length]: ClipModel drops the
// padding columns after a batch's last token, which must leave every embedding as
// it is at full length (causal mask, EOT pooling), in the plain and fused graphs.
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {usedColumns} from "../src/lib/clipModel.js";
import {GA_PROMPT_TEMPLATES, gaPrompt} from "../src/lib/gestationalAge.js";
import {maxAbsDiff, cosine} from "../src/lib/vector.js";
import {importModel} from "../loaders/importer.js";
import type {ModelVariant} from "../src/lib/bundle.js";
import {loadNodeModel} from "../loaders/nodeModel.js";
import {DEMO_SOURCE_DIR} from "../loaders/demo/bundle.js";

const tmp = mkdtempSync(join(tmpdir(), "text-length-"));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

const TEXTS = [
  "fetal femur",
  "Ultrasound image focusing on the fetal brain, highlighting key anatomical features.",
  gaPrompt(GA_PROMPT_TEMPLATES[2]!, 31, 4, 0.62),
  ""
];

async function bundle(name: string, fused: boolean): Promise<string> {
  const src = (f: string) => join(DEMO_SOURCE_DIR, f);
  const outDir = join(tmp, name);
  await importModel({weights: src("weights.pt"), config: src("config.json"), vocab: src("merges.txt"), outDir, id: name, fused, int8: true});
  return outDir;
}

describe("usedColumns", () => {
  it("counts up to the last non-padding id of any row, at least one", () => {
    expect(usedColumns([[5, 7, 9, 0, 0], [5, 9, 0, 0, 0]])).toBe(3);
    expect(usedColumns([[0, 0, 0]])).toBe(1);
    expect(usedColumns([[1, 2, 3]])).toBe(3);
  });
});

describe("variable-length text graph on the demo model", () => {
  let plain: string;
  let fused: string;
  beforeAll(async () => {
    plain = await bundle("plain", false);
    fused = await bundle("fused", true);
  }, 120_000);

  for (const [label, dir, variant, tolerance] of [
    ["float32", () => plain, "fp32", 1e-5],
    ["float32, fused ops", () => fused, "fp32", 1e-5],
    ["int8 (activation scales see fewer padding tokens)", () => plain, "int8", null]
  ] as const) {
    it(`${label}: cropped batches give the full-length embeddings`, async () => {
      const {model} = await loadNodeModel(dir(), {ep: "cpu", variant: variant as ModelVariant});
      expect(model.manifest.text.variableLength).toBe(true);
      const ids = model.tokenize([...TEXTS]);
      expect(usedColumns(ids)).toBeLessThan(model.manifest.text.contextLength / 2);
      const cropped = await model.encodeTokens(ids);
      (model.manifest.text as {variableLength?: boolean}).variableLength = false;
      const full = await model.encodeTokens(ids);
      cropped.forEach((row, i) => {
        if (tolerance !== null) expect(maxAbsDiff(row, full[i]!)).toBeLessThan(tolerance);
        else expect(cosine(row, full[i]!)).toBeGreaterThan(0.999);
      });
      // One text alone is cut to its own length and still matches its row of the batch.
      (model.manifest.text as {variableLength?: boolean}).variableLength = true;
      const [alone] = await model.encodeTokens([ids[0]!]);
      if (tolerance !== null) expect(maxAbsDiff(alone!, full[0]!)).toBeLessThan(tolerance);
    });
  }
});
