import {describe, expect, it} from "vitest";
import {Tokenizer} from "../src/lib/tokenizer.js";
import {bytesToUnicode, formatMergesFile, learnMerges, MERGES_HEADER, preTokenize, vocabSizeFor} from "../src/lib/bpe/learnMerges.js";

describe("bytesToUnicode", () => {
  it("maps the 256 bytes to 256 distinct printable characters, as GPT-2/CLIP do", () => {
    const table = bytesToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table[0x21]).toBe("!");
    expect(table[0x61]).toBe("a");
    expect(table[0x20]).toBe("\u0120"); // space -> "Ġ"
    expect(table[0x00]).toBe("\u0100");
  });
});

describe("preTokenize", () => {
  it("lower-cases, splits digits one by one and keeps punctuation runs, like open_clip", () => {
    expect(preTokenize("Ultrasound at 22 weeks,  0.55 mm/pixel.")).toEqual(
      ["ultrasound", "at", "2", "2", "weeks", ",", "0", ".", "5", "5", "mm", "/", "pixel", "."]
    );
  });
  it("spells non-ASCII letters in the byte alphabet", () => {
    expect(preTokenize("é")).toEqual(["\u00c3\u00a9"]); // UTF-8 C3 A9
  });
});

describe("learnMerges", () => {
  it("merges a repeated word into one word-final symbol, one merge per character joined", () => {
    const merges = learnMerges(Array(5).fill("ultrasound"), {maxMerges: 100});
    expect(merges).toHaveLength(9);
    const last = merges[merges.length - 1];
    expect(last.join("")).toBe("ultrasound</w>");
  });

  it("breaks frequency ties by the pair's text, so the order depends on the corpus only", () => {
    expect(learnMerges(["cd ab", "ab cd"], {maxMerges: 10})).toEqual([["a", "b</w>"], ["c", "d</w>"]]);
    expect(learnMerges(["ab cd", "cd ab"], {maxMerges: 10})).toEqual([["a", "b</w>"], ["c", "d</w>"]]);
  });

  it("never merges across digits (each digit is its own word) and skips pairs seen once", () => {
    expect(learnMerges(["2 2 2 2 weeks"], {maxMerges: 10})).toEqual([]);
  });

  it("stops at maxMerges and never creates the same token twice", () => {
    const corpus = Array.from({length: 50}, (_, i) => `fetal brain femur abdomen ${i % 3 ? "cervix" : "heart"} brain`);
    const merges = learnMerges(corpus, {maxMerges: 12});
    expect(merges).toHaveLength(12);
    const all = learnMerges(corpus, {maxMerges: 1000});
    const joined = all.map((m) => m.join(""));
    expect(new Set(joined).size).toBe(joined.length);
    expect(joined).toContain("abdomen</w>");
  });

  it("writes CLIP's merges-file format without a trailing newline", () => {
    const text = formatMergesFile([["a", "b</w>"], ["t", "h"]]);
    expect(text).toBe(`${MERGES_HEADER}\na b</w>\nt h`);
    expect(vocabSizeFor(2)).toBe(516);
  });

  it("is read unchanged by the project's tokenizer, which then spells each learnt word as one token", () => {
    const corpus = Array.from({length: 20}, (_, i) => `Fetal ultrasound at ${20 + (i % 9)} weeks, highlighting the cerebellum.`);
    const merges = learnMerges(corpus, {maxMerges: 2000});
    const tokenizer = Tokenizer.fromMerges(formatMergesFile(merges));
    expect(tokenizer.vocabSize).toBe(vocabSizeFor(merges.length));
    const ids = tokenizer.encode("fetal ultrasound at 24 weeks, highlighting the cerebellum.");
    // fetal, ultrasound, at, 2, 4, weeks, ",", highlighting, the, cerebellum, "."
    expect(ids).toHaveLength(11);
    expect(tokenizer.decode(ids)).toBe("fetal ultrasound at 2 4 weeks , highlighting the cerebellum . ");
  });
});
