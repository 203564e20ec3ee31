// The BUILT CAM page on the embedded default (phantom + demo model), served by a plain
// static server, in headless Chromium: it loads with no console error, failed or external
// request; an overlay's pixels, read back from its canvas, equal the core's map of that
// image (camImageMap of the stored grid bytes) coloured by the colour map and blended with
// the image at the page's opacity, recomputed here from the built archive; the colour map
// and opacity controls redraw with theirs; sorting by localisation puts the lowest first;
// a click opens the large view with the structure's outline; the CSV is the core's. The
// page weight (every byte the page fetched) is reported. Screenshots, light and dark.
//
//   npx vitest run tests/e2e/cam.test.ts
//   FETALCLIP_SITE_DIST=dist npx vitest run tests/e2e/cam.test.ts   # test an existing build
import {readFileSync} from "node:fs";
import {interpolateViridis, rgb} from "d3";
import {strFromU8, unzipSync} from "fflate";
import type {Locator, Page} from "playwright-core";
import {describe, expect, it} from "vitest";
import {camImageMap, checkCamArtifact, type CamArtifactIndex, type CamMethod} from "../../src/lib/cam/camArtifact.js";
import {localise} from "../../src/lib/cam/localisation.js";
import {camScoresCsv, checkCamGalleryIndex, COLOUR_MAPS, unpackMask, type CamGalleryEntry, type CamGalleryIndex} from "../../src/lib/camGallery.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {buildLine, builtDataFile, expectBothSchemes, expectCleanSession, openPage, reporter, useBuiltSite, weightLine} from "./pageChecks.js";

const PAGE = "cam.html";
/** Grey levels an overlay pixel may differ from the recomputation (rounding of the blend). */
const PIXEL_TOLERANCE = 1;

const report = reporter("cam");
const note = report.note;

/** The built archive: _file/data/cam.<hash>.zip. */
function builtArchive(dist: string): {bytes: Uint8Array; file: string} {
  const {file, path} = builtDataFile(dist, "cam.zip");
  return {bytes: new Uint8Array(readFileSync(path)), file};
}

interface Archive {
  index: CamGalleryIndex;
  entry: CamGalleryEntry;
  files: Record<string, Uint8Array>;
  artifact(method: CamMethod): {index: CamArtifactIndex; grids: Uint8Array};
  /** The image as stored, decoded by the core's PNG reader (not the page's). */
  grey(id: string): Uint8Array;
  mask(id: string): Uint8Array | null;
}

function readArchive(dist: string): Archive {
  const files = unzipSync(builtArchive(dist).bytes);
  const index = checkCamGalleryIndex(JSON.parse(strFromU8(files["index.json"]!)));
  const entry = index.entries[0];
  if (!entry) throw new Error(`cam.zip lists no entry (skipped: ${JSON.stringify(index.skipped)})`);
  const sheet = decodeImage(files[entry.images.file]!);
  const {cell, columns} = entry.images.info;
  return {
    index,
    entry,
    files,
    artifact: (method) => ({index: checkCamArtifact(JSON.parse(strFromU8(files[entry.methods[method]!.index]!))), grids: files[entry.methods[method]!.grids]!}),
    grey: (id) => {
      const k = entry.images.ids.indexOf(id);
      const out = new Uint8Array(cell * cell);
      const x0 = (k % columns) * cell, y0 = Math.floor(k / columns) * cell;
      for (let y = 0; y < cell; y++) for (let x = 0; x < cell; x++) out[y * cell + x] = sheet.data[(y0 + y) * sheet.width + x0 + x]!;
      return out;
    },
    mask: (id) => {
      const i = entry.masks.ids.indexOf(id);
      const per = entry.masks.bytesPerImage;
      const bytes = files[entry.masks.file]!.subarray(i * per, (i + 1) * per);
      return bytes.some((b) => b) ? unpackMask(bytes, entry.imageSize ** 2) : null;
    }
  };
}

/** Colour of a map value in [0, 1], written here from the definitions, not taken from the page's module. */
function colourOf(name: string, v: number): [number, number, number] {
  if (name === "jet") {
    const c = (shift: number) => Math.round(255 * Math.max(0, Math.min(1, Math.min(4 * v - shift, -4 * v + shift + 3))));
    return [c(1.5), c(0.5), c(-0.5)];
  }
  if (name === "viridis") {
    const c = rgb(interpolateViridis(v));
    return [c.r, c.g, c.b].map(Math.round) as [number, number, number];
  }
  throw new Error(`no reference colour map ${name}`);
}

interface CanvasRead {
  key: string;
  id: string;
  method: CamMethod;
  opacity: number;
  colourMap: string;
  width: number;
  height: number;
  pixels: number[];
  /** The map the page drew, from its hook. */
  pageMap: number[];
}

