// Half-precision conversion for the fp16 graph writer: the core's (src/lib/float16.ts),
// which the page artifacts' float16 embeddings share.
export {float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits, toFloat16Bits} from "../../src/lib/float16.js";
