import {readFileSync} from "node:fs";
import {gzipSync, strToU8} from "fflate";
import {beforeAll, describe, expect, it} from "vitest";
import {basicClean, cleanLower, htmlUnescape, whitespaceClean} from "../src/lib/textClean.js";
import {bytesToUnicode, readMergesFile, Tokenizer} from "../src/lib/tokenizer.js";
import {describeShared, sharedPath} from "./shared.js";

// A four-merge vocabulary in CLIP's file format: enough to check ids by hand.
// Ids: 256 byte symbols (printable bytes first, open_clip's dict order), 256 word-final
// byte symbols, one id per merge, then <start_of_text>, <end_of_text>.
const TINY_MERGES = "#version: 0.2\nf e\nfe t\na l</w>\nfet al</w>\n";
const byteId = (ch: string) => ch.charCodeAt(0) - 0x21; // printable ASCII sits first, from "!"

describe("Tokenizer on a small merges file", () => {
  const tok = Tokenizer.fromMerges(TINY_MERGES);

  it("takes every merge of a short file: vocabSize = 512 + merges + 2 specials", () => {
    expect(tok.vocabSize).toBe(512 + 4 + 2);
    expect(tok.sot).toBe(516);
    expect(tok.eot).toBe(517);
  });

  it("applies merges by rank until the word is one symbol", () => {
    expect(tok.encode("fetal")).toEqual([512 + 3]);
  });

  it("falls back to byte symbols, word-final ones carrying </w>", () => {
    // "fe" -> f + e</w>: the pair (f, e</w>) is not a merge.
    expect(tok.encode("fe")).toEqual([byteId("f"), 256 + byteId("e")]);
    expect(tok.encode("a")).toEqual([256 + byteId("a")]);
  });

  it("lower-cases and splits digits one by one", () => {
    expect(tok.encode("FETAL 12")).toEqual([515, 256 + byteId("1"), 256 + byteId("2")]);
  });

  it("frames with SOT/EOT and pads with zeros to the context length", () => {
    expect(tok.tokenize(["fetal", ""], 5)).toEqual([
      [516, 515, 517, 0, 0],
      [516, 517, 0, 0, 0]
    ]);
  });

  it("truncates an over-long text and forces EOT into the last slot", () => {
    const [row] = tok.tokenize(["a a a a a a"], 4);
    expect(row).toEqual([516, 256 + byteId("a"), 256 + byteId("a"), 517]);
  });

  it("decodes ids back to text with word ends as spaces", () => {
    expect(tok.decode(tok.encode("fetal fe"))).toBe("fetal fe ");
  });

  it("rejects a malformed merges line, naming the line", () => {
    expect(() => Tokenizer.fromMerges("#version: 0.2\na b c\n")).toThrow(/line 2/);
  });

  it("rejects a context length below 2", () => {
    expect(() => tok.tokenize(["a"], 1)).toThrow(/contextLength/);
  });
});

describe("readMergesFile", () => {
  it("gunzips gzip files and decodes plain ones as UTF-8", () => {
    expect(readMergesFile(gzipSync(strToU8(TINY_MERGES)))).toBe(TINY_MERGES);
    expect(readMergesFile(strToU8(TINY_MERGES))).toBe(TINY_MERGES);
  });
});

describe("bytesToUnicode", () => {
  it("keeps printable bytes and moves the 68 others to U+0100 onwards", () => {
    const table = bytesToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table[0x61]).toBe("a");
    expect(table[0x00]).toBe("\u0100");
    expect(table[0x20]).toBe("\u0120");
    expect(table[0xad]).toBe("\u0143");
  });
});

describe("text cleaning (open_clip basic_clean + whitespace_clean + lower)", () => {
  it("unescapes numeric and named HTML entities, as html.unescape does", () => {
    expect(htmlUnescape("a &amp; b &lt;c&gt; &#39;d&#x27; &eacute; &copy2024 &nosuch;")).toBe("a & b <c> 'd' é ©2024 &nosuch;");
    expect(htmlUnescape("&#128;&#0;")).toBe("\u20ac\ufffd");
  });

  it("unescapes double-escaped entities (ftfy then html.unescape twice)", () => {
    expect(basicClean("fetal &amp;amp; maternal")).toBe("fetal & maternal");
  });

  it("straightens curly quotes, so contractions split as in open_clip", () => {
    expect(cleanLower("The Brain\u2019s \u201cview\u201d")).toBe("the brain's \"view\"");
  });

  it("NFC-normalises combining accents and expands Latin ligatures", () => {
    expect(cleanLower("cafe\u0301 \ufb01brous")).toBe("caf\u00e9 fibrous");
  });

  it("maps full-width forms to ASCII", () => {
    expect(cleanLower("\uff28\uff23\u3000\uff11\uff12")).toBe("hc 12");
  });

  it("collapses Python whitespace runs (not U+FEFF, which ftfy deletes) and strips", () => {
    expect(whitespaceClean("  a\t\n b\u00a0\u3000c\x1f ")).toBe("a b c");
    expect(cleanLower("a\ufeffb")).toBe("ab");
  });
});

describeShared("Tokenizer with CLIP's bpe_simple_vocab_16e6 vs open_clip 2.26.1", () => {
  let tok: Tokenizer;
  let fixture: {context_length: number; texts: string[]; ids: number[][]};
  beforeAll(() => {
    tok = Tokenizer.fromMerges(readMergesFile(readFileSync(sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz"))));
    fixture = JSON.parse(readFileSync(sharedPath("fixtures", "openclip-micro", "tokens.json"), "utf8"));
  });

  it("has open_clip's 49408-entry vocabulary with SOT 49406 and EOT 49407", () => {
    expect(tok.vocabSize).toBe(49408);
    expect(tok.sot).toBe(49406);
    expect(tok.eot).toBe(49407);
  });

  it("reproduces open_clip's token ids for all 64 fixture texts", () => {
    const ours = tok.tokenize(fixture.texts, fixture.context_length);
    const matched = ours.filter((row, i) => JSON.stringify(row) === JSON.stringify(fixture.ids[i])).length;
    expect(fixture.texts).toHaveLength(64);
    expect(matched).toBe(64);
    expect(ours).toEqual(fixture.ids);
  });

  it("truncates the over-long fixture text to 117 tokens ending in EOT", () => {
    const i = fixture.texts.findIndex((t) => t.startsWith("a a a"));
    const [row] = tok.tokenize([fixture.texts[i]!], 117);
    expect(row).toHaveLength(117);
    expect(row![116]).toBe(49407);
    expect(row!.filter((id) => id === 320)).toHaveLength(115); // "a</w>"
  });

  it("tokenizes the empty string as SOT, EOT and padding", () => {
    expect(tok.tokenize([""], 117)[0]!.slice(0, 3)).toEqual([49406, 49407, 0]);
  });

  it("decodes a prompt back to its cleaned text", () => {
    const text = "Fetal ultrasound image focusing on the brain's transverse view.";
    expect(tok.decode(tok.encode(text))).toBe("fetal ultrasound image focusing on the brain 's transverse view . ");
  });
});
