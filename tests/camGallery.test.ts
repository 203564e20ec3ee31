// The CAM page's core pieces: masks packed to bits and back, outlines that trace a
// mask's edges, the overlay's arithmetic and colour maps, the image sheet read back at
// the levels PIL reads, the model's input view of an image, the ScoreCAM subset and the
// scores CSV.
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {describe, expect, test} from "vitest";
import {interpolateViridis, rgb} from "d3";
import {scoreCamSubset} from "../loaders/camGallery/build.js";
import type {CamArtifactIndex, CamImageEntry} from "../src/lib/cam/camArtifact.js";
import {
  camScoresCsv,
  CAM_SCORES_COLUMNS,
  colourMapLut,
  decodeGreySheet,
  jetColour,
  mapLevel,
  mapPeak,
  maskBytes,
  maskOutline,
  modelInputGrey,
  overlayRgba,
  packMask,
  sheetCell,
  unpackMask
} from "../src/lib/camGallery.js";
import {decodeImage} from "../src/lib/image/decode.js";
import {spriteSheetLayout, spriteSheetPng} from "../src/lib/image/thumbnail.js";
import {preprocessImage} from "../src/lib/preprocess.js";
import {repoRoot} from "./shared.js";

describe("masks as bits", () => {
  test("packing and unpacking give the mask back, for sizes that are not multiples of 8", () => {
    for (const pixels of [1, 7, 8, 9, 112 * 112, 13 * 13]) {
      const mask = Uint8Array.from({length: pixels}, (_, i) => ((i * 7919) % 5 < 2 ? 1 : 0));
      const packed = packMask(mask);
      expect(packed.length).toBe(maskBytes(pixels));
      expect(unpackMask(packed, pixels)).toEqual(mask);
    }
  });

  test("bit 7 of byte 0 is pixel 0 (most significant first)", () => {
    expect(Array.from(packMask([1, 0, 0, 0, 0, 0, 0, 1, 1]))).toEqual([0x81, 0x80]);
  });

  test("the outline of a 2 x 2 square inside a 4 x 4 image is its 8 unit edges", () => {
    const mask = new Uint8Array(16);
    for (const i of [5, 6, 9, 10]) mask[i] = 1;
    const s = maskOutline(mask, 4);
    const edges = [];
    for (let k = 0; k < s.length; k += 4) edges.push(s.slice(k, k + 4).join(","));
    expect(edges.sort()).toEqual(["1,1,1,2", "1,1,2,1", "1,2,1,3", "1,3,2,3", "2,1,3,1", "2,3,3,3", "3,1,3,2", "3,2,3,3"].sort());
    // A mask touching the border is closed along it.
    expect(maskOutline(new Uint8Array([1]), 1)).toEqual([0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1]);
  });

  test("the map's peak is its first maximum in row-major order, as the pointing game takes it", () => {
    expect(mapPeak([0.1, 0.9, 0.3, 0.9])).toBe(1);
    expect(mapPeak([0, 0, 0])).toBe(0);
  });
});

describe("overlay and colour maps", () => {
  test("jet runs dark blue, blue, cyan, yellow, red, dark red (MATLAB's jet)", () => {
    expect(jetColour(0)).toEqual([0, 0, 128]);
    expect(jetColour(0.125)).toEqual([0, 0, 255]);
    expect(jetColour(0.375)).toEqual([0, 255, 255]);
    expect(jetColour(0.625)).toEqual([255, 255, 0]);
    expect(jetColour(0.875)).toEqual([255, 0, 0]);
    expect(jetColour(1)).toEqual([128, 0, 0]);
  });

  test("a LUT holds 256 colours; d3's maps are sampled at k / 255", () => {
    const lut = colourMapLut("viridis");
    expect(lut.length).toBe(768);
    for (const k of [0, 100, 255]) {
      const c = rgb(interpolateViridis(k / 255));
      expect(Array.from(lut.subarray(3 * k, 3 * k + 3))).toEqual([c.r, c.g, c.b].map(Math.round));
    }
    expect(() => colourMapLut("rainbow" as never)).toThrow(/unknown colour map/);
  });

  test("each pixel is (1 - opacity) x grey + opacity x colour, rounded, opaque", () => {
    const lut = colourMapLut("jet");
    const grey = new Uint8Array([0, 100, 255, 40]);
    const map = new Float32Array([0, 0.5, 1, 0.3]);
    const out = overlayRgba(grey, map, lut, 0.25);
    for (let i = 0; i < 4; i++) {
      const k = mapLevel(map[i]!);
      for (let c = 0; c < 3; c++) expect(out[4 * i + c]).toBe(Math.round(0.75 * grey[i]! + 0.25 * lut[3 * k + c]!));
      expect(out[4 * i + 3]).toBe(255);
    }
    expect(Array.from(overlayRgba(grey, map, lut, 0)).filter((_, j) => j % 4 === 0)).toEqual(Array.from(grey));
    expect(mapLevel(0.5)).toBe(128);
    expect(mapLevel(-0.1)).toBe(0);
    expect(mapLevel(1.2)).toBe(255);
  });
});

