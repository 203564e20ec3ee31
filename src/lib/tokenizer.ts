// open_clip 2.26.1's SimpleTokenizer (tokenizer.py), the text front end FetalCLIP
// uses: byte-level BPE over CLIP's merges file (bpe_simple_vocab_16e6.txt.gz,
// OpenAI CLIP, MIT) or any merges file in the same format, SOT/EOT framing,
// zero padding to the context length (117 for FetalCLIP).
import {Gunzip} from "fflate";
import {cleanLower} from "./textClean.js";

const START_OF_TEXT = "<start_of_text>";
const END_OF_TEXT = "<end_of_text>";
const END_OF_WORD = "</w>";
/** open_clip keeps merges[1 : 49152-256-2+1]: 48894 merges, so the vocabulary has 49408 entries. */
const MAX_MERGES = 49152 - 256 - 2;

const isPrintableByte = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);

/** GPT-2/CLIP byte -> printable character table (open_clip bytes_to_unicode), indexed by byte. */
export function bytesToUnicode(): string[] {
  const table = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(isPrintableByte(b) ? b : 256 + n++);
  return table;
}

/** The byte characters in open_clip's dict order (printable bytes first): the first 256 vocabulary ids. */
function byteVocabOrder(table: string[]): string[] {
  const bytes = [...Array(256).keys()];
  return [...bytes.filter(isPrintableByte), ...bytes.filter((b) => !isPrintableByte(b))].map((b) => table[b]!);
}

// open_clip's pre-tokeniser (regex module, IGNORECASE); the text is lower-cased first.
const PRE_TOKEN = /<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** CLIP's merges file is 1.4 MB gzipped and under 2 MB as text; a file that inflates past this is not a vocabulary. */
export const MAX_MERGES_TEXT_BYTES = 32 * 1024 * 1024;
// Compressed bytes fed per step: one step can inflate to at most ~1032x this, so a gzip bomb stops near the limit.
const GUNZIP_STEP_BYTES = 16 * 1024;

