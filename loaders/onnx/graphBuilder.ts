// A small DSL for writing ONNX graphs as straight-line code:
//   const y = g.op("MatMul", [x, w]);
// Values are plain strings (ONNX value names); nodes are appended in call order,
// which keeps the graph topologically sorted as ONNX requires.
import {
  checkGraph,
  type AttributeValue,
  type GraphNode,
  type Initializer,
  type OnnxGraph,
  type TensorData,
  type TensorDType,
  type ValueInfo
} from "./model.js";

export const ONNX_OPSET = 17; // LayerNormalization is a standard op from 17 on
export const MS_DOMAIN = "com.microsoft";

export interface OpOptions {
  domain?: string;
  /** Name the (first) output, e.g. a graph output; otherwise one is generated. */
  output?: string;
}

export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly domains = new Set<string>();
  private readonly names = new Set<string>();
  private readonly scopes: string[] = [];
  private counter = 0;

  constructor(readonly name: string, readonly docString?: string) {}

  /** Runs `fn` with node names prefixed by `prefix` (e.g. a state-dict module path). */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private freshName(base: string): string {
    const prefix = this.scopes.length ? this.scopes.join(".") + "/" : "";
    let name = `${prefix}${base}`;
    while (this.names.has(name)) name = `${prefix}${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: the value name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  input(name: string, dtype: TensorDType, shape: (number | string)[]): string {
    this.inputs.push({name: this.claim(name), dtype, shape});
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, dtype: TensorDType, shape: (number | string)[]): void {
    this.outputs.push({name, dtype, shape});
  }

  /** A tensor stored in the model; `data` is called only when the model is written. */
  initializer(name: string, shape: number[], data: () => TensorData, options: {dtype?: TensorDType; role?: Initializer["role"]} = {}): string {
    return this.addInitializer(this.claim(name), shape, data, options);
  }

  private addInitializer(name: string, shape: number[], data: () => TensorData, options: {dtype?: TensorDType; role?: Initializer["role"]}): string {
    this.initializers.push({name, shape, data, dtype: options.dtype ?? "float32", role: options.role ?? "weight"});
    return name;
  }

  /** A small inline constant (shapes, axes, scalars), named from `base` in the current scope. */
  constInt64(base: string, values: number[], shape: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.addInitializer(this.freshName(base), shape, () => data, {dtype: "int64", role: "constant"});
  }

  constFloat32(base: string, values: number[] | Float32Array, shape: number[] = [values.length]): string {
    const data = Float32Array.from(values);
    return this.addInitializer(this.freshName(base), shape, () => data, {dtype: "float32", role: "constant"});
  }

  /** Appends a node with one output and returns that output's name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, options: OpOptions = {}): string {
    return this.opN(opType, inputs, 1, attributes, options)[0];
  }

  /** Appends a node with `outputCount` outputs. */
  opN(opType: string, inputs: string[], outputCount: number, attributes: Record<string, AttributeValue> = {}, options: OpOptions = {}): string[] {
    const nodeName = this.freshName(opType);
    const outputs: string[] = [];
    for (let i = 0; i < outputCount; i++) {
      outputs.push(i === 0 && options.output ? this.claim(options.output) : this.freshName(`${opType}_out${i}`));
    }
    const domain = options.domain ?? "";
    if (domain) this.domains.add(domain);
    this.nodes.push({name: nodeName, opType, domain, inputs, outputs, attributes});
    return outputs;
  }

  build(): OnnxGraph {
    const graph: OnnxGraph = {
      name: this.name,
      docString: this.docString,
      nodes: [...this.nodes],
      initializers: [...this.initializers],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      opsetImports: [{domain: "", version: ONNX_OPSET}, ...[...this.domains].map((domain) => ({domain, version: 1}))]
    };
    checkGraph(graph);
    return graph;
  }
}
