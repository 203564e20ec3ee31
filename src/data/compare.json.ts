// The Compare page's artifact: zero-shot and GA metrics with 95% CIs for every model bundle
// on the phantom and for FetalCLIP's released outputs (see loaders/results/compare.ts).
import {buildCompare} from "../../loaders/results/compare.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
process.stdout.write(JSON.stringify(await buildCompare(log)));
