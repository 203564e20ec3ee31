import {createHash} from "node:crypto";
import {copyFileSync, mkdtempSync, openSync, readFileSync, closeSync, rmSync, writeFileSync, writeSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {unzipSync, zipSync} from "fflate";
import {afterAll, describe, expect, it, vi} from "vitest";
import {float32ToFloat16Bits} from "../loaders/checkpoint/dtypes.js";
import {sha256File} from "../loaders/checkpoint/hash.js";
import {openCheckpoint, sniffCheckpoint} from "../loaders/checkpoint/index.js";
import {PickleDict, UnsafePickleError, unpickle} from "../loaders/checkpoint/pickle.js";
import type {StateDict} from "../loaders/checkpoint/stateDict.js";
import {writeTorchZip} from "../loaders/testing/torchZipWriter.js";
import {ZipFormatError, ZipReader} from "../loaders/checkpoint/zip.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

const tmp = mkdtempSync(join(tmpdir(), "checkpoint-test-"));
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

const bytes = (...parts: (string | number[])[]): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...Buffer.from(p, "latin1")] : p)));
const hex = (h: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(h, "hex"));

function withCheckpoint<T>(path: string, fn: (sd: StateDict) => T): T {
  const sd = openCheckpoint(path);
  try {
    return fn(sd);
  } finally {
    sd.close();
  }
}

/** Expected open_clip state-dict shapes for a ViT + text transformer config (open_clip 2.26.1 naming). */
function openClipShapes(config: {embed_dim: number; vision_cfg: {image_size: number; layers: number; width: number; patch_size: number}; text_cfg: {context_length: number; vocab_size: number; width: number; layers: number}}): Map<string, number[]> {
  const v = config.vision_cfg;
  const t = config.text_cfg;
  const tokens = (v.image_size / v.patch_size) ** 2 + 1;
  const shapes = new Map<string, number[]>([
    ["positional_embedding", [t.context_length, t.width]],
    ["text_projection", [t.width, config.embed_dim]],
    ["logit_scale", []],
    ["visual.class_embedding", [v.width]],
    ["visual.positional_embedding", [tokens, v.width]],
    ["visual.proj", [v.width, config.embed_dim]],
    ["visual.conv1.weight", [v.width, 3, v.patch_size, v.patch_size]],
    ["visual.ln_pre.weight", [v.width]],
    ["visual.ln_pre.bias", [v.width]],
    ["visual.ln_post.weight", [v.width]],
    ["visual.ln_post.bias", [v.width]],
    ["token_embedding.weight", [t.vocab_size, t.width]],
    ["ln_final.weight", [t.width]],
    ["ln_final.bias", [t.width]],
  ]);
  const blocks = (prefix: string, layers: number, width: number): void => {
    for (let i = 0; i < layers; i++) {
      const b = `${prefix}transformer.resblocks.${i}.`;
      shapes.set(`${b}ln_1.weight`, [width]).set(`${b}ln_1.bias`, [width]);
      shapes.set(`${b}attn.in_proj_weight`, [3 * width, width]).set(`${b}attn.in_proj_bias`, [3 * width]);
      shapes.set(`${b}attn.out_proj.weight`, [width, width]).set(`${b}attn.out_proj.bias`, [width]);
      shapes.set(`${b}ln_2.weight`, [width]).set(`${b}ln_2.bias`, [width]);
      shapes.set(`${b}mlp.c_fc.weight`, [4 * width, width]).set(`${b}mlp.c_fc.bias`, [4 * width]);
      shapes.set(`${b}mlp.c_proj.weight`, [width, 4 * width]).set(`${b}mlp.c_proj.bias`, [width]);
    }
  };
  blocks("visual.", v.layers, v.width);
  blocks("", t.layers, t.width);
  return shapes;
}

const sum = (a: Float32Array): number => a.reduce((s, x) => s + x, 0);

