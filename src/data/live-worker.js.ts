// The live page's inference worker (src/runtime/liveWorker.ts) as one ES module:
// the core, the phantom generator and onnxruntime-web's JavaScript bundled by
// esbuild. The 28 MB wasm binary is not in it: the page passes its self-hosted URL.
import {build} from "esbuild";
import {join} from "node:path";
import {REPO_ROOT} from "../../loaders/paths.js";

const result = await build({
  entryPoints: [join(REPO_ROOT, "src", "runtime", "liveWorker.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  write: false,
  logLevel: "warning"
});
process.stdout.write(result.outputFiles[0]!.contents);
