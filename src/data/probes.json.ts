// The Probes page's classification artifact: few-shot curves and full-data linear probes
// (six planes, brain sub-planes) on the phantom and CHD detection on its CHD set, for every
// configured model (see loaders/probeResults.ts). Cached: an unchanged rebuild trains nothing.
import {ensureDemoBundle} from "../../loaders/demo/bundle.js";
import {generatePhantomDataset} from "../../loaders/phantomDataset.js";
import {buildProbeResults} from "../../loaders/probeResults.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
await generatePhantomDataset({});
await generatePhantomDataset({set: "chd"});
await ensureDemoBundle({log});
process.stdout.write(JSON.stringify(await buildProbeResults(log)));
