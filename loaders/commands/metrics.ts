// `fetalclip metrics zero-shot` and `fetalclip metrics ga`: FetalCLIP's released per-image
// outputs (predictions, GA dot products) scored with the project's own metric code, one JSON
// line on stdout. The work lives in loaders/paperReference.ts, loaded only when these run.
import type {Command} from "commander";
import {positiveInt, seedValue} from "./options.js";

export function registerMetrics(program: Command): void {
  const print = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");
  const metrics = program.command("metrics").description("score FetalCLIP's released outputs (predictions, GA dot products) with the project's metrics");

  metrics
    .command("zero-shot")
    .description("macro F1, per-class F1 / accuracy, confusion matrix and bootstrap 95% CIs of per-image zero-shot predictions")
    .requiredOption("--predictions <file>", 'predictions JSON {"prediction": [...], "label": [...]} (e.g. test_five_planes_prediction.json)')
    .option("--prompts <file>", "prompts JSON whose keys are the prompt classes in index order (default: the *_prompts.json beside the predictions)")
    .option("--resamples <n>", "bootstrap resamples", positiveInt, 10_000)
    .option("--seed <seed>", "bootstrap seed (a number or a word)", seedValue, 42)
    .action(async (opts) => {
      const {zeroShotMetricsFromFiles} = await import("../paperReference.js");
      print(zeroShotMetricsFromFiles({predictions: opts.predictions, prompts: opts.prompts, resamples: opts.resamples, seed: opts.seed}));
    });

  metrics
    .command("ga")
    .description("gestational-age valid-prediction rate (bootstrap 95% CI), MAE in days and per-image predictions from GA dot products")
    .requiredOption("--dot-products <file>", 'dot products JSON {"ga_days": [...], "rows": [{"true_hc": mm, "dot_prods": [...]}]} (hc18_ga_dot_prods.json)')
    .option("--top <n>", "GA bins in the median", positiveInt, 15)
    .option("--resamples <n>", "bootstrap resamples", positiveInt, 10_000)
    .option("--seed <seed>", "bootstrap seed (a number or a word)", seedValue, 42)
    .action(async (opts) => {
      const {gaMetricsFromFile} = await import("../paperReference.js");
      print(gaMetricsFromFile({dotProducts: opts.dotProducts, top: opts.top, resamples: opts.resamples, seed: opts.seed}));
    });
}