describe("images as the model sees them", () => {
  test("a 4-bit sheet reads back at PIL's levels (x 17), cell by cell, as the core's decoder reads it", () => {
    const cells = [0, 1, 2].map((k) => Uint8Array.from({length: 25}, (_, i) => (i * 37 + k * 91) % 256));
    const info = spriteSheetLayout(3, 5, 4);
    const png = spriteSheetPng(cells, info);
    const sheet = decodeGreySheet(png);
    expect(sheet.data).toEqual(decodeImage(png).data);
    for (const [k, cell] of cells.entries()) expect(sheetCell(sheet.data, info, k)).toEqual(cell.map((v) => Math.round(v / 17) * 17));
    const eight = decodeGreySheet(spriteSheetPng(cells, spriteSheetLayout(3, 5, 8)));
    expect(sheetCell(eight.data, spriteSheetLayout(3, 5, 8), 2)).toEqual(cells[2]);
  });

  test("modelInputGrey is the preprocessed input, un-normalised, in grey", () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, "data/phantom/manifest.json"), "utf8")) as {samples: {file: string}[]};
    const bytes = new Uint8Array(readFileSync(join(repoRoot, "data/phantom", manifest.samples[0]!.file)));
    const spec = {size: 112, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711]} as const;
    const input = preprocessImage(bytes, {size: spec.size, mean: [...spec.mean], std: [...spec.std]});
    const grey = modelInputGrey(decodeImage(bytes), 112);
    const plane = 112 * 112;
    let worst = 0;
    for (let i = 0; i < plane; i++) {
      const [r, g, b] = [0, 1, 2].map((c) => (input[c * plane + i]! * spec.std[c]! + spec.mean[c]!) * 255);
      worst = Math.max(worst, Math.abs(grey[i]! - (r! * 0.299 + g! * 0.587 + b! * 0.114)));
    }
    expect(worst).toBeLessThanOrEqual(0.5001);
  });
});

const entry = (id: string, target: string, label: string | null, share: number | null): CamImageEntry => ({
  id, label, target, predicted: target, probability: 0.9, targetProbability: 0.9,
  localisation: share === null ? null : {share, hit: share > 0.5, uniform: 0.25}
});

describe("the ScoreCAM subset and the scores CSV", () => {
  test("the subset is the first N images of each explained class, in id order", () => {
    const images = ["a1", "b1", "a2", "a3", "c1", "b2", "b3"].map((id) => entry(`images/${id}.png`, id[0]!, id[0]!, 0.5));
    expect(scoreCamSubset({classes: ["a", "b", "c"], images}, 2)).toEqual(["images/a1.png", "images/a2.png", "images/b1.png", "images/b2.png", "images/c1.png"]);
  });

  test("one row a map, quoted where needed, empty cells for unscored images", () => {
    const artifact = {method: "scorecam", structures: {brain: "head (skull and brain)"}, images: [entry("images/x,1.png", "brain", "brain", 0.123456789), entry("images/y.png", "kidney", null, null)]} as unknown as CamArtifactIndex;
    const csv = camScoresCsv({dataset: {id: "phantom", name: "Phantom"}, model: {id: "m", name: "M"}}, [artifact]);
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe(CAM_SCORES_COLUMNS.join(","));
    expect(lines[1]).toBe('phantom,m,scorecam,"images/x,1.png",brain,brain,head (skull and brain),brain,0.9,0.9,true,0.1234568,false,0.25');
    expect(lines[2]).toBe("phantom,m,scorecam,images/y.png,,kidney,,kidney,0.9,0.9,,,,");
    expect(lines[3]).toBe("");
  });
});
