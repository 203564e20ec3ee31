// The embedded demo model bundle as one archive: pages read its members as
// FileAttachment("data/fetalclip-demo/<file>") and run it with onnxruntime-web.
import {readdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {zipSync} from "fflate";
import {ensureDemoBundle} from "../../loaders/demo/bundle.js";

const dir = await ensureDemoBundle({log: (m) => process.stderr.write(`${m}\n`)});
const files: Record<string, Uint8Array> = {};
for (const name of readdirSync(dir)) files[name] = new Uint8Array(readFileSync(join(dir, name)));
// ONNX weights barely compress; store them so the archive is quick to read.
process.stdout.write(zipSync(files, {level: 0}));
