// ScoreCAM as FetalCLIP's cam/cam_five_planes.py computes it: pytorch-grad-cam 1.5.4's
// ScoreCAM (pytorch_grad_cam/score_cam.py and base_cam.py) on the ln_1 output of the
// last visual block, explaining a softmax over the prompt classes of 100 x cosine.
// Every choice below is the library's or the script's, read from their code (see
// ../shared/reference/README.md, "CAM"):
// - target activations: ln_1 of the last residual block, class token dropped, the
//   grid^2 patch tokens laid out row-major on the grid (the script's reshape_transform);
// - each channel's grid upsampled to the input size with torch's UpsamplingBilinear2d
//   (align_corners=True) and min-max scaled, (a - min) / (max - min + 1e-8);
// - the CLIP-normalised input multiplied by it (so masked-out pixels become 0 in
//   normalised space, the dataset mean colour, not black): no baseline image and no
//   baseline score is subtracted (the ScoreCAM paper's "increase of confidence" is not
//   what the library computes);
// - the score of a masked input: the explained class's softmax probability over all
//   prompt classes of 100 x cosine (the script's model wrapper ends in a softmax, and
//   ClassifierOutputTarget picks the class), in batches of 16 (the library default);
// - channel weights: a softmax over the channels of those scores (score_cam.py:
//   torch.nn.Softmax(dim=-1)(scores)), not the raw scores;
// - map = ReLU(sum_c w_c A_c) at grid resolution, min-max (eps 1e-7), then
//   gridToImageMap (cv2.resize to the input size and min-max again).
// The model call is injected, so the same code runs on onnxruntime-node and -web.
import type {EncodeImageOptions, ImageEncoding} from "../clipModel.js";
import type {Tensor} from "../tensor.js";
import {softmax} from "../vector.js";
import {FETALCLIP_LOGIT_SCALE, zeroShotProbabilities} from "../zeroShot.js";
import {alignCornersUpsampler, minMaxScale} from "./upsample.js";

/** What ScoreCAM needs of a model: ClipModel.encodeImages, or anything with its contract. */
export type CamImageEncoder = (pixels: Float32Array[], options?: EncodeImageOptions) => Promise<ImageEncoding>;

/** Masked inputs scored per forward: grad-cam's ScoreCAM default (the scripts never change it). */
export const SCORECAM_BATCH_SIZE = 16;
/** Channel-mask min-max epsilon, score_cam.py: (upsampled - mins) / (maxs - mins + 1e-8). */
export const CHANNEL_MASK_EPS = 1e-8;

/** The ScoreCAM target layer's activations of one image: [grid^2 tokens, channels], token-major, class token dropped. */
export interface TargetActivations {
  values: Float32Array;
  gridSize: number;
  channels: number;
}

/** The grid^2 patch tokens of a ln1_last output [1 + grid^2, width] (class token first), as the script's reshape_transform keeps them. */
export function targetActivations(ln1Last: Tensor): TargetActivations {
  if (ln1Last.dims.length !== 2) throw new Error(`targetActivations: expected ln1_last as [1 + grid^2, width], got dims [${ln1Last.dims.join(", ")}]`);
  const [tokens, channels] = ln1Last.dims as [number, number];
  const gridSize = Math.round(Math.sqrt(tokens - 1));
  if (gridSize < 1 || gridSize * gridSize !== tokens - 1) throw new Error(`targetActivations: ${tokens} tokens are not a class token plus a square grid`);
  return {values: ln1Last.data.slice(channels), gridSize, channels};
}

/** One channel's map on the grid (row-major), read out of token-major activations. */
export function channelGrid(activations: TargetActivations, channel: number, out = new Float32Array(activations.gridSize ** 2)): Float32Array {
  const {values, channels} = activations;
  for (let t = 0; t < out.length; t++) out[t] = values[t * channels + channel]!;
  return out;
}

export interface ChannelScoreOptions {
  /** Class text embeddings (classEmbeddings / promptClassEmbeddings: normalised prompt-ensemble means), in class index order. */
  classEmbeds: readonly Float32Array[];
  /** Side of the model's input in pixels (manifest.image.size). */
  imageSize: number;
  /** exp(logit_scale); FetalCLIP's scripts hard-code 100. */
  logitScale?: number;
  /** Masked inputs per forward (default SCORECAM_BATCH_SIZE). */
  batchSize?: number;
  /** Score only the first N channels (benchmarks that extrapolate); the rest stay NaN. */
  channelLimit?: number;
  /**
   * An image half done: the scores of its first `channels` channels (a multiple of
   * batchSize, so the remaining batches are the ones an uninterrupted run forms).
   */
  resume?: {channels: number; scores: Float32Array};
  /** Called after every batch with the channels scored so far and the [channels, classes] scores (for progress and partial saves). */
  onBatch?: (channelsDone: number, scores: Float32Array) => void | Promise<void>;
  signal?: AbortSignal;
}

/**
 * The class probabilities of every channel-masked input: [channels, classes] (flat),
 * row c = softmax over classes of 100 x cosine(encode(input x mask_c), class).
 * Every class is scored from the same forwards, so maps for all classes cost one run.
 */
