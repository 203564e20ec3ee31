// The CAM page's archive: for every (dataset, model) of the project config, one-pass
// similarity maps of the test split, ScoreCAM maps of a few images per class, the
// images as the model sees them and the structure masks that score the maps.
// Cached: an unchanged rebuild runs no model (the CAM cache) and decodes no image.
import {buildCamGalleries, camArchive} from "../../loaders/camGallery/archive.js";
import {ensureDemoBundle} from "../../loaders/demo/bundle.js";
import {generatePhantomDataset} from "../../loaders/phantomDataset.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
await generatePhantomDataset({});
await ensureDemoBundle({log});
const {index, built} = await buildCamGalleries(log);
process.stdout.write(camArchive(index, built));
