// A checkpoint's tensors, read lazily so a 1.7 GB file never sits in memory twice.

export type DType = "float64" | "float32" | "float16" | "bfloat16" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

export interface TensorRecord {
  name: string;
  dtype: DType;
  shape: number[];
  /** Materialise as float32 (contiguous, row-major), converting from the stored dtype. */
  toFloat32(): Float32Array;
}

export interface StateDict {
  format: "torch-zip" | "safetensors";
  path: string;
  keys(): string[];
  get(name: string): TensorRecord | undefined;
  /** Release file handles. */
  close(): void;
}

/** Keys saved from torch.nn.DataParallel/DistributedDataParallel carry this prefix; open_clip strips it too. */
export const DATA_PARALLEL_PREFIX = "module.";

/** Maps each stored key to its name without the "module." prefix; throws if two keys collide. */
export function stripDataParallelPrefix(keys: Iterable<string>, source: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const key of keys) {
    const name = key.startsWith(DATA_PARALLEL_PREFIX) ? key.slice(DATA_PARALLEL_PREFIX.length) : key;
    const clash = names.get(name);
    if (clash !== undefined) throw new Error(`${source}: keys "${clash}" and "${key}" both name "${name}" once "${DATA_PARALLEL_PREFIX}" is stripped`);
    names.set(name, key);
  }
  return names;
}