describeShared("openclip-micro weights.pt (torch.save zip of a real open_clip model)", () => {
  const weights = sharedPath("fixtures", "openclip-micro", "weights.pt");
  const config = JSON.parse(readFileSync(sharedPath("fixtures", "openclip-micro", "config.json"), "utf8"));
  const expected = JSON.parse(readFileSync(sharedPath("fixtures", "openclip-micro", "expected.json"), "utf8"));

  it("holds exactly the open_clip keys with the shapes the config implies", () => {
    const shapes = openClipShapes(config);
    withCheckpoint(weights, (sd) => {
      expect(sd.format).toBe("torch-zip");
      expect(sd.keys().length).toBe(62);
      expect(new Set(sd.keys())).toEqual(new Set(shapes.keys()));
      for (const [name, shape] of shapes) expect([name, sd.get(name)!.shape]).toEqual([name, shape]);
      expect(sd.get("visual.conv1.weight")!.shape).toEqual([128, 3, 14, 14]);
      expect(sd.get("token_embedding.weight")!.shape).toEqual([49408, 64]);
      expect(sd.get("visual.positional_embedding")!.shape).toEqual([257, 128]);
      expect(sd.get("logit_scale")!.dtype).toBe("float32");
    });
  });

  it("reads logit_scale = ln(1/0.07) = 2.659, bit-identical to open_clip's expected.json", () => {
    withCheckpoint(weights, (sd) => {
      const v = sd.get("logit_scale")!.toFloat32();
      expect(v.length).toBe(1);
      expect(v[0]).toBeCloseTo(Math.log(1 / 0.07), 6);
      expect(v[0]).toBe(Math.fround(expected.logit_scale));
    });
  });

  it("reads values that match an independent Python zipfile+pickle reading of the same file", () => {
    // Sums and end values computed with CPython's zipfile/pickle/array on the fixture's raw storages.
    withCheckpoint(weights, (sd) => {
      const conv = sd.get("visual.conv1.weight")!.toFloat32();
      expect(conv.length).toBe(75264);
      expect(sum(conv)).toBeCloseTo(5.420956632522575, 4);
      expect(conv[0]).toBe(Math.fround(0.0369916632771492));
      expect(conv[conv.length - 1]).toBe(Math.fround(0.02529124543070793));
      const tok = sd.get("token_embedding.weight")!.toFloat32();
      expect(tok.length).toBe(49408 * 64);
      expect(tok[0]).toBe(Math.fround(0.002353197429329157));
      expect(tok[tok.length - 1]).toBe(Math.fround(-0.023492900654673576));
      expect(sum(sd.get("visual.proj")!.toFloat32())).toBeCloseTo(-4.46361427334341, 4);
      expect(sum(sd.get("ln_final.weight")!.toFloat32())).toBeCloseTo(64.8657266497612, 4);
    });
  });

  it("has finite values everywhere and LayerNorm weights near 1 with biases near 0", () => {
    withCheckpoint(weights, (sd) => {
      for (const name of sd.keys()) {
        const v = sd.get(name)!.toFloat32();
        expect([name, v.every(Number.isFinite)]).toEqual([name, true]);
        if (/(ln_\w+|ln_final)\.weight$/.test(name)) {
          const mean = sum(v) / v.length;
          expect([name, mean > 0.8 && mean < 1.2]).toEqual([name, true]);
        }
        if (/(ln_\w+|ln_final)\.bias$/.test(name)) expect([name, Math.abs(sum(v) / v.length) < 0.1]).toEqual([name, true]);
      }
    });
  });

  it("reads tensor bytes from the file only when toFloat32() is called, CRC-checked", () => {
    const copy = join(tmp, "lazy.pt");
    copyFileSync(weights, copy);
    const zip = new ZipReader(copy);
    const logitScaleAt = zip.dataOffset("weights/data/2");
    zip.close();
    withCheckpoint(copy, (sd) => {
      // Rewrite logit_scale's storage after opening: a lazy reader reads the new bytes, and its CRC-32 check refuses them.
      const fd = openSync(copy, "r+");
      writeSync(fd, new Uint8Array(new Float32Array([4.5]).buffer), 0, 4, logitScaleAt);
      closeSync(fd);
      expect(() => sd.get("logit_scale")!.toFloat32()).toThrow(/entry "weights\/data\/2": CRC-32 .* does not match/);
    });
    const sd = openCheckpoint(copy);
    sd.close();
    expect(() => sd.get("logit_scale")!.toFloat32()).toThrow(/closed/);
  });

  it("reports a truncated copy as a truncated zip, naming the file", () => {
    const full = readFileSync(weights);
    for (const keep of [full.length - 10, Math.floor(full.length / 2), 100]) {
      const cut = join(tmp, `cut-${keep}.pt`);
      writeFileSync(cut, full.subarray(0, keep));
      expect(() => openCheckpoint(cut)).toThrow(ZipFormatError);
      expect(() => openCheckpoint(cut)).toThrow(new RegExp(`${cut}: .*truncated`));
    }
  });

  it("reports a flipped byte in data.pkl as a CRC-32 mismatch", () => {
    const corrupt = join(tmp, "corrupt.pt");
    copyFileSync(weights, corrupt);
    const zip = new ZipReader(corrupt);
    const at = zip.dataOffset("weights/data.pkl") + 40;
    zip.close();
    const fd = openSync(corrupt, "r+");
    writeSync(fd, Uint8Array.of(0x7a), 0, 1, at);
    closeSync(fd);
    expect(() => openCheckpoint(corrupt)).toThrow(/CRC-32 .* does not match/);
  });

  it("streams a SHA-256 equal to hashing the whole file at once", async () => {
    const whole = createHash("sha256").update(readFileSync(weights)).digest("hex");
    expect(await sha256File(weights)).toBe(whole);
  });
});

