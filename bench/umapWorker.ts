// One UMAP run in its own process, so that its time (wall and CPU) and peak memory are its own:
// node --import tsx bench/umapWorker.ts IMPL INPUT.f32 N DIM EPOCHS SEED OUT.f32
// IMPL: "ours" (src/lib/projection/umap.ts) or "umap-js" (plain umap-js 1.4.0 on the
// unit-length rows, its default euclidean distance: the same neighbour order as cosine).
import {readFileSync, writeFileSync} from "node:fs";
import {UMAP} from "umap-js";
import {createRng} from "../src/lib/random.js";
import {unitRows} from "../src/lib/projection/rows.js";
import {umapLayout} from "../src/lib/projection/umap.js";

const [impl, input, nText, dimText, epochsText, seedText, out] = process.argv.slice(2);
const n = Number(nText), dim = Number(dimText), nEpochs = Number(epochsText), seed = Number(seedText);
const buffer = readFileSync(input!);
const vectors = new Float32Array(buffer.buffer, buffer.byteOffset, n * dim);
let layout: Float32Array;
let start: number, cpu: NodeJS.CpuUsage;
if (impl === "ours") {
  [start, cpu] = [performance.now(), process.cpuUsage()];
  layout = await umapLayout(vectors, n, dim, {seed, nNeighbors: 15, minDist: 0.1, nEpochs, pcaDims: 50});
} else if (impl === "umap-js") {
  // umap-js takes arrays of arrays; building them is left out of its time (in its favour).
  const unit = unitRows(vectors, n, dim);
  const rows = Array.from({length: n}, (_, i) => Array.from(unit.subarray(i * dim, i * dim + dim)));
  [start, cpu] = [performance.now(), process.cpuUsage()];
  const umap = new UMAP({nNeighbors: 15, minDist: 0.1, nEpochs, random: createRng(seed).next});
  layout = Float32Array.from(umap.fit(rows).flat());
} else {
  throw new Error(`unknown implementation ${impl}`);
}
const seconds = (performance.now() - start) / 1000;
const used = process.cpuUsage(cpu);
writeFileSync(out!, layout);
process.stdout.write(JSON.stringify({impl, seconds, cpuSeconds: (used.user + used.system) / 1e6, peakRssMb: process.resourceUsage().maxRSS / 1024}) + "\n");
