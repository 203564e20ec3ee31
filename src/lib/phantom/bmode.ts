// B-mode image formation from a tissue map: beams are traced from the probe
// in polar (beam, depth) coordinates, where attenuation accumulates along
// each beam (acoustic shadows behind bone, enhancement behind fluid), random
// scatterers convolved with the point-spread function give correlated
// Rayleigh speckle, time-gain compensation and log compression set the
// greys, and scan conversion maps the polar image back to the screen.

import type {Rng} from "../random.js";
import type {Probe} from "./probe.js";
import type {TissueMap} from "./tissueMap.js";

export interface ScannerSettings {
  /** Overall gain, dB (brighter or darker images). */
  gainDb: number;
  /** Displayed dynamic range, dB (log compression). */
  dynamicRangeDb: number;
  /** Residual time-gain error at evenly spaced depths, dB (interpolated; the sonographer's TGC sliders). */
  tgcDb: readonly number[];
  /** Multiplier of the tissue map's attenuation (higher transmit frequency attenuates more). */
  attenuationScale: number;
  /** Share of the soft-tissue attenuation that TGC compensates (1 = flat brightness with depth). */
  tgcCompensation: number;
  /** Point-spread function standard deviations: along the beam (samples) and across beams (beams). */
  psfAxial: number;
  psfLateral: number;
  /** Electronic noise amplitude relative to a bright echo. */
  noiseFloor: number;
  /** Near-field reverberation haze amplitude and its decay depth (px). */
  hazeAmplitude: number;
  hazeDepthPx: number;
  /** Display curve exponent applied after log compression. */
  gamma: number;
}

/** Typical settings; the generator draws each image's own around these. */
export const DEFAULT_SCANNER: ScannerSettings = {
  gainDb: 0,
  dynamicRangeDb: 50,
  tgcDb: [0, 0, 0, 0, 0],
  attenuationScale: 1,
  tgcCompensation: 0.9,
  psfAxial: 0.8,
  psfLateral: 1.6,
  noiseFloor: 0.006,
  hazeAmplitude: 0.05,
  hazeDepthPx: 20,
  gamma: 1.4
};

const SQRT12 = Math.sqrt(12);

/** Amplitude shown as full white (bone saturates above it). */
const WHITE_AMPLITUDE_DB = 11;

function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(2.5 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + radius] = w;
    sum += w;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Convolves rows (stride 1, length n) or columns of a (count x n) array in place with a kernel, clamping at the ends. */
function convolve(data: Float32Array, count: number, n: number, kernel: Float32Array, alongRows: boolean, scratch: Float32Array): void {
  const radius = (kernel.length - 1) / 2;
  const strideIn = alongRows ? 1 : count;
  const strideOut = alongRows ? n : 1;
  const taps = kernel.length;
  for (let line = 0; line < count; line++) {
    const base = line * strideOut;
    // Scratch holds the line padded by `radius` clamped copies at both ends, so the inner loop has no branches.
    for (let i = 0; i < n; i++) scratch[i + radius] = data[base + i * strideIn]!;
    const first = scratch[radius]!;
    const last = scratch[radius + n - 1]!;
    for (let k = 0; k < radius; k++) {
      scratch[k] = first;
      scratch[radius + n + k] = last;
    }
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += kernel[k]! * scratch[i + k]!;
      data[base + i * strideIn] = acc;
    }
  }
}

/** Bilinear blend of the 2x2 cell at index i of a row-major grid (row length `stride`): tx along rows, ty across. */
function lerp2(values: Float32Array, stride: number, i: number, tx: number, ty: number): number {
  const top = values[i]! + (values[i + 1]! - values[i]!) * tx;
  const bottom = values[i + stride]! + (values[i + stride + 1]! - values[i + stride]!) * tx;
  return top + (bottom - top) * ty;
}

function bilinear(values: Float32Array, width: number, height: number, x: number, y: number): number {
  const fx = Math.min(width - 1.001, Math.max(0, x - 0.5));
  const fy = Math.min(height - 1.001, Math.max(0, y - 0.5));
  const ix = Math.floor(fx);
  const iy = Math.floor(fy);
  const tx = fx - ix;
  const ty = fy - iy;
  return lerp2(values, width, iy * width + ix, tx, ty);
}

