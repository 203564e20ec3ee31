// The embedding store as the site's data loaders use it: for each configured
// (model, dataset), embeddings.arrow made or refreshed through the cache (no inference
// when nothing changed), and read back as plain arrays. Logs go to stderr only: a
// Framework data loader's stdout is its artifact.
import {readFileSync} from "node:fs";
import {decodeEmbeddingTable, type EmbeddingTableData} from "../../src/lib/embeddingTable.js";
import {readProjectConfig, type ConfiguredDataset, type ConfiguredModel, type ReadProjectConfigOptions} from "../projectConfig.js";
import {defaultEmbeddingsDir, embedDataset, type EmbedDatasetOptions, type EmbedDatasetResult} from "./embedDataset.js";

const stderrLog = (m: string) => process.stderr.write(`${m}\n`);

export type EnsureOptions = Omit<EmbedDatasetOptions, "model" | "dataset" | "variant">;

/**
 * embeddings.arrow for one configured model and dataset, in
 * FETALCLIP_CACHE/embedding-tables/<dataset>/<model> unless `outDir` says otherwise:
 * images already in the cache are not embedded again, and with nothing new no model is loaded.
 */
export async function ensureEmbeddings(model: ConfiguredModel, dataset: ConfiguredDataset, options: EnsureOptions = {}): Promise<EmbedDatasetResult> {
  return embedDataset({
    log: stderrLog,
    progressSeconds: 5,
    ...options,
    model: model.dir,
    dataset: dataset.dataset,
    variant: model.variant,
    outDir: options.outDir ?? defaultEmbeddingsDir(dataset.name, model.name)
  });
}

/** ensureEmbeddings for every configured model x dataset, one after the other. */
export async function ensureConfiguredEmbeddings(
  options: EnsureOptions & {config?: ReadProjectConfigOptions} = {}
): Promise<{model: ConfiguredModel; dataset: ConfiguredDataset; result: EmbedDatasetResult}[]> {
  const {config, ...rest} = options;
  const {models, datasets} = readProjectConfig(config);
  const out = [];
  for (const model of models) for (const dataset of datasets) out.push({model, dataset, result: await ensureEmbeddings(model, dataset, rest)});
  return out;
}

/** Reads an embeddings.arrow: ids, the n x embed_dim float32 embeddings, metadata columns, patch tokens when present. */
export function readEmbeddings(path: string): EmbeddingTableData {
  return decodeEmbeddingTable(new Uint8Array(readFileSync(path)));
}
