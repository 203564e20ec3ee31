// npm run bench -- model: the FetalCLIP-shaped ViT-L/14 image encoder on this CPU,
// onnxruntime-node (fp32 and int8 graphs) against PyTorch eager on the same
// random weights, same thread count, measured in one run; and the import of the
// 1.7 GB checkpoint (time, peak RSS).
import {spawn, spawnSync} from "node:child_process";
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {parseArgs} from "node:util";
import * as ort from "onnxruntime-node";
import {IMAGE_EMBEDS, IMAGE_INPUT} from "../src/lib/bundle.js";
import {createRng} from "../src/lib/random.js";
import {cosine} from "../src/lib/vector.js";
import {imageEncoderMacs} from "../loaders/testing/openClipShapes.js";
import {writeRandomCheckpoint} from "../loaders/testing/randomCheckpoint.js";
import {readOpenClipConfig} from "../loaders/openClipConfig.js";

const SHARED = process.env.FETALCLIP_SHARED ?? resolve("..", "shared");
const log = (m: string) => process.stderr.write(`${m}\n`);

/** Runs a command, sampling its peak RSS (VmHWM) from /proc until it exits. */
function runMeasured(cmd: string, args: string[]): Promise<{seconds: number; peakRssBytes: number; code: number}> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, {stdio: ["ignore", "ignore", "inherit"]});
    let peak = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        // the process has exited between samples
      }
    };
    const timer = setInterval(sample, 50);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(timer);
      resolvePromise({seconds: (performance.now() - start) / 1000, peakRssBytes: peak, code: code ?? -1});
    });
  });
}

async function timeOrt(modelPath: string, size: number, batch: number, threads: number, budgetSeconds: number) {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    interOpNumThreads: 1
  });
  const rng = createRng(batch);
  const x = Float32Array.from({length: batch * 3 * size * size}, () => rng.normal());
  const feeds = {[IMAGE_INPUT]: new ort.Tensor("float32", x, [batch, 3, size, size])};
  await session.run(feeds, [IMAGE_EMBEDS]); // warm-up
  let runs = 0;
  const start = performance.now();
  while (runs < 1 || ((performance.now() - start) / 1000 < budgetSeconds && runs < 50)) {
    await session.run(feeds, [IMAGE_EMBEDS]);
    runs++;
  }
  const seconds = (performance.now() - start) / 1000;
  await session.release();
  return {batch, runs, seconds, imagesPerSecond: (batch * runs) / seconds};
}

/** How far int8 embeddings move from fp32 ones (same random inputs, batch 1). */
async function int8Agreement(fp32Path: string, int8Path: string, size: number, threads: number) {
  const open = (path: string) => ort.InferenceSession.create(path, {executionProviders: ["cpu"], intraOpNumThreads: threads});
  const [a, b] = [await open(fp32Path), await open(int8Path)];
  const rng = createRng("agreement");
  let minCosine = 1;
  const count = 4;
  for (let i = 0; i < count; i++) {
    const x = Float32Array.from({length: 3 * size * size}, () => rng.normal());
    const feeds = {[IMAGE_INPUT]: new ort.Tensor("float32", x, [1, 3, size, size])};
    const ea = (await a.run(feeds))[IMAGE_EMBEDS].data as Float32Array;
    const eb = (await b.run(feeds))[IMAGE_EMBEDS].data as Float32Array;
    minCosine = Math.min(minCosine, cosine(ea, eb));
  }
  await a.release();
  await b.release();
  return {count, minCosine};
}

