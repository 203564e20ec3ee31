// The demo model scored on the phantom's held-out patients, exactly as FetalCLIP's
// scripts score FetalCLIP: zero-shot planes, brain sub-planes, GA valid-prediction rate.
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {DEMO_SOURCE_DIR, ensureDemoBundle} from "../../loaders/demo/bundle.js";
import {cachedDemoEvaluation, withoutDetails} from "../../loaders/demo/evaluationCache.js";
import {generatePhantomDataset, PHANTOM_DIR} from "../../loaders/phantomDataset.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
await generatePhantomDataset({});
const bundleDir = await ensureDemoBundle({log});
// One cached run serves this page's numbers and the drill-down, GA and Compare artifacts.
const evaluation = withoutDetails(await cachedDemoEvaluation({bundleDir, phantomDir: PHANTOM_DIR, split: "test", log}));
// The model card's real-data report (fetalclip demo real-data --card), measured where ../shared/data was.
const card = JSON.parse(readFileSync(join(DEMO_SOURCE_DIR, "card.json"), "utf8"));
process.stdout.write(JSON.stringify({...evaluation, bundle: "models/fetalclip-demo", realData: card.evaluation?.realData ?? null}));
