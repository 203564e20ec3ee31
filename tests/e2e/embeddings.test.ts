// The BUILT Embeddings page on the embedded default (phantom + demo model), served by a
// plain static server, in headless Chromium: it loads with no console error, failed or
// external request; a rectangle dragged over a region chosen in data coordinates selects
// exactly the points the core (pointsInRect) finds there, and the CSV export is exactly the
// core's CSV of them; a concave lasso selects those pointsInPolygon finds; hovering a point shows its thumbnail; clicking one lists the
// neighbours the core's nearestTo computes from the same float16 artifact. Screenshots of
// the page with a selection and neighbours, light and dark.
//
//   npx vitest run tests/e2e/embeddings.test.ts
//   FETALCLIP_SITE_DIST=dist npx vitest run tests/e2e/embeddings.test.ts   # test an existing build
import {readFileSync} from "node:fs";
import {strFromU8, unzipSync} from "fflate";
import type {Page} from "playwright-core";
import {describe, expect, it} from "vitest";
import {
  decodeEmbeddingMap,
  decodeEmbeddingVectors,
  pointsInPolygon,
  pointsInRect,
  selectionCsv,
  type DataRect,
  type EmbeddingMap,
  type EmbeddingMapEntry,
  type EmbeddingMapsIndex,
  type EmbeddingVectors
} from "../../src/lib/embeddingMap.js";
import {nearestTo} from "../../src/lib/projection/neighbours.js";
import {buildLine, builtBytes, expectBothSchemes, expectCleanSession, openPage, reporter, useBuiltSite} from "./pageChecks.js";

const PAGE = "embeddings.html";
const COSINE_TOLERANCE = 1e-3;
/** Screen pixels between a selection edge and the nearest point's coordinate, so sub-pixel mouse rounding cannot flip a point. */
const EDGE_GAP_PX = 6;
/** Screen pixels from a hovered or clicked point to any other point: the mouse lands within 0.71 px of it, so it stays the nearest. */
const ISOLATION_PX = 3;

const report = reporter("embeddings");
const note = report.note;

interface Artifact {
  index: EmbeddingMapsIndex;
  entry: EmbeddingMapEntry;
  map: EmbeddingMap;
  vectors: EmbeddingVectors;
}

function readArtifact(dist: string): Artifact {
  const points = unzipSync(builtBytes(dist, "embeddings.zip"));
  const index = JSON.parse(strFromU8(points["index.json"]!)) as EmbeddingMapsIndex;
  const entry = index.maps[0];
  if (!entry) throw new Error(`embeddings.zip lists no map (skipped: ${JSON.stringify((index as {skipped?: unknown}).skipped)})`);
  const map = decodeEmbeddingMap(points[entry.points]!, entry.points);
  const vectors = decodeEmbeddingVectors(unzipSync(builtBytes(dist, "embedding-vectors.zip"))[entry.vectors]!, entry.vectors);
  return {index, entry, map, vectors};
}

/** The midpoint of the gap (between consecutive sorted values, at least `minGap` wide) nearest to `target`. */
function gapNear(sorted: Float64Array, target: number, minGap: number): number | null {
  let best: number | null = null;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]! - sorted[i - 1]! < minGap) continue;
    const mid = (sorted[i]! + sorted[i - 1]!) / 2;
    if (best === null || Math.abs(mid - target) < Math.abs(best - target)) best = mid;
  }
  return best;
}

/** A data rectangle holding some but not all points, each edge in an empty band at least `minGap` wide. */
function chooseRect(map: EmbeddingMap, minGap: number): {rect: DataRect; rows: Int32Array} {
  const xs = Float64Array.from(map.x).sort();
  const ys = Float64Array.from(map.y).sort();
  const q = (s: Float64Array, p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  for (const [a, b] of [[0.3, 0.7], [0.2, 0.6], [0.4, 0.8], [0.1, 0.5], [0.5, 0.9], [0.05, 0.95]] as const) {
    const x0 = gapNear(xs, q(xs, a), minGap), x1 = gapNear(xs, q(xs, b), minGap);
    const y0 = gapNear(ys, q(ys, a), minGap), y1 = gapNear(ys, q(ys, b), minGap);
    if (x0 === null || x1 === null || y0 === null || y1 === null || x0 >= x1 || y0 >= y1) continue;
    const rect = {x0, x1, y0, y1};
    const rows = pointsInRect(map.x, map.y, rect);
    if (rows.length >= 5 && rows.length <= map.n - 5) return {rect, rows};
  }
  throw new Error("no rectangle with empty bands at its edges holds between 5 and n - 5 points");
}

/** Distance from (px, py) to the segment a-b. */
function segmentDistance(px: number, py: number, [ax, ay]: readonly [number, number], [bx, by]: readonly [number, number]): number {
  const dx = bx - ax, dy = by - ay;
  const f = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - ax - f * dx, py - ay - f * dy);
}

