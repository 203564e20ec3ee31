// `fetalclip umap` and `fetalclip neighbours`: UMAP layouts and nearest neighbours of an
// embeddings.arrow, for use outside the site. JSON on stdout, progress on stderr; the
// work lives in loaders/projection.ts, loaded only when one of these commands runs.
import {Option, type Command} from "commander";
import {integer, nonNegative, positiveInt} from "./options.js";

export function registerProjection(program: Command): void {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  program
    .command("umap")
    .description("2-D UMAP of an embeddings.arrow (PCA, exact cosine kNN, seeded layout) into an Arrow file of id, x, y")
    .requiredOption("--embeddings <file>", "embeddings.arrow from embed-dataset (id, embedding columns)")
    .requiredOption("--out <file>", "Arrow file to write (id, x, y)")
    .option("--seed <n>", "random seed", integer, 0)
    .option("--neighbors <k>", "neighbourhood size, counting the point itself", positiveInt, 15)
    .option("--min-dist <d>", "minimum distance between points in the layout", nonNegative, 0.1)
    .option("--pca-dims <p>", "principal components kept before the neighbour search", positiveInt, 50)
    .option("--epochs <n>", "layout epochs (default: 500 up to 2,500 rows ... 200 above 7,500)", positiveInt)
    .addOption(new Option("--metric <metric>", "distance between embeddings").choices(["cosine", "euclidean"]).default("cosine"))
    .action(async (opts) => {
      const {umapFile} = await import("../projection.js");
      const result = await umapFile({
        embeddings: opts.embeddings, out: opts.out, seed: opts.seed, nNeighbors: opts.neighbors, minDist: opts.minDist,
        pcaDims: opts.pcaDims, nEpochs: opts.epochs, metric: opts.metric, log
      });
      process.stdout.write(JSON.stringify(result) + "\n");
    });

  program
    .command("neighbours")
    .alias("neighbors")
    .description("the k embeddings nearest (cosine) to one id of an embeddings.arrow, as JSON")
    .requiredOption("--embeddings <file>", "embeddings.arrow from embed-dataset")
    .requiredOption("--id <id>", "id of the query row (its path relative to the dataset root)")
    .option("--k <k>", "number of neighbours", positiveInt, 10)
    .action(async (opts) => {
      const {neighboursOf} = await import("../projection.js");
      process.stdout.write(JSON.stringify(neighboursOf(opts.embeddings, opts.id, opts.k)) + "\n");
    });
}
