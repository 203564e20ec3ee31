// The Embeddings page's image embeddings, unit length and float16, one vectors.arrow per
// (dataset, model): fetched by the page for its first neighbour search. Same cache as
// embeddings.zip, so building both runs each job once.
import {buildEmbeddingMaps, vectorsArchive} from "../../loaders/embeddingMaps/archives.js";
import {generatePhantomDataset} from "../../loaders/phantomDataset.js";
import {ensureDemoBundle} from "../../loaders/demo/bundle.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
await generatePhantomDataset({});
await ensureDemoBundle({log});
const {built} = await buildEmbeddingMaps(log);
process.stdout.write(vectorsArchive(built));
