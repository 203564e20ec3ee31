// The phantom dataset's manifest (metadata of every generated image, no pixels).
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {generatePhantomDataset, PHANTOM_DIR} from "../../loaders/phantomDataset.js";

await generatePhantomDataset({});
process.stdout.write(readFileSync(join(PHANTOM_DIR, "manifest.json")));
