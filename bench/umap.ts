// npm run bench -- umap: our UMAP (PCA-50, exact kNN, umap-js's algorithm in typed
// arrays) against plain umap-js 1.4.0 in the same run, same nNeighbors 15, minDist
// 0.1 and epochs, each in its own process: time, peak memory, and the layouts'
// trustworthiness and k-NN overlap against the original vectors (cosine, k 15), so
// that speed is not bought with a worse layout. Cases: 10,000 x 768 synthetic
// low-rank anisotropic clusters (FetalCLIP's embedding size; isotropic blobs cannot
// rank layouts) and, when present, the phantom's embeddings under the demo model.
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {parseArgs} from "node:util";
import {decodeEmbeddingTable} from "../src/lib/embeddingTable.js";
import {euclideanNeighbours} from "../src/lib/projection/neighbours.js";
import {syntheticEmbeddings} from "../src/lib/projection/syntheticEmbeddings.js";
import {layoutQuality} from "../src/lib/projection/trustworthiness.js";
import {defaultEpochs} from "../src/lib/projection/umap.js";

const PHANTOM_EMBEDDINGS = resolve("data/cache/embedding-tables/phantom/fetalclip-demo/embeddings.arrow");

interface Case {
  name: string;
  n: number;
  dim: number;
  vectors: Float32Array;
  labels: Int32Array;
}

interface Run {
  impl: string;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  layout: Float32Array;
}

function runWorker(impl: string, input: string, c: Case, epochs: number, seed: number, dir: string): Run {
  const out = join(dir, `${impl}-${Date.now()}.f32`);
  const r = spawnSync(process.execPath, ["--import", "tsx", resolve("bench/umapWorker.ts"), impl, input, String(c.n), String(c.dim), String(epochs), String(seed), out], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  });
  if (r.status !== 0) throw new Error(`bench/umapWorker.ts ${impl} failed (exit ${r.status})`);
  const result = JSON.parse(r.stdout.trim().split("\n").pop()!) as {impl: string; seconds: number; cpuSeconds: number; peakRssMb: number};
  const bytes = readFileSync(out);
  return {...result, layout: new Float32Array(bytes.buffer, bytes.byteOffset, c.n * 2)};
}

/** Share of each point's k layout neighbours with its own label. */
function purity(layout: Float32Array, labels: Int32Array, k: number): number {
  const n = labels.length;
  const {index} = euclideanNeighbours(layout, n, 2, k);
  let same = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) if (labels[index[i * k + j]!] === labels[i]) same++;
  return same / (n * k);
}

function phantomCase(): Case | null {
  if (!existsSync(PHANTOM_EMBEDDINGS)) return null;
  const table = decodeEmbeddingTable(readFileSync(PHANTOM_EMBEDDINGS));
  const planes = table.columns.find((c) => c.name === "plane")?.values ?? table.ids.map(() => "?");
  const names = [...new Set(planes.map(String))].sort();
  return {
    name: `phantom embeddings (demo model), ${table.ids.length} x ${table.embedDim}`,
    n: table.ids.length,
    dim: table.embedDim,
    vectors: table.embeddings,
    labels: Int32Array.from(planes, (p) => names.indexOf(String(p)))
  };
}

export async function run(argv: string[]): Promise<void> {
  const {values} = parseArgs({
    args: argv,
    options: {
      n: {type: "string", default: "10000"},
      dim: {type: "string", default: "768"},
      clusters: {type: "string", default: "12"},
      seed: {type: "string", default: "1"},
      queries: {type: "string", default: "2000"},
      "skip-phantom": {type: "boolean", default: false},
      "skip-synthetic": {type: "boolean", default: false}
    }
  });
  const seed = Number(values.seed);
  const cases: Case[] = [];
  if (!values["skip-synthetic"]) {
    const n = Number(values.n), dim = Number(values.dim), clusters = Number(values.clusters);
    const {vectors, labels} = syntheticEmbeddings({n, dim, clusters, seed});
    cases.push({name: `synthetic low-rank clusters, ${n} x ${dim}, ${clusters} clusters`, n, dim, vectors, labels});
  }
  const phantom = values["skip-phantom"] ? null : phantomCase();
  if (phantom) cases.push(phantom);
  else if (!values["skip-phantom"]) process.stderr.write(`bench umap: no ${PHANTOM_EMBEDDINGS} (run fetalclip embed-dataset on the phantom); synthetic case only\n`);

  const dir = mkdtempSync(join(tmpdir(), "bench-umap-"));
  const lines: string[] = [];
  try {
    for (const c of cases) {
      const epochs = defaultEpochs(c.n);
      const input = join(dir, "input.f32");
      writeFileSync(input, c.vectors);
      process.stderr.write(`bench umap: ${c.name}, ${epochs} epochs: ours, plain umap-js, ours again\n`);
      const first = runWorker("ours", input, c, epochs, seed, dir);
      const peer = runWorker("umap-js", input, c, epochs, seed, dir);
      const second = runWorker("ours", input, c, epochs, seed, dir);
      const identical = Buffer.from(first.layout.buffer, first.layout.byteOffset, first.layout.byteLength).equals(Buffer.from(second.layout.buffer, second.layout.byteOffset, second.layout.byteLength));
      const oursSeconds = (first.seconds + second.seconds) / 2;
      const oursCpu = (first.cpuSeconds + second.cpuSeconds) / 2;
      const queries = Math.min(Number(values.queries), c.n);
      process.stderr.write(`bench umap: scoring both layouts on ${queries} query rows\n`);
      const quality = (layout: Float32Array) => layoutQuality(c.vectors, c.n, c.dim, layout, 2, 15, {metric: "cosine", queries, seed: "bench"});
      const oursQ = quality(first.layout), peerQ = quality(peer.layout);
      const fmt = (x: number) => x.toFixed(4);
      lines.push(
        `${c.name}; nNeighbors 15, minDist 0.1, ${epochs} epochs, seed ${seed}`,
        `  ours (PCA-50, exact kNN, typed arrays): ${first.seconds.toFixed(1)} s and ${second.seconds.toFixed(1)} s wall, ${first.cpuSeconds.toFixed(1)} s and ${second.cpuSeconds.toFixed(1)} s CPU (${identical ? "identical layouts" : "LAYOUTS DIFFER"}), peak RSS ${Math.max(first.peakRssMb, second.peakRssMb).toFixed(0)} MB`,
        `  plain umap-js 1.4.0:                    ${peer.seconds.toFixed(1)} s wall, ${peer.cpuSeconds.toFixed(1)} s CPU, peak RSS ${peer.peakRssMb.toFixed(0)} MB`,
        `  speed-up: ${(peer.seconds / oursSeconds).toFixed(2)}x wall, ${(peer.cpuSeconds / oursCpu).toFixed(2)}x CPU (target >= 3x; CPU time is less sensitive to other jobs on the machine)`,
        `  trustworthiness (cosine, k 15, ${queries} queries): ours ${fmt(oursQ.trustworthiness)}, umap-js ${fmt(peerQ.trustworthiness)}, difference ${(oursQ.trustworthiness - peerQ.trustworthiness).toFixed(4)} (target within 0.01)`,
        `  k-NN overlap with the original space (k 15): ours ${fmt(oursQ.knnOverlap)}, umap-js ${fmt(peerQ.knnOverlap)}`,
        `  label purity of 15 layout neighbours: ours ${fmt(purity(first.layout, c.labels, 15))}, umap-js ${fmt(purity(peer.layout, c.labels, 15))}`
      );
      process.stdout.write(lines.slice(-7).join("\n") + "\n");
    }
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}
