// `fetalclip probe`: linear probes and few-shot curves on frozen embeddings, as FetalCLIP's
// probing and few-data scripts run them. One JSON line on stdout, progress on stderr; the
// work lives in loaders/probes.ts and src/lib/probes, loaded only when the command runs.
import {InvalidArgumentError, Option, type Command} from "commander";
import {MAX_AUGMENT_COPIES, parseAugmentChoice} from "../../src/lib/probes/augmentChoice.js";
import {positiveInt, seedValue, variantOption} from "./options.js";

function shotList(value: string): number[] {
  const counts = value.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n <= 0)) throw new InvalidArgumentError(`expected patient counts like 2,4,8, got "${value}"`);
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** --augment: "paper" (5 copies for the full-data probe, 10 for few-shot) or N copies for both. */
function augmentValue(value: string): number | "paper" {
  const choice = parseAugmentChoice(value);
  if (choice === null) throw new InvalidArgumentError(`expected paper or a number of copies from 0 to ${MAX_AUGMENT_COPIES}, got "${value}"`);
  return choice;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a fraction between 0 and 1, got "${value}"`);
  return n;
}

export function registerProbe(program: Command): void {
  program
    .command("probe")
    .description("linear probe (5 folds x runs) and few-shot curve on frozen embeddings, patient-level splits; prints one JSON line")
    .option("--embeddings <file>", "embeddings.arrow from embed-dataset")
    .option("--model <bundle>", "model bundle (with --dataset: embeds it through the cache first; always: the zero-shot reference)")
    .option("--dataset <name|dir>", "phantom, fetal-planes-db, ... or a folder, embedded with --model")
    .addOption(variantOption("graphs of --model to run"))
    .requiredOption("--label <column>", "six-planes or brain-subplanes (the paper's tasks), or any label column of the table")
    .option("--group <column>", "column of patient ids: every split is by patient", "patient")
    .option("--splits <files...>", "FetalCLIP split files: probing train_val_split.json (folds) and/or few-data train_val_split.json (support sets)")
    .option("--test-split <file>", "FetalCLIP test_split.json (the test patients)")
    .option("--shots <counts>", "few-shot patient counts, e.g. 2,4,8,16,32,64 (default: the paper's for the task)", shotList)
    .option("--runs <n>", "runs per fold and per support set (fast mode runs once: it is deterministic)", positiveInt, 5)
    .option("--seed <n>", "seed of initialisation, shuffling and drawn splits", seedValue, 0)
    .addOption(new Option("--mode <mode>", "paper: AdamW linear probe as the official scripts; fast: L2 logistic regression by L-BFGS").choices(["paper", "fast"]).default("paper"))
    .option("--positive <class>", "binary labels: the positive class for AUROC (default: the one not named normal, negative, healthy, control, no, false, 0 or absent; else the second in sorted order)")
    .option("--test-fraction <f>", "share of patients drawn for testing when no test split or split column says", fraction, 0.5)
    .option("--folds <n>", "folds drawn when no probing split file is given", positiveInt, 5)
    .option("--no-full", "skip the full-data probe")
    .option("--no-curve", "skip the few-shot curve")
    .option("--no-zero-shot", "do not score the zero-shot reference")
    .option("--augment <n|paper>", "train on augmented copies, as FetalCLIP's notebooks (paper: 5 per image for the full-data probe, 10 for few-shot); the copies are embedded and cached with --model/--dataset, or read from an embed-dataset --augment table", augmentValue)
    .option("--augment-seed <seed>", "seed of the augmentation draws", seedValue, 0)
    .action(async (opts) => {
      const {probeJob} = await import("../probes.js");
      const log = (m: string) => process.stderr.write(`${m}\n`);
      const report = await probeJob({
        embeddings: opts.embeddings, model: opts.model, dataset: opts.dataset, variant: opts.variant, label: opts.label, group: opts.group,
        splitFiles: opts.splits, testSplit: opts.testSplit, shots: opts.shots, runs: opts.runs, seed: opts.seed, mode: opts.mode,
        positive: opts.positive, testFraction: opts.testFraction, folds: opts.folds, full: opts.full, curve: opts.curve, zeroShot: opts.zeroShot,
        augment: opts.augment, augmentSeed: opts.augmentSeed, log
      });
      process.stdout.write(JSON.stringify(report) + "\n");
      log(`probe ${report.label} (${report.mode}): full macro F1 ${report.full ? report.full.macroF1.toFixed(3) : "-"}, ${report.curve.length} curve points, ${report.seconds.toFixed(1)} s`);
    });
}
