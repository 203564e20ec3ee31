// npm run bench -- embeddings-page [--points 10000] [--dim 768] [--hovers 150]
//
// The Embeddings page at 10,000 points, in Debian's headless Chromium (software
// rendering, no GPU): the site is built (or FETALCLIP_SITE_DIST copied), its two
// artifacts are replaced by a synthetic map of --points images with --dim-dimensional
// float16 embeddings (FetalCLIP's 768 by default) and real phantom thumbnails, and the
// page is opened on a plain static server. Prints:
// - page weight: every byte the page fetches until it settles (target < 10 MB), and
//   after the first neighbour search (which fetches the embeddings);
// - hover latency: pointer event to the next frame with the tooltip drawn (target < 50 ms);
// - selection latency: pointer up to the next frame, for the map (points highlighted) and
//   for the whole page (thumbnail grid and table rendered), for small to whole-map selections;
// - neighbour search: click to the neighbours shown, first (fetch + decode) and later;
// - full redraw time of the map (zooming).
// Figures go to bench/out/embeddings-page.json too.
import {cp, mkdtemp, readdir, rm, writeFile} from "node:fs/promises";
import {mkdirSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {parseArgs} from "node:util";
import {decode as decodePng} from "fast-png";
import type {Page} from "playwright-core";
import {pointsArchive, vectorsArchive} from "../loaders/embeddingMaps/archives.js";
import type {BuiltEmbeddingMap} from "../loaders/embeddingMaps/build.js";
import {datasetSpriteSheet} from "../loaders/embeddingMaps/thumbnails.js";
import {openDataset} from "../loaders/datasets/registry.js";
import {generatePhantomDataset} from "../loaders/phantomDataset.js";
import {REPO_ROOT} from "../loaders/paths.js";
import {EMBEDDING_MAPS_FORMAT, encodeEmbeddingMap, encodeEmbeddingVectors, pointsInRect, unitFloat16Rows, type EmbeddingMapEntry} from "../src/lib/embeddingMap.js";
import {spriteSheetLayout, spriteSheetPng} from "../src/lib/image/thumbnail.js";
import {syntheticEmbeddings} from "../src/lib/projection/syntheticEmbeddings.js";
import {FIVE_PLANES_CLASSES} from "../src/lib/prompts.js";
import {createRng} from "../src/lib/random.js";
import {launchChromium, serveStatic} from "../tests/e2e/browser.js";
import {buildSite} from "../tests/e2e/site.js";

const log = (m: string) => process.stderr.write(`${m}\n`);

/** The phantom's real thumbnails (its cached sprite sheet), cell by cell, as 8-bit grey. */
function phantomThumbnails(): {cells: Uint8Array[]; cell: number} {
  const dataset = openDataset("phantom");
  const sheet = datasetSpriteSheet(dataset, {log});
  const png = decodePng(sheet.png);
  const {cell, columns} = sheet.info;
  const width = png.width;
  const bytesPerRow = Math.ceil((width * png.depth) / 8);
  const grey = (x: number, y: number) => {
    const data = png.data as Uint8Array;
    if (png.depth === 8) return data[y * width + x]!;
    const byte = data[y * bytesPerRow + (x >> 1)]!;
    return ((x & 1 ? byte : byte >> 4) & 15) * 17;
  };
  const cells = dataset.images.map((_, i) => {
    const out = new Uint8Array(cell * cell);
    const x0 = (i % columns) * cell, y0 = Math.floor(i / columns) * cell;
    for (let y = 0; y < cell; y++) for (let x = 0; x < cell; x++) out[y * cell + x] = grey(x0 + x, y0 + y);
    return out;
  });
  return {cells, cell};
}

/** A synthetic map shaped like the phantom's: nine plane clusters, the phantom's columns, zero-shot with some errors. */
function syntheticMap(n: number, dim: number): BuiltEmbeddingMap {
  const classes: readonly string[] = FIVE_PLANES_CLASSES;
  const rng = createRng("bench-embeddings-page");
  const {vectors, labels} = syntheticEmbeddings({n, dim, clusters: classes.length, seed: "bench-embeddings-page"});
  const centres = classes.map(() => [rng.uniform(-12, 12), rng.uniform(-9, 9)] as const);
  const x = new Float32Array(n), y = new Float32Array(n);
  const ids: string[] = [];
  const columns: Record<string, (string | number | boolean | null)[]> = {plane: [], sub_plane: [], patient: [], split: [], ga_days: [], hc_mm: [], spacing_mm: [], zero_shot: [], zero_shot_p: [], correct: []};
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    const t = rng.uniform(-1, 1);
    x[i] = centres[c]![0] + 2.2 * t + rng.normal(0, 0.35);
    y[i] = centres[c]![1] + 0.8 * t * t + rng.normal(0, 0.35);
    ids.push(`images/S${String(Math.floor(i / 3) + 1).padStart(5, "0")}-${(i % 3) + 1}.png`);
    const plane = classes[c]!;
    const wrong = rng.next() < 0.06;
    const predicted = wrong ? classes[(c + 1 + Math.floor(rng.next() * (classes.length - 1))) % classes.length]! : plane;
    columns.plane!.push(plane);
    columns.sub_plane!.push(plane === "brain" ? ["trans-thalamic", "trans-cerebellum", "trans-ventricular"][i % 3]! : null);
    columns.patient!.push(`S${String(Math.floor(i / 3) + 1).padStart(5, "0")}`);
    columns.split!.push(["train", "train", "val", "test"][Math.floor(i / 3) % 4]!);
    const ga = Math.round(100 + 180 * ((t + 1) / 2));
    columns.ga_days!.push(ga);
    columns.hc_mm!.push(plane === "brain" ? 20 + ga * 1.1 : null);
    columns.spacing_mm!.push(0.1 + rng.next() * 0.6);
    columns.zero_shot!.push(predicted);
    columns.zero_shot_p!.push(wrong ? 0.4 + 0.3 * rng.next() : 0.8 + 0.2 * rng.next());
    columns.correct!.push(!wrong);
  }
  const {cells, cell} = phantomThumbnails();
  const layout = spriteSheetLayout(n, cell, 4);
  const png = spriteSheetPng(Array.from({length: n}, (_, i) => cells[i % cells.length]!), layout);
  const points = encodeEmbeddingMap({ids, x, y, cell: Int32Array.from({length: n}, (_, i) => i), columns});
  const vectorBytes = encodeEmbeddingVectors(ids, unitFloat16Rows(vectors, n, dim), dim);
  const key = "synthetic/bench";
  const entry: EmbeddingMapEntry = {
    key,
    dataset: {id: "synthetic", name: `Synthetic (${n.toLocaleString("en")} images, phantom thumbnails)`},
    model: {id: "bench", name: `Synthetic ${dim}-d embeddings`},
    n,
    dim,
    points: `${key}/points.arrow`,
    vectors: `${key}/vectors.arrow`,
    thumbnails: {file: "synthetic/thumbnails.png", ...layout},
    umap: {seed: 1, nNeighbors: 15, minDist: 0.1, nEpochs: 200, pcaDims: 50},
    zeroShot: {classes: [...classes], prompts: "synthetic", scored: n, accuracy: columns.correct!.filter(Boolean).length / n},
    failed: []
  };
  return {
    entry,
    points,
    vectors: vectorBytes,
    sheet: {png, info: layout, cellOf: new Map(ids.map((id, i) => [id, i])), failed: [], cached: false},
    work: {embedded: 0, cached: 0, map: "built", seconds: 0}
  };
}

