// encode_image / encode_text over ONNX Runtime sessions, shared by Node
// (onnxruntime-node) and the browser (onnxruntime-web): only the `ort` module
// that is passed in differs, so both compute the same numbers.
import type {InferenceSession, Tensor as OrtTensor} from "onnxruntime-common";
import {IMAGE_EMBEDS, IMAGE_INPUT, LN1_LAST, PATCH_EMBEDS, TEXT_EMBEDS, TEXT_INPUT, type ModelManifest} from "./bundle.js";
import {tensor, unbatch, type Tensor} from "./tensor.js";
import type {Tokenizer} from "./tokenizer.js";

/** The part of an onnxruntime module (node or web) this code needs. */
export interface OrtModule {
  Tensor: typeof OrtTensor;
}

export interface ImageEncoding {
  /** [batch][embed_dim], open_clip encode_image output (not normalised). */
  embeddings: Float32Array[];
  /** Per image, projected patch tokens [grid*grid, embed_dim], when asked for. */
  patchEmbeddings?: Tensor[];
  /** Per image, the last block's ln_1 output [1 + grid*grid, width] (class token first), when asked for. */
  ln1Last?: Tensor[];
}

export interface EncodeImageOptions {
  patchEmbeddings?: boolean;
  ln1Last?: boolean;
}

function splitRows(data: Float32Array, rows: number): Float32Array[] {
  if (data.length % rows !== 0) throw new Error(`cannot split ${data.length} values into ${rows} rows`);
  const n = data.length / rows;
  return Array.from({length: rows}, (_, i) => data.slice(i * n, (i + 1) * n));
}

export class ClipModel {
  constructor(
    readonly ort: OrtModule,
    readonly manifest: ModelManifest,
    readonly imageSession: InferenceSession,
    readonly textSession: InferenceSession,
    readonly tokenizer: Tokenizer
  ) {}

  get imageSize(): number {
    return this.manifest.image.size;
  }

  /** Runs the image encoder on preprocessed CHW tensors (3*size*size each), as one batch. */
  async encodeImages(pixels: Float32Array[], options: EncodeImageOptions = {}): Promise<ImageEncoding> {
    const size = this.imageSize;
    const per = 3 * size * size;
    if (pixels.length === 0) return {embeddings: []};
    const batch = new Float32Array(per * pixels.length);
    pixels.forEach((p, i) => {
      if (p.length !== per) throw new Error(`image ${i}: expected a 3x${size}x${size} tensor (${per} values), got ${p.length}`);
      batch.set(p, i * per);
    });
    const feeds = {[IMAGE_INPUT]: new this.ort.Tensor("float32", batch, [pixels.length, 3, size, size])};
    const fetches = [IMAGE_EMBEDS];
    if (options.patchEmbeddings) fetches.push(PATCH_EMBEDS);
    if (options.ln1Last) fetches.push(LN1_LAST);
    const out = await this.imageSession.run(feeds, fetches);
    const result: ImageEncoding = {embeddings: splitRows(out[IMAGE_EMBEDS].data as Float32Array, pixels.length)};
    const perImage = (name: string) => unbatch(tensor(out[name]!.data as Float32Array, out[name]!.dims));
    if (options.patchEmbeddings) result.patchEmbeddings = perImage(PATCH_EMBEDS);
    if (options.ln1Last) result.ln1Last = perImage(LN1_LAST);
    return result;
  }

  /** Token ids as open_clip's tokenizer gives them, padded to the context length. */
  tokenize(texts: string[]): number[][] {
    return this.tokenizer.tokenize(texts, this.manifest.text.contextLength);
  }

  /**
   * Runs the text encoder on token ids, as one batch. Where the graph allows it, the
   * columns after the batch's last non-padding token are not sent: the causal mask and
   * EOT pooling make the embeddings identical, and short prompts run several times faster.
   */
  async encodeTokens(ids: number[][]): Promise<Float32Array[]> {
    const ctx = this.manifest.text.contextLength;
    if (ids.length === 0) return [];
    ids.forEach((row, i) => {
      if (row.length !== ctx) throw new Error(`text ${i}: expected ${ctx} token ids, got ${row.length}`);
    });
    const used = this.manifest.text.variableLength ? usedColumns(ids) : ctx;
    const flat = new BigInt64Array(ids.length * used);
    ids.forEach((row, i) => {
      for (let j = 0; j < used; j++) flat[i * used + j] = BigInt(row[j]!);
    });
    const feeds = {[TEXT_INPUT]: new this.ort.Tensor("int64", flat, [ids.length, used])};
    const out = await this.textSession.run(feeds, [TEXT_EMBEDS]);
    return splitRows(out[TEXT_EMBEDS].data as Float32Array, ids.length);
  }

  /** encode_text on raw strings, in batches so long prompt lists stay within memory. */
  async encodeTexts(texts: string[], batchSize = 64): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += batchSize) {
      out.push(...(await this.encodeTokens(this.tokenize(texts.slice(i, i + batchSize)))));
    }
    return out;
  }
}

/** Columns up to and including the last non-zero (non-padding) id of any row; at least 1. */
export function usedColumns(ids: readonly (readonly number[])[]): number {
  let used = 1;
  for (const row of ids) {
    for (let j = row.length - 1; j >= used; j--) {
      if (row[j] !== 0) {
        used = j + 1;
        break;
      }
    }
  }
  return used;
}
