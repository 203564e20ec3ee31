// `fetalclip embed-dataset`: a dataset's embeddings through the cache into OUT/embeddings.arrow.
import type {Command} from "commander";
import {epOption, nonNegativeInt, positiveInt, seconds, seedValue, variantOption} from "./options.js";

export function registerEmbedDataset(program: Command): void {
  program
    .command("embed-dataset")
    .description("embed every image of a dataset (cached, resumable) into OUT/embeddings.arrow; prints {images, embedded, cached, failed}")
    .requiredOption("--model <dir>", "model bundle folder")
    .requiredOption("--dataset <name|dir>", "phantom, phantom-chd, fetal-planes-db, hc18, african-planes, or a folder (labels.csv + images/, or images)")
    .option("--out <dir>", "folder for embeddings.arrow and embeddings.json (default: data/cache/embedding-tables/<dataset>/<model>)")
    .option("--cache <dir>", "embedding cache (default: data/cache/embeddings)")
    .option("--batch <n>", "batch size", positiveInt, 8)
    .option("--threads <n>", "cpu threads", positiveInt)
    .option("--limit <n>", "only the first N images by id", positiveInt)
    .option("--patch-tokens", "also keep and write the projected patch tokens (float16)", false)
    .option("--augment <n>", "FetalCLIP's probing pipeline (OpenCV bicubic resize) plus N seeded augmented copies of every image (colour jitter, CLAHE, shift, rotation), one row each; default folder .../augmented-N-seed-S", nonNegativeInt)
    .option("--augment-seed <seed>", "seed of the augmentation draws", seedValue, 0)
    .option("--progress <seconds>", "seconds between progress lines on stderr (0: one per batch)", seconds, 1)
    .addOption(variantOption())
    .addOption(epOption())
    .action(async (opts) => {
      const {embedDataset} = await import("../embeddings/embedDataset.js");
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const result = await embedDataset({
        model: opts.model, dataset: opts.dataset, outDir: opts.out, cacheDir: opts.cache, batch: opts.batch, threads: opts.threads, limit: opts.limit,
        patchTokens: opts.patchTokens, progressSeconds: opts.progress, variant: opts.variant, ep: opts.ep, log,
        ...(opts.augment !== undefined ? {augment: {copies: opts.augment, seed: opts.augmentSeed}} : {})
      });
      process.stdout.write(JSON.stringify({images: result.images, rows: result.rows, embedded: result.embedded, cached: result.cached, failed: result.failed, out: result.out}) + "\n");
      log(`embed-dataset: ${result.out} (${result.rows} rows) in ${result.seconds.toFixed(1)} s`);
      if (result.failed.length > 0) {
        log(`embed-dataset: ${result.failed.length} of ${result.images} images failed (listed under "failed")`);
        process.exitCode = 1;
      }
    });
}
