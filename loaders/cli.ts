// The `fetalclip` command line, the project's one front door: every job is a
// subcommand (npx fetalclip --help). JSON results on stdout, progress and logs on
// stderr. Default folders resolve from the repository root (loaders/paths.ts);
// paths given as options resolve from the working directory.
import {Command, Option} from "commander";
import {resolve} from "node:path";
import {CACHE_DIR, MODELS_DIR, PHANTOM_DIR, SHARED_DIR} from "./paths.js";
import {epOption, positiveInt, seedValue, variantOption as sharedVariantOption} from "./commands/options.js";
import {registerEmbedDataset} from "./commands/embedDataset.js";
import {registerProjection} from "./commands/projection.js";
import {registerMetrics} from "./commands/metrics.js";
import {registerProbe} from "./commands/probe.js";
import {registerSegmentProbe} from "./commands/segmentProbe.js";
import {registerCam} from "./commands/cam.js";

const log = (message: string) => process.stderr.write(`${message}\n`);
const print = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");

/**
 * Refuses, before any work, an output file that cannot be written (a folder, a read-only or
 * special place, a missing folder): opened for writing without truncating it, or created and
 * removed again when it is not there yet.
 */
async function checkWritable(path: string, flag: string): Promise<void> {
  const {closeSync, openSync, statSync, unlinkSync} = await import("node:fs");
  const target = resolve(path);
  let exists = false;
  try {
    const stat = statSync(target);
    if (stat.isDirectory()) throw new Error(`${flag} ${path}: is a folder; give a file name`);
    if (!stat.isFile()) throw new Error(`${flag} ${path}: is not a regular file`);
    exists = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  try {
    closeSync(openSync(target, exists ? "r+" : "wx"));
    if (!exists) unlinkSync(target);
  } catch (error) {
    throw new Error(`${flag} ${path}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was run`);
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const {writeFileSync} = await import("node:fs");
  writeFileSync(path, JSON.stringify(value, null, 2) + "\n");
}

const variantOption = () => sharedVariantOption("graphs to run: fp32, fp16 (float16 weights) or int8 (int8 dynamic-quantized Linears)");

export function buildCli(): Command {
  const program = new Command("fetalclip")
    .description("FetalCLIP Explorer: import open_clip checkpoints to ONNX and run them (JSON on stdout)")
    .showHelpAfterError();

  program
    .command("import")
    .description("import an open_clip checkpoint (.pt or .safetensors) into a model bundle")
    .requiredOption("--weights <file>", "checkpoint: torch.save zip (.pt/.bin) or .safetensors")
    .requiredOption("--config <file>", "open_clip model config JSON (e.g. FetalCLIP_config.json)")
    .requiredOption("--vocab <file>", "CLIP BPE merges file (bpe_simple_vocab_16e6.txt.gz from open_clip)")
    .requiredOption("--out <dir>", "bundle folder to write (e.g. models/fetalclip)")
    .option("--id <id>", "bundle id (default: the folder name)")
    .option("--name <name>", "display name")
    .option("--licence <text>", "licence of the weights (FetalCLIP: CC BY-NC 4.0)")
    .option("--fp16", "also write float16-weight graphs", false)
    .option("--int8", "also write int8 dynamic-quantized graphs (faster on CPUs with VNNI)", false)
    .option("--fused", "use onnxruntime contrib fused ops (faster on CPU; onnxruntime-node only)", false)
    .option("--force", "replace a model bundle already at --out (never anything that is not a bundle)", false)
    .action(async (opts) => {
      const {importModel} = await import("./importer.js");
      const manifest = await importModel({
        weights: opts.weights,
        config: opts.config,
        vocab: opts.vocab,
        outDir: opts.out,
        id: opts.id,
        name: opts.name,
        licence: opts.licence,
        fp16: opts.fp16,
        int8: opts.int8,
        fused: opts.fused,
        force: opts.force,
        log
      });
      print({bundle: resolve(opts.out), manifest});
    });

  program
    .command("tokenize")
    .description("token ids as open_clip's tokenizer gives them")
    .requiredOption("--model <dir>", "model bundle folder")
    .argument("<text...>", "texts to tokenize")
    .action(async (texts: string[], opts) => {
      const {loadBundleTokenizer} = await import("./nodeModel.js");
      const {readManifest} = await import("./bundles.js");
      const tokenizer = loadBundleTokenizer(opts.model);
      print({ids: tokenizer.tokenize(texts, readManifest(opts.model).text.contextLength)});
    });

  program
    .command("embed")
    .description("open_clip encode_image / encode_text embeddings (not normalised)")
    .requiredOption("--model <dir>", "model bundle folder")
    .option("--images <path...>", "image files (PNG or JPEG) or folders of them")
    .option("--images-from <file>", "a file listing image paths, one per line ('-': standard input)")
    .option("--texts <text...>", "texts")
    .option("--batch <n>", "batch size", positiveInt, 8)
    .option("--threads <n>", "cpu threads", positiveInt)
    .addOption(variantOption())
    .addOption(epOption())
    .action(async (opts) => {
      if (!opts.images && !opts.imagesFrom && !opts.texts) throw new Error("embed: give --images PATH..., --images-from FILE or --texts TEXT...");
      const {imageInputs} = await import("./imageInputs.js");
      const paths = opts.images || opts.imagesFrom ? await imageInputs(opts.images ?? [], opts.imagesFrom) : [];
      const {loadNodeModel, preprocessImageFile} = await import("./nodeModel.js");
      const {model, ep} = await loadNodeModel(opts.model, {ep: opts.ep, threads: opts.threads, variant: opts.variant, log});
      const result: Record<string, unknown> = {};
      const failed: {path: string; reason: string}[] = [];
      if (paths.length > 0) {
        const images: {path: string; embedding: number[]}[] = [];
        for (let i = 0; i < paths.length; i += opts.batch) {
          // A bad file is reported and skipped; the rest of the batch goes on.
          const chunk: {path: string; pixels: Float32Array}[] = [];
          for (const path of paths.slice(i, i + opts.batch)) {
            try {
              chunk.push({path, pixels: preprocessImageFile(path, model)});
            } catch (error) {
              const reason = (error as Error).message.replace(`${path}: `, "").replace(/^decodeImage: /, "");
              failed.push({path, reason});
              log(`embed: skipped ${path}: ${reason}`);
            }
          }
          if (chunk.length === 0) continue;
          const {embeddings} = await model.encodeImages(chunk.map((c) => c.pixels));
          chunk.forEach(({path}, j) => images.push({path, embedding: Array.from(embeddings[j]!)}));
          if (paths.length > opts.batch) log(`embedded ${images.length}/${paths.length} images`);
        }
        result.images = images;
        result.ep = ep.image;
      }
      if (opts.texts) {
        const texts: string[] = opts.texts;
        const embeddings = await model.encodeTexts(texts, opts.batch);
        result.texts = texts.map((text, i) => ({text, embedding: Array.from(embeddings[i])}));
        result.textEp = ep.text;
      }
      if (failed.length > 0) result.failed = failed;
      print(result);
      if (failed.length > 0) {
        log(`embed: ${failed.length} of ${paths.length} images failed (listed under "failed")`);
        process.exitCode = 1;
      }
    });

  registerEmbedDataset(program);
  registerProjection(program);
  registerMetrics(program);
  registerProbe(program);
  registerSegmentProbe(program);
  registerCam(program);

  program
    .command("verify")
    .description("check a bundle against open_clip reference outputs (expected.json) and record parity.json in it")
    .requiredOption("--model <dir>", "model bundle folder")
    .requiredOption("--reference <dir>", "folder with expected.json, tokens.json and images/ (open_clip fixture layout)")
    .addOption(epOption())
    .action(async (opts) => {
      const {verifyBundle} = await import("./verify.js");
      print(await verifyBundle(opts.model, opts.reference, {ep: opts.ep, log}));
    });

  program
    .command("evaluate")
    .description("zero-shot planes / sub-planes / GA on real datasets in their original layout (labels.csv + images/), scored as FetalCLIP's scripts")
    .requiredOption("--model <dir>", "model bundle folder")
    .option("--planes-db <dir>", "FETAL_PLANES_DB folder: five planes and brain sub-planes")
    .option("--african <dir>", "African fetal standard planes folder: five planes")
    .option("--hc18 <dir>", "HC18 training-set folder: zero-shot GA valid-prediction rate")
    .option("--out <file>", "also write the full report (confusion matrices) as JSON")
    .addOption(epOption())
    .addOption(variantOption())
    .action(async (opts) => {
      if (opts.out) await checkWritable(opts.out, "--out");
      const {evaluateRealData, summariseRealData} = await import("./evaluation/realData.js");
      const result = await evaluateRealData({
        bundleDir: opts.model, planesDbDir: opts.planesDb, africanDir: opts.african, hc18Dir: opts.hc18, ep: opts.ep, variant: opts.variant, log
      });
      if (opts.out) await writeJson(opts.out, result);
      print({bundle: result.bundle, ...summariseRealData(result), seconds: result.seconds});
    });

  program
    .command("setup")
    .description("make the embedded default: the phantom dataset (data/phantom) and the demo bundle (models/fetalclip-demo); idempotent")
    .action(async () => {
      const {setupEmbeddedDefault} = await import("./setup.js");
      await setupEmbeddedDefault(log);
    });

  program
    .command("phantom")
    .description("generate a procedural ultrasound phantom dataset (images, masks, manifest.json); idempotent and atomic")
    .addOption(new Option("--set <set>", "default (every plane class) or chd (four-chamber views, normal vs CHD)").choices(["default", "chd"]).default("default"))
    .option("--out <dir>", "dataset folder (default: data/phantom; data/phantom-chd for --set chd)")
    .option("--seed <seed>", "random seed (a number or a word; default 1, chd-1 for --set chd)", seedValue)
    .option("--count <n>", "number of images (default 3000; 400 for --set chd)", positiveInt)
    .option("--workers <n>", "worker threads (default: one per core)", positiveInt)
    .action(async (opts) => {
      const {generatePhantomDataset} = await import("./phantomDataset.js");
      let lastPercent = -1;
      const result = await generatePhantomDataset({
        set: opts.set, outDir: opts.out ?? (opts.set === "default" ? PHANTOM_DIR : undefined), seed: opts.seed, count: opts.count, workers: opts.workers,
        onProgress(done, total) {
          const percent = Math.floor((100 * done) / total);
          if (percent !== lastPercent && (percent % 5 === 0 || done === total)) {
            lastPercent = percent;
            log(`phantom: ${done}/${total} images (${percent}%)`);
          }
        }
      });
      print({dir: result.outDir, seed: result.manifest.seed, count: result.manifest.count, skipped: result.skipped, seconds: result.seconds});
    });

  const demo = program.command("demo").description("the embedded demo model: training data, evaluation, parity reference, real-data card");

  demo
    .command("prepare")
    .description("training files for scripts/train_demo.py from the phantom: captions, BPE merges, tokens, model-size images")
    .option("--phantom <dir>", "phantom whose val/test patients are kept for evaluation", PHANTOM_DIR)
    .option("--train-phantom <dir>", "a larger phantom (another seed) to train on")
    .option("--out <dir>", "output folder", resolve(CACHE_DIR, "demo"))
    .option("--size <px>", "image input side", positiveInt, 112)
    .option("--variants <n>", "captions per image", positiveInt, 8)
    .option("--max-merges <n>", "BPE merges to learn at most", positiveInt, 2000)
    .option("--seed <n>", "random seed", positiveInt, 1)
    .action(async (opts) => {
      const {prepareDemoData} = await import("./demo/prepare.js");
      print(await prepareDemoData({
        phantomDir: opts.phantom, trainPhantomDir: opts.trainPhantom, outDir: opts.out, imageSize: opts.size, variants: opts.variants,
        maxMerges: opts.maxMerges, seed: opts.seed, log
      }));
    });

  demo
    .command("evaluate")
    .description("score a bundle on the phantom's held-out patients against the demo targets (planes, sub-planes, GA)")
    .option("--bundle <dir>", "model bundle (default: the embedded demo bundle)")
    .option("--source <dir>", "or a source folder (weights.pt, config.json, merges.txt), imported into the cache first")
    .option("--phantom <dir>", "phantom dataset", PHANTOM_DIR)
    .addOption(new Option("--split <split>", "split to score").choices(["train", "val", "test"]).default("test"))
    .option("--threads <n>", "cpu threads", positiveInt, 2)
    .option("--out <file>", "also write the full report (confusion matrices) as JSON")
    .action(async (opts) => {
      if (opts.out) await checkWritable(opts.out, "--out");
      const {evaluateDemo, summariseDemoEvaluation} = await import("./demo/evaluate.js");
      let bundleDir: string = opts.bundle;
      if (opts.bundle && opts.source) throw new Error("demo evaluate: give --bundle or --source, not both");
      if (opts.source) {
        const {importModel} = await import("./importer.js");
        const {join} = await import("node:path");
        bundleDir = resolve(CACHE_DIR, "demo-eval-bundle");
        await importModel({
          weights: join(opts.source, "weights.pt"), config: join(opts.source, "config.json"), vocab: join(opts.source, "merges.txt"),
          outDir: bundleDir, id: "fetalclip-demo-eval", force: true, log
        });
      } else if (!bundleDir) {
        const {ensureDemoBundle} = await import("./demo/bundle.js");
        bundleDir = await ensureDemoBundle({log});
      }
      const result = await evaluateDemo({bundleDir, phantomDir: opts.phantom, split: opts.split, threads: opts.threads, log});
      if (opts.out) await writeJson(opts.out, result);
      print(summariseDemoEvaluation(result));
    });

  demo
    .command("reference")
    .description("write the parity reference inputs (phantom test images, prompts) into models/sources/fetalclip-demo/reference")
    .action(async () => {
      const {DEMO_REFERENCE_DIR, writeDemoReferenceInputs} = await import("./demo/reference.js");
      const {DEMO_SOURCE_DIR} = await import("./demo/bundle.js");
      writeDemoReferenceInputs();
      log(`now run /usr/bin/python3 scripts/export_reference.py --weights ${DEMO_SOURCE_DIR}/weights.pt --config ${DEMO_SOURCE_DIR}/config.json --ref ${DEMO_REFERENCE_DIR}`);
      print({reference: DEMO_REFERENCE_DIR});
    });

  demo
    .command("real-data")
    .description("zero-shot scores of a bundle on the real datasets beside the project (../shared/data), optionally written into a model card")
    .option("--bundle <dir>", "model bundle (default: the embedded demo bundle)")
    .option("--data <dir>", "folder holding planes/, african/ and hc18/ (each labels.csv + images/)", resolve(SHARED_DIR, "data"))
    .option("--threads <n>", "cpu threads", positiveInt, 2)
    .option("--out <file>", "also write the full report as JSON")
    .option("--card <file>", "write the report into this model card's evaluation.realData")
    .action(async (opts) => {
      const {evaluateRealData, summariseRealData} = await import("./evaluation/realData.js");
      const {realDataDirs, writeRealDataCard} = await import("./demo/realDataCard.js");
      if (opts.out) await checkWritable(opts.out, "--out");
      if (opts.card) await checkWritable(opts.card, "--card");
      let bundleDir: string = opts.bundle;
      if (!bundleDir) {
        const {ensureDemoBundle} = await import("./demo/bundle.js");
        bundleDir = await ensureDemoBundle({log});
      }
      const result = await evaluateRealData({bundleDir, ...realDataDirs(resolve(opts.data)), threads: opts.threads, log});
      if (opts.out) await writeJson(opts.out, result);
      if (opts.card) {
        writeRealDataCard(opts.card, result);
        log(`wrote evaluation.realData into ${opts.card}`);
      }
      print({bundle: result.bundle, ...summariseRealData(result), seconds: result.seconds});
    });

  program
    .command("list")
    .description("the model bundles in a folder")
    .option("--models <dir>", "models folder", MODELS_DIR)
    .action(async (opts) => {
      const {listBundles} = await import("./bundles.js");
      print(
        listBundles(resolve(opts.models)).map((b) => ({
          id: b.manifest.id,
          dir: b.dir,
          params: b.manifest.params,
          totalBytes: b.totalBytes,
          parity: b.parity ? {pass: b.parity.pass, minImageCosine: Math.min(...b.parity.images.map((i) => i.cosine))} : null
        }))
      );
    });

  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((error: Error) => {
    log(`fetalclip: ${error.message}`);
    process.exit(1);
  });
