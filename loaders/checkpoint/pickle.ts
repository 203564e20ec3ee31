// A restricted unpickler for torch.save's data.pkl: it builds plain values and never calls code.
// Only the globals torch needs to describe tensors are resolved; any other global is refused by name.
import type {DType} from "./stateDict.js";

/** Thrown when a pickle names a callable outside the allowlist (os.system, builtins.eval, ...). */
export class UnsafePickleError extends Error {
  /** "module.attr" of the refused global, or a description of the refused operation. */
  readonly target: string;
  constructor(source: string, target: string, detail: string) {
    super(`${source}: refusing to unpickle ${detail}: only torch tensor/storage rebuilds and collections.OrderedDict are allowed (this file may be malicious)`);
    this.name = "UnsafePickleError";
    this.target = target;
  }
}

/** A tensor description from torch._utils._rebuild_tensor_v2 (shape and strides in elements). */
export class TorchTensorRef {
  constructor(
    readonly storage: unknown,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** A torch.*Storage class named in a persistent id. */
export class TorchStorageType {
  constructor(readonly name: string, readonly dtype: DType) {}
}

/** A torch dtype constant such as torch.float32. */
export class TorchDTypeValue {
  constructor(readonly name: string, readonly dtype: DType) {}
}

/** Python's OrderedDict (and dict) as a Map; BUILD state (e.g. a state dict's _metadata) is kept aside. */
export class PickleDict extends Map<unknown, unknown> {
  attributes: unknown;
}

/** An allowlisted callable; REDUCE on it builds the value below, nothing is executed. */
class AllowedGlobal {
  constructor(readonly qualifiedName: string) {}
}

export const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: "float32",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  DoubleStorage: "float64",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
  // torch>=2 may name the untyped byte storage for tensors saved from raw storages.
  UntypedStorage: "uint8",
};

const DTYPE_GLOBALS: Record<string, DType> = {
  float32: "float32", float: "float32", float16: "float16", half: "float16", bfloat16: "bfloat16",
  float64: "float64", double: "float64", int64: "int64", long: "int64", int32: "int32", int: "int32",
  int16: "int16", short: "int16", int8: "int8", uint8: "uint8", bool: "bool",
};

const CALLABLES = new Set([
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "collections.OrderedDict",
]);

/**
 * Work limits: a torch state dict's pickle runs some tens of thousands of opcodes with a
 * shallow stack; a hostile one (5e8 DUPs, a memo flood) would otherwise exhaust memory.
 */
export const PICKLE_LIMITS = {
  opcodes: 4_000_000,
  stack: 1_000_000,
  memo: 1_000_000,
  /** LONG1/LONG4 bytes and INT/LONG text digits: building a huge integer takes quadratic time. */
  integerBytes: 256,
};

export interface UnpickleOptions {
  /** Name used in error messages (file and entry). */
  source?: string;
  /** Resolves BINPERSID/PERSID ids (torch: ('storage', storage_type, key, location, numel)). */
  persistentLoad?: (pid: unknown) => unknown;
}

function resolveGlobal(source: string, module: string, name: string, opcode: string, position: number): unknown {
  const qualified = `${module}.${name}`;
  if (CALLABLES.has(qualified)) return new AllowedGlobal(qualified);
  if (module === "torch" && Object.hasOwn(STORAGE_DTYPES, name)) return new TorchStorageType(name, STORAGE_DTYPES[name]);
  if (module === "torch" && Object.hasOwn(DTYPE_GLOBALS, name)) return new TorchDTypeValue(name, DTYPE_GLOBALS[name]);
  throw new UnsafePickleError(source, qualified, `global "${qualified}" (${opcode} at byte ${position})`);
}

function describe(value: unknown): string {
  if (value === null) return "None";
  if (value instanceof AllowedGlobal) return value.qualifiedName;
  if (value instanceof TorchStorageType) return `torch.${value.name}`;
  if (value instanceof TorchDTypeValue) return `torch.${value.name}`;
  if (value instanceof TorchTensorRef) return "a tensor";
  if (value instanceof PickleDict) return "a dict";
  if (Array.isArray(value)) return "a tuple/list";
  return typeof value;
}

/** `fail` names the pickle and the call, so a corrupt argument is reported against the file. */
function asInt(value: unknown, what: string, fail: (message: string) => never): number {
  if (typeof value === "bigint") {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) fail(`${what} ${value} exceeds 2^53`);
    return Number(value);
  }
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return fail(`${what} must be an integer, got ${describe(value)}`);
}

