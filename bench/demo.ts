// npm run bench -- demo: the embedded demo model's image encoder latency at
// batch 1 in onnxruntime-node (CPU), against PyTorch eager on the same weights
// in the same run, and the bundle's size (target <= 20 MB).
import {spawnSync} from "node:child_process";
import {join, resolve} from "node:path";
import {parseArgs} from "node:util";
import * as ort from "onnxruntime-node";
import {IMAGE_EMBEDS, IMAGE_INPUT} from "../src/lib/bundle.js";
import {createRng} from "../src/lib/random.js";
import {describeBundle} from "../loaders/bundles.js";
import {DEMO_BUNDLE_DIR, DEMO_SOURCE_DIR, ensureDemoBundle} from "../loaders/demo/bundle.js";

export async function run(argv: string[]): Promise<void> {
  const {values} = parseArgs({
    args: argv,
    options: {threads: {type: "string", default: "2"}, seconds: {type: "string", default: "10"}, "skip-torch": {type: "boolean", default: false}}
  });
  const threads = Number(values.threads);
  const budget = Number(values.seconds);
  await ensureDemoBundle({log: (m) => process.stderr.write(`${m}\n`)});
  const bundle = describeBundle(DEMO_BUNDLE_DIR);
  const size = bundle.manifest.image.size;
  const rows: string[] = [`demo bundle ${bundle.manifest.id}: ${(bundle.totalBytes / 1e6).toFixed(2)} MB in ${bundle.files.length} files (target <= 20 MB)`];
  for (const f of bundle.files) rows.push(`  ${f.name.padEnd(20)} ${(f.bytes / 1e6).toFixed(2)} MB`);

  const session = await ort.InferenceSession.create(join(DEMO_BUNDLE_DIR, bundle.manifest.files.image), {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    interOpNumThreads: 1
  });
  const rng = createRng("bench-demo");
  const x = Float32Array.from({length: 3 * size * size}, () => rng.normal());
  const feeds = {[IMAGE_INPUT]: new ort.Tensor("float32", x, [1, 3, size, size])};
  for (let i = 0; i < 3; i++) await session.run(feeds, [IMAGE_EMBEDS]);
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < budget * 1000 && times.length < 2000) {
    const t0 = performance.now();
    await session.run(feeds, [IMAGE_EMBEDS]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  rows.push(`onnxruntime-node cpu, batch 1, ${threads} threads: median ${median.toFixed(2)} ms, p90 ${times[Math.floor(times.length * 0.9)].toFixed(2)} ms over ${times.length} runs`);

  if (!values["skip-torch"]) {
    const r = spawnSync(
      "/usr/bin/python3",
      ["bench/torch_peer.py", "--weights", join(DEMO_SOURCE_DIR, "weights.pt"), "--config", join(DEMO_SOURCE_DIR, "config.json"), "--threads", String(threads), "--batches", "1", "--seconds", String(budget)],
      {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"]}
    );
    if (r.status !== 0) throw new Error("bench/torch_peer.py failed (is Debian's python3-torch installed?)");
    const peer = JSON.parse(r.stdout.trim().split("\n").pop()!) as {torch: string; results: {imagesPerSecond: number}[]};
    const peerMs = 1000 / peer.results[0].imagesPerSecond;
    rows.push(`PyTorch ${peer.torch} eager, batch 1: mean ${peerMs.toFixed(2)} ms; onnxruntime-node is ${(peerMs / median).toFixed(2)}x faster`);
  }
  process.stdout.write(rows.join("\n") + "\n");
}

export const demoPaths = {bundle: resolve(DEMO_BUNDLE_DIR)};
