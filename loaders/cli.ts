// The `fetalclip` command line: JSON results on stdout, progress and logs on stderr.
import {Command, Option} from "commander";
import {resolve} from "node:path";
import {MODEL_VARIANTS} from "./nodeModel.js";
import {parseExecutionProvider} from "./session.js";

const log = (message: string) => process.stderr.write(`${message}\n`);
const print = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got "${value}"`);
  return n;
}

const epOption = () =>
  new Option("--ep <provider>", "execution provider: auto (cuda, webgpu, then cpu), cuda, webgpu or cpu").default("auto").argParser(parseExecutionProvider);

const variantOption = () =>
  new Option("--variant <variant>", "graphs to run: fp32, fp16 (float16 weights) or int8 (int8 dynamic-quantized Linears)")
    .choices(MODEL_VARIANTS)
    .default("fp32");

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
    .option("--images <file...>", "image files (PNG or JPEG)")
    .option("--texts <text...>", "texts")
    .option("--batch <n>", "batch size", positiveInt, 8)
    .option("--threads <n>", "cpu threads", positiveInt)
    .addOption(variantOption())
    .addOption(epOption())
    .action(async (opts) => {
      if (!opts.images && !opts.texts) throw new Error("embed: give --images FILE... or --texts TEXT...");
      const {loadNodeModel, preprocessImageFile} = await import("./nodeModel.js");
      const {model, ep} = await loadNodeModel(opts.model, {ep: opts.ep, threads: opts.threads, variant: opts.variant, log});
      const result: Record<string, unknown> = {};
      if (opts.images) {
        const paths: string[] = opts.images;
        const images: {path: string; embedding: number[]}[] = [];
        for (let i = 0; i < paths.length; i += opts.batch) {
          const chunk = paths.slice(i, i + opts.batch);
          const {embeddings} = await model.encodeImages(chunk.map((p) => preprocessImageFile(p, model)));
          chunk.forEach((path, j) => images.push({path, embedding: Array.from(embeddings[j])}));
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
      print(result);
    });

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
      const {evaluateRealData, summariseRealData} = await import("./evaluation/realData.js");
      const result = await evaluateRealData({
        bundleDir: opts.model, planesDbDir: opts.planesDb, africanDir: opts.african, hc18Dir: opts.hc18, ep: opts.ep, variant: opts.variant, log
      });
      if (opts.out) {
        const {writeFileSync} = await import("node:fs");
        writeFileSync(opts.out, JSON.stringify(result, null, 2) + "\n");
      }
      print({bundle: result.bundle, ...summariseRealData(result), seconds: result.seconds});
    });

  program
    .command("list")
    .description("the model bundles in a folder")
    .option("--models <dir>", "models folder", "models")
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
