// The demo model scored on the phantom's held-out patients, exactly as FetalCLIP's
// scripts score FetalCLIP: zero-shot planes, brain sub-planes, GA valid-prediction rate.
import {ensureDemoBundle} from "../../loaders/demo/bundle.js";
import {evaluateDemo} from "../../loaders/demo/evaluate.js";
import {generatePhantomDataset, PHANTOM_DIR} from "../../loaders/phantomDataset.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
await generatePhantomDataset({});
const bundleDir = await ensureDemoBundle({log});
const evaluation = await evaluateDemo({bundleDir, phantomDir: PHANTOM_DIR, split: "test", log});
process.stdout.write(JSON.stringify({...evaluation, bundle: "models/fetalclip-demo"}));
