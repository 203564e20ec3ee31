// The Zero-shot page's drill-down artifact: every image's true and predicted class, class
// probabilities and thumbnail, per source and task (see loaders/results/zeroShotArchive.ts).
import {buildZeroShotArchive} from "../../loaders/results/zeroShotArchive.js";

const log = (m: string) => process.stderr.write(`${m}\n`);
const {bytes} = await buildZeroShotArchive(log);
process.stdout.write(bytes);
