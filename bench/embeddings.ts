// npm run bench -- embeddings: images/s of the embedding job (`embed-dataset`, in
// process) on the phantom, with a cold cache (every image embedded) and then a warm
// one (nothing new: no model loaded), for the demo model and for the FetalCLIP-shaped
// ViT-L/14 (random weights, fp32 and int8 graphs) on a few images.
import {spawnSync} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {parseArgs} from "node:util";
import type {ModelVariant} from "../src/lib/bundle.js";
import {openDataset} from "../loaders/datasets/registry.js";
import {DEMO_BUNDLE_DIR, ensureDemoBundle} from "../loaders/demo/bundle.js";
import {embedDataset, type EmbedDatasetResult} from "../loaders/embeddings/embedDataset.js";
import {readOpenClipConfig} from "../loaders/openClipConfig.js";
import {writeRandomCheckpoint} from "../loaders/testing/randomCheckpoint.js";

const SHARED = process.env.FETALCLIP_SHARED ?? resolve("..", "shared");
const log = (m: string) => process.stderr.write(`${m}\n`);

export interface EmbeddingsBenchRow {
  model: string;
  variant: ModelVariant;
  images: number;
  batch: number;
  /** The whole job, and its decode + inference + cache part alone (without hashing and opening the sessions). */
  cold: {seconds: number; imagesPerSecond: number; embedded: number; loadSeconds: number; embedImagesPerSecond: number};
  warm: {seconds: number; imagesPerSecond: number; embedded: number; modelLoaded: boolean};
}

/** The FetalCLIP-shaped bundle with fp32 and int8 graphs that `bench model` makes; made here when missing. */
export function ensureFetalClipShapedBundle(out: string, config: string, vocab: string): string {
  const dir = join(out, "int8");
  if (existsSync(join(dir, "model.json"))) return dir;
  mkdirSync(out, {recursive: true});
  const weights = join(out, "weights.pt");
  if (!existsSync(weights)) {
    log(`writing a random-weight checkpoint of ${config} to ${weights} ...`);
    writeRandomCheckpoint(weights, readOpenClipConfig(config));
  }
  log("importing it with int8 graphs ...");
  const r = spawnSync(process.execPath, ["--import", "tsx", "loaders/cli.ts", "import", "--weights", weights, "--config", config, "--vocab", vocab, "--out", dir, "--int8", "--fused", "--force"], {stdio: ["ignore", "ignore", "inherit"]});
  if (r.status !== 0) throw new Error(`import of the FetalCLIP-shaped checkpoint failed (exit ${r.status})`);
  return dir;
}

async function coldAndWarm(label: string, model: string, variant: ModelVariant, images: number, batch: number, threads: number): Promise<EmbeddingsBenchRow> {
  const dataset = openDataset("phantom", {limit: images});
  const work = mkdtempSync(join(resolve("bench/out"), "embeddings-"));
  const quiet = (m: string) => {
    if (/images embedded|onnxruntime-node:/.test(m)) log(`  ${m}`);
  };
  try {
    const run = () => embedDataset({model, dataset, variant, batch, threads, ep: "cpu", cacheDir: join(work, "cache"), outDir: join(work, "out"), progressSeconds: 10, log: quiet});
    log(`${model} ${variant}: ${images} phantom images, cold cache ...`);
    const cold: EmbedDatasetResult = await run();
    log(`${model} ${variant}: warm cache ...`);
    const warm: EmbedDatasetResult = await run();
    if (cold.failed.length > 0 || warm.embedded !== 0) throw new Error(`unexpected job result: ${JSON.stringify({cold: cold.failed, warm: warm.embedded})}`);
    return {
      model: label,
      variant,
      images,
      batch,
      cold: {
        seconds: cold.seconds,
        imagesPerSecond: images / cold.seconds,
        embedded: cold.embedded,
        loadSeconds: cold.timings.loadSeconds,
        embedImagesPerSecond: images / cold.timings.embedSeconds
      },
      warm: {seconds: warm.seconds, imagesPerSecond: images / warm.seconds, embedded: warm.embedded, modelLoaded: warm.modelLoaded}
    };
  } finally {
    rmSync(work, {recursive: true, force: true});
  }
}

/** The embedding-job part of `bench embeddings`; prints its table and returns the rows. */
export async function runEmbeddingsBench(argv: string[]): Promise<EmbeddingsBenchRow[]> {
  const {values} = parseArgs({
    args: argv,
    strict: false,
    options: {
      threads: {type: "string", default: "2"},
      "demo-images": {type: "string", default: "3000"},
      "large-images": {type: "string", default: "8"},
      config: {type: "string", default: join(SHARED, "reference/fetalclip/FetalCLIP_config.json")},
      vocab: {type: "string", default: join(SHARED, "fixtures/bpe_simple_vocab_16e6.txt.gz")},
      "shaped-out": {type: "string", default: "bench/out/fetalclip-shaped"},
      "skip-large": {type: "boolean", default: false}
    }
  });
  const threads = Number(values.threads);
  mkdirSync("bench/out", {recursive: true});
  await ensureDemoBundle({log});
  const rows: EmbeddingsBenchRow[] = [await coldAndWarm("fetalclip-demo", DEMO_BUNDLE_DIR, "fp32", Number(values["demo-images"]), 32, threads)];
  if (!values["skip-large"]) {
    const shaped = ensureFetalClipShapedBundle(resolve(String(values["shaped-out"])), String(values.config), String(values.vocab));
    for (const variant of ["fp32", "int8"] as const) rows.push(await coldAndWarm("FetalCLIP-shaped ViT-L/14", shaped, variant, Number(values["large-images"]), 8, threads));
  }
  const lines = [
    `embed-dataset on the phantom, onnxruntime-node cpu, ${threads} threads (whole job: hashing, decoding, inference, cache, embeddings.arrow)`,
    "model                       variant  images  batch  cold img/s  (session s, embed img/s)  warm img/s  warm/cold  warm loads a model"
  ];
  for (const r of rows) {
    lines.push(
      `${r.model.padEnd(27)} ${r.variant.padEnd(8)} ${String(r.images).padStart(6)} ${String(r.batch).padStart(6)} ${r.cold.imagesPerSecond.toFixed(2).padStart(11)}  (${r.cold.loadSeconds.toFixed(1).padStart(6)} s, ${r.cold.embedImagesPerSecond.toFixed(2).padStart(8)} img/s) ${r.warm.imagesPerSecond.toFixed(1).padStart(11)} ${(r.warm.imagesPerSecond / r.cold.imagesPerSecond).toFixed(0).padStart(9)}x  ${r.warm.modelLoaded ? "yes" : "no"}`
    );
  }
  process.stdout.write(lines.join("\n") + "\n");
  writeFileSync("bench/out/embeddings.json", JSON.stringify({threads, rows}, null, 2));
  return rows;
}

export async function run(argv: string[]): Promise<void> {
  await runEmbeddingsBench(argv);
}