async function replaceArtifact(dist: string, name: string, bytes: Uint8Array): Promise<string> {
  const dir = join(dist, "_file", "data");
  const stem = name.replace(/\.zip$/, "");
  const found = (await readdir(dir)).filter((f) => new RegExp(`^${stem.replace(/\./g, "\\.")}\\.[0-9a-f]{8}\\.zip$`).test(f));
  if (found.length !== 1) throw new Error(`${dir}: expected one ${name}, found ${found.join(", ") || "none"}`);
  await writeFile(join(dir, found[0]!), bytes);
  return found[0]!;
}

const quantile = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : Number.NaN;
};
const ms = (v: number) => `${v.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

type Panel = {map: {n: number; x: Float32Array; y: Float32Array; ids: string[]}; toClient(x: number, y: number): [number, number]; stats: {hoverMs: number[]; brushMs: number[]; drawMs: number[]}};
type Hook = {panels(): Panel[]; selection(): {ids: string[]}};

async function panelStats(page: Page) {
  return page.evaluate(() => ((window as unknown as {__fetalclipEmbeddings: Hook}).__fetalclipEmbeddings.panels()[0]!.stats));
}

/** Client coordinates of data points, the plot scrolled into view. */
async function clientOf(page: Page, xy: [number, number][]): Promise<[number, number][]> {
  await page.locator(".embedding-canvas").scrollIntoViewIfNeeded();
  return page.evaluate((xy) => xy.map(([x, y]) => (window as unknown as {__fetalclipEmbeddings: Hook}).__fetalclipEmbeddings.panels()[0]!.toClient(x, y)), xy);
}

/** Brush from one data corner to the other; ms from pointer up to the frame after the map, and after the page's selection section, show it. */
async function brush(page: Page, rect: {x0: number; x1: number; y0: number; y1: number}, expected: number): Promise<{map: number; page: number}> {
  const [[left, top], [right, bottom]] = await clientOf(page, [[rect.x0, rect.y1], [rect.x1, rect.y0]]);
  await page.evaluate((expected) => {
    const w = window as unknown as {__brushTiming: {up: number; map: number; page: number}};
    const timing = (w.__brushTiming = {up: 0, map: 0, page: 0});
    const canvas = document.querySelector(".embedding-canvas")!;
    canvas.addEventListener("pointerup", (e) => {
      timing.up = (e as PointerEvent).timeStamp;
      requestAnimationFrame(() => (timing.map = performance.now() - timing.up));
    }, {once: true, capture: true});
    const observer = new MutationObserver(() => {
      const el = document.querySelector('[data-testid="embedding-selection"]');
      if (el?.getAttribute("data-count") !== String(expected) || !timing.up) return;
      observer.disconnect();
      requestAnimationFrame(() => (timing.page = performance.now() - timing.up));
    });
    observer.observe(document.body, {subtree: true, childList: true, attributes: true});
  }, expected);
  await page.mouse.move(left, top);
  await page.mouse.down();
  await page.mouse.move((left + right) / 2, (top + bottom) / 2, {steps: 3});
  await page.mouse.move(right, bottom, {steps: 3});
  await page.mouse.up();
  await page.waitForFunction(() => (window as unknown as {__brushTiming: {page: number; map: number}}).__brushTiming.page > 0 && (window as unknown as {__brushTiming: {map: number}}).__brushTiming.map > 0, null, {timeout: 30_000});
  const got = await page.evaluate(() => (window as unknown as {__fetalclipEmbeddings: Hook}).__fetalclipEmbeddings.selection().ids.length);
  if (got !== expected) throw new Error(`brush selected ${got} points, the core says ${expected}`);
  return page.evaluate(() => {
    const t = (window as unknown as {__brushTiming: {map: number; page: number}}).__brushTiming;
    return {map: t.map, page: t.page};
  });
}

export async function run(argv: string[]): Promise<void> {
  const {values} = parseArgs({args: argv, options: {points: {type: "string", default: "10000"}, dim: {type: "string", default: "768"}, hovers: {type: "string", default: "150"}}});
  const n = Number(values.points), dim = Number(values.dim), hovers = Number(values.hovers);
  await generatePhantomDataset({});
  const tmp = await mkdtemp(join(tmpdir(), "fetalclip-bench-page-"));
  const report: Record<string, unknown> = {points: n, dim};
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    log(line);
  };
  try {
    let dist: string;
    if (process.env.FETALCLIP_SITE_DIST) {
      dist = join(tmp, "dist");
      await cp(resolve(process.env.FETALCLIP_SITE_DIST), dist, {recursive: true});
    } else {
      const site = await buildSite(undefined, join(tmp, "dist"));
      dist = site.dir;
      say(`site built in ${(site.ms / 1000).toFixed(1)} s`);
    }
    const started = Date.now();
    const built = syntheticMap(n, dim);
    const index = {format: EMBEDDING_MAPS_FORMAT as typeof EMBEDDING_MAPS_FORMAT, maps: [built.entry], skipped: [], sources: {datasets: "bench", models: "bench"}};
    const pointsZip = pointsArchive(index, [built]);
    const vectorsZip = vectorsArchive([built]);
    await replaceArtifact(dist, "embeddings.zip", pointsZip);
    await replaceArtifact(dist, "embedding-vectors.zip", vectorsZip);
    say(`synthetic map: ${n} points x ${dim} dims in ${((Date.now() - started) / 1000).toFixed(1)} s: embeddings.zip ${mb(pointsZip.length)} (points.arrow ${mb(built.points.length)}, thumbnails.png ${mb(built.sheet.png.length)}), embedding-vectors.zip ${mb(vectorsZip.length)}`);

    const server = await serveStatic(dist, {isolated: false});
    const browser = await launchChromium({webgpu: false});
    try {
      const page = await browser.newPage();
      await page.setViewportSize({width: 1280, height: 1000});
      page.on("console", (m) => (m.type() === "error" || m.type() === "warning") && say(`[console.${m.type()}] ${m.text()}`));
      page.on("pageerror", (e) => say(`[pageerror] ${e.message}`));
      const fetched = new Map<string, number>();
      page.on("requestfinished", async (request) => {
        const sizes = await request.sizes().catch(() => null);
        fetched.set(request.url().replace(server.url, "/"), (sizes?.responseBodySize ?? 0) + (sizes?.responseHeadersSize ?? 0));
      });
      const openedAt = Date.now();
      await page.goto(`${server.url}embeddings.html`, {waitUntil: "load"});
      await page.waitForFunction(() => document.querySelector(".embedding-scatter") && (window as unknown as {__fetalclipEmbeddings?: {ready: boolean}}).__fetalclipEmbeddings?.ready, null, {timeout: 120_000});
      await page.waitForLoadState("networkidle");
      const readyMs = Date.now() - openedAt;
      const initial = [...fetched.values()].reduce((s, v) => s + v, 0);
      const largest = [...fetched].sort((a, b) => b[1] - a[1]).slice(0, 4);
      say(`page weight until settled: ${mb(initial)} in ${fetched.size} requests (target < 10 MB); map shown ${(readyMs / 1000).toFixed(2)} s after navigation`);
      for (const [url, bytes] of largest) say(`  ${mb(bytes).padStart(9)}  ${url}`);
      report.pageWeightBytes = initial;
      report.requests = fetched.size;
      report.readyMs = readyMs;

      // Hover: real mouse moves onto random points.
      const rng = createRng("bench-hover");
      const map = await page.evaluate(() => {
        const p = (window as unknown as {__fetalclipEmbeddings: Hook}).__fetalclipEmbeddings.panels()[0]!;
        return {x: Array.from(p.map.x), y: Array.from(p.map.y)};
      });
      const targets = Array.from({length: hovers}, () => Math.floor(rng.next() * n));
      const positions = await clientOf(page, targets.map((i) => [map.x[i]!, map.y[i]!]));
      for (const [x, y] of positions) {
        await page.mouse.move(x, y, {steps: 2});
        await page.waitForTimeout(20);
      }
      const hoverMs = (await panelStats(page)).hoverMs;
      say(`hover, pointer event to next frame with the tooltip (${hoverMs.length} of the last moves): median ${ms(quantile(hoverMs, 0.5))}, p95 ${ms(quantile(hoverMs, 0.95))}, max ${ms(Math.max(...hoverMs))} (target < 50 ms)`);
      report.hoverMs = {median: quantile(hoverMs, 0.5), p95: quantile(hoverMs, 0.95), max: Math.max(...hoverMs)};

      // Selections from a sliver to the whole map.
      const xs = [...map.x].sort((a, b) => a - b), ys = [...map.y].sort((a, b) => a - b);
      const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
      const brushes: Record<string, unknown>[] = [];
      // Two rounds: the first selection also pays for first use (code compiled, table built).
      for (const round of [1, 2]) {
        for (const [a, b] of [[0.45, 0.55], [0.3, 0.7], [0.1, 0.9], [0, 1]] as const) {
          const pad = 0.01;
          const rect = {x0: q(xs, a) - pad, x1: q(xs, b) + pad, y0: q(ys, a) - pad, y1: q(ys, b) + pad};
          const expected = pointsInRect(Float32Array.from(map.x), Float32Array.from(map.y), rect).length;
          const t = await brush(page, rect, expected);
          say(`selection ${round === 1 ? "(first round)" : "(second round)"} of ${String(expected).padStart(5)} points: map updated ${ms(t.map)}, page (grid + table) ${ms(t.page)} after pointer up (target < 50 ms)`);
          brushes.push({round, points: expected, mapMs: t.map, pageMs: t.page});
          await page.waitForTimeout(300);
        }
      }
      report.selection = brushes;

      // Neighbour searches: the first fetches and decodes the embeddings.
      const clicks: number[] = [];
      const clickTargets = Array.from({length: 3}, () => Math.floor(rng.next() * n));
      const clickAt = await clientOf(page, clickTargets.map((i) => [map.x[i]!, map.y[i]!]));
      for (const [k, [x, y]] of clickAt.entries()) {
        const previous = k === 0 ? "" : await page.getAttribute('[data-testid="embedding-neighbours"]', "data-query");
        const before = Date.now();
        await page.mouse.click(x, y);
        await page.waitForFunction((previous) => {
          const el = document.querySelector('[data-testid="embedding-neighbours"]');
          return el && el.getAttribute("data-query") !== previous;
        }, previous, {timeout: 60_000}).catch(async (error) => {
          const state = await page.evaluate(() => {
            const h = (window as unknown as {__fetalclipEmbeddings: {store: {focus: unknown}}}).__fetalclipEmbeddings;
            return {focus: h.store.focus, errors: [...document.querySelectorAll(".observablehq--error")].map((e) => e.textContent), empty: !!document.querySelector('[data-testid="embedding-neighbours-empty"]')};
          });
          await page.screenshot({path: join(REPO_ROOT, "bench", "out", "embeddings-page-click.png")});
          throw new Error(`no neighbours after clicking at ${x}, ${y}: ${JSON.stringify(state)} (${(error as Error).message})`);
        });
        clicks.push(Date.now() - before);
      }
      await page.waitForLoadState("networkidle");
      const after = [...fetched.values()].reduce((s, v) => s + v, 0);
      say(`neighbour search (k = 8, ${n} x ${dim}): first click ${ms(clicks[0]!)} (fetches the embeddings), then ${clicks.slice(1).map(ms).join(", ")}`);
      say(`page weight after the first neighbour search: ${mb(after)}`);
      report.neighbourMs = clicks;
      report.pageWeightAfterNeighboursBytes = after;

      // Zoom: each wheel step redraws the whole map.
      const [[cx, cy]] = await clientOf(page, [[q(xs, 0.5), q(ys, 0.5)]]);
      await page.mouse.move(cx!, cy!);
      for (let i = 0; i < 12; i++) {
        await page.mouse.wheel(0, i < 6 ? -120 : 120);
        await page.waitForTimeout(60);
      }
      const drawMs = (await panelStats(page)).drawMs.slice(-12);
      say(`full redraw of ${n} points while zooming: median ${ms(quantile(drawMs, 0.5))}, max ${ms(Math.max(...drawMs))}`);
      report.redrawMs = {median: quantile(drawMs, 0.5), max: Math.max(...drawMs)};
    } finally {
      await browser.close();
      await server.close();
    }
    const out = join(REPO_ROOT, "bench", "out");
    mkdirSync(out, {recursive: true});
    await writeFile(join(out, "embeddings-page.json"), JSON.stringify({...report, lines}, null, 1));
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await rm(tmp, {recursive: true, force: true});
  }
}
