// Learning a byte-level BPE merges list from a caption corpus, in exactly the
// format of CLIP's bpe_simple_vocab_16e6.txt (OpenAI CLIP, MIT): a
// "#version: 0.2" line, then one "left right" pair per line in rank order,
// word-final symbols ending in "</w>", symbols spelt in GPT-2's byte-to-unicode
// alphabet. Words are pre-tokenised as open_clip's SimpleTokenizer does, so the
// tokenizer reads the file unchanged and segments words as they were learnt.

import {cleanLower} from "../textClean.js";
import {bytesToUnicode} from "../tokenizer.js";

export {bytesToUnicode};

/** Header line of every CLIP merges file. */
export const MERGES_HEADER = "#version: 0.2";
/** Suffix CLIP puts on the last symbol of every pre-token word. */
export const END_OF_WORD = "</w>";

// open_clip's pre-tokeniser (as src/lib/tokenizer.ts): contractions, letter runs, single digits, other-symbol runs.
const PRE_TOKEN = /'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** Splits a text into pre-token words spelt in the byte-to-unicode alphabet. */
export function preTokenize(text: string, byteTable: string[] = bytesToUnicode()): string[] {
  const encoder = new TextEncoder();
  const words: string[] = [];
  for (const match of cleanLower(text).matchAll(PRE_TOKEN)) {
    let word = "";
    for (const byte of encoder.encode(match[0])) word += byteTable[byte];
    words.push(word);
  }
  return words;
}

export interface LearnMergesOptions {
  /** Upper bound on the number of merges (the vocabulary is 512 + merges + 2 tokens). */
  maxMerges: number;
  /** A pair seen fewer times than this is never merged (default 2). */
  minFrequency?: number;
}

/** A merge: two adjacent symbols that become one, in rank order. */
export type Merge = [left: string, right: string];

function symbolsOf(word: string): string[] {
  const chars = Array.from(word);
  chars[chars.length - 1] += END_OF_WORD;
  return chars;
}

function mergeWord(symbols: string[], left: string, right: string): string[] {
  // Left to right, non-overlapping: the same order SimpleTokenizer.bpe applies a merge in.
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i < symbols.length - 1 && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else {
      out.push(symbols[i]);
    }
  }
  return out;
}

/**
 * Learns merges greedily by pair frequency over the corpus's pre-token words.
 * Ties go to the pair whose "left right" string sorts first (code-unit order),
 * so the result depends on the corpus only. A pair whose merged symbol already
 * exists in the vocabulary is never merged, so every token string has one id.
 */
export function learnMerges(corpus: Iterable<string>, options: LearnMergesOptions): Merge[] {
  const minFrequency = options.minFrequency ?? 2;
  if (!Number.isInteger(options.maxMerges) || options.maxMerges < 0) {
    throw new Error(`learnMerges: maxMerges must be a non-negative integer, got ${options.maxMerges}`);
  }
  const byteTable = bytesToUnicode();
  const wordCounts = new Map<string, number>();
  for (const text of corpus) {
    for (const word of preTokenize(text, byteTable)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
  }
  const words = [...wordCounts.entries()].map(([word, count]) => ({symbols: symbolsOf(word), count}));
  const vocabulary = new Set<string>([...byteTable, ...byteTable.map((c) => c + END_OF_WORD)]);
  const merges: Merge[] = [];
  while (merges.length < options.maxMerges) {
    const pairCounts = new Map<string, number>();
    for (const {symbols, count} of words) {
      for (let i = 0; i < symbols.length - 1; i++) {
        const key = symbols[i] + " " + symbols[i + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let bestKey: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count < minFrequency || vocabulary.has(key.replace(" ", ""))) continue;
      if (count > bestCount || (count === bestCount && bestKey !== undefined && key < bestKey)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey === undefined) break;
    const [left, right] = bestKey.split(" ") as Merge;
    merges.push([left, right]);
    vocabulary.add(left + right);
    for (const word of words) {
      if (word.symbols.length > 1) word.symbols = mergeWord(word.symbols, left, right);
    }
  }
  return merges;
}

/**
 * The merges file text. No trailing newline: open_clip splits the file on "\n"
 * and would read a final empty line as an empty merge.
 */
export function formatMergesFile(merges: readonly Merge[]): string {
  return [MERGES_HEADER, ...merges.map(([left, right]) => `${left} ${right}`)].join("\n");
}

/** Vocabulary size a model needs for these merges: 256 bytes, 256 word-final bytes, merges, <start_of_text>, <end_of_text>. */
export function vocabSizeFor(mergeCount: number): number {
  return 512 + mergeCount + 2;
}