function intTuple(value: unknown, what: string, fail: (message: string) => never): number[] {
  if (!Array.isArray(value)) fail(`${what} must be a tuple of integers, got ${describe(value)}`);
  return (value as unknown[]).map((v, i) => asInt(v, `${what}[${i}]`, fail));
}

/** Applies an allowlisted callable to its arguments: descriptive values only. */
function applyGlobal(source: string, callable: unknown, args: unknown, position: number): unknown {
  if (!(callable instanceof AllowedGlobal)) {
    throw new UnsafePickleError(source, describe(callable), `a call of ${describe(callable)} (REDUCE at byte ${position})`);
  }
  if (!Array.isArray(args)) throw new TypeError(`${source}: ${callable.qualifiedName} expects an argument tuple (byte ${position})`);
  switch (callable.qualifiedName) {
    case "collections.OrderedDict": {
      const dict = new PickleDict();
      if (args.length > 0 && args[0] !== null) {
        const init = args[0];
        if (init instanceof Map) for (const [k, v] of init) dict.set(k, v);
        else if (Array.isArray(init)) for (const pair of init) {
          if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`${source}: OrderedDict items must be pairs (byte ${position})`);
          dict.set(pair[0], pair[1]);
        }
        else throw new TypeError(`${source}: OrderedDict(${describe(init)}) is not supported (byte ${position})`);
      }
      return dict;
    }
    case "torch._utils._rebuild_tensor":
    case "torch._utils._rebuild_tensor_v2": {
      if (args.length < 4) throw new TypeError(`${source}: ${callable.qualifiedName} expects (storage, offset, size, stride, ...), got ${args.length} arguments (byte ${position})`);
      const bad = (message: string): never => {
        throw new TypeError(`${source}: ${callable.qualifiedName}: ${message} (byte ${position}): the pickle is corrupt`);
      };
      return new TorchTensorRef(args[0], asInt(args[1], "storage_offset", bad), intTuple(args[2], "size", bad), intTuple(args[3], "stride", bad));
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state": {
      // A Parameter's data is its tensor; requires_grad, hooks and Python state do not change the numbers.
      if (!(args[0] instanceof TorchTensorRef)) throw new TypeError(`${source}: ${callable.qualifiedName} expects a tensor, got ${describe(args[0])} (byte ${position})`);
      return args[0];
    }
  }
  throw new UnsafePickleError(source, callable.qualifiedName, `a call of ${callable.qualifiedName}`);
}

const textDecoder = new TextDecoder("utf-8", {fatal: true});
const latin1Decoder = new TextDecoder("latin1");

/** Little-endian two's-complement integer of LONG1/LONG4 bytes. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function parseTextInt(line: string): number | bigint | boolean {
  // Protocol 0 spells booleans as I00/I01; LONG text may end in "L".
  if (line === "00") return false;
  if (line === "01") return true;
  const value = BigInt(line.replace(/L$/, ""));
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const REPR_ESCAPES: Record<string, string> = {"\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", f: "\f", v: "\v"};

/** Undoes the escapes of a Python 2 str repr (\\, \', \n, \xHH, octal). */
function unescapeRepr(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return REPR_ESCAPES[e] ?? `\\${e}`;
  });
}

