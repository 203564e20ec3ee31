// The Embeddings page's maps: for every (dataset, model) of the project config, the UMAP,
// metadata and zero-shot columns (points.arrow) and the dataset's thumbnail sprite sheet,
// with index.json listing them. Cached: an unchanged rebuild embeds nothing.
import {buildEmbeddingMaps, pointsArchive} from "../../loaders/embeddingMaps/archives.js";
import {generatePhantomDataset} from "../../loaders/phantomDataset.js";
import {ensureDemoBundle} from "../../loaders/demo/bundle.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
await generatePhantomDataset({});
await ensureDemoBundle({log});
const {index, built} = await buildEmbeddingMaps(log);
process.stdout.write(pointsArchive(index, built));
