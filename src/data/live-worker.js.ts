// The live page's inference worker (src/runtime/liveWorker.ts) as one ES module:
// the core, the phantom generator and onnxruntime-web's JavaScript bundled by
// esbuild. onnxruntime-web's 28 MB wasm binary is not in it (the page passes its
// self-hosted URL); libjpeg-turbo's 299 KB one is, as bytes (the binary loader).
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
  loader: {".wasm": "binary"},
  // Only the Emscripten glue's Node branch requires these; it never runs in a worker.
  external: ["fs", "path"],
  write: false,
  logLevel: "warning"
});
process.stdout.write(result.outputFiles[0]!.contents);
