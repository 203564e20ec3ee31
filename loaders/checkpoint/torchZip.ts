// torch.save (>= 1.6) zip checkpoints: <prefix>/data.pkl describes tensors, <prefix>/data/<key> holds storage bytes.
import {DTYPE_BYTES, materialiseFloat32, storageSpan} from "./dtypes.js";
import {PickleDict, TorchStorageType, TorchTensorRef, unpickle} from "./pickle.js";
import {stripDataParallelPrefix, type DType, type StateDict, type TensorRecord} from "./stateDict.js";
import {ZipReader} from "./zip.js";

/** FetalCLIP's data.pkl is about 100 KB (one record per tensor); a larger one is not a state dict. */
export const MAX_PICKLE_BYTES = 32 * 1024 * 1024;

/** A broadcast view may have at most this many elements (checkpoint weights never are broadcast). */
export const MAX_BROADCAST_ELEMENTS = 1 << 20;

/** Keys under which training scripts nest the model's state dict (open_clip: "state_dict"). */
export const STATE_DICT_WRAPPERS = ["state_dict", "model", "module", "model_state_dict"];

interface StorageRef {
  dtype: DType;
  key: string;
  numel: number;
  entry: string;
}

function describeValue(value: unknown): string {
  if (value instanceof Map) return `a dict with keys [${[...value.keys()].slice(0, 8).map(String).join(", ")}${value.size > 8 ? ", ..." : ""}]`;
  if (value instanceof TorchTensorRef) return "a tensor";
  if (Array.isArray(value)) return `a ${value.length}-tuple/list`;
  return value === null ? "None" : typeof value;
}

/** A pickled value for an error message: JSON when it has a form (BigInt as digits), else its kind; never throws. */
function showValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    text = undefined; // circular (a list holding itself through the memo)
  }
  if (text === undefined) return describeValue(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function tensorCount(value: Map<unknown, unknown>): number {
  let n = 0;
  for (const v of value.values()) if (v instanceof TorchTensorRef) n++;
  return n;
}

/** The flat name -> tensor map inside a checkpoint, unwrapping {"state_dict": ...}-style containers. */
function findStateDict(root: unknown, source: string): Map<unknown, unknown> {
  let current = root;
  for (let depth = 0; depth < 3; depth++) {
    if (!(current instanceof Map)) break;
    if (tensorCount(current) > 0) return current;
    const wrapper = STATE_DICT_WRAPPERS.find((key) => current instanceof Map && current.get(key) instanceof Map);
    if (!wrapper) break;
    current = current.get(wrapper);
  }
  throw new Error(`${source}: no state dict of tensors found: the pickle holds ${describeValue(current)} (expected name -> tensor, possibly under ${STATE_DICT_WRAPPERS.map((k) => `"${k}"`).join("/")})`);
}

/** The archive's single top-level folder (torch names it after the file, or "archive"). */
function findPrefix(zip: ZipReader): string {
  const pickles = zip.names().filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length === 0) throw new Error(`${zip.path}: a zip but not a torch.save checkpoint: no <name>/data.pkl entry (entries: ${zip.names().slice(0, 5).join(", ")})`);
  if (pickles.length > 1) throw new Error(`${zip.path}: several data.pkl entries (${pickles.join(", ")}); expected one`);
  return pickles[0].slice(0, -"data.pkl".length);
}