export async function run(argv: string[]): Promise<void> {
  const {values} = parseArgs({
    args: argv,
    options: {
      config: {type: "string", default: join(SHARED, "reference/fetalclip/FetalCLIP_config.json")},
      vocab: {type: "string", default: join(SHARED, "fixtures/bpe_simple_vocab_16e6.txt.gz")},
      out: {type: "string", default: "bench/out/fetalclip-shaped"},
      threads: {type: "string", default: "2"},
      seconds: {type: "string", default: "20"},
      batches: {type: "string", default: "1,8"},
      "skip-torch": {type: "boolean", default: false}
    }
  });
  const threads = Number(values.threads);
  const budget = Number(values.seconds);
  const batches = values.batches!.split(",").map(Number);
  const out = resolve(values.out!);
  mkdirSync(out, {recursive: true});
  const config = readOpenClipConfig(values.config!);
  const size = config.vision_cfg.image_size;
  const macs = imageEncoderMacs(config);

  const weights = join(out, "weights.pt");
  if (!existsSync(weights)) {
    log(`writing a random-weight checkpoint of ${values.config} to ${weights} ...`);
    const t0 = performance.now();
    writeRandomCheckpoint(weights, config);
    log(`  ${(statSync(weights).size / 1e9).toFixed(2)} GB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const imports: Record<string, {seconds: number; peakRssBytes: number}> = {};
  // "fp32": the plain import (the time and memory target); "int8": also writes int8 graphs.
  for (const variant of ["fp32", "int8"] as const) {
    const dir = join(out, variant);
    log(`importing (${variant}) ...`);
    const args = ["--import", "tsx", "loaders/cli.ts", "import", "--weights", weights, "--config", values.config!, "--vocab", values.vocab!, "--out", dir, "--force"];
    if (variant === "int8") args.push("--int8", "--fused");
    const r = await runMeasured(process.execPath, args);
    if (r.code !== 0) throw new Error(`import (${variant}) failed with exit code ${r.code}`);
    imports[variant] = {seconds: r.seconds, peakRssBytes: r.peakRssBytes};
    log(`  ${r.seconds.toFixed(1)} s, peak RSS ${(r.peakRssBytes / 2 ** 30).toFixed(2)} GiB`);
  }

  const graphs = {fp32: join(out, "fp32", "image.onnx"), int8: join(out, "int8", "image.int8.onnx")};
  const ortResults: Record<string, Awaited<ReturnType<typeof timeOrt>>[]> = {fp32: [], int8: []};
  for (const batch of batches) {
    for (const variant of ["fp32", "int8"] as const) {
      log(`onnxruntime-node ${variant}, batch ${batch} ...`);
      ortResults[variant].push(await timeOrt(graphs[variant], size, batch, threads, budget));
    }
  }
  const agreement = await int8Agreement(graphs.fp32, graphs.int8, size, threads);
  let torch: {torch: string; blas: string[]; threads: number; results: {batch: number; imagesPerSecond: number; runs: number; seconds: number}[]} | null = null;
  if (!values["skip-torch"]) {
    log("PyTorch eager peer ...");
    const r = spawnSync("/usr/bin/python3", ["bench/torch_peer.py", "--weights", weights, "--config", values.config!, "--threads", String(threads), "--batches", batches.join(","), "--seconds", String(budget)], {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"]});
    if (r.status !== 0) throw new Error(`bench/torch_peer.py failed (is Debian's python3-torch installed?)`);
    torch = JSON.parse(r.stdout.trim().split("\n").pop()!);
  }

  const gmacs = macs / 1e9;
  const rows: string[] = [];
  rows.push(`FetalCLIP-shaped image encoder: ViT ${config.vision_cfg.layers}x${config.vision_cfg.width}, patch ${config.vision_cfg.patch_size} at ${size} px; ${gmacs.toFixed(1)} GMAC (${(2 * gmacs).toFixed(1)} GFLOP) per image; ${threads} threads`);
  rows.push(`import of the ${(statSync(weights).size / 1e9).toFixed(2)} GB checkpoint: ${imports.fp32.seconds.toFixed(1)} s, peak RSS ${(imports.fp32.peakRssBytes / 2 ** 30).toFixed(2)} GiB (target < 4 GB); with int8 graphs too: ${imports.int8.seconds.toFixed(1)} s, peak RSS ${(imports.int8.peakRssBytes / 2 ** 30).toFixed(2)} GiB`);
  rows.push(`int8 vs fp32 image embeddings on ${agreement.count} random inputs: min cosine ${agreement.minCosine.toFixed(6)}`);
  rows.push("engine                       batch   img/s   GFLOP/s   vs PyTorch");
  const peer = (batch: number) => torch?.results.find((r) => r.batch === batch)?.imagesPerSecond;
  const line = (name: string, batch: number, ips: number) => {
    const p = peer(batch);
    rows.push(`${name.padEnd(28)} ${String(batch).padStart(5)} ${ips.toFixed(3).padStart(7)} ${(ips * 2 * gmacs).toFixed(1).padStart(9)}   ${p ? (ips / p).toFixed(2) + "x" : "-"}`);
  };
  for (const variant of ["fp32", "int8"] as const) for (const r of ortResults[variant]) line(`onnxruntime-node ${variant}`, r.batch, r.imagesPerSecond);
  if (torch) for (const r of torch.results) line(`PyTorch ${torch.torch} eager`, r.batch, r.imagesPerSecond);
  process.stdout.write(rows.join("\n") + "\n");
  writeFileSync(join(out, "..", "model.json"), JSON.stringify({config: values.config, threads, macsPerImage: macs, imports, ort: ortResults, torch, int8Agreement: agreement}, null, 2));
}