/** Gunzips, refusing (before allocating it) output over `maxBytes`. */
function gunzipBounded(bytes: Uint8Array, maxBytes: number, source: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new Gunzip((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw new Error(`${source}: inflates past ${maxBytes} bytes, the limit for a merges file (a gzip bomb, or not a vocabulary)`);
    chunks.push(chunk);
  });
  try {
    for (let at = 0; at < bytes.length; at += GUNZIP_STEP_BYTES) {
      stream.push(bytes.subarray(at, at + GUNZIP_STEP_BYTES), at + GUNZIP_STEP_BYTES >= bytes.length);
    }
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith(source) ? message : `${source}: not a readable gzip file (${message})`);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Reads a merges file: gunzips it when it starts with the gzip magic (1f 8b), else decodes UTF-8. */
export function readMergesFile(bytes: Uint8Array, source = "merges file"): string {
  const raw = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipBounded(bytes, MAX_MERGES_TEXT_BYTES, source) : bytes;
  if (raw.length > MAX_MERGES_TEXT_BYTES) throw new Error(`${source}: ${raw.length} bytes, over the ${MAX_MERGES_TEXT_BYTES}-byte limit for a merges file`);
  return new TextDecoder("utf-8").decode(raw);
}

export class Tokenizer {
  readonly sot: number;
  readonly eot: number;
  readonly vocabSize: number;
  private readonly encoder: Map<string, number>;
  private readonly decoder: string[];
  private readonly ranks: Map<string, number>;
  private readonly byteEncoder: string[];
  private readonly byteDecoder: Map<string, number>;
  private readonly cache = new Map<string, string[]>();

  private constructor(merges: [string, string][]) {
    this.byteEncoder = bytesToUnicode();
    this.byteDecoder = new Map(this.byteEncoder.map((c, b) => [c, b]));
    const byteChars = byteVocabOrder(this.byteEncoder);
    const vocab = [...byteChars, ...byteChars.map((c) => c + END_OF_WORD)];
    for (const [a, b] of merges) vocab.push(a + b);
    vocab.push(START_OF_TEXT, END_OF_TEXT);
    this.decoder = vocab;
    // dict(zip(vocab, range)): a repeated entry keeps its last id, as in Python.
    this.encoder = new Map(vocab.map((v, i) => [v, i]));
    this.ranks = new Map(merges.map(([a, b], i) => [pairKey(a, b), i]));
    this.vocabSize = this.encoder.size;
    this.sot = this.encoder.get(START_OF_TEXT)!;
    this.eot = this.encoder.get(END_OF_TEXT)!;
    this.cache.set(START_OF_TEXT, [START_OF_TEXT]);
    this.cache.set(END_OF_TEXT, [END_OF_TEXT]);
  }

  /**
   * Builds the tokenizer from the text of a merges file ("#version" line, then one
   * "left right" pair per line). CLIP's file contributes its first 48894 merges, as
   * open_clip takes; a shorter file (a project-learnt vocabulary) contributes all of its.
   */
  static fromMerges(mergesText: string): Tokenizer {
    const lines = mergesText.split("\n").slice(1, MAX_MERGES + 1);
    const merges: [string, string][] = [];
    lines.forEach((line, i) => {
      const parts = line.split(/\s+/).filter((p) => p.length > 0);
      if (parts.length === 0 && i === lines.length - 1) return; // trailing newline
      if (parts.length !== 2) {
        throw new Error(`merges file line ${i + 2}: expected "left right", got ${JSON.stringify(line)}`);
      }
      merges.push([parts[0]!, parts[1]!]);
    });
    return new Tokenizer(merges);
  }

  /** open_clip SimpleTokenizer.bpe: merge the lowest-ranked adjacent pair until none is known. */
  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), chars[chars.length - 1]! + END_OF_WORD];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(pairKey(word[i]!, word[i + 1]!));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every non-overlapping occurrence, left to right, as open_clip does.
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    this.cache.set(token, word);
    return word;
  }

  /** Token ids of a text, without SOT/EOT. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const utf8 = new TextEncoder();
    for (const match of cleanLower(text).matchAll(PRE_TOKEN)) {
      let token = "";
      for (const b of utf8.encode(match[0])) token += this.byteEncoder[b];
      for (const piece of this.bpe(token)) {
        const id = this.encoder.get(piece);
        if (id === undefined) throw new Error(`BPE piece ${JSON.stringify(piece)} is not in the vocabulary`);
        ids.push(id);
      }
    }
    return ids;
  }

  /**
   * open_clip tokenize: [SOT] + encode(text) + [EOT], cut to contextLength with EOT
   * forced into the last slot when too long, zero-padded.
   */
  tokenize(texts: string[], contextLength: number): number[][] {
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new Error(`tokenize: contextLength must be an integer >= 2, got ${contextLength}`);
    }
    return texts.map((text) => {
      let tokens = [this.sot, ...this.encode(text), this.eot];
      if (tokens.length > contextLength) {
        tokens = tokens.slice(0, contextLength);
        tokens[contextLength - 1] = this.eot;
      }
      const row = new Array<number>(contextLength).fill(0);
      for (let i = 0; i < tokens.length; i++) row[i] = tokens[i]!;
      return row;
    });
  }

  /** open_clip decode: ids back to text, "</w>" read as a space (SOT/EOT kept as their names). */
  decode(ids: number[]): string {
    const bytes: number[] = [];
    const text = ids
      .map((id) => {
        const piece = this.decoder[id];
        if (piece === undefined) throw new Error(`decode: id ${id} is outside the vocabulary (size ${this.vocabSize})`);
        return piece;
      })
      .join("");
    for (const c of text) {
      const b = this.byteDecoder.get(c);
      // Special tokens' characters are all printable ASCII, which map to themselves.
      bytes.push(b ?? 0x3f);
    }
    return new TextDecoder("utf-8").decode(new Uint8Array(bytes)).replaceAll(END_OF_WORD, " ");
  }
}

function pairKey(a: string, b: string): string {
  return `${a} ${b}`;
}
