// @cornerstonejs/codec-libjpeg-turbo-8bit ships no type declarations: the parts of its
// decode-only build that src/lib/image/jpeg.ts and the live worker use.

/** The Emscripten glue (CommonJS): a factory for one instance of libjpeg-turbo's WebAssembly. */
declare module "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs" {
  export interface FrameInfo {
    width: number;
    height: number;
    bitsPerSample: number;
    /** 1 for greyscale, 3 for everything else (the decoder asks TurboJPEG for TJPF_GRAY or TJPF_RGB). */
    componentCount: number;
    isSigned: boolean;
  }
  /** An embind object: free it with delete(). */
  export interface JPEGDecoder {
    /** A view of `length` bytes in the instance's memory to copy the file into. */
    getEncodedBuffer(length: number): Uint8Array;
    /** tjDecompress2 with no flags; throws (a pointer, not an Error) on any libjpeg error or warning. */
    decode(): void;
    getFrameInfo(): FrameInfo;
    /** A view of the decoded pixels in the instance's memory (valid until the next call). */
    getDecodedBuffer(): Uint8Array;
    delete(): void;
  }
  export interface LibjpegTurboModule {
    JPEGDecoder: new () => JPEGDecoder;
    HEAPU8: Uint8Array;
  }
  export interface LibjpegTurboOptions {
    /** Emscripten's hook: instantiate the wasm yourself and hand it over (synchronously here). */
    instantiateWasm?(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void): WebAssembly.Exports;
    print?(text: string): void;
    printErr?(text: string): void;
  }
  /** The instance's fields (JPEGDecoder, HEAPU8) are added to `moduleArg` itself once the runtime is up. */
  const createLibjpegTurbo: (moduleArg: LibjpegTurboOptions & Partial<LibjpegTurboModule>) => Promise<LibjpegTurboModule>;
  export default createLibjpegTurbo;
}

/** The package's wasm file, as bytes: only through esbuild's binary loader (src/data/live-worker.js.ts). */
declare module "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm" {
  const bytes: Uint8Array;
  export default bytes;
}
