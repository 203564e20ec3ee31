// The Embeddings page's artifacts (src/lib/embeddingMap.ts): what the loaders write
// is what the page reads, float16 embeddings decode to the same numbers everywhere,
// a data rectangle selects the rows inside it, and a selection's CSV holds exactly them.
import {describe, expect, it} from "vitest";
import {
  decodeEmbeddingMap,
  decodeEmbeddingVectors,
  encodeEmbeddingMap,
  encodeEmbeddingVectors,
  pointsInPolygon,
  pointsInRect,
  selectionCsv,
  unitFloat16Rows
} from "../src/lib/embeddingMap.js";
import {float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits} from "../src/lib/float16.js";
import {decode as decodePng} from "fast-png";
import {spriteSheetLayout, spriteSheetPng, thumbnailGray} from "../src/lib/image/thumbnail.js";

const sample = () =>
  encodeEmbeddingMap({
    ids: ["a/1.png", "a/2.png", "b,3.png", "c.png"],
    x: [0, 1, 2, 3.25],
    y: [0, -1, 5, 0.5],
    cell: [0, 1, 2, -1],
    columns: {
      plane: ["brain", "heart", "brain", null],
      ga_days: [140, 200, null, 250],
      correct: [true, false, true, null],
      zero_shot: ["brain", "abdomen", "brain", "femur"],
      patient: ["P10", "P2", "P10", "P1"]
    }
  });

describe("the embedding map artifact", () => {
  it("round-trips ids, positions, cells and metadata; fields come plane, zero-shot, correct first", () => {
    const map = decodeEmbeddingMap(sample());
    expect(map.n).toBe(4);
    expect(map.ids).toEqual(["a/1.png", "a/2.png", "b,3.png", "c.png"]);
    expect(Array.from(map.x)).toEqual([0, 1, 2, 3.25]);
    expect(Array.from(map.cell)).toEqual([0, 1, 2, -1]);
    expect(map.fields.map((f) => f.name)).toEqual(["plane", "zero_shot", "correct", "ga_days", "patient"]);
    const plane = map.fields[0]!;
    expect(plane.kind === "category" && plane.values).toEqual(["brain", "heart", "brain", null]);
    expect(plane.kind === "category" && plane.categories).toEqual(["brain", "heart"]);
    const correct = map.fields[2]!;
    expect(correct.kind === "category" && correct.values).toEqual(["correct", "incorrect", "correct", null]);
    const ga = map.fields[3]!;
    expect(ga.kind).toBe("number");
    expect(ga.kind === "number" && Array.from(ga.values)).toEqual([140, 200, Number.NaN, 250]);
    expect(ga.kind === "number" && ga.extent).toEqual([140, 250]);
    const patient = map.fields[4]!;
    expect(patient.kind === "category" && patient.categories, "natural order: P2 before P10").toEqual(["P1", "P2", "P10"]);
  });

  it("refuses columns of unequal length and metadata named like a map column", () => {
    expect(() => encodeEmbeddingMap({ids: ["a"], x: [0, 1], y: [0], cell: [0], columns: {}})).toThrow(/"x" has 2 rows, ids 1/);
    expect(() => encodeEmbeddingMap({ids: ["a"], x: [0], y: [0], cell: [0], columns: {cell: [1]}})).toThrow(/clashes/);
  });

  it("selects the rows inside a data rectangle, edges included, whichever corner comes first", () => {
    const map = decodeEmbeddingMap(sample());
    expect(Array.from(pointsInRect(map.x, map.y, {x0: 0, x1: 2, y0: -1, y1: 0}))).toEqual([0, 1]);
    expect(Array.from(pointsInRect(map.x, map.y, {x0: 3.5, x1: -0.5, y0: 6, y1: -2}))).toEqual([0, 1, 2, 3]);
    expect(Array.from(pointsInRect(map.x, map.y, {x0: 10, x1: 11, y0: 0, y1: 1}))).toEqual([]);
  });

  it("selects the rows inside a lasso polygon: convex, concave (the notch left out), self-crossing by the even-odd rule", () => {
    // A 10 x 10 grid of points at (i + 0.5, j + 0.5).
    const x: number[] = [], y: number[] = [];
    for (let j = 0; j < 10; j++) for (let i = 0; i < 10; i++) x.push(i + 0.5), y.push(j + 0.5);
    const at = (rows: Int32Array) => Array.from(rows, (r) => `${x[r]! - 0.5},${y[r]! - 0.5}`);
    // A square from (0, 0) to (3, 3), drawn clockwise or anticlockwise: 9 points.
    const square: [number, number][] = [[0, 0], [3, 0], [3, 3], [0, 3]];
    expect(pointsInPolygon(x, y, square)).toHaveLength(9);
    expect(Array.from(pointsInPolygon(x, y, [...square].reverse()))).toEqual(Array.from(pointsInPolygon(x, y, square)));
    // An L: the 4 x 4 square without its top-right 2 x 2 corner: 16 - 4 = 12 points, none of the notch's.
    const ell: [number, number][] = [[0, 0], [4, 0], [4, 2], [2, 2], [2, 4], [0, 4]];
    const inEll = at(pointsInPolygon(x, y, ell));
    expect(inEll).toHaveLength(12);
    expect(inEll).not.toContain("3,3");
    expect(inEll).toContain("1,3");
    // A bow tie: the left and right triangles meeting at (2, 2) are in, the wedges above and below are out.
    const bow = at(pointsInPolygon(x, y, [[0, 0], [4, 4], [4, 0], [0, 4]]));
    expect(bow).toEqual(expect.arrayContaining(["0,1", "0,2", "3,1", "3,2"]));
    for (const out of ["1,0", "2,0", "1,3", "2,3"]) expect(bow).not.toContain(out);
    // A loop drawn twice over the same square is crossed twice: even-odd leaves it empty; fewer than 3 vertices enclose nothing.
    expect(pointsInPolygon(x, y, [...square, ...square])).toHaveLength(0);
    expect(pointsInPolygon(x, y, [[0, 0], [5, 5]])).toHaveLength(0);
    // Rows in order, whatever the polygon.
    const big = pointsInPolygon(x, y, [[0, 0], [10, 0], [10, 10], [0, 10]]);
    expect(Array.from(big)).toEqual(Array.from({length: 100}, (_, i) => i));
  });

  it("writes a selection as CSV: header, one line per row, quoted where needed, empty for missing", () => {
    const map = decodeEmbeddingMap(sample());
    expect(selectionCsv(map, [2, 3])).toBe(
      "id,x,y,plane,zero_shot,correct,ga_days,patient\r\n" + '"b,3.png",2,5,brain,brain,correct,,P10\r\n' + "c.png,3.25,0.5,,femur,,250,P1\r\n"
    );
  });
});

