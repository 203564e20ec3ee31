// Parity of a bundle against reference outputs in open_clip's fixture layout:
// expected.json {images: [{image, features}], text_features}, tokens.json {ids},
// images/<name> and images/<name>.input.f32 (the exact tensor open_clip fed).
import {existsSync, readFileSync, writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {cosine, maxAbsDiff} from "../src/lib/vector.js";
import type {ParityReport} from "../src/lib/bundle.js";
import {loadNodeModel, preprocessImageFile} from "./nodeModel.js";
import type {ExecutionProvider} from "./session.js";

export const PARITY_COSINE = 0.99999;

interface ExpectedJson {
  images: {image: string; features: number[]}[];
  text_features: number[][];
}

export function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export async function verifyBundle(
  modelDir: string,
  referenceDir: string,
  options: {ep?: ExecutionProvider | "auto"; log?: (m: string) => void} = {}
): Promise<ParityReport> {
  const expectedPath = join(referenceDir, "expected.json");
  const tokensPath = join(referenceDir, "tokens.json");
  for (const p of [expectedPath, tokensPath]) if (!existsSync(p)) throw new Error(`${p} is missing`);
  const expected = JSON.parse(readFileSync(expectedPath, "utf8")) as ExpectedJson;
  const tokens = JSON.parse(readFileSync(tokensPath, "utf8")) as {ids: number[][]};
  const {model, ep} = await loadNodeModel(modelDir, {ep: options.ep, log: options.log});

  const images: ParityReport["images"] = [];
  for (const entry of expected.images) {
    const tensorPath = join(referenceDir, "images", `${entry.image}.input.f32`);
    // Graph parity on the exact input when it is there, else end to end from the image file.
    const pixels = existsSync(tensorPath) ? readF32(tensorPath) : preprocessImageFile(join(referenceDir, "images", entry.image), model);
    const [embedding] = (await model.encodeImages([pixels])).embeddings;
    const ref = Float32Array.from(entry.features);
    images.push({name: entry.image, cosine: cosine(embedding, ref), maxAbsDiff: maxAbsDiff(embedding, ref)});
  }
  const textEmbeds = await model.encodeTokens(tokens.ids);
  let minCosine = 1;
  let maxDiff = 0;
  textEmbeds.forEach((e, i) => {
    const ref = Float32Array.from(expected.text_features[i]);
    minCosine = Math.min(minCosine, cosine(e, ref));
    maxDiff = Math.max(maxDiff, maxAbsDiff(e, ref));
  });
  const report: ParityReport = {
    reference: resolve(referenceDir),
    checkedAt: new Date().toISOString(),
    ep: ep.image,
    images,
    texts: {count: textEmbeds.length, minCosine, maxAbsDiff: maxDiff},
    thresholds: {cosine: PARITY_COSINE},
    pass: images.every((i) => i.cosine >= PARITY_COSINE) && minCosine >= PARITY_COSINE
  };
  writeFileSync(join(modelDir, "parity.json"), JSON.stringify(report, null, 2) + "\n");
  return report;
}