declare global {
  interface Window {
    __fetalclipCam?: {ready: boolean; entry: string; overlays(): HTMLCanvasElement[]; map(key: string, method: string, id: string): Float32Array};
  }
}

/** The n-th overlay canvas of a method, read in the page. */
async function readOverlay(page: Page, method: CamMethod, n = 0): Promise<CanvasRead> {
  return page.evaluate(
    ([method, n]) => {
      const canvas = window.__fetalclipCam!.overlays().filter((c) => c.dataset.method === method)[n as number];
      if (!canvas) throw new Error(`no ${method} overlay number ${n}`);
      const d = canvas.dataset;
      const pixels = Array.from(canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data);
      return {key: d.key!, id: d.id!, method: d.method as never, opacity: Number(d.opacity), colourMap: d.colourMap!, width: canvas.width, height: canvas.height, pixels, pageMap: Array.from(window.__fetalclipCam!.map(d.key!, d.method!, d.id!))};
    },
    [method, n] as const
  );
}

/** Checks a canvas against the core's map and the image, returning the largest difference in grey levels. */
function compareOverlay(art: Archive, read: CanvasRead): {maxDiff: number; mapDiff: number; row: number} {
  const {index, grids} = art.artifact(read.method);
  const row = index.images.findIndex((e) => e.id === read.id);
  expect(row, `${read.id} is in the ${read.method} artifact`).toBeGreaterThanOrEqual(0);
  const size = index.imageSize;
  expect([read.width, read.height], "the canvas holds the map at the model's input size").toEqual([size, size]);
  const map = camImageMap(index, grids, row);
  const grey = art.grey(read.id);
  let mapDiff = 0;
  for (let i = 0; i < map.length; i++) mapDiff = Math.max(mapDiff, Math.abs(map[i]! - read.pageMap[i]!));
  let maxDiff = 0;
  const a = read.opacity;
  for (let i = 0; i < size * size; i++) {
    const colour = colourOf(read.colourMap, Math.round(255 * map[i]!) / 255);
    for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(read.pixels[4 * i + c]! - ((1 - a) * grey[i]! + a * colour[c])));
    expect(read.pixels[4 * i + 3]).toBe(255);
  }
  return {maxDiff, mapDiff, row};
}

function selectIn(page: Page, label: string): Locator {
  return page.locator("form", {hasText: label}).locator("select");
}

