// The Probes page's segmentation artifact: the per-patch linear head on the phantom's
// structures for every configured model, Dice with CIs and example predictions (base64
// PNGs); see loaders/probeResults.ts. Cached: an unchanged rebuild trains nothing.
import {ensureDemoBundle} from "../../loaders/demo/bundle.js";
import {generatePhantomDataset} from "../../loaders/phantomDataset.js";
import {buildSegmentationResults} from "../../loaders/probeResults.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
await generatePhantomDataset({});
await ensureDemoBundle({log});
process.stdout.write(JSON.stringify(await buildSegmentationResults(log)));
