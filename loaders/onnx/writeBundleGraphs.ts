// Writing a built graph to an .onnx file, streamed tensor by tensor, with two
// variants: float16 weights and ONNX external data (for models over protobuf's 2 GB limit).
import {closeSync, openSync, rmSync} from "node:fs";
import {basename, dirname, join} from "node:path";
import {toFloat16Bits} from "./float16.js";
import {encodeModel, initializerBytes, tensorByteLength, type ExternalLocation, type GraphNode, type Initializer, type OnnxGraph} from "./model.js";
import {FdWriter, writeMessageToFile} from "./protobuf.js";

/** protobuf messages (and so a self-contained .onnx file) cannot exceed 2 GiB - 1 byte. */
export const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;
/** Tensors smaller than this stay inline even with external data (onnx.save's size_threshold default). */
const EXTERNAL_THRESHOLD_BYTES = 1024;
/** External tensors start on 4 KiB boundaries so onnxruntime can memory-map them. */
const EXTERNAL_ALIGN_BYTES = 4096;

export interface WriteOnnxOptions {
  /**
   * Store weights as float16 (half the file). Each weight gets a Cast-to-float32
   * node, so inputs, outputs and all arithmetic stay float32: onnxruntime folds
   * the casts once at session creation, and the cpu/wasm EPs, which lack float16
   * kernels for several ops, run the graph unchanged. Accuracy: weights rounded
   * to 11 significant bits; compute is float32.
   */
  fp16?: boolean;
  /** true: weights go to `<file>.data` beside the model; false: never; default: only when the model would exceed 2 GiB. */
  externalData?: boolean;
}

export interface WriteOnnxResult {
  /** Bytes on disk, model file plus external data file. */
  bytes: number;
  modelBytes: number;
  /** Absolute path of the external data file, when one was written. */
  externalDataFile?: string;
}

/** The float16-weight variant: weights stored as float16, cast back to float32 at the top of the graph. */
export function withFloat16Weights(graph: OnnxGraph): OnnxGraph {
  const initializers: Initializer[] = [];
  const casts: GraphNode[] = [];
  for (const init of graph.initializers) {
    if (init.role !== "weight" || init.dtype !== "float32") {
      initializers.push(init);
      continue;
    }
    const stored = `${init.name}.fp16`;
    initializers.push({
      name: stored,
      dtype: "float16",
      shape: init.shape,
      role: "weight",
      data: () => toFloat16Bits(init.data() as Float32Array)
    });
    casts.push({name: `${init.name}/CastToFloat32`, opType: "Cast", domain: "", inputs: [stored], outputs: [init.name], attributes: {to: 1}});
  }
  return {...graph, initializers, nodes: [...casts, ...graph.nodes]};
}

function writeExternalData(path: string, tensors: Initializer[]): {locations: Map<string, ExternalLocation>; bytes: number} {
  const location = basename(path);
  const locations = new Map<string, ExternalLocation>();
  const fd = openSync(path, "w");
  try {
    const out = new FdWriter(fd);
    let offset = 0;
    for (const tensor of tensors) {
      const padding = (EXTERNAL_ALIGN_BYTES - (offset % EXTERNAL_ALIGN_BYTES)) % EXTERNAL_ALIGN_BYTES;
      if (padding) out.write(new Uint8Array(padding));
      offset += padding;
      const bytes = initializerBytes(tensor);
      out.write(bytes);
      locations.set(tensor.name, {location, offset, length: bytes.byteLength});
      offset += bytes.byteLength;
    }
    out.flush();
    return {locations, bytes: out.bytesWritten};
  } finally {
    closeSync(fd);
  }
}

/** Writes `graph` to `path` (streaming: only one tensor is in memory at a time). */
export function writeOnnx(path: string, graph: OnnxGraph, options: WriteOnnxOptions = {}): WriteOnnxResult {
  const model = options.fp16 ? withFloat16Weights(graph) : graph;
  const inlineSize = encodeModel(model).byteLength;
  const external = options.externalData ?? inlineSize > PROTOBUF_LIMIT_BYTES;
  if (!external) {
    if (inlineSize > PROTOBUF_LIMIT_BYTES) {
      throw new Error(`${path}: the model is ${inlineSize} bytes, over protobuf's 2 GiB limit; write it with externalData`);
    }
    const modelBytes = writeMessageToFile(path, encodeModel(model));
    return {bytes: modelBytes, modelBytes};
  }
  const dataPath = join(dirname(path), `${basename(path)}.data`);
  const tensors = model.initializers.filter((t) => t.role === "weight" && tensorByteLength(t) >= EXTERNAL_THRESHOLD_BYTES);
  try {
    const {locations, bytes: dataBytes} = writeExternalData(dataPath, tensors);
    const message = encodeModel(model, locations);
    if (message.byteLength > PROTOBUF_LIMIT_BYTES) throw new Error(`${path}: even without its weights the model is ${message.byteLength} bytes, over 2 GiB`);
    const modelBytes = writeMessageToFile(path, message);
    return {bytes: modelBytes + dataBytes, modelBytes, externalDataFile: dataPath};
  } catch (error) {
    rmSync(dataPath, {force: true});
    throw error;
  }
}