describe("the CAM page (built site, plain static server, headless Chromium)", () => {
  let art: Archive;
  const session = useBuiltSite(report, {
    built: (site) => {
      note(buildLine(site));
      art = readArchive(site.dir);
      const {file, bytes} = builtArchive(site.dir);
      note(`archive ${file}: ${(bytes.length / 1e6).toFixed(2)} MB; ${art.entry.key}: ${art.entry.images.ids.length} images at ${art.entry.imageSize} px, methods ${Object.keys(art.entry.methods).join(", ")}`);
    }
  });

  function opened(): Page {
    if (!session.page) throw new Error("the page did not open (see the first failing test)");
    return session.page;
  }

  it("loads with no console error or warning, no failed request and no request leaving localhost; reports its weight", async () => {
    const {page, weight: weigh} = await openPage(session, PAGE, {ready: () => window.__fetalclipCam?.ready && document.querySelector("canvas.cam-overlay"), note});
    // By default the gallery shows the ScoreCAM images, each with both maps.
    const scorecam = art.artifact("scorecam").index;
    expect(await page.getAttribute(".cam-gallery", "data-tiles")).toBe(String(scorecam.images.length));
    expect(await page.locator("canvas.cam-overlay[data-method=scorecam]").count()).toBe(scorecam.images.length);
    expect(await page.locator("canvas.cam-overlay[data-method=similarity]").count()).toBe(scorecam.images.length);
    // Page weight: every response the page fetched (no compression on this server: the bytes on the wire).
    const weight = await weigh();
    note(`page weight: ${weightLine(weight, session.server!.url)}`);
    expect(weight.bytes).toBeGreaterThan(0);
  }, 120_000);

  it("an overlay's pixels are the core's map of that image, coloured and blended with the stored image", async () => {
    const p = opened();
    for (const method of ["scorecam", "similarity"] as const) {
      for (const n of [0, 5]) {
        const read = await readOverlay(p, method, n);
        expect(read.key).toBe(art.entry.key);
        expect(read.colourMap).toBe("jet");
        expect(read.opacity).toBe(0.5);
        const {maxDiff, mapDiff, row} = compareOverlay(art, read);
        expect(mapDiff, "the page's map equals camImageMap of the stored bytes").toBeLessThan(1e-6);
        expect(maxDiff, `${method} overlay of ${read.id}`).toBeLessThanOrEqual(PIXEL_TOLERANCE);
        // The map drawn is the map scored: its localisation against the stored mask is the artifact's.
        const entry = art.artifact(method).index.images[row]!;
        const mask = art.mask(read.id);
        if (entry.localisation) expect(localise(read.pageMap, mask!)).toEqual(entry.localisation);
        note(`${method} overlay of ${read.id} (${entry.target}): max |page - core| ${maxDiff.toFixed(2)} grey levels over ${read.width} x ${read.height} px; map max diff ${mapDiff.toExponential(1)}`);
      }
    }
  }, 60_000);

  it("the colour map and opacity controls redraw every overlay with their settings", async () => {
    const p = opened();
    // Inputs.select's option values are indices; its labels are the page's wording.
    await selectIn(p, "Colour map").selectOption({index: COLOUR_MAPS.indexOf("viridis")});
    const opacity = p.locator("form", {hasText: "Map opacity"}).locator("input[type=number]");
    await opacity.fill("0.8");
    await opacity.dispatchEvent("input");
    await p.waitForFunction(() => {
      const all = window.__fetalclipCam!.overlays().filter((c) => c.dataset.method !== "none");
      return all.length > 0 && all.every((c) => c.dataset.colourMap === "viridis" && c.dataset.opacity === "0.8");
    }, null, {timeout: 30_000});
    const read = await readOverlay(p, "scorecam", 2);
    const {maxDiff} = compareOverlay(art, read);
    expect(maxDiff).toBeLessThanOrEqual(PIXEL_TOLERANCE);
    note(`after the controls (viridis, opacity 0.8): ${read.id} max |page - core| ${maxDiff.toFixed(2)}`);
    expect(session.watch!.issues()).toEqual([]);
  }, 60_000);

  it("sorted by ScoreCAM localisation, each class lists its lowest-scoring image first; a click opens the large view with the outline", async () => {
    const p = opened();
    expect(await selectIn(p, "Sort").evaluate((s: HTMLSelectElement) => s.selectedOptions[0]!.textContent)).toBe("ScoreCAM localisation, lowest first");
    const scorecam = art.artifact("scorecam").index;
    const scored = scorecam.images.filter((e) => e.localisation);
    const cls = scored[0]!.target;
    const expected = scorecam.images.filter((e) => e.target === cls).sort((a, b) => a.localisation!.share - b.localisation!.share || (a.id < b.id ? -1 : 1)).map((e) => e.id);
    const shown = await p.locator(`.cam-class[data-class="${cls}"] .cam-tile`).evaluateAll((tiles) => tiles.map((t) => (t as HTMLElement).dataset.id));
    expect(shown).toEqual(expected);
    const first = p.locator(`.cam-class[data-class="${cls}"] .cam-tile`).first();
    await first.scrollIntoViewIfNeeded();
    await first.click();
    const large = p.locator('[data-testid="cam-large"]');
    await large.waitFor({timeout: 15_000});
    expect(await large.getAttribute("data-id")).toBe(expected[0]);
    expect(await first.getAttribute("aria-pressed")).toBe("true");
    // The outline layer over each panel: white pixels only along the mask's edge (none where the mask has none).
    const outlined = await large.locator("canvas.cam-outline").evaluateAll((cs) =>
      cs.map((c) => {
        const d = (c as HTMLCanvasElement).getContext("2d")!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
        let white = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i]! > 200 && d[i + 3]! > 200) white++;
        return white / (d.length / 4);
      })
    );
    expect(outlined.length).toBe(3); // the image, ScoreCAM, one-pass
    for (const share of outlined) {
      expect(share).toBeGreaterThan(0.002);
      expect(share).toBeLessThan(0.2);
    }
    note(`class ${cls}: tiles in ascending localisation (${expected.slice(0, 3).join(", ")}, ...); large view of ${expected[0]}: outline covers ${outlined.map((s) => (100 * s).toFixed(1)).join(", ")}% of each panel`);
  }, 60_000);

  it("the CSV download is the core's camScoresCsv of the built artifacts", async () => {
    const p = opened();
    const [download] = await Promise.all([p.waitForEvent("download", {timeout: 15_000}), p.click('[data-testid="cam-csv"]')]);
    const text = readFileSync((await download.path())!, "utf8");
    const expected = camScoresCsv(art.entry, [art.artifact("scorecam").index, art.artifact("similarity").index]);
    expect(text).toBe(expected);
    const rows = text.trim().split(/\r\n/).length - 1;
    expect(rows).toBe(art.artifact("scorecam").index.images.length + art.artifact("similarity").index.images.length);
    note(`CSV ${download.suggestedFilename()}: ${rows} rows, ${text.length} bytes, equal to the core's`);
  }, 60_000);

  it("light and dark screenshots; nothing went wrong during the session", async () => {
    const p = opened();
    await expectBothSchemes(p, "cam-selected", session.watch, note);
    await expectCleanSession(p, session.watch!);
  }, 120_000);
});