interface BeamGrid {
  beams: number;
  samples: number;
  /** Sample spacing along the beam, px. */
  samplePx: number;
  /** Image position of sample 0 of beam b and the beam's unit direction: [x, y, dx, dy]. */
  beam(b: number): [number, number, number, number];
  /** Fractional (beam, sample) of an image point into `out`; false outside the field of view. */
  locate(x: number, y: number, out: Float64Array): boolean;
}

function beamGrid(probe: Probe, imageWidth: number, imageHeight: number): BeamGrid {
  if (probe.kind === "linear") {
    const beams = Math.max(16, Math.ceil((probe.x1 - probe.x0) / 1.5));
    const samples = Math.max(16, Math.ceil((probe.y1 - probe.y0) / 1.0));
    const dx = (probe.x1 - probe.x0) / (beams - 1);
    const dy = (probe.y1 - probe.y0) / (samples - 1);
    return {
      beams, samples, samplePx: dy,
      beam: (b) => [probe.x0 + b * dx, probe.y0, 0, 1],
      locate(x, y, out) {
        if (x < probe.x0 || x > probe.x1 || y < probe.y0 || y > probe.y1) return false;
        out[0] = (x - probe.x0) / dx;
        out[1] = (y - probe.y0) / dy;
        return true;
      }
    };
  }
  const {apexX, apexY, radiusStartPx: r0, halfAngleRad: half} = probe;
  // Only depths that reach the image matter: stop at the farthest image corner.
  const farthest = Math.max(Math.hypot(apexX, imageHeight - apexY), Math.hypot(imageWidth - apexX, imageHeight - apexY));
  const r1 = Math.min(probe.radiusEndPx, farthest);
  // Lateral sampling about 1.5 px (finer than the lateral PSF) where the sector crosses the image bottom (finer above).
  const arc = 2 * half * Math.min(r1, imageHeight - apexY);
  const beams = Math.min(400, Math.max(32, Math.ceil(arc / 1.5)));
  const samples = Math.max(16, Math.ceil((r1 - r0) / 1.0));
  const dTheta = (2 * half) / (beams - 1);
  const dr = (r1 - r0) / (samples - 1);
  return {
    beams, samples, samplePx: dr,
    beam(b) {
      const theta = -half + b * dTheta;
      const sin = Math.sin(theta);
      const cos = Math.cos(theta);
      return [apexX + r0 * sin, apexY + r0 * cos, sin, cos];
    },
    locate(x, y, out) {
      const dx = x - apexX;
      const dy = y - apexY;
      if (dy <= 0) return false;
      const r = Math.sqrt(dx * dx + dy * dy);
      if (r < r0 || r > r1) return false;
      const theta = Math.atan2(dx, dy);
      if (theta < -half || theta > half) return false;
      out[0] = (theta + half) / dTheta;
      out[1] = (r - r0) / dr;
      return true;
    }
  };
}