/**
 * A concave lasso (an arrowhead: its notch leaves points out that its hull would hold) holding
 * some but not all points, with no point within `minGap` of an edge.
 */
function chooseLasso(map: EmbeddingMap, minGap: number): {polygon: [number, number][]; rows: Int32Array} {
  const xs = Float64Array.from(map.x).sort(), ys = Float64Array.from(map.y).sort();
  const q = (s: Float64Array, p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const spread = Math.min(q(xs, 0.9) - q(xs, 0.1), q(ys, 0.9) - q(ys, 0.1));
  for (const [cx, cy] of [[0.5, 0.5], [0.4, 0.6], [0.6, 0.4], [0.3, 0.3], [0.7, 0.7]] as const) {
    for (const size of [0.35, 0.3, 0.25, 0.4, 0.2, 0.45, 0.15]) {
      const ox = q(xs, cx), oy = q(ys, cy), r = size * spread;
      const polygon: [number, number][] = [[ox, oy + r], [ox + r, oy - r], [ox, oy - 0.35 * r], [ox - r, oy - r]];
      let clear = true;
      for (let i = 0; i < map.n && clear; i++) {
        for (let k = 0; k < polygon.length; k++) if (segmentDistance(map.x[i]!, map.y[i]!, polygon[k]!, polygon[(k + 1) % polygon.length]!) < minGap) clear = false;
      }
      if (!clear) continue;
      const rows = pointsInPolygon(map.x, map.y, polygon);
      const hull = pointsInPolygon(map.x, map.y, [polygon[0]!, polygon[1]!, polygon[3]!]);
      if (rows.length >= 5 && rows.length <= map.n - 5 && hull.length > rows.length) return {polygon, rows};
    }
  }
  throw new Error("no arrowhead lasso with empty margins along its edges holds between 5 and n - 5 points and leaves some out of its notch");
}

/** Rows whose nearest other point is at least `minDist` away (data units), first `count` of them by row. */
function isolatedRows(map: EmbeddingMap, minDist: number, count: number, skip: ReadonlySet<number> = new Set()): number[] {
  const out: number[] = [];
  for (let i = 0; i < map.n && out.length < count; i++) {
    if (skip.has(i)) continue;
    let nearest = Infinity;
    for (let j = 0; j < map.n && nearest >= minDist; j++) if (j !== i) nearest = Math.min(nearest, Math.hypot(map.x[i]! - map.x[j]!, map.y[i]! - map.y[j]!));
    if (nearest >= minDist) out.push(i);
  }
  return out;
}

type Panel = {toClient(x: number, y: number): [number, number]; stats: {hoverMs: number[]; brushMs: number[]; drawMs: number[]}};
declare global {
  interface Window {
    __fetalclipEmbeddings?: {ready: boolean; panels(): Panel[]; selection(): {source: string | null; ids: string[]}};
  }
}

/** Client coordinates of a data point, with the plot scrolled into view (clicking a button below may have scrolled it away). */
async function toClient(page: Page, x: number, y: number): Promise<[number, number]> {
  await page.locator(".embedding-canvas").scrollIntoViewIfNeeded();
  return page.evaluate(([x, y]) => window.__fetalclipEmbeddings!.panels()[0]!.toClient(x!, y!), [x, y]);
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
};

describe("the Embeddings page (built site, plain static server, headless Chromium)", () => {
  let art: Artifact;
  let pxPerUnit = 0;
  let selectedRows: Int32Array | undefined;
  const session = useBuiltSite(report, {
    built: (site) => {
      note(buildLine(site));
      art = readArtifact(site.dir);
      note(`artifact: ${art.entry.key}, ${art.map.n} points x ${art.vectors.dim} dims, fields ${art.map.fields.map((f) => f.name).join(", ")}`);
    }
  });

  function opened(): Page {
    if (!session.page || !pxPerUnit) throw new Error("the page did not open (see the first failing test)");
    return session.page;
  }

  it("loads with no console error or warning, no failed request and no request leaving localhost", async () => {
    const {page} = await openPage(session, PAGE, {ready: () => window.__fetalclipEmbeddings?.ready && document.querySelector(".embedding-scatter"), note});
    expect(await page.getAttribute(".embedding-scatter", "data-points")).toBe(String(art.map.n));
    if (art.index.maps.filter((m) => m.dataset.id === art.entry.dataset.id).length === 1) {
      expect(await page.isVisible('[data-testid="embedding-single-model"]'), "with one model, the page says so").toBe(true);
    }
    await page.locator(".embedding-canvas").scrollIntoViewIfNeeded();
    const [ax] = await toClient(page, 0, 0);
    const [bx] = await toClient(page, 1, 0);
    pxPerUnit = bx - ax;
    expect(pxPerUnit).toBeGreaterThan(0);
  }, 120_000);

  it("a rectangle dragged over a region selects exactly the points the core finds inside it", async () => {
    const p = opened();
    const {rect, rows} = chooseRect(art.map, EDGE_GAP_PX / pxPerUnit);
    const [left, top] = await toClient(p, rect.x0, rect.y1); // y grows upwards in the map
    const [right, bottom] = await toClient(p, rect.x1, rect.y0);
    note(`rectangle x ${rect.x0.toFixed(3)}..${rect.x1.toFixed(3)}, y ${rect.y0.toFixed(3)}..${rect.y1.toFixed(3)}: ${rows.length} points; screen ${left.toFixed(1)},${top.toFixed(1)} to ${right.toFixed(1)},${bottom.toFixed(1)}`);
    await p.mouse.move(left, top);
    await p.mouse.down();
    await p.mouse.move((left + right) / 2, (top + bottom) / 2, {steps: 4});
    await p.mouse.move(right, bottom, {steps: 4});
    await p.mouse.up();
    await p.waitForFunction((n) => document.querySelector('[data-testid="embedding-selection"]')?.getAttribute("data-count") === String(n), rows.length, {timeout: 15_000});
    const selection = await p.evaluate(() => window.__fetalclipEmbeddings!.selection());
    expect(selection.source).toBe(art.entry.key);
    expect([...selection.ids].sort()).toEqual(Array.from(rows, (i) => art.map.ids[i]!).sort());
    selectedRows = rows;
  }, 60_000);

  it("the CSV export holds exactly the selected rows, as the core writes them", async () => {
    const p = opened();
    if (!selectedRows) throw new Error("no selection (the brush test failed)");
    const [download] = await Promise.all([p.waitForEvent("download", {timeout: 15_000}), p.click('[data-testid="embedding-csv"]')]);
    const text = readFileSync((await download.path())!, "utf8");
    const lines = text.trim().split(/\r\n/);
    expect(lines.length - 1, "one line per selected image").toBe(selectedRows.length);
    const ids = lines.slice(1).map((line) => (line.startsWith('"') ? JSON.parse(line.slice(0, line.indexOf('"', 1) + 1)) : line.split(",")[0]));
    expect(ids.sort()).toEqual(Array.from(selectedRows, (i) => art.map.ids[i]!).sort());
    expect(text).toBe(selectionCsv(art.map, selectedRows));
    note(`CSV ${download.suggestedFilename()}: ${selectedRows.length} rows, ${text.length} bytes, equal to the core's selectionCsv`);
  }, 60_000);

  it("hovering a point shows its thumbnail and its fields", async () => {
    const p = opened();
    const [row] = isolatedRows(art.map, ISOLATION_PX / pxPerUnit, 1);
    if (row === undefined) throw new Error(`no point is ${ISOLATION_PX} px from every other`);
    const id = art.map.ids[row]!;
    const [x, y] = await toClient(p, art.map.x[row]!, art.map.y[row]!);
    await p.mouse.move(x + 25, y + 25);
    await p.mouse.move(x, y, {steps: 3});
    await p.waitForFunction((id) => {
      const tip = document.querySelector('[data-testid="embedding-tooltip"]') as HTMLElement | null;
      return tip && !tip.hidden && tip.dataset.id === id;
    }, id, {timeout: 10_000});
    const shown = await p.evaluate(() => {
      const tip = document.querySelector('[data-testid="embedding-tooltip"]') as HTMLElement;
      const canvas = tip.querySelector("canvas")!;
      const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let lit = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 30) lit++;
      const rect = canvas.getBoundingClientRect();
      return {cell: tip.dataset.cell, text: tip.textContent ?? "", lit: lit / (data.length / 4), width: rect.width, height: rect.height};
    });
    expect(shown.cell).toBe(String(art.map.cell[row]));
    expect(shown.text).toContain(id);
    expect(shown.width).toBeGreaterThanOrEqual(48);
    expect(shown.lit, "the thumbnail shows an image, not a black square").toBeGreaterThan(0.1);
    note(`hover ${id}: thumbnail cell ${shown.cell}, ${(100 * shown.lit).toFixed(0)}% of its pixels lit`);
  }, 60_000);

  it("clicking a point lists the neighbours the core computes from the same float16 embeddings", async () => {
    const p = opened();
    const skip = new Set(Array.from(selectedRows ?? []));
    const rows = isolatedRows(art.map, ISOLATION_PX / pxPerUnit, 2, skip);
    const row = rows[1] ?? rows[0];
    if (row === undefined) throw new Error(`no point is ${ISOLATION_PX} px from every other`);
    const id = art.map.ids[row]!;
    const [x, y] = await toClient(p, art.map.x[row]!, art.map.y[row]!);
    await p.mouse.click(x, y);
    const section = p.locator(`[data-testid="embedding-neighbours"][data-query="${id.replace(/"/g, '\\"')}"]`);
    await section.waitFor({timeout: 30_000});
    const listed = JSON.parse((await section.getAttribute("data-neighbours"))!) as {id: string; cosine: number}[];
    expect(listed.length).toBe(8);
    const {vectors, n, dim} = art.vectors;
    const expected = nearestTo(vectors, n, dim, row, listed.length);
    expect(listed.map((l) => l.id)).toEqual(Array.from(expected.index, (j) => art.map.ids[j]!));
    const diffs = listed.map((l, r) => Math.abs(l.cosine - expected.cosine[r]!));
    for (const [r, d] of diffs.entries()) expect(d, `cosine of neighbour ${r + 1} (${listed[r]!.id})`).toBeLessThanOrEqual(COSINE_TOLERANCE);
    const thumbs = await section.locator(".thumbnail").count();
    expect(thumbs, "the clicked image and its neighbours as thumbnails").toBe(listed.length + 1);
    note(`click ${id}: neighbours ${listed.map((l) => `${l.id} ${l.cosine.toFixed(4)}`).join(", ")}; max |cosine - core| ${Math.max(...diffs).toExponential(1)}`);
  }, 60_000);

  it("a lasso drawn in lasso mode selects exactly the points the core finds inside the loop, notch left out", async () => {
    const p = opened();
    const {polygon, rows} = chooseLasso(art.map, EDGE_GAP_PX / pxPerUnit);
    const hull = pointsInPolygon(art.map.x, art.map.y, [polygon[0]!, polygon[1]!, polygon[3]!]);
    expect(hull.length, "the notch holds points a rectangle or hull would take").toBeGreaterThan(rows.length);
    await p.getByRole("button", {name: "Lasso"}).first().click();
    const screen = [];
    for (const [x, y] of polygon) screen.push(await toClient(p, x, y));
    note(`lasso ${polygon.map(([x, y]) => `(${x.toFixed(3)}, ${y.toFixed(3)})`).join(" ")}: ${rows.length} points (${hull.length - rows.length} more in its convex hull)`);
    await p.mouse.move(screen[0]![0], screen[0]![1]);
    await p.mouse.down();
    for (const [x, y] of [...screen.slice(1), screen[0]!]) await p.mouse.move(x, y, {steps: 8});
    await p.mouse.up();
    await p.waitForFunction((n) => document.querySelector('[data-testid="embedding-selection"]')?.getAttribute("data-count") === String(n), rows.length, {timeout: 15_000});
    const selection = await p.evaluate(() => window.__fetalclipEmbeddings!.selection());
    expect(selection.source).toBe(art.entry.key);
    expect([...selection.ids].sort()).toEqual(Array.from(rows, (i) => art.map.ids[i]!).sort());
    // Back to rectangles for what follows.
    await p.getByRole("button", {name: "Select"}).first().click();
  }, 60_000);

  it("Escape on the focused plot clears the selection; light and dark screenshots with a selection and neighbours", async () => {
    const p = opened();
    // Read before the screenshots: switching light/dark redraws the panel (and resets its figures).
    const stats = await p.evaluate(() => window.__fetalclipEmbeddings!.panels()[0]!.stats);
    note(`input to next frame in this page (${art.map.n} points): hover median ${median(stats.hoverMs).toFixed(1)} ms over ${stats.hoverMs.length}, brush ${stats.brushMs.map((v) => v.toFixed(1)).join(", ")} ms; full redraws ${stats.drawMs.map((v) => v.toFixed(1)).join(", ")} ms`);
    await expectBothSchemes(p, "embeddings-selection", session.watch, note);
    await p.focus(".embedding-canvas");
    await p.keyboard.press("Escape");
    await p.waitForFunction(() => document.querySelector('[data-testid="embedding-selection"]')?.getAttribute("data-count") === "0", null, {timeout: 10_000});
    await expectCleanSession(p, session.watch!);
  }, 120_000);
});
