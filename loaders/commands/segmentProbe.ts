// `fetalclip segment-probe`: a per-patch linear head on a model's frozen patch tokens,
// trained and scored on a dataset with masks (the phantom, its CHD set, HC18).
import {Option, type Command} from "commander";
import {epOption, nonNegativeInt, positiveInt, positiveNumber, seedValue} from "./options.js";

export function registerSegmentProbe(program: Command): void {
  program
    .command("segment-probe")
    .description("segmentation probe: a per-patch linear head on the frozen patch tokens, Dice/IoU on held-out patients (one JSON line)")
    .requiredOption("--model <dir>", "model bundle folder")
    .requiredOption("--dataset <name|dir>", "phantom, phantom-chd, hc18, or a phantom / HC18 folder")
    .option("--structure <name...>", "structures to segment (default: all the masks have; phantom: head abdomen femur heart; phantom-chd: heart lv rv la ra septum; hc18: head)")
    .option("--seed <seed>", "seed of the head's initialisation, shuffling, bootstrap (and a drawn split)", seedValue, 0)
    .option("--epochs <n>", "training epochs (the one with the lowest validation loss is kept)", positiveInt)
    .option("--lr <rate>", "AdamW learning rate", positiveNumber)
    .addOption(new Option("--loss <loss>", "dice (smp DiceLoss, as the official code) or bce").choices(["dice", "bce"]))
    .option("--loss-size <px>", "side of the grid the loss is taken on (default 4 x the patch grid)", positiveInt)
    .option("--fold <n>", "HC18 with FetalCLIP's split files: the probing fold's train/val ids (0-4)", nonNegativeInt, 0)
    .option("--resamples <n>", "bootstrap resamples of the 95% CIs", positiveInt, 1000)
    .option("--examples <n>", "example predictions per structure written to --out", nonNegativeInt, 4)
    .option("--out <file>", "also write the report with example predictions (base64 PNGs: image, mask, prediction, probability) as JSON")
    .option("--cache <dir>", "embedding cache (default: data/cache/embeddings)")
    .option("--threads <n>", "cpu threads", positiveInt)
    .option("--limit <n>", "only the first N images by id", positiveInt)
    .addOption(epOption())
    .action(async (opts) => {
      const {closeSync, openSync, statSync, unlinkSync, writeFileSync} = await import("node:fs");
      if (opts.out) {
        // Refuse an unwritable --out before any work.
        let exists = false;
        try {
          exists = statSync(opts.out).isFile();
          if (!exists) throw new Error(`--out ${opts.out}: is not a regular file`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
        try {
          closeSync(openSync(opts.out, exists ? "r+" : "wx"));
          if (!exists) unlinkSync(opts.out);
        } catch (error) {
          throw new Error(`--out ${opts.out}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was run`);
        }
      }
      const {runSegmentProbe} = await import("../segmentation/segmentProbe.js");
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const settings: Record<string, unknown> = {};
      if (opts.epochs !== undefined) settings.epochs = opts.epochs;
      if (opts.lr !== undefined) settings.learningRate = opts.lr;
      if (opts.loss !== undefined) settings.loss = opts.loss;
      if (opts.lossSize !== undefined) settings.lossSize = opts.lossSize;
      const report = await runSegmentProbe({
        model: opts.model, dataset: opts.dataset, structures: opts.structure, seed: opts.seed, settings, fold: opts.fold, resamples: opts.resamples,
        examples: opts.out ? opts.examples : 0, cacheDir: opts.cache, threads: opts.threads, limit: opts.limit, ep: opts.ep, log
      });
      const {examples, ...summary} = report;
      if (opts.out) {
        writeFileSync(opts.out, JSON.stringify(report) + "\n");
        log(`segment-probe: wrote ${opts.out} (${examples?.length ?? 0} examples)`);
      }
      process.stdout.write(JSON.stringify(summary) + "\n");
    });
}