/** Renders a tissue map as an 8-bit B-mode image of the map's size; black outside the field of view. */
export function renderBMode(map: TissueMap, probe: Probe, settings: ScannerSettings, rng: Rng): Uint8Array {
  const grid = beamGrid(probe, map.width, map.height);
  const {beams, samples, samplePx} = grid;
  const n = beams * samples;
  const re = new Float32Array(n);
  const im = new Float32Array(n);
  const tgcLen = settings.tgcDb.length;
  const baseAttenuation = 0.1 * settings.attenuationScale;
  const dbToNepers = Math.LN10 / 20;
  // Gain along depth is the same for every beam: TGC compensation plus the residual TGC error.
  const gain = new Float32Array(samples);
  const haze = new Float32Array(samples);
  for (let s = 0; s < samples; s++) {
    const depth = s * samplePx;
    const t = tgcLen > 1 ? (s / (samples - 1)) * (tgcLen - 1) : 0;
    const ti = Math.min(tgcLen - 2, Math.floor(t));
    const tgcError = tgcLen > 1 ? settings.tgcDb[ti]! + (settings.tgcDb[ti + 1]! - settings.tgcDb[ti]!) * (t - ti) : (settings.tgcDb[0] ?? 0);
    gain[s] = Math.exp(dbToNepers * (settings.gainDb + baseAttenuation * settings.tgcCompensation * depth + tgcError));
    haze[s] = settings.hazeAmplitude * Math.exp(-depth / settings.hazeDepthPx) + settings.noiseFloor;
  }
  const attenuationStep = settings.attenuationScale * samplePx * dbToNepers;
  const next = rng.next;
  // Random scatterers weighted by the attenuated echo amplitude, laid out beam-major (b * samples + s).
  for (let b = 0; b < beams; b++) {
    const [x0, y0, dx, dy] = grid.beam(b);
    let cumulative = 0;
    for (let s = 0; s < samples; s++) {
      const x = x0 + dx * s * samplePx;
      const y = y0 + dy * s * samplePx;
      const echo = bilinear(map.echo, map.width, map.height, x, y);
      const attenuation = bilinear(map.attenuation, map.width, map.height, x, y);
      const amplitude = (echo * Math.exp(-cumulative) + haze[s]!) * gain[s]!;
      cumulative += attenuation * attenuationStep;
      const i = b * samples + s;
      // Uniform scatterer amplitudes of unit variance: summed by the PSF over dozens of cells, the field is
      // complex Gaussian (central limit), so the envelope is Rayleigh, without a Box-Muller per sample.
      re[i] = amplitude * (next() - 0.5) * SQRT12;
      im[i] = amplitude * (next() - 0.5) * SQRT12;
    }
  }
  // Point-spread function: axial along each beam, lateral across beams.
  const axial = gaussianKernel(settings.psfAxial);
  const lateral = gaussianKernel(settings.psfLateral);
  let energy = 0;
  for (const a of axial) for (const l of lateral) energy += a * a * l * l;
  const norm = 1 / Math.sqrt(2 * energy);
  const scratch = new Float32Array(Math.max(beams, samples) + axial.length + lateral.length);
  convolve(re, beams, samples, axial, true, scratch);
  convolve(im, beams, samples, axial, true, scratch);
  convolve(re, samples, beams, lateral, false, scratch);
  convolve(im, samples, beams, lateral, false, scratch);
  // Log compression to display levels in [0, 1] (10 log10 of the power avoids a square root).
  const level = new Float32Array(n);
  const floorDb = WHITE_AMPLITUDE_DB - settings.dynamicRangeDb;
  const powerNorm = norm * norm;
  // The display curve through a table: 4096 steps are finer than the 8-bit output.
  const steps = 4096;
  const curve = new Float32Array(steps + 1);
  for (let k = 0; k <= steps; k++) curve[k] = Math.pow(k / steps, settings.gamma);
  for (let i = 0; i < n; i++) {
    const power = (re[i]! * re[i]! + im[i]! * im[i]!) * powerNorm;
    const db = 10 * Math.log10(power + 1e-18);
    const v = (db - floorDb) / settings.dynamicRangeDb;
    level[i] = v <= 0 ? 0 : v >= 1 ? 1 : curve[Math.round(v * steps)]!;
  }
  // Scan conversion: bilinear in (beam, sample) for each screen pixel.
  const out = new Uint8Array(map.width * map.height);
  const loc = new Float64Array(2);
  for (let y = 0; y < map.height; y++) {
    for (let x = 0; x < map.width; x++) {
      if (!grid.locate(x + 0.5, y + 0.5, loc)) continue;
      const fb = Math.min(beams - 1.001, loc[0]!);
      const fs = Math.min(samples - 1.001, loc[1]!);
      const ib = Math.floor(fb);
      const is = Math.floor(fs);
      const tb = fb - ib;
      const ts = fs - is;
      out[y * map.width + x] = Math.round(255 * lerp2(level, samples, ib * samples + is, ts, tb));
    }
  }
  return out;
}
