// A float32 tensor that carries its shape: patch tokens, ln_1 activations and the
// maps computed from them travel as {data, dims}, never as bare arrays whose shape
// lives in a comment.

export interface Tensor {
  /** Row-major values; data.length is the product of dims. */
  data: Float32Array;
  dims: readonly number[];
}

/** Number of values a shape holds. */
export function shapeSize(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/** A tensor, checked: every dim a non-negative integer and data.length their product. */
export function tensor(data: Float32Array, dims: readonly number[]): Tensor {
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`tensor: bad dims [${dims.join(", ")}]`);
  if (data.length !== shapeSize(dims)) throw new Error(`tensor: ${data.length} values do not fill dims [${dims.join(", ")}]`);
  return {data, dims: [...dims]};
}

/** Splits a batched tensor [batch, ...rest] into `batch` tensors of shape rest (copies). */
export function unbatch(batched: Tensor): Tensor[] {
  const [batch, ...rest] = batched.dims;
  if (batch === undefined) throw new Error("unbatch: a scalar has no batch dimension");
  const per = shapeSize(rest);
  if (batched.data.length !== batch * per) throw new Error(`unbatch: ${batched.data.length} values do not fill dims [${batched.dims.join(", ")}]`);
  return Array.from({length: batch}, (_, i) => ({data: batched.data.slice(i * per, (i + 1) * per), dims: rest}));
}