describe("float16 embeddings", () => {
  it("round to nearest even and decode exactly (the table and the scalar agree on all 65,536 halves)", () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway: to even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    const all = Uint16Array.from({length: 65536}, (_, i) => i);
    const table = fromFloat16Bits(all);
    for (let h = 0; h < 65536; h++) {
      const v = float16BitsToFloat32(h);
      if (Number.isNaN(v)) expect(Number.isNaN(table[h]!)).toBe(true);
      else expect(table[h]).toBe(v);
    }
  });

  it("are stored unit length and read back as the same float16 values", () => {
    const dim = 5;
    const raw = Float32Array.from([3, 4, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    const bits = unitFloat16Rows(raw, 3, dim);
    const read = decodeEmbeddingVectors(encodeEmbeddingVectors(["a", "b", "zero"], bits, dim));
    expect(read).toMatchObject({n: 3, dim, ids: ["a", "b", "zero"]});
    expect(Array.from(read.vectors.subarray(0, 5))).toEqual([0.6, 0.8, 0, 0, 0].map((v) => float16BitsToFloat32(float32ToFloat16Bits(v))));
    expect(Array.from(read.vectors)).toEqual(Array.from(fromFloat16Bits(bits)));
    expect(Array.from(read.vectors.subarray(10))).toEqual([0, 0, 0, 0, 0]);
  });

  it("name the file and the expected type when the column is wrong", () => {
    const notF16 = encodeEmbeddingMap({ids: ["a"], x: [0], y: [0], cell: [0], columns: {}});
    expect(() => decodeEmbeddingVectors(notF16, "v.arrow")).toThrow(/v.arrow: no "embedding" column/);
    expect(() => decodeEmbeddingVectors(new Uint8Array([1, 2, 3]), "v.arrow")).toThrow(/v.arrow: not an Arrow IPC file/);
  });
});

describe("thumbnails and sprite sheets", () => {
  it("shrink an image by averaging the pixels each thumbnail pixel covers, letterboxed to a square", () => {
    // 4 x 2 RGB, left half white: in a 4 x 4 cell, rows 1-2 hold it, rows 0 and 3 are the black bars.
    const data = new Uint8Array(4 * 2 * 3);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) data.fill(255, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    const cell = thumbnailGray({width: 4, height: 2, mode: "RGB", data}, 4);
    expect(Array.from(cell)).toEqual([0, 0, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0]);
    const grey = thumbnailGray({width: 2, height: 2, mode: "L", data: Uint8Array.from([10, 20, 30, 40])}, 1);
    expect(Array.from(grey)).toEqual([25]);
  });

  it("pack cells at column i % columns, row i / columns; 4-bit sheets keep the nearest of 16 grey levels", () => {
    const layout = spriteSheetLayout(5, 2, 4);
    expect(layout).toEqual({cell: 2, columns: 3, rows: 2, bits: 4});
    const cells = [0, 1, 2, 3, 4].map((i) => new Uint8Array(4).fill(i * 60));
    const png = decodePng(spriteSheetPng([...cells.slice(0, 4), null, cells[4]!].slice(0, 5), layout));
    expect([png.width, png.height, png.depth, png.channels]).toEqual([6, 4, 4, 1]);
    const level = (x: number, y: number) => {
      const byte = (png.data as Uint8Array)[y * Math.ceil(png.width / 2) + (x >> 1)]!;
      return ((x & 1 ? byte : byte >> 4) & 15) * 17;
    };
    expect(level(0, 0)).toBe(0);
    expect(level(2, 0)).toBe(68); // 60 -> level 4 (68)
    expect(level(4, 1)).toBe(119); // 120 -> level 7 (119)
    expect(level(0, 2)).toBe(187); // 180 -> level 11 (187)
    expect(level(2, 3), "a missing thumbnail stays black").toBe(0);
    expect(() => spriteSheetPng(cells, spriteSheetLayout(2, 2))).toThrow(/do not fit/);
  });
});
