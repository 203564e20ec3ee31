// npm run bench -- probes: the probe protocols on FETAL_PLANES_DB-sized synthetic
// embeddings (12,400 x 768, about 7 images per patient, 1,792 patients, half of them
// test patients as in FetalCLIP's split files), one process, wall and CPU time:
// - the few-shot grid with the paper's settings: 2..64 patients x 5 support sets for six
//   planes and 4..64 x 5 for brain sub-planes (AdamW, batch 16, up to 100 epochs);
// - the full-data probe, 5 folds, in fast mode (L2 logistic regression by L-BFGS; target
//   under 60 s on 2 cores) and in paper mode (AdamW, batch 64, 50 epochs), with the
//   ratio of the two and their macro F1 side by side.
// Options: --runs N (runs per fold / support set in paper mode; default 1, the paper
// runs 5: times scale with it), --rows N, --dim N, --seed N, --noise SD (isotropic noise
// per coordinate; the default makes the classes overlap a little, as real planes do).
import {parseArgs} from "node:util";
import type {EmbeddingTableData} from "../src/lib/embeddingTable.js";
import {runProbe, type ProbeReport} from "../src/lib/probes/probe.js";
import {syntheticEmbeddings} from "../src/lib/projection/syntheticEmbeddings.js";
import {createRng} from "../src/lib/random.js";

/** Six planes and, for brain images, three sub-planes: eight synthetic clusters. */
const CLUSTERS: [string, string | null][] = [
  ["other", null], ["abdomen", null], ["cervix", null], ["femur", null], ["heart", null],
  ["brain", "trans-thalamic"], ["brain", "trans-cerebellum"], ["brain", "trans-ventricular"]
];

function syntheticTable(rows: number, dim: number, seed: number, noise: number): EmbeddingTableData {
  const {vectors, labels} = syntheticEmbeddings({n: rows, dim, clusters: CLUSTERS.length, seed, noise});
  // Patients of about 7 images each (FETAL_PLANES_DB: 12,400 images of 1,792 patients), images dealt at random.
  const order = createRng(`${seed}/patients`).shuffle(Array.from({length: rows}, (_, i) => i));
  const patient = new Array<string>(rows);
  order.forEach((row, k) => (patient[row] = `Patient${String(Math.floor(k / 7) + 1).padStart(5, "0")}`));
  return {
    ids: Array.from({length: rows}, (_, i) => `images/${i}.png`),
    embedDim: dim,
    embeddings: vectors,
    columns: [
      {name: "plane", type: "utf8", values: Array.from(labels, (l) => CLUSTERS[l]![0])},
      {name: "sub_plane", type: "utf8", values: Array.from(labels, (l) => CLUSTERS[l]![1])},
      {name: "patient", type: "utf8", values: patient}
    ],
    metadata: {}
  };
}

function timed<T>(run: () => T): {value: T; seconds: number; cpuSeconds: number} {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const value = run();
  const used = process.cpuUsage(cpu);
  return {value, seconds: (performance.now() - t0) / 1000, cpuSeconds: (used.user + used.system) / 1e6};
}

const curveText = (r: ProbeReport) => r.curve.map((p) => `${p.patients}:${p.mean.toFixed(3)}`).join(" ");

export async function run(args: string[]): Promise<void> {
  const {values} = parseArgs({args, options: {runs: {type: "string", default: "1"}, rows: {type: "string", default: "12400"}, dim: {type: "string", default: "768"}, seed: {type: "string", default: "0"}, noise: {type: "string", default: "3"}}});
  const runs = Number(values.runs), rows = Number(values.rows), dim = Number(values.dim), seed = Number(values.seed), noise = Number(values.noise);
  const log = (m: string) => process.stderr.write(`bench probes: ${m}\n`);
  log(`synthetic table ${rows} x ${dim}, 8 clusters (6 planes, 3 brain sub-planes), ~7 images per patient`);
  const made = timed(() => syntheticTable(rows, dim, seed, noise));
  const table = made.value;
  const base = {seed, runs, testFraction: 0.5};
  const lines: string[] = [`probes on ${rows} x ${dim} synthetic embeddings, ${Math.ceil(rows / 7)} patients (half test), seed ${seed}, ${runs} run(s) per fold / support set in paper mode (table built in ${made.seconds.toFixed(1)} s)`];
  const fmt = (t: {seconds: number; cpuSeconds: number}) => `${t.seconds.toFixed(1)} s wall, ${t.cpuSeconds.toFixed(1)} s CPU`;

  log("few-shot grid, paper settings: six planes");
  const six = timed(() => runProbe(table, {...base, label: "six-planes", mode: "paper", full: false}));
  log("few-shot grid, paper settings: brain sub-planes");
  const brain = timed(() => runProbe(table, {...base, label: "brain-subplanes", mode: "paper", full: false}));
  const fits = (r: ProbeReport) => r.curve.reduce((s, p) => s + p.runs, 0);
  lines.push(
    `  few-shot grid, paper settings (AdamW, batch 16, 100 epochs; lr 3e-4 / 1e-4 brain), 5 support sets per count:`,
    `    six planes      ${six.value.curve.length} counts, ${fits(six.value)} fits: ${fmt(six)}; macro F1 ${curveText(six.value)}`,
    `    brain sub-planes ${brain.value.curve.length} counts, ${fits(brain.value)} fits: ${fmt(brain)}; macro F1 ${curveText(brain.value)}`,
    `    both tasks: ${(six.seconds + brain.seconds).toFixed(1)} s wall`
  );
  process.stdout.write(lines.join("\n") + "\n");
  lines.length = 0;

  log("full-data probe, fast mode (5 folds)");
  const fast = timed(() => runProbe(table, {...base, label: "six-planes", mode: "fast", curve: false}));
  log("full-data probe, paper mode (5 folds)");
  const paper = timed(() => runProbe(table, {...base, label: "six-planes", mode: "paper", curve: false}));
  const f = fast.value.full!, p = paper.value.full!;
  lines.push(
    `  full-data six-plane probe, 5 folds, ${f.trainImages.toFixed(0)} training images per fold, ${fast.value.splits.testImages} test images:`,
    `    fast (L-BFGS, ${fast.value.full!.runs} fits): ${fmt(fast)} (target < 60 s); macro F1 ${f.macroF1.toFixed(4)}, penalties ${f.selected.join(", ")}`,
    `    paper (AdamW, ${paper.value.full!.runs} fits): ${fmt(paper)}; macro F1 ${p.macroF1.toFixed(4)} +- ${p.macroF1Std.toFixed(4)}, epochs ${p.selected.join(", ")}`,
    `    paper / fast: ${(paper.seconds / fast.seconds).toFixed(2)}x wall, ${(paper.cpuSeconds / fast.cpuSeconds).toFixed(2)}x CPU; per fit ${(paper.seconds / p.runs).toFixed(2)} s vs ${(fast.seconds / f.runs).toFixed(2)} s`
  );
  process.stdout.write(lines.join("\n") + "\n");
}
