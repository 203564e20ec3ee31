// JPEG decoding exactly as PIL does it, because it is the same code: libjpeg-turbo,
// compiled to WebAssembly by cornerstonejs (@cornerstonejs/codec-libjpeg-turbo-8bit,
// the build medical imaging viewers use), called as Pillow calls libjpeg: ISLOW
// integer IDCT, "fancy" triangular chroma upsampling, fixed-point YCbCr->RGB.
// tests/jpegDecode.test.ts checks every byte against PIL's decode.
//
// The seam: this core module cannot read files, so each edge hands it the wasm
// bytes once, `await initJpeg(bytes)` (loaders/jpeg.ts in Node, the live worker in
// the browser); after that decodeJpeg is synchronous, like the PNG decoder.
import createLibjpegTurbo, {type LibjpegTurboModule} from "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs";

/** Decoded pixels: one byte per sample, row-major, channels interleaved. */
export interface JpegPixels {
  width: number;
  height: number;
  /** 1 for a greyscale JPEG, 3 (RGB) otherwise. */
  channels: 1 | 3;
  data: Uint8Array;
}

/** An instance whose memory grew past this for one large image is dropped after it, so the memory is freed. */
const RETAINED_HEAP_BYTES = 128 * 2 ** 20;

let compiled: WebAssembly.Module | undefined;
let compiling: Promise<void> | undefined;
let instance: LibjpegTurboModule | undefined;

/**
 * Compiles libjpeg-turbo's WebAssembly (the package's `decodewasm` file, 299 KB) once;
 * later calls return at once. Call it before decoding a JPEG; a rejected compile can be retried.
 */
export function initJpeg(wasm: BufferSource | WebAssembly.Module): Promise<void> {
  if (compiled) return Promise.resolve();
  compiling ??= (async () => {
    compiled = wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm);
  })().finally(() => {
    compiling = undefined;
  });
  return compiling;
}

/** Whether initJpeg has finished, so decodeJpeg can run. */
export function jpegReady(): boolean {
  return compiled !== undefined;
}

/** A fresh instance, made synchronously from the compiled module (fine in Node and in workers, where the project decodes). */
function instantiate(module: WebAssembly.Module): LibjpegTurboModule {
  const codec: Parameters<typeof createLibjpegTurbo>[0] = {
    instantiateWasm(imports, receive) {
      const wasmInstance = new WebAssembly.Instance(module, imports);
      receive(wasmInstance, module);
      return wasmInstance.exports;
    }
  };
  // With the instance handed over synchronously the runtime starts inside this call and
  // adds JPEGDecoder to `codec`; the returned promise only repeats that.
  createLibjpegTurbo(codec).catch(() => {});
  if (!codec.JPEGDecoder) throw new Error("libjpeg-turbo's WebAssembly did not start");
  return codec as LibjpegTurboModule;
}

/**
 * Decodes a JPEG file with libjpeg-turbo (after initJpeg). Throws on libjpeg errors, as PIL
 * does, and also on libjpeg warnings (the package's TurboJPEG wrapper treats them as errors):
 * a file PIL opens despite a warning, such as extraneous bytes before a marker, is refused here.
 */
export function decodeJpeg(bytes: Uint8Array): JpegPixels {
  if (!compiled) throw new Error("decodeJpeg: libjpeg-turbo is not loaded yet; await initJpeg(wasm bytes) first (loaders/jpeg.ts does it in Node)");
  const codec = (instance ??= instantiate(compiled));
  const decoder = new codec.JPEGDecoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const {width, height, componentCount} = decoder.getFrameInfo();
    const data = decoder.getDecodedBuffer().slice();
    if (codec.HEAPU8.length > RETAINED_HEAP_BYTES) instance = undefined;
    return {width, height, channels: componentCount === 1 ? 1 : 3, data};
  } catch (error) {
    // The C++ throw skips the wasm stack's unwinding: a few thousand of them and the
    // instance corrupts its memory. A fresh instance (about 6 ms) decodes the next file.
    instance = undefined;
    // The wrapper throws a pointer to its own fixed text, not libjpeg's message.
    throw typeof error === "number" ? new Error("libjpeg-turbo could not decode it") : error;
  } finally {
    try {
      decoder.delete();
    } catch {
      instance = undefined;
    }
  }
}