describe("sha256File", () => {
  it("hashes 'abc' to the FIPS 180-2 test vector", async () => {
    const path = join(tmp, "abc.txt");
    writeFileSync(path, "abc");
    expect(await sha256File(path)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("restricted unpickler", () => {
  // CPython 3 pickle.dumps of {'a': [1, 2.5, 'xé中', None, True, False], 'b': (1, 2, 3), 'big': 2**70, 'neg': -5,
  // 'n32': -70000, 'od': OrderedDict(k=1), 'e': (), 'shared': None, 'l1': l, 'l2': l} with l = [7], per protocol.
  const cpython: Record<number, string> = {
    0: "286470300a56610a70310a286c70320a49310a6146322e350a615678e95c75346532640a70330a614e614930310a614930300a617356620a70340a2849310a49320a49330a7470350a73566269670a70360a4c313138303539313632303731373431313330333432344c0a73566e65670a70370a492d350a73566e33320a70380a492d37303030300a73566f640a70390a63636f6c6c656374696f6e730a4f726465726564446963740a7031300a2874527031310a566b0a7031320a49310a737356650a7031330a287473567368617265640a7031340a4e73566c310a7031350a286c7031360a49370a6173566c320a7031370a6731360a732e",
    1: "7d71002858010000006171015d7102284b01474004000000000000580600000078c3a9e4b8ad71034e4930310a4930300a655801000000627104284b014b024b03747105580300000062696771064c313138303539313632303731373431313330333432344c0a58030000006e656771074afbffffff58030000006e333271084a90eefeff58020000006f64710963636f6c6c656374696f6e730a4f726465726564446963740a710a2952710b58010000006b710c4b0173580100000065710d295806000000736861726564710e4e58020000006c31710f5d71104b076158020000006c3271116810752e",
    2: "80027d71002858010000006171015d7102284b01474004000000000000580600000078c3a9e4b8ad71034e88896558010000006271044b014b024b03877105580300000062696771068a0900000000000000004058030000006e656771074afbffffff58030000006e333271084a90eefeff58020000006f64710963636f6c6c656374696f6e730a4f726465726564446963740a710a2952710b58010000006b710c4b0173580100000065710d295806000000736861726564710e4e58020000006c31710f5d71104b076158020000006c3271116810752e",
    4: "800495a4000000000000007d94288c0161945d94284b014740040000000000008c0678c3a9e4b8ad944e8889658c0162944b014b024b0387948c03626967948a090000000000000000408c036e6567944afbffffff8c036e3332944a90eefeff8c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c016594298c06736861726564944e8c026c31945d944b07618c026c32946812752e",
    5: "800595a4000000000000007d94288c0161945d94284b014740040000000000008c0678c3a9e4b8ad944e8889658c0162944b014b024b0387948c03626967948a090000000000000000408c036e6567944afbffffff8c036e3332944a90eefeff8c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c016594298c06736861726564944e8c026c31945d944b07618c026c32946812752e",
  };
  for (const [protocol, h] of Object.entries(cpython)) {
    it(`decodes CPython's protocol ${protocol} pickle of lists, tuples, big ints, unicode, OrderedDict and shared refs`, () => {
      const v = unpickle(hex(h)) as Map<string, unknown>;
      expect(v).toBeInstanceOf(Map);
      expect(v.get("a")).toEqual([1, 2.5, "xé中", null, true, false]);
      expect(v.get("b")).toEqual([1, 2, 3]);
      expect(v.get("big")).toBe(2n ** 70n);
      expect(v.get("neg")).toBe(-5);
      expect(v.get("n32")).toBe(-70000);
      expect(v.get("od")).toBeInstanceOf(PickleDict);
      expect([...(v.get("od") as Map<string, number>)]).toEqual([["k", 1]]);
      expect(v.get("e")).toEqual([]);
      expect(v.get("shared")).toBeNull();
      expect(v.get("l1")).toEqual([7]);
      expect(v.get("l2")).toBe(v.get("l1"));
    });
  }

  it("decodes protocol 4 bytes, frozenset, set and negative LONG1", () => {
    // CPython: pickle.dumps({'bytes': b'ab', 'fs': frozenset([3]), 'set': {4}, 'neg_big': -2**70}, protocol=4)
    const v = unpickle(hex("8004953d000000000000007d94288c0562797465739443026162948c02667394284b0391948c03736574948f94284b04908c076e65675f626967948a090000000000000000c0752e")) as Map<string, unknown>;
    expect(v.get("bytes")).toEqual(Uint8Array.of(0x61, 0x62));
    expect(v.get("fs")).toEqual(new Set([3]));
    expect(v.get("set")).toEqual(new Set([4]));
    expect(v.get("neg_big")).toBe(-(2n ** 70n));
  });

  it("decodes protocol 0 STRING (Python 2 repr) and UNICODE (raw-unicode-escape) escapes", () => {
    expect(unpickle(bytes("S'it\\'s\\n\\x41\\101'\n."))).toBe("it's\nAA");
    // CPython 3: pickle.dumps("it's\n\x01\\ok", protocol=0) without the memo PUT.
    expect(unpickle(bytes("Vit's\\u000a\x01\\u005cok\n."))).toBe("it's\n\x01\\ok");
  });

  const malicious: [string, Uint8Array, string][] = [
    ["GLOBAL os.system", bytes("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."), "os.system"],
    ["STACK_GLOBAL builtins.eval", bytes("\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x05print\x85R."), "builtins.eval"],
    ["subprocess.Popen via REDUCE", bytes("\x80\x02csubprocess\nPopen\n]X\x02\x00\x00\x00lsa\x85R."), "subprocess.Popen"],
    ["posix.system via INST", bytes("(Vid\niposix\nsystem\n."), "posix.system"],
    ["nt.system via OBJ", bytes("(cnt\nsystem\nVdir\no."), "nt.system"],
    ["__builtin__.exec (protocol 0)", bytes("c__builtin__\nexec\n(Vprint(1)\ntR."), "__builtin__.exec"],
    ["torch.load itself via NEWOBJ", bytes("\x80\x02ctorch\nload\n)\x81."), "torch.load"],
    ["builtins.getattr smuggled as a storage type", bytes("\x80\x02(X\x07\x00\x00\x00storagecbuiltins\ngetattr\nt."), "builtins.getattr"],
  ];
  for (const [what, pkl, target] of malicious) {
    it(`refuses ${what} with an UnsafePickleError naming ${target}`, () => {
      const persistentLoad = vi.fn();
      let error: unknown;
      try {
        unpickle(pkl, {source: "evil.pkl", persistentLoad});
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnsafePickleError);
      expect((error as UnsafePickleError).target).toBe(target);
      expect((error as Error).message).toContain(`"${target}"`);
      expect((error as Error).message).toMatch(/^evil\.pkl: refusing/);
      expect(persistentLoad).not.toHaveBeenCalled();
    });
  }

  it("refuses BUILD (__setstate__) on anything but a dict, and copyreg extension codes", () => {
    expect(() => unpickle(bytes("\x80\x02]}b."))).toThrow(UnsafePickleError);
    expect(() => unpickle(bytes("\x80\x02\x82\x01."))).toThrow(/extension code 1/);
  });

  it("reports a truncated pickle and an unknown opcode by byte position", () => {
    expect(() => unpickle(bytes("\x80\x02X\x10\x00\x00\x00ab"))).toThrow(/truncated pickle.*byte 2/);
    expect(() => unpickle(bytes("\x80\x02\xff"))).toThrow(/unknown pickle opcode 0xff/);
  });
});

describe("torch zip checkpoints written by writeTorchZip", () => {
  const a = Float32Array.from({length: 12}, (_, i) => i + 0.5);
  const halfValues = [1, -2, 0.333, 65504, 2 ** -24, -0, Infinity, 1e-5];
  const half = Uint16Array.from(halfValues.map(float32ToFloat16Bits));
  // bfloat16 bits: 1, -2, 3.140625 (pi truncated to 8 mantissa bits), 1.171875 * 2^126, smallest normal 2^-126.
  const bf16 = Uint16Array.of(0x3f80, 0xc000, 0x4049, 0x7e96, 0x0080);
  const tensors = {
    "a": {shape: [3, 4], data: a, dtype: "float32" as const},
    "a.T": {shape: [4, 3], stride: [1, 4], data: a, dtype: "float32" as const},
    "a.sub": {shape: [2, 2], stride: [4, 2], storageOffset: 1, data: a, dtype: "float32" as const},
    "h": {shape: [8], data: half, dtype: "float16" as const},
    "b": {shape: [5], data: bf16, dtype: "bfloat16" as const},
    "scalar": {shape: [], data: new Float32Array([2.5]), dtype: "float32" as const},
    "empty": {shape: [0, 4], data: new Float32Array(0), dtype: "float32" as const},
  };

  it("round-trips float32 values, a transposed view and an offset strided view as row-major arrays", () => {
    const path = join(tmp, "plain.pt");
    expect(writeTorchZip(path, tensors).tensors).toBe(7);
    withCheckpoint(path, (sd) => {
      expect(sd.keys()).toEqual(Object.keys(tensors));
      expect(Array.from(sd.get("a")!.toFloat32())).toEqual(Array.from(a));
      expect(Array.from(sd.get("a.T")!.toFloat32())).toEqual([0.5, 4.5, 8.5, 1.5, 5.5, 9.5, 2.5, 6.5, 10.5, 3.5, 7.5, 11.5]);
      expect(Array.from(sd.get("a.sub")!.toFloat32())).toEqual([1.5, 3.5, 5.5, 7.5]);
      expect(Array.from(sd.get("scalar")!.toFloat32())).toEqual([2.5]);
      expect(sd.get("empty")!.shape).toEqual([0, 4]);
      expect(sd.get("empty")!.toFloat32().length).toBe(0);
    });
  });

  it("converts float16 (including subnormals and infinity) and bfloat16 to float32 exactly", () => {
    const path = join(tmp, "half.pt");
    writeTorchZip(path, tensors);
    withCheckpoint(path, (sd) => {
      expect(sd.get("h")!.dtype).toBe("float16");
      const h = Array.from(sd.get("h")!.toFloat32());
      // 0.333 and 1e-5 are the nearest halves: 0.3330078125 (1365/4096) and 10.0136e-6 (168 * 2^-24).
      expect(h).toEqual([1, -2, 0.3330078125, 65504, 2 ** -24, -0, Infinity, 168 * 2 ** -24]);
      expect(Object.is(h[5], -0)).toBe(true);
      expect(sd.get("b")!.dtype).toBe("bfloat16");
      expect(Array.from(sd.get("b")!.toFloat32())).toEqual([1, -2, 3.140625, 1.171875 * 2 ** 126, 2 ** -126]);
    });
  });

  for (const wrap of ["state_dict", "model"]) {
    it(`unwraps {"${wrap}": ...} and strips DataParallel "module." prefixes`, () => {
      const path = join(tmp, `wrapped-${wrap}.pt`);
      writeTorchZip(path, tensors, {wrap, prefix: "module."});
      withCheckpoint(path, (sd) => {
        expect(sd.keys()).toEqual(Object.keys(tensors));
        expect(Array.from(sd.get("a.T")!.toFloat32()).slice(0, 3)).toEqual([0.5, 4.5, 8.5]);
      });
    });
  }

  it("streams tensors from a generator and aligns storages to 64 bytes as torch does", () => {
    const path = join(tmp, "generated.pt");
    function* layers() {
      for (let i = 0; i < 3; i++) yield {name: `layer${i}.weight`, shape: [5, 7], dtype: "float32" as const, data: new Float32Array(35).fill(i)};
    }
    expect(writeTorchZip(path, layers(), {archiveName: "generated"}).tensors).toBe(3);
    const zip = new ZipReader(path);
    for (const name of zip.names()) expect([name, zip.dataOffset(name) % 64]).toEqual([name, 0]);
    zip.close();
    withCheckpoint(path, (sd) => expect(sd.keys().map((k) => sum(sd.get(k)!.toFloat32()))).toEqual([0, 35, 70]));
  });

  it("reads zip64 records (forced on a small file) the same as plain ones", () => {
    const path = join(tmp, "zip64.pt");
    writeTorchZip(path, tensors, {forceZip64: true});
    const raw = readFileSync(path);
    expect(raw.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    withCheckpoint(path, (sd) => expect(Array.from(sd.get("a.sub")!.toFloat32())).toEqual([1.5, 3.5, 5.5, 7.5]));
  });

  it("writes zips that fflate (an independent reader) unpacks, and reads fflate's DEFLATE re-zip", () => {
    const path = join(tmp, "for-fflate.pt");
    writeTorchZip(path, tensors);
    const entries = unzipSync(readFileSync(path));
    expect(Object.keys(entries).sort()).toEqual(["archive/byteorder", "archive/data.pkl", "archive/data/0", "archive/data/1", "archive/data/2", "archive/data/3", "archive/data/4", "archive/data/5", "archive/data/6", "archive/version"]);
    expect(new Float32Array(entries["archive/data/0"].slice().buffer)).toEqual(a);
    const deflated = join(tmp, "deflated.pt");
    writeFileSync(deflated, zipSync(entries, {level: 6}));
    const zip = new ZipReader(deflated);
    expect(zip.entry("archive/data/0")!.method).toBe(8);
    zip.close();
    withCheckpoint(deflated, (sd) => {
      expect(Array.from(sd.get("a.T")!.toFloat32()).slice(0, 4)).toEqual([0.5, 4.5, 8.5, 1.5]);
      expect(Array.from(sd.get("h")!.toFloat32()).slice(0, 2)).toEqual([1, -2]);
    });
  });

  it("refuses a malicious data.pkl inside an otherwise valid torch zip, naming the callable", () => {
    const path = join(tmp, "evil.pt");
    writeFileSync(path, zipSync({"archive/data.pkl": bytes("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."), "archive/version": bytes("3\n")}, {level: 0}));
    expect(() => openCheckpoint(path)).toThrow(UnsafePickleError);
    expect(() => openCheckpoint(path)).toThrow(/evil\.pt \(archive\/data\.pkl\): refusing to unpickle global "os\.system"/);
  });

  it("refuses os.system hidden after valid tensors in a real state dict", () => {
    const path = join(tmp, "tail.pt");
    writeTorchZip(path, tensors);
    const entries = unzipSync(readFileSync(path));
    const pkl = entries["archive/data.pkl"];
    expect(Array.from(pkl.subarray(-2))).toEqual([0x75, 0x2e]); // SETITEMS STOP
    // ... SETITEMS, then d["evil"] = os.system("ls"), STOP
    entries["archive/data.pkl"] = bytes([...pkl.subarray(0, -1)], "X\x04\x00\x00\x00evilcos\nsystem\nX\x02\x00\x00\x00ls\x85Rs.");
    const evil = join(tmp, "tail-evil.pt");
    writeFileSync(evil, zipSync(entries, {level: 0}));
    expect(() => openCheckpoint(evil)).toThrow(/"os\.system"/);
  });

  it("rejects a storage entry shorter than its tensor and a missing storage entry", () => {
    const path = join(tmp, "short.pt");
    writeTorchZip(path, {w: {shape: [2, 3], data: new Float32Array(6), dtype: "float32"}});
    const entries = unzipSync(readFileSync(path));
    const short = join(tmp, "short-storage.pt");
    writeFileSync(short, zipSync({...entries, "archive/data/0": new Uint8Array(20)}, {level: 0}));
    expect(() => openCheckpoint(short)).toThrow(/holds 20 bytes but storage 0 is declared as 6 x float32 \(torch.FloatStorage\) = 24 bytes/);
    const missing = join(tmp, "missing-storage.pt");
    const {["archive/data/0"]: _dropped, ...rest} = entries;
    writeFileSync(missing, zipSync(rest, {level: 0}));
    expect(() => openCheckpoint(missing)).toThrow(/storage "0" is missing its entry archive\/data\/0/);
  });
});

describe("a real torch 1.13 torch.save file (tests/fixtures/checkpoint/torch-1.13-wrapped.pt)", () => {
  // Made by make_torch_fixture.py beside it: {"epoch", "name", "state_dict" (module.-prefixed), "optimizer"}.
  const path = join(repoRoot, "tests", "fixtures", "checkpoint", "torch-1.13-wrapped.pt");
  const base = Array.from({length: 30}, (_, i) => i / 4);

  it("finds the state dict beside epoch/optimizer entries and strips module.", () => {
    withCheckpoint(path, (sd) => {
      expect(sd.keys()).toEqual(["lin.weight", "lin.weight_t", "window", "param", "half", "bf16", "long", "mask", "double", "expanded", "scale"]);
      expect(sd.get("lin.weight")!.shape).toEqual([5, 6]);
      expect(Array.from(sd.get("lin.weight")!.toFloat32())).toEqual(base);
    });
  });

  it("materialises a transpose sharing storage, an offset window and a zero-stride expand as row-major", () => {
    withCheckpoint(path, (sd) => {
      const t = sd.get("lin.weight_t")!;
      expect(t.shape).toEqual([6, 5]);
      const v = t.toFloat32();
      for (let r = 0; r < 6; r++) for (let c = 0; c < 5; c++) expect(v[r * 5 + c]).toBe(base[c * 6 + r]);
      // base[1:4, 2:5]: rows 1..3, columns 2..4.
      expect(Array.from(sd.get("window")!.toFloat32())).toEqual([2, 2.25, 2.5, 3.5, 3.75, 4, 5, 5.25, 5.5]);
      expect(Array.from(sd.get("expanded")!.toFloat32())).toEqual([1, 2, 1, 2, 1, 2]);
    });
  });

  it("reads a Parameter, float16, bfloat16, int64, bool, float64 and a 0-d tensor", () => {
    withCheckpoint(path, (sd) => {
      const values = Object.fromEntries(["param", "half", "bf16", "long", "mask", "double", "scale"].map((k) => [k, [sd.get(k)!.dtype, Array.from(sd.get(k)!.toFloat32())]]));
      expect(values).toEqual({
        param: ["float32", [0.5, -1.5, 2]],
        half: ["float16", [1, -2, 0.3330078125]],
        bf16: ["bfloat16", [1, 3.140625]],
        long: ["int64", [Math.fround(2 ** 40 + 3), -7]],
        mask: ["bool", [1, 0]],
        double: ["float64", [Math.fround(3.14159)]],
        scale: ["float32", [Math.fround(2.659260034561157)]],
      });
      expect(sd.get("scale")!.shape).toEqual([]);
    });
  });
});

/** Minimal safetensors writer for tests: header padded to 8 bytes, tensors back to back. */
function writeSafetensors(path: string, tensors: [string, string, number[], Uint8Array][], metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = metadata ? {__metadata__: metadata} : {};
  let offset = 0;
  for (const [name, dtype, shape, data] of tensors) {
    header[name] = {dtype, shape, data_offsets: [offset, offset + data.length]};
    offset += data.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([length, Buffer.from(json), ...tensors.map((t) => t[3])]));
}

const le = (array: ArrayBufferView): Uint8Array => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

describe("safetensors", () => {
  const path = join(tmp, "model.safetensors");
  writeSafetensors(path, [
    ["module.f32", "F32", [2, 2], le(Float32Array.of(1.5, -2, 3.25, 4))],
    ["module.f16", "F16", [3], le(Uint16Array.from([0.5, -1, 65504].map(float32ToFloat16Bits)))],
    ["module.bf16", "BF16", [2], le(Uint16Array.of(0x3f80, 0x4049))],
    ["module.f64", "F64", [1], le(Float64Array.of(Math.PI))],
    ["module.i64", "I64", [2], le(BigInt64Array.of(2n ** 40n + 3n, -7n))],
    ["module.i32", "I32", [1], le(Int32Array.of(-123456))],
    ["module.i16", "I16", [1], le(Int16Array.of(-300))],
    ["module.i8", "I8", [2], le(Int8Array.of(-128, 127))],
    ["module.u8", "U8", [1], le(Uint8Array.of(255))],
    ["module.bool", "BOOL", [2], le(Uint8Array.of(1, 0))],
  ], {format: "pt"});

  it("round-trips every dtype to float32 (int64 2^40+3 rounds to float32's 2^40), with module. prefixes stripped", () => {
    withCheckpoint(path, (sd) => {
      expect(sd.format).toBe("safetensors");
      expect(sd.keys()).toEqual(["f32", "f16", "bf16", "f64", "i64", "i32", "i16", "i8", "u8", "bool"]);
      const values = Object.fromEntries(sd.keys().map((k) => [k, Array.from(sd.get(k)!.toFloat32())]));
      expect(values).toEqual({
        f32: [1.5, -2, 3.25, 4], f16: [0.5, -1, 65504], bf16: [1, 3.140625], f64: [Math.fround(Math.PI)],
        i64: [Math.fround(2 ** 40 + 3), -7], i32: [-123456], i16: [-300], i8: [-128, 127], u8: [255], bool: [1, 0],
      });
      expect(sd.get("f32")!.shape).toEqual([2, 2]);
      expect(sd.get("i64")!.dtype).toBe("int64");
    });
  });

  it("rejects data_offsets past the end of a truncated file", () => {
    const full = readFileSync(path);
    const cut = join(tmp, "cut.safetensors");
    writeFileSync(cut, full.subarray(0, full.length - 1));
    expect(() => openCheckpoint(cut)).toThrow(/tensor "module.bool" data_offsets \[\d+, \d+\] run past the \d+ data bytes/);
  });

  it("rejects a shape that does not match its byte range, and unknown dtypes", () => {
    const bad = join(tmp, "bad.safetensors");
    writeSafetensors(bad, [["w", "F32", [3], le(Float32Array.of(1, 2))]]);
    expect(() => openCheckpoint(bad)).toThrow(/"w" \[3\] F32 needs 12 bytes but data_offsets span 8/);
    writeSafetensors(bad, [["w", "C64", [1], new Uint8Array(8)]]);
    expect(() => openCheckpoint(bad)).toThrow(/dtype "C64"/);
  });
});

describe("openCheckpoint format detection", () => {
  it("says a legacy (pre-1.6) torch pickle must be re-saved with torch>=1.6", () => {
    const path = join(tmp, "legacy.pt");
    // Legacy torch.save starts with the pickled magic number 0x1950a86a20f9469cfc6c.
    writeFileSync(path, hex("80028a0a6cfc9c46f9206aa850192e"));
    expect(() => openCheckpoint(path)).toThrow(/legacy .* re-save it with torch>=1\.6/);
  });

  it("names unknown formats with their first bytes", () => {
    const path = join(tmp, "notes.txt");
    writeFileSync(path, "hello, not a model");
    expect(() => openCheckpoint(path)).toThrow(/unknown checkpoint format \(18 bytes, starts with 68 65 6c 6c/);
    expect(sniffCheckpoint(new Uint8Array(0), 0)).toBe("unknown");
  });
});
