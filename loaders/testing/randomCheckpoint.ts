// Random-weight checkpoints of any open_clip config, e.g. the real FetalCLIP
// shape (ViT-L/14 + 12-layer text, 427M parameters) for benchmarks and tests,
// written without Python and one tensor at a time.
import type {OpenClipConfig} from "../../src/lib/bundle.js";
import {createRng} from "../../src/lib/random.js";
import {writeTorchZip} from "./torchZipWriter.js";
import {openClipStateDictShapes} from "./openClipShapes.js";

/** Seeded weights of every tensor open_clip holds for this config, one at a time. */
export function* randomOpenClipTensors(config: OpenClipConfig, seed: number | string) {
  const rng = createRng(seed);
  // Uniform with the std of CLIP's N(0, 0.02) init: the same statistics, much faster to draw.
  const a = 0.02 * Math.sqrt(3);
  for (const t of openClipStateDictShapes(config)) {
    const n = t.shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    if (t.init === "ones") data.fill(1);
    else if (t.init === "logit_scale") data[0] = Math.log(1 / 0.07);
    else if (t.init === "normal") for (let i = 0; i < n; i++) data[i] = (2 * rng.next() - 1) * a;
    yield {name: t.name, shape: t.shape, dtype: "float32" as const, data};
  }
}

export function writeRandomCheckpoint(path: string, config: OpenClipConfig, seed: number | string = 2025): {bytes: number; tensors: number} {
  return writeTorchZip(path, randomOpenClipTensors(config, seed));
}