export async function maskedChannelScores(encode: CamImageEncoder, pixels: Float32Array, activations: TargetActivations, options: ChannelScoreOptions): Promise<Float32Array> {
  const size = options.imageSize;
  const plane = size * size;
  if (pixels.length !== 3 * plane) throw new Error(`maskedChannelScores: expected a 3x${size}x${size} input (${3 * plane} values), got ${pixels.length}`);
  const {gridSize, channels} = activations;
  const numClasses = options.classEmbeds.length;
  if (numClasses === 0) throw new Error("maskedChannelScores: no class embeddings");
  const batchSize = options.batchSize ?? SCORECAM_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`maskedChannelScores: batchSize must be a positive integer, got ${batchSize}`);
  const limit = Math.min(channels, options.channelLimit ?? channels);
  const scores = new Float32Array(channels * numClasses).fill(Number.NaN);
  let start = 0;
  if (options.resume) {
    const {channels: done, scores: partial} = options.resume;
    if (!Number.isInteger(done) || done < 0 || done > channels || (done % batchSize !== 0 && done !== channels)) {
      throw new Error(`maskedChannelScores: cannot resume after ${done} channels with batches of ${batchSize}`);
    }
    if (partial.length !== scores.length) throw new Error(`maskedChannelScores: resume scores hold ${partial.length} values, expected ${scores.length}`);
    scores.set(partial.subarray(0, done * numClasses));
    start = done;
  }
  const upsample = alignCornersUpsampler(gridSize, gridSize, size, size);
  const grid = new Float32Array(gridSize * gridSize);
  const mask = new Float32Array(plane);
  const logitScale = options.logitScale ?? FETALCLIP_LOGIT_SCALE;
  for (let c0 = start; c0 < limit; c0 += batchSize) {
    options.signal?.throwIfAborted();
    const batch: Float32Array[] = [];
    for (let c = c0; c < Math.min(c0 + batchSize, limit); c++) {
      upsample(channelGrid(activations, c, grid), mask);
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < plane; i++) {
        const v = mask[i]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const range = Math.fround(Math.fround(max - min) + CHANNEL_MASK_EPS);
      const masked = new Float32Array(3 * plane);
      for (let i = 0; i < plane; i++) {
        const m = Math.fround(mask[i]! - min) / range;
        masked[i] = pixels[i]! * m;
        masked[plane + i] = pixels[plane + i]! * m;
        masked[2 * plane + i] = pixels[2 * plane + i]! * m;
      }
      batch.push(masked);
    }
    const {embeddings} = await encode(batch);
    const flat = new Float32Array(embeddings.length * embeddings[0]!.length);
    embeddings.forEach((e, i) => flat.set(e, i * e.length));
    scores.set(zeroShotProbabilities(flat, options.classEmbeds, logitScale), c0 * numClasses);
    await options.onBatch?.(c0 + batch.length, scores);
  }
  return scores;
}

export interface ScoreCamMap {
  classIndex: number;
  /** The map at grid resolution, row-major, ReLU then min-max scaled to [0, 1); gridToImageMap brings it to the input size. */
  grid: Float32Array;
  /** Channel weights: softmax over channels of this class's masked-input probabilities. */
  weights: Float32Array;
}

/** The map of one class from the activations and the channels' scores ([channels, classes]), as base_cam.py combines them. */
export function scoreCamFromScores(activations: TargetActivations, channelScores: Float32Array, numClasses: number, classIndex: number): ScoreCamMap {
  const {values, gridSize, channels} = activations;
  if (channelScores.length !== channels * numClasses) throw new Error(`scoreCamFromScores: ${channelScores.length} scores for ${channels} channels x ${numClasses} classes`);
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= numClasses) throw new Error(`scoreCamFromScores: class index ${classIndex} is not in [0, ${numClasses})`);
  const target = new Float32Array(channels);
  for (let c = 0; c < channels; c++) target[c] = channelScores[c * numClasses + classIndex]!;
  // Channels left unscored (a channel-limited benchmark run) get no weight.
  const scored = target.findIndex((v) => Number.isNaN(v));
  const weights = scored === -1 ? softmax(target) : new Float32Array(channels);
  if (scored !== -1) weights.set(softmax(target.subarray(0, scored)));
  const tokens = gridSize * gridSize;
  const cam = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    let sum = 0;
    const row = t * channels;
    for (let c = 0; c < channels; c++) sum += weights[c]! * values[row + c]!;
    cam[t] = Math.max(0, sum);
  }
  return {classIndex, grid: minMaxScale(cam), weights};
}

/** Class probabilities of one embedding: softmax over classes of logitScale x cosine. */
export function classProbabilities(embedding: Float32Array, classEmbeds: readonly Float32Array[], logitScale = FETALCLIP_LOGIT_SCALE): Float32Array {
  return zeroShotProbabilities(embedding, classEmbeds, logitScale);
}

export interface ScoreCamOptions extends ChannelScoreOptions {
  /** Class indices to explain; all come from the same masked forwards (FetalCLIP's scripts explain the image's true class). */
  targets: readonly number[];
}

export interface ScoreCamResult {
  gridSize: number;
  channels: number;
  /** Class probabilities of the unmasked image (the prediction shown beside the map). */
  probabilities: Float32Array;
  /** [channels, classes]: the class probabilities of each channel-masked input. */
  channelScores: Float32Array;
  maps: ScoreCamMap[];
}

/** ScoreCAM of one preprocessed image (CHW, 3 x size x size) for the target classes: 1 + channels forwards. */
export async function scoreCam(encode: CamImageEncoder, pixels: Float32Array, options: ScoreCamOptions): Promise<ScoreCamResult> {
  const first = await encode([pixels], {ln1Last: true});
  const ln1 = first.ln1Last?.[0];
  if (!ln1) throw new Error("scoreCam: the image encoder returned no ln1_last output (a bundle imported without the ScoreCAM target?)");
  const activations = targetActivations(ln1);
  const channelScores = await maskedChannelScores(encode, pixels, activations, options);
  const numClasses = options.classEmbeds.length;
  return {
    gridSize: activations.gridSize,
    channels: activations.channels,
    probabilities: classProbabilities(first.embeddings[0]!, options.classEmbeds, options.logitScale),
    channelScores,
    maps: options.targets.map((classIndex) => scoreCamFromScores(activations, channelScores, numClasses, classIndex))
  };
}
