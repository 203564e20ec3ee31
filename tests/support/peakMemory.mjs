// Preloaded (node --import) into CLI runs by the hostile-input suite: records the
// process's peak resident memory (kilobytes) in $FETALCLIP_PEAK_FILE at exit. A run
// killed by V8 or the OS writes nothing, which the suite reports as a crash.
import {writeFileSync} from "node:fs";

const file = process.env.FETALCLIP_PEAK_FILE;
if (file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