/** Python's raw-unicode-escape, used by protocol 0 UNICODE: only \uXXXX and \UXXXXXXXX are escapes. */
function rawUnicodeEscape(bytes: Uint8Array): string {
  return latin1Decoder.decode(bytes).replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8)!, 16)));
}

/** Parses a pickle (protocols 0-5) into plain values; throws UnsafePickleError at the first disallowed global. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): unknown {
  const source = options.source ?? "pickle";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opStart = 0;
  let opcodes = 0;

  const fail = (message: string): never => {
    throw new Error(`${source}: ${message} (byte ${opStart})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated pickle: needs ${n} more bytes, ${bytes.length - pos} left`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  /** A little-endian fixed-size reader: checks the bytes are there, reads, advances. */
  const fixed = <T>(size: number, get: (offset: number) => T) => (): T => {
    need(size);
    const v = get(pos);
    pos += size;
    return v;
  };
  const u16 = fixed(2, (o) => view.getUint16(o, true));
  const u32 = fixed(4, (o) => view.getUint32(o, true));
  const i32 = fixed(4, (o) => view.getInt32(o, true));
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is impossible`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.slice(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("truncated pickle: unterminated text line");
    if (end - pos > 64 * 1024) fail(`a ${end - pos}-byte text line (opcode argument) is too long`);
    const text = latin1Decoder.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const utf8 = (n: number): string => {
    const raw = take(n);
    try {
      return textDecoder.decode(raw);
    } catch {
      return fail("invalid UTF-8 in a string");
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail("stack underflow: the pickle is corrupt");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail("stack underflow: the pickle is corrupt");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) fail("no MARK to pop to: the pickle is corrupt");
    return stack.splice(mark!);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail(`SETITEM(S) on ${describe(target)}, expected a dict`);
    if (items.length % 2 !== 0) fail("SETITEMS with an odd number of items");
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) fail(`APPEND(S) on ${describe(target)}, expected a list`);
    for (const item of items) (target as unknown[]).push(item);
  };
  const memoGet = (index: number): unknown => {
    if (!memo.has(index)) fail(`memo key ${index} is missing`);
    return memo.get(index);
  };
  const textInt = (text: string): number | bigint | boolean => {
    if (text.length > PICKLE_LIMITS.integerBytes) overLimit("an INT/LONG's digit count", PICKLE_LIMITS.integerBytes);
    try {
      return parseTextInt(text);
    } catch {
      return fail(`INT/LONG ${JSON.stringify(text.slice(0, 40))} is not an integer`);
    }
  };
  const persistent = (pid: unknown): unknown => {
    if (!options.persistentLoad) fail("a persistent id without a persistent_load handler");
    return options.persistentLoad!(pid);
  };

  const overLimit = (what: string, limit: number): never =>
    fail(`${what} exceeds the limit of ${limit.toLocaleString("en-US")}: not a state dict's pickle, or hostile`);
  for (;;) {
    opStart = pos;
    if (++opcodes > PICKLE_LIMITS.opcodes) overLimit("the opcode count", PICKLE_LIMITS.opcodes);
    if (stack.length > PICKLE_LIMITS.stack) overLimit("the stack depth", PICKLE_LIMITS.stack);
    if (memo.size > PICKLE_LIMITS.memo) overLimit("the memo size", PICKLE_LIMITS.memo);
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const protocol = u8();
        if (protocol > 5) fail(`pickle protocol ${protocol} is newer than 5`);
        break;
      }
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack: the pickle is corrupt`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP: like Python, an empty frame pops the mark instead
        if (marks.length > 0 && stack.length === marks[marks.length - 1]) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x49: stack.push(textInt(line())); break; // INT
      case 0x4c: stack.push(textInt(line())); break; // LONG
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail("negative LONG4 length");
        if (n > PICKLE_LIMITS.integerBytes) overLimit("a LONG4 integer's byte count", PICKLE_LIMITS.integerBytes);
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x46: stack.push(parseFloat(line())); break; // FLOAT
      case 0x47: { // BINFLOAT: big-endian double
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x53: { // STRING: a quoted Python 2 repr (protocol 0)
        const text = line().trim();
        if (text.length < 2 || (text[0] !== "'" && text[0] !== '"') || text[text.length - 1] !== text[0]) fail("STRING is not quoted");
        stack.push(unescapeRepr(text.slice(1, -1)));
        break;
      }
      case 0x54: { // BINSTRING
        const n = i32();
        stack.push(latin1Decoder.decode(take(n)));
        break;
      }
      case 0x55: stack.push(latin1Decoder.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x56: { // UNICODE (protocol 0)
        const end = bytes.indexOf(0x0a, pos);
        if (end < 0) fail("truncated pickle: unterminated UNICODE");
        stack.push(rawUnicodeEscape(bytes.subarray(pos, end)));
        pos = end + 1;
        break;
      }
      case 0x58: stack.push(utf8(u32())); break; // BINUNICODE
      case 0x8c: stack.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8(u64())); break; // BINUNICODE8
      case 0x42: stack.push(take(u32())); break; // BINBYTES
      case 0x43: stack.push(take(u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64())); break; // BINBYTES8
      case 0x96: stack.push(take(u64())); break; // BYTEARRAY8
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail("out-of-band buffers (pickle protocol 5 NEXT_BUFFER/READONLY_BUFFER) are not supported");
        break;
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x7d: stack.push(new PickleDict()); break; // EMPTY_DICT
      case 0x8f: stack.push(new Set<unknown>()); break; // EMPTY_SET
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x64: { // DICT
        const dict = new PickleDict();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x61: { // APPEND
        const value = pop();
        appendItems(top(), [value]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x90: { // ADDITEMS
        const items = popMark();
        const target = top();
        if (!(target instanceof Set)) fail(`ADDITEMS on ${describe(target)}, expected a set`);
        for (const item of items) (target as Set<unknown>).add(item);
        break;
      }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x67: stack.push(memoGet(parseInt(line(), 10))); break; // GET
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x70: memo.set(parseInt(line(), 10), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x63: { // GLOBAL "module\nname\n": checked before anything else happens
        const module = line();
        const name = line();
        stack.push(resolveGlobal(source, module, name, "GLOBAL", opStart));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL needs two strings");
        stack.push(resolveGlobal(source, module as string, name as string, "STACK_GLOBAL", opStart));
        break;
      }
      case 0x69: { // INST "module\nname\n": class instantiation, as dangerous as REDUCE
        const module = line();
        const name = line();
        const callable = resolveGlobal(source, module, name, "INST", opStart);
        stack.push(applyGlobal(source, callable, popMark(), opStart));
        break;
      }
      case 0x6f: { // OBJ: class and arguments after the mark
        const items = popMark();
        if (items.length === 0) fail("OBJ without a class");
        stack.push(applyGlobal(source, items[0], items.slice(1), opStart));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        stack.push(applyGlobal(source, cls, args, opStart));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(applyGlobal(source, cls, args, opStart));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(applyGlobal(source, callable, args, opStart));
        break;
      }
      case 0x62: { // BUILD: __setstate__; only a dict's attributes (a state dict's _metadata) are accepted
        const state = pop();
        const target = top();
        if (target instanceof PickleDict) target.attributes = state;
        else throw new UnsafePickleError(source, describe(target), `BUILD (__setstate__) on ${describe(target)} at byte ${opStart}`);
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: { // EXT4: copyreg's extension registry maps codes to arbitrary callables
        const code = op === 0x82 ? u8() : op === 0x83 ? u16() : i32();
        throw new UnsafePickleError(source, `extension code ${code}`, `extension code ${code} (EXT at byte ${opStart}), which names an unknown callable`);
      }
      case 0x50: stack.push(persistent(line())); break; // PERSID
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      default:
        fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, "0")}: not a pickle, or corrupt`);
    }
  }
}
