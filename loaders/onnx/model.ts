// The ONNX model as plain data (graph, nodes, initializers) and its encoding as
// protobuf ModelProto, field numbers from onnx/onnx.proto (IR version 8 = opset 17).
// Initializer bytes are produced lazily when the model is written.
import {ProtoMessage, type LazyBytes} from "./protobuf.js";

export type TensorDType = "float32" | "float16" | "int64" | "int32" | "int8" | "uint8" | "bool";

/** TensorProto.DataType values. */
export const ONNX_DATA_TYPE: Record<TensorDType, number> = {float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10};
const BYTES_PER_ELEMENT: Record<TensorDType, number> = {float32: 4, uint8: 1, int8: 1, int32: 4, int64: 8, bool: 1, float16: 2};

/** float16 tensors travel as their raw IEEE half bits. */
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export interface Initializer {
  name: string;
  dtype: TensorDType;
  shape: number[];
  /** Called when the model is written; may read a checkpoint tensor from disk. */
  data: () => TensorData;
  /** Weights may be stored as float16 or externally; constants (shapes, masks, scalars) stay inline as they are. */
  role: "weight" | "constant";
}

export type AttributeValue = number | {float: number} | number[] | {floats: number[]} | string;

export interface GraphNode {
  name: string;
  opType: string;
  domain: string; // "" = ai.onnx
  inputs: string[]; // "" marks an omitted optional input
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export interface ValueInfo {
  name: string;
  dtype: TensorDType;
  /** Numbers are fixed sizes, strings are symbolic (dynamic) dimensions such as "batch". */
  shape: (number | string)[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface OnnxGraph {
  name: string;
  docString?: string;
  nodes: GraphNode[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  opsetImports: OpsetImport[];
}

/** Where a tensor's bytes live in the external data file. */
export interface ExternalLocation {
  location: string; // file name relative to the model file
  offset: number;
  length: number;
}

export const ONNX_IR_VERSION = 8; // the IR version that goes with opset 17
export const PRODUCER_NAME = "fetalclip-explorer";

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorByteLength(tensor: Pick<Initializer, "dtype" | "shape">): number {
  return elementCount(tensor.shape) * BYTES_PER_ELEMENT[tensor.dtype];
}

/** Materialises an initializer's bytes, checking that the provider kept its promised size. */
export function initializerBytes(tensor: Initializer): Uint8Array {
  const data = tensor.data();
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const expected = tensorByteLength(tensor);
  if (bytes.byteLength !== expected) {
    throw new Error(
      `initializer "${tensor.name}": shape [${tensor.shape.join(", ")}] of ${tensor.dtype} needs ${expected} bytes, the data provider gave ${bytes.byteLength}`
    );
  }
  // ONNX raw_data is little-endian; typed arrays use the host order, little-endian on every platform Node supports here.
  return bytes;
}

function attributeProto(name: string, value: AttributeValue): ProtoMessage {
  const m = new ProtoMessage().string(1, name);
  // AttributeProto.AttributeType: FLOAT=1, INT=2, STRING=3, FLOATS=6, INTS=7.
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute "${name}": ${value} is not an integer; write {float: ${value}} for a float attribute`);
    m.varint(3, value).varint(20, 2);
  } else if (typeof value === "string") {
    m.string(4, value).varint(20, 3);
  } else if (Array.isArray(value)) {
    for (const v of value) {
      if (!Number.isInteger(v)) throw new Error(`attribute "${name}": ${v} is not an integer; write {floats: [...]} for float lists`);
      m.varint(8, v);
    }
    m.varint(20, 7);
  } else if ("float" in value) {
    m.float32(2, value.float).varint(20, 1);
  } else {
    for (const v of value.floats) m.float32(7, v);
    m.varint(20, 6);
  }
  return m;
}

function nodeProto(node: GraphNode): ProtoMessage {
  const m = new ProtoMessage();
  for (const input of node.inputs) m.string(1, input);
  for (const output of node.outputs) m.string(2, output);
  m.string(3, node.name).string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes)) m.message(5, attributeProto(name, value));
  if (node.domain) m.string(7, node.domain);
  return m;
}

function tensorProto(tensor: Initializer, external?: ExternalLocation): ProtoMessage {
  const m = new ProtoMessage();
  for (const d of tensor.shape) m.varint(1, d);
  m.varint(2, ONNX_DATA_TYPE[tensor.dtype]).string(8, tensor.name);
  if (external) {
    for (const [key, value] of [["location", external.location], ["offset", String(external.offset)], ["length", String(external.length)]]) {
      m.message(13, new ProtoMessage().string(1, key).string(2, value));
    }
    m.varint(14, 1); // data_location = EXTERNAL
  } else {
    const lazy: LazyBytes = {byteLength: tensorByteLength(tensor), produce: (emit) => emit(initializerBytes(tensor))};
    m.lazyBytes(9, lazy);
  }
  return m;
}

function valueInfoProto(info: ValueInfo): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of info.shape) {
    shape.message(1, typeof d === "number" ? new ProtoMessage().varint(1, d) : new ProtoMessage().string(2, d));
  }
  const tensorType = new ProtoMessage().varint(1, ONNX_DATA_TYPE[info.dtype]).message(2, shape);
  return new ProtoMessage().string(1, info.name).message(2, new ProtoMessage().message(1, tensorType));
}

/**
 * Encodes a model as ModelProto. Initializers named in `external` are written as
 * references (data_location EXTERNAL); the rest carry raw_data produced lazily.
 */
export function encodeModel(graph: OnnxGraph, external?: Map<string, ExternalLocation>): ProtoMessage {
  const g = new ProtoMessage();
  for (const node of graph.nodes) g.message(1, nodeProto(node));
  g.string(2, graph.name);
  for (const init of graph.initializers) g.message(5, tensorProto(init, external?.get(init.name)));
  if (graph.docString) g.string(10, graph.docString);
  for (const input of graph.inputs) g.message(11, valueInfoProto(input));
  for (const output of graph.outputs) g.message(12, valueInfoProto(output));

  const model = new ProtoMessage().varint(1, ONNX_IR_VERSION).string(2, PRODUCER_NAME);
  for (const opset of graph.opsetImports) {
    const o = new ProtoMessage();
    if (opset.domain) o.string(1, opset.domain);
    model.message(8, o.varint(2, opset.version));
  }
  return model.message(7, g);
}

/** Checks that every node input is produced before use: ONNX requires topologically sorted nodes. */
export function checkGraph(graph: OnnxGraph): void {
  const known = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.initializers.map((i) => i.name)]);
  const seenInit = new Set<string>();
  for (const init of graph.initializers) {
    if (seenInit.has(init.name)) throw new Error(`graph ${graph.name}: initializer "${init.name}" is defined twice`);
    seenInit.add(init.name);
  }
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (input && !known.has(input)) throw new Error(`graph ${graph.name}: node ${node.name} (${node.opType}) reads "${input}" before it is produced`);
    }
    for (const output of node.outputs) {
      if (known.has(output)) throw new Error(`graph ${graph.name}: "${output}" is produced twice (node ${node.name})`);
      known.add(output);
    }
  }
  for (const output of graph.outputs) {
    if (!known.has(output.name)) throw new Error(`graph ${graph.name}: output "${output.name}" is never produced`);
  }
}
