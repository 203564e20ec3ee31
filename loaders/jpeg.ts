// The Node edge of JPEG decoding: compiles libjpeg-turbo's WebAssembly from the
// installed package when this module is first imported (a top-level await), so
// every loader that imports it, directly or through nodeModel.ts, decodes JPEGs
// with the core's synchronous decodeImage. The browser's edge is the live worker.
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
import {initJpeg} from "../src/lib/image/jpeg.js";

/** The decode-only libjpeg-turbo build's wasm file in node_modules. */
export const JPEG_WASM_PATH = createRequire(import.meta.url).resolve("@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm");

await initJpeg(readFileSync(JPEG_WASM_PATH));