/** Opens a torch.save zip checkpoint; tensor bytes are read only by toFloat32(). */
export function openTorchZip(path: string): StateDict {
  const zip = new ZipReader(path);
  try {
    const prefix = findPrefix(zip);
    const byteOrderEntry = `${prefix}byteorder`;
    if (zip.entry(byteOrderEntry)) {
      const order = new TextDecoder().decode(zip.readEntry(byteOrderEntry)).trim();
      if (order !== "little") throw new Error(`${path}: saved with byteorder "${order}"; only little-endian checkpoints are supported`);
    }
    const pickleName = `${prefix}data.pkl`;
    const source = `${path} (${pickleName})`;
    const storages = new Map<string, StorageRef>();
    const persistentLoad = (pid: unknown): StorageRef => {
      if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== "storage") {
        throw new Error(`${source}: unexpected persistent id ${showValue(pid)}; expected ('storage', type, key, location, numel)`);
      }
      const [, type, key, , numel] = pid as unknown[];
      if (!(type instanceof TorchStorageType)) throw new Error(`${source}: persistent id storage type is ${describeValue(type)}, expected a torch.*Storage`);
      if (type.name === "UntypedStorage") {
        throw new Error(`${source}: storage ${showValue(key)} is a torch.UntypedStorage (raw bytes, no element type); torch.save writes typed storages (torch.FloatStorage, torch.HalfStorage, ...) for tensors, so this file was not written by torch.save or was altered`);
      }
      if (typeof key !== "string") throw new Error(`${source}: storage key must be a string, got ${describeValue(key)}`);
      if (typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) throw new Error(`${source}: storage ${key} numel must be a non-negative integer, got ${String(numel)}`);
      const entry = `${prefix}data/${key}`;
      const stored = zip.entry(entry);
      if (!stored) throw new Error(`${path}: storage "${key}" is missing its entry ${entry}`);
      const needBytes = numel * DTYPE_BYTES[type.dtype];
      // torch.save writes exactly numel x element size bytes per storage: any other count means the type or the data lies.
      if (stored.uncompressedSize !== needBytes) {
        throw new Error(`${path}: entry ${entry} holds ${stored.uncompressedSize} bytes but storage ${key} is declared as ${numel} x ${type.dtype} (torch.${type.name}) = ${needBytes} bytes: the storage type or the data is wrong`);
      }
      // The same storage may back several tensors (tied weights); one record per key, and it must say the same each time.
      const seen = storages.get(key);
      if (seen && (seen.dtype !== type.dtype || seen.numel !== numel)) {
        throw new Error(`${source}: storage ${JSON.stringify(key)} is declared twice, as ${seen.numel} x ${seen.dtype} and as ${numel} x ${type.dtype}`);
      }
      const known = seen ?? {dtype: type.dtype, key, numel, entry};
      storages.set(key, known);
      return known;
    };
    const pickleEntry = zip.entry(pickleName)!;
    if (pickleEntry.uncompressedSize > MAX_PICKLE_BYTES) {
      throw new Error(`${source}: the pickle declares ${pickleEntry.uncompressedSize} bytes, over the ${MAX_PICKLE_BYTES}-byte limit for a state dict's description: not a model checkpoint, or hostile`);
    }
    const root = unpickle(zip.readEntry(pickleName), {source, persistentLoad});
    const dict = findStateDict(root, source);
    const tensors = new Map<string, TensorRecord>();
    const stored = [...dict.keys()].filter((k): k is string => typeof k === "string" && dict.get(k) instanceof TorchTensorRef);
    for (const [name, key] of stripDataParallelPrefix(stored, source)) {
      tensors.set(name, tensorRecord(zip, name, dict.get(key) as TorchTensorRef, source));
    }
    return {
      format: "torch-zip",
      path,
      keys: () => [...tensors.keys()],
      get: (name) => tensors.get(name),
      close: () => zip.close(),
    };
  } catch (error) {
    zip.close();
    throw error;
  }
}

function tensorRecord(zip: ZipReader, name: string, ref: TorchTensorRef, source: string): TensorRecord {
  const storage = ref.storage as StorageRef;
  if (!storage || typeof storage.entry !== "string") throw new Error(`${source}: tensor "${name}" has no storage`);
  const {shape, stride, storageOffset} = ref;
  if (shape.length !== stride.length) throw new Error(`${source}: tensor "${name}" has shape [${shape}] but strides [${stride}]`);
  if (shape.some((d) => d < 0) || stride.some((s) => s < 0) || storageOffset < 0) {
    throw new Error(`${source}: tensor "${name}" has a negative size, stride or offset`);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  // A zero-stride (broadcast) view can declare a huge tensor over a tiny storage: a few bytes of
  // file would then allocate gigabytes. Weights are never broadcast; small expanded buffers may be.
  if (numel > storage.numel && numel > MAX_BROADCAST_ELEMENTS) {
    throw new Error(`${source}: tensor "${name}" [${shape}] has ${numel} elements over a ${storage.numel}-element storage: a broadcast (zero-stride) view over the ${MAX_BROADCAST_ELEMENTS}-element limit`);
  }
  const span = storageSpan(shape, stride, storageOffset);
  if (span.first + span.count > storage.numel) {
    throw new Error(`${source}: tensor "${name}" [${shape}] at offset ${storageOffset} reaches element ${span.first + span.count} of a ${storage.numel}-element storage`);
  }
  return {
    name,
    dtype: storage.dtype,
    shape: [...shape],
    toFloat32: () =>
      materialiseFloat32(storage.dtype, shape, stride, storageOffset, (byteStart, into) => {
        zip.readRange(storage.entry, byteStart, into.length, into);
      }),
  };
}
