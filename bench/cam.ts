// npm run bench -- cam: what a map costs on this CPU. ScoreCAM seconds per image
// (1 forward for the activations + one per channel: 128 for the demo model, 1,024
// for FetalCLIP's ViT-L/14), with grad-cam's batches of 16 masked inputs against one
// forward at a time; and the one-pass similarity map per image. The demo model runs
// whole images; the FetalCLIP-shaped ViT-L/14 (random weights, fp32 and int8 graphs,
// the bundle `bench model` makes) scores a subset of channels and the per-image time
// is extrapolated: first forward + (channels / scored) x time of the scored ones.
import {mkdirSync, readFileSync, writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {parseArgs} from "node:util";
import type {ModelVariant} from "../src/lib/bundle.js";
import {maskedChannelScores, scoreCamFromScores, targetActivations, type CamImageEncoder} from "../src/lib/cam/scoreCam.js";
import {similarityMap} from "../src/lib/cam/similarityMap.js";
import {gridToImageMap} from "../src/lib/cam/upsample.js";
import {preprocessImage} from "../src/lib/preprocess.js";
import {FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../src/lib/prompts.js";
import {promptClassEmbeddings} from "../src/lib/tasks/zeroShot.js";
import {openDataset} from "../loaders/datasets/registry.js";
import {DEMO_BUNDLE_DIR, ensureDemoBundle} from "../loaders/demo/bundle.js";
import {loadNodeModel} from "../loaders/nodeModel.js";

const SHARED = process.env.FETALCLIP_SHARED ?? resolve("..", "shared");
const log = (m: string) => process.stderr.write(`${m}\n`);

interface ScoreCamRow {
  model: string;
  variant: ModelVariant;
  batch: number;
  images: number;
  channels: number;
  /** Channels actually scored per image (all, or a subset for ViT-L). */
  scoredChannels: number;
  firstForwardSeconds: number;
  channelSeconds: number;
  /** Seconds per image for every channel: measured when scoredChannels = channels, else extrapolated. */
  secondsPerImage: number;
  /** The same from this process's CPU time (all its threads) divided by the thread count: the wall time on an idle machine. */
  cpuSecondsPerImage: number;
  extrapolated: boolean;
}

interface OnePassRow {
  model: string;
  variant: ModelVariant;
  batch: number;
  images: number;
  /** Encoder forward with patch tokens + 9 class maps + upsampling, per image. */
  secondsPerImage: number;
  cpuSecondsPerImage: number;
}

/** CPU seconds of this process (user + system, every thread). */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function benchModel(label: string, dir: string, variant: ModelVariant, pixels: Float32Array[], threads: number, scorecam: {batch: number; channels?: number}[], onePassBatches: number[]) {
  const loadStart = performance.now();
  const {model} = await loadNodeModel(dir, {ep: "cpu", threads, variant, log: () => {}});
  log(`${label} ${variant}: sessions opened in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
  const classEmbeds = await promptClassEmbeddings(model, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
  const encode: CamImageEncoder = (p, o) => model.encodeImages(p, o);
  const size = model.imageSize;
  await encode([pixels[0]!], {ln1Last: true, patchEmbeddings: true}); // warm-up
  const scoreRows: ScoreCamRow[] = [];
  for (const {batch, channels: limit} of scorecam) {
    let first = 0;
    let channelTime = 0;
    let firstCpu = 0;
    let channelCpu = 0;
    let channels = 0;
    let scored = 0;
    for (const px of pixels) {
      const t0 = performance.now();
      const c0 = cpuSeconds();
      const activations = targetActivations((await encode([px], {ln1Last: true})).ln1Last![0]!);
      const t1 = performance.now();
      const c1 = cpuSeconds();
      channels = activations.channels;
      const scores = await maskedChannelScores(encode, px, activations, {classEmbeds, imageSize: size, batchSize: batch, channelLimit: limit});
      for (let c = 0; c < classEmbeds.length; c++) gridToImageMap(scoreCamFromScores(activations, scores, classEmbeds.length, c).grid, activations.gridSize, size);
      const t2 = performance.now();
      first += (t1 - t0) / 1000;
      channelTime += (t2 - t1) / 1000;
      firstCpu += c1 - c0;
      channelCpu += cpuSeconds() - c1;
      scored = Math.min(channels, limit ?? channels);
    }
    const n = pixels.length;
    const row: ScoreCamRow = {
      model: label, variant, batch, images: n, channels, scoredChannels: scored,
      firstForwardSeconds: first / n, channelSeconds: channelTime / n,
      secondsPerImage: first / n + (channelTime / n) * (channels / scored),
      cpuSecondsPerImage: (firstCpu / n + (channelCpu / n) * (channels / scored)) / threads,
      extrapolated: scored < channels
    };
    log(`${label} ${variant} scorecam batch ${batch}: ${row.secondsPerImage.toFixed(2)} s/image wall, ${row.cpuSecondsPerImage.toFixed(2)} s CPU / ${threads} threads${row.extrapolated ? ` (extrapolated from ${scored} of ${channels} channels)` : ""}`);
    scoreRows.push(row);
  }
  const onePassRows: OnePassRow[] = [];
  for (const batch of onePassBatches) {
    const t0 = performance.now();
    const c0 = cpuSeconds();
    for (let i = 0; i < pixels.length; i += batch) {
      const chunk = pixels.slice(i, i + batch);
      const {patchEmbeddings} = await encode(chunk, {patchEmbeddings: true});
      for (const patches of patchEmbeddings!) {
        for (let c = 0; c < classEmbeds.length; c++) {
          const m = similarityMap(patches, classEmbeds, c);
          gridToImageMap(m.grid, m.gridSize, size);
        }
      }
    }
    const row = {model: label, variant, batch, images: pixels.length, secondsPerImage: (performance.now() - t0) / 1000 / pixels.length, cpuSecondsPerImage: (cpuSeconds() - c0) / threads / pixels.length};
    log(`${label} ${variant} one-pass batch ${batch}: ${(row.secondsPerImage * 1000).toFixed(1)} ms/image wall, ${(row.cpuSecondsPerImage * 1000).toFixed(1)} ms CPU / ${threads} threads`);
    onePassRows.push(row);
  }
  await model.imageSession.release();
  await model.textSession.release();
  return {scoreRows, onePassRows};
}

function phantomPixels(n: number, spec: {size: number; mean: [number, number, number]; std: [number, number, number]}): Float32Array[] {
  const dataset = openDataset("phantom");
  const images = dataset.images.filter((image) => image.meta.split === "test").slice(0, n);
  return images.map((image) => preprocessImage(new Uint8Array(readFileSync(image.path)), spec));
}

export async function run(argv: string[]): Promise<void> {
  const {values} = parseArgs({
    args: argv,
    strict: false,
    options: {
      threads: {type: "string", default: "2"},
      "demo-images": {type: "string", default: "8"},
      "large-images": {type: "string", default: "1"},
      "large-channels": {type: "string", default: "32"},
      "large-channels-single": {type: "string", default: "8"},
      "shaped-out": {type: "string", default: "bench/out/fetalclip-shaped"},
      config: {type: "string", default: join(SHARED, "reference/fetalclip/FetalCLIP_config.json")},
      vocab: {type: "string", default: join(SHARED, "fixtures/bpe_simple_vocab_16e6.txt.gz")},
      "skip-large": {type: "boolean", default: false}
    }
  });
  const threads = Number(values.threads);
  mkdirSync("bench/out", {recursive: true});
  await ensureDemoBundle({log});
  const demoManifest = JSON.parse(readFileSync(join(DEMO_BUNDLE_DIR, "model.json"), "utf8")) as {image: {size: number; mean: [number, number, number]; std: [number, number, number]}};
  const demo = await benchModel("fetalclip-demo", DEMO_BUNDLE_DIR, "fp32", phantomPixels(Number(values["demo-images"]), demoManifest.image), threads, [{batch: 16}, {batch: 1}], [1, 8]);
  const scoreRows = [...demo.scoreRows];
  const onePassRows = [...demo.onePassRows];
  if (!values["skip-large"]) {
    const {ensureFetalClipShapedBundle} = await import("./embeddings.js");
    const shaped = ensureFetalClipShapedBundle(resolve(String(values["shaped-out"])), String(values.config), String(values.vocab));
    const manifest = JSON.parse(readFileSync(join(shaped, "model.json"), "utf8")) as {image: {size: number; mean: [number, number, number]; std: [number, number, number]}};
    const pixels = phantomPixels(Number(values["large-images"]), manifest.image);
    const channels = Number(values["large-channels"]);
    const single = Number(values["large-channels-single"]);
    for (const variant of ["fp32", "int8"] as const) {
      const r = await benchModel("FetalCLIP-shaped ViT-L/14", shaped, variant, pixels, threads, [{batch: 16, channels}, {batch: 1, channels: single}], [1]);
      scoreRows.push(...r.scoreRows);
      onePassRows.push(...r.onePassRows);
    }
  }
  const lines = [
    `ScoreCAM on this CPU, onnxruntime-node cpu, ${threads} threads (phantom test images; 9 prompt classes, all maps made from the same forwards)`,
    "model                       variant  batch  images  channels (scored)  first forward s  channel forwards s  s/image wall  s/image CPU/threads",
    ...scoreRows.map((r) =>
      `${r.model.padEnd(27)} ${r.variant.padEnd(8)} ${String(r.batch).padStart(5)} ${String(r.images).padStart(7)}  ${String(r.channels).padStart(8)} (${String(r.scoredChannels).padStart(4)})  ${r.firstForwardSeconds.toFixed(3).padStart(15)}  ${r.channelSeconds.toFixed(3).padStart(18)}  ${r.secondsPerImage.toFixed(2).padStart(12)}  ${r.cpuSecondsPerImage.toFixed(2).padStart(19)}${r.extrapolated ? "  (extrapolated)" : ""}`
    ),
    "",
    "One-pass similarity map (forward with patch tokens + 9 class maps at input size)",
    "model                       variant  batch  images  ms/image wall  ms/image CPU/threads",
    ...onePassRows.map((r) => `${r.model.padEnd(27)} ${r.variant.padEnd(8)} ${String(r.batch).padStart(5)} ${String(r.images).padStart(7)}  ${(r.secondsPerImage * 1000).toFixed(1).padStart(13)}  ${(r.cpuSecondsPerImage * 1000).toFixed(1).padStart(20)}`)
  ];
  process.stdout.write(lines.join("\n") + "\n");
  const {loadavg} = await import("node:os");
  process.stdout.write(`load average at the end: ${loadavg().map((v) => v.toFixed(1)).join(", ")} (CPU time / threads approximates an idle machine's wall time)\n`);
  writeFileSync("bench/out/cam.json", JSON.stringify({threads, loadAverage: loadavg(), scoreCam: scoreRows, onePass: onePassRows}, null, 2));
}
