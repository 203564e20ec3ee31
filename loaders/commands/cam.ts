// `fetalclip cam`: ScoreCAM or one-pass similarity maps of a dataset's images (cached, resumable),
// localisation against structure masks; OUT/METHOD.json + OUT/METHOD.grids.u8, one JSON line on stdout.
import {Option, type Command} from "commander";
import {CAM_METHODS} from "../../src/lib/cam/camArtifact.js";
import {epOption, positiveInt, seconds, variantOption} from "./options.js";

export function registerCam(program: Command): void {
  program
    .command("cam")
    .description("class activation maps (ScoreCAM as FetalCLIP's scripts, or one-pass patch similarity) with localisation scores; writes OUT/METHOD.json + OUT/METHOD.grids.u8, prints {method, images, meanLocalisation, pointingGame, uniformBaseline, perClass}")
    .requiredOption("--model <dir>", "model bundle folder")
    .requiredOption("--dataset <name|dir>", "phantom, phantom-chd, fetal-planes-db, hc18, african-planes, or a folder")
    .addOption(new Option("--method <method>", "scorecam (1 + channels forwards per image) or similarity (one forward)").choices(CAM_METHODS).makeOptionMandatory())
    .requiredOption("--out <dir>", "folder for METHOD.json and METHOD.grids.u8")
    .option("--class <class>", "explain this prompt class for every image (default: each image's true class, as FetalCLIP's scripts)")
    .option("--ids <id...>", "these image ids (paths relative to the dataset folder, as in embeddings.arrow)")
    .option("--limit <n>", "the first N images (by id) of the split", positiveInt)
    .option("--split <split>", "split to take without --ids: test, val, train or all", "test")
    .addOption(new Option("--task <task>", "prompt classes: planes (9, five-planes prompts) or subplanes (3 brain sub-planes)").choices(["planes", "subplanes"]).default("planes"))
    .option("--cache <dir>", "CAM cache (default: data/cache/cam)")
    .option("--batch <n>", "scorecam: masked inputs per forward (default 16, grad-cam's); similarity: images per forward (default 8)", positiveInt)
    .option("--threads <n>", "cpu threads", positiveInt)
    .option("--progress <seconds>", "seconds between progress lines on stderr", seconds, 2)
    .addOption(variantOption())
    .addOption(epOption())
    .action(async (opts) => {
      const {runCamJob} = await import("../cam/camJob.js");
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const result = await runCamJob({
        model: opts.model, dataset: opts.dataset, method: opts.method, className: opts.class, ids: opts.ids, limit: opts.limit, split: opts.split, task: opts.task,
        outDir: opts.out, cacheDir: opts.cache, batch: opts.batch, threads: opts.threads, progressSeconds: opts.progress, variant: opts.variant, ep: opts.ep, log
      });
      const {method, images, scored, meanLocalisation, pointingGame, uniformBaseline, perClass, computed, cached, failed, out, seconds: took} = result;
      process.stdout.write(JSON.stringify({method, images, scored, meanLocalisation, pointingGame, uniformBaseline, perClass, computed, cached, failed, out, seconds: took}) + "\n");
      log(`cam: ${images} maps (${scored} scored) in ${took.toFixed(1)} s -> ${out.index}`);
      if (failed.length > 0) {
        log(`cam: ${failed.length} images failed (listed under "failed")`);
        process.exitCode = 1;
      }
    });
}
