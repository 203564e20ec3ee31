// The BUILT Gestational-age, Zero-shot (drill-down) and Compare pages, served by a plain static
// server, in headless Chromium, for two builds: this run's shared build (with the reference
// folder configured through FETALCLIP_REFERENCE when ../shared exists, as every test build is)
// and, when that one is configured, the embedded default with none (a sandbox build). On each:
// every page loads with no console error or warning, no failed request and no request leaving
// localhost; every confusion cell of every source and task, clicked, shows exactly the images
// the cell counts (the core's confusion of the artifact); the top-N slider shows the VPR and CI
// the core's gaMetrics computes for that N; a clicked point shows its curve's top-N bins and
// predicted GA; the Compare table holds the artifact's rows. Page weights are printed.
//
//   npx vitest run tests/e2e/drilldown.test.ts
//   FETALCLIP_SITE_DIST=dist npx vitest run tests/e2e/drilldown.test.ts   # test an existing build (that one only)
import {join} from "node:path";
import type {Page} from "playwright-core";
import {describe, expect, it} from "vitest";
import {gaMetricsFromFile} from "../../loaders/paperReference.js";
import type {CompareArtifact} from "../../loaders/results/compare.js";
import {topBins} from "../../src/lib/gaExplorer.js";
import {PAPER_GA_RESULT} from "../../src/lib/paperReference.js";
import {gaMetrics} from "../../src/lib/tasks/gestationalAge.js";
import {drilldownConfusion} from "../../src/lib/zeroShotDrilldown.js";
import {DrilldownArchive, GaArchive} from "../../src/runtime/resultsArchives.js";
import {hasShared, sharedPath} from "../shared.js";
import {builtBytes, expectBothSchemes, openPage, reporter, useBuiltSite} from "./pageChecks.js";
import {buildSiteForRun, buildSiteUnconfigured, type BuiltSite, type PageWatch} from "./site.js";

const PAGES = ["gestational-age.html", "zero-shot.html", "compare.html"] as const;
/** The most tiles a gallery draws (src/components/cellGallery.ts); larger cells are counted. */
const GALLERY_MAX = 240;
/** Slider positions tried on every GA source: the ends, the paper's 15, and a few between. */
const TOP_N = [1, 7, 40, 175, 15];

const report = reporter("drilldown");
const note = report.note;

const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

declare global {
  interface Window {
    __fetalclipGa?: {ready: boolean};
    __fetalclipZeroShot?: {ready: boolean};
  }
}

interface Build {
  name: string;
  /** Whether the reference folder was configured for it. */
  configured: boolean;
  make(): Promise<BuiltSite>;
}

const referenceDir = sharedPath("reference", "fetalclip");
const BUILDS: Build[] = process.env.FETALCLIP_SITE_DIST
  ? [{name: "the given build (FETALCLIP_SITE_DIST)", configured: hasShared, make: () => buildSiteForRun()}]
  : [
      {name: hasShared ? "reference folder configured (FETALCLIP_REFERENCE)" : "embedded default", configured: hasShared, make: () => buildSiteForRun()},
      ...(hasShared ? [{name: "embedded default, no reference folder", configured: false, make: () => buildSiteUnconfigured()}] : [])
    ];

for (const build of BUILDS) {
  describe(`GA, zero-shot drill-down and Compare pages: ${build.name}`, () => {
    let ga: GaArchive;
    let drill: DrilldownArchive;
    let compare: CompareArtifact;
    const session = useBuiltSite(report, {
      make: build.make,
      built: (site, ms) => {
        note(`${build.name}: ${site.built ? `built in ${(ms / 1000).toFixed(1)} s` : `reusing ${site.dir}`}`);
        ga = GaArchive.open(buffer(builtBytes(site.dir, "ga.zip")));
        drill = DrilldownArchive.open(buffer(builtBytes(site.dir, "zero-shot-images.zip")));
        compare = JSON.parse(new TextDecoder().decode(builtBytes(site.dir, "compare.json"))) as CompareArtifact;
      },
      setupMs: 30 * 60_000
    });

    /** Opens a page, waits for it to settle; fails on console errors, failed or external requests, cell errors. Returns the page and its weight until then. */
    async function open(file: string, ready?: string): Promise<{page: Page; bytes: number; issues: () => string[]; watch: PageWatch}> {
      const {page, watch, weight} = await openPage(session, file, {ready, settleMs: 90_000});
      return {page, bytes: (await weight()).bytes, issues: () => watch.issues(), watch};
    }

    /** Light and dark screenshots (tests/e2e/screenshots/drilldown-*); switching the scheme re-renders the page with no console error. */
    async function bothSchemes(page: Page, name: string, watch: PageWatch): Promise<void> {
      await expectBothSchemes(page, `drilldown-${name}${build.configured ? "" : "-unconfigured"}`, watch);
    }

    it("the artifacts hold the sources this configuration promises", () => {
      const paperGa = ga.index.sources.some((s) => s.id === "fetalclip-paper-hc18");
      const paperZeroShot = drill.index.sources.some((s) => s.id === "fetalclip-paper-fetal-planes-db");
      expect(ga.index.sources.some((s) => s.id === "fetalclip-demo-phantom"), "the demo model's GA on the phantom").toBe(true);
      expect(drill.index.sources.some((s) => s.id === "fetalclip-demo-phantom"), "the demo model's zero-shot on the phantom").toBe(true);
      expect(paperGa).toBe(build.configured);
      expect(paperZeroShot).toBe(build.configured);
      expect(compare.rows.some((r) => r.kind === "released")).toBe(build.configured);
      expect(ga.index.skipped).toEqual([]);
      expect(drill.index.skipped).toEqual([]);
      if (build.configured) {
        // The artifact's dot products are the released ones, exactly: the paper's VPR at top 15 and the core's on the file agree.
        const entry = ga.index.sources.find((s) => s.id === "fetalclip-paper-hc18")!;
        const fromArtifact = gaMetrics(ga.source(entry).rows, {gaDays: entry.gaDays});
        const fromFile = gaMetricsFromFile({dotProducts: join(referenceDir, "hc18_ga_dot_prods.json")});
        expect(fromArtifact.vpr).toBe(fromFile.vpr);
        expect(fromArtifact.ci95).toEqual(fromFile.ci95);
        expect(fromArtifact.n).toBe(PAPER_GA_RESULT.n);
        expect(fromArtifact.vpr.toFixed(4)).toBe(PAPER_GA_RESULT.vpr.toFixed(4));
        note(`HC18 from the artifact: VPR ${fromArtifact.vpr.toFixed(4)} [${fromArtifact.ci95.map((x) => x.toFixed(3)).join(", ")}] over ${fromArtifact.n}, ${entry.withImages} images shown`);
      }
    });

    it("the Gestational-age page: loads clean; the top-N slider shows the core's VPR for each N; a clicked point shows its curve", async () => {
      const {page, bytes, watch} = await open("gestational-age.html", "window.__fetalclipGa?.ready && document.querySelector('[data-testid=\"ga-vpr\"]')");
      note(`${build.name}: gestational-age.html weighs ${(bytes / 1e6).toFixed(2)} MB (${ga.index.sources.length} source(s); ga.zip ${(builtBytes(session.site!.dir, "ga.zip").length / 1e6).toFixed(2)} MB)`);
      const select = page.locator("form", {hasText: "Model · dataset"}).locator("select");
      for (const entry of ga.index.sources) {
        await select.selectOption({label: entry.name});
        const data = ga.source(entry);
        for (const n of TOP_N) {
          // Sets the slider until the card shows N: a change of source re-creates the slider, so a
          // value set on the old one is lost; the new one is set again.
          await page.waitForFunction(([value, id]) => {
            const card = document.querySelector<HTMLElement>('[data-testid="ga-vpr"]');
            if (card?.dataset.topN === String(value) && card.dataset.source === id) return true;
            const input = document.querySelector<HTMLInputElement>('[data-testid="ga-top-n"] input[type="range"]');
            if (input && input.value !== String(value)) {
              input.value = String(value);
              input.dispatchEvent(new Event("input", {bubbles: true}));
            }
            return false;
          }, [n, entry.id] as const, {timeout: 20_000, polling: 200});
          const card = page.locator(`[data-testid="ga-vpr"][data-source="${entry.id}"][data-top-n="${n}"]`);
          await card.waitFor({timeout: 20_000});
          const expected = gaMetrics(data.rows, {gaDays: entry.gaDays, topBins: n});
          expect(Number(await card.getAttribute("data-vpr")), `${entry.id}, N = ${n}`).toBe(expected.vpr);
          expect(Number(await card.getAttribute("data-ci-low"))).toBe(expected.ci95[0]);
          expect(Number(await card.getAttribute("data-ci-high"))).toBe(expected.ci95[1]);
          expect(Number(await card.getAttribute("data-n"))).toBe(expected.n);
          if (n === 15 || n === 175) note(`${entry.id}: top ${n}: VPR ${expected.vpr.toFixed(4)} [${expected.ci95.map((x) => x.toFixed(3)).join(", ")}] over ${expected.n}`);
        }
        // N is 15 now: click a scored point with a picture (else any scored one) and one without.
        const metrics = gaMetrics(data.rows, {gaDays: entry.gaDays, topBins: 15});
        const scored = metrics.predictions.filter((p) => p.scored);
        const withPicture = scored.find((p) => data.images.cell[p.index]! >= 0 && p.index > 0);
        const withoutPicture = scored.find((p) => data.images.cell[p.index]! < 0);
        for (const p of [withPicture, withoutPicture, scored[scored.length - 1]].filter((x) => x !== undefined)) {
          await page.locator(`circle[data-index="${p!.index}"]`).dispatchEvent("click");
          const detail = page.locator(`[data-testid="ga-selected"][data-index="${p!.index}"]`);
          await detail.waitFor({timeout: 20_000});
          expect(Number(await detail.getAttribute("data-predicted-days"))).toBe(p!.predictedGaDays);
          expect(await detail.getAttribute("data-top-bins")).toBe(topBins(data.rows[p!.index]!.dotProducts, 15).bins.join(","));
          expect(await detail.locator("canvas.ga-picture").count(), `row ${p!.index}: a picture iff the row has one`).toBe(data.images.cell[p!.index]! >= 0 ? 1 : 0);
        }
      }
      await bothSchemes(page, "gestational-age", watch);
      await page.close();
    }, 10 * 60_000);

    it("the Zero-shot page: every confusion cell, clicked, shows exactly the images it counts", async () => {
      const {page, bytes, issues, watch} = await open("zero-shot.html", "window.__fetalclipZeroShot?.ready && document.querySelector('[data-testid=\"zero-shot-gallery\"]')");
      note(`${build.name}: zero-shot.html weighs ${(bytes / 1e6).toFixed(2)} MB`);
      const select = page.locator("form", {hasText: "Model · dataset"}).locator("select");
      let clicked = 0;
      for (const source of drill.index.sources) {
        await select.selectOption({label: source.name});
        for (const task of source.tasks) {
          await page.locator("label", {hasText: task.name}).locator("input").check();
          const matrix = page.locator(`[data-testid="zero-shot-drill-matrix"][data-source="${source.id}"][data-task="${task.id}"]`);
          await matrix.waitFor({timeout: 20_000});
          const f1 = page.locator('[data-testid="zero-shot-drill-f1"]');
          expect(Number(await f1.getAttribute("data-macro-f1"))).toBe(task.metrics.macroF1);
          const confusion = drilldownConfusion(task, drill.images(task));
          for (const [r, truth] of confusion.trueClasses.entries()) {
            for (const [c, predicted] of confusion.predictedClasses.entries()) {
              const count = confusion.counts[r]![c]!;
              const cell = matrix.locator(`rect[data-true="${truth}"][data-predicted="${predicted}"]`);
              expect(Number(await cell.getAttribute("data-count")), `${source.id} ${task.id}: ${truth} -> ${predicted}`).toBe(count);
              if (count === 0) continue;
              const gallery = page.locator(`[data-testid="zero-shot-gallery"][data-source="${source.id}"][data-task="${task.id}"][data-true="${truth}"][data-predicted="${predicted}"]`);
              // A click that lands while the matrix re-renders (its source or task just changed) is lost: click again.
              for (let attempt = 1; ; attempt++) {
                await cell.click();
                try {
                  await gallery.waitFor({timeout: 5_000});
                  break;
                } catch (error) {
                  if (attempt === 3) throw error;
                }
              }
              expect(Number(await gallery.getAttribute("data-count"))).toBe(count);
              const tiles = await gallery.locator(".gallery-tile").count();
              expect(tiles, `${source.id} ${task.id}: ${truth} -> ${predicted}: tiles`).toBe(Math.min(count, GALLERY_MAX));
              if (source.thumbnails) expect(await gallery.locator("canvas.thumbnail-image").count()).toBe(tiles);
              if (task.probabilities) expect(await gallery.locator("svg.gallery-strip").count()).toBe(tiles);
              clicked++;
            }
          }
        }
      }
      note(`${build.name}: clicked ${clicked} non-empty cells over ${drill.index.sources.length} source(s)`);
      // The count view labels and colours cells by count; the cells still say what they hold.
      await page.locator("label", {hasText: "image counts"}).locator("input").check();
      await page.waitForFunction(() => {
        const text = document.querySelector('[data-testid="zero-shot-drill-matrix"]')?.textContent ?? "";
        return text.includes("images") && !text.includes("share of the true class");
      }, null, {timeout: 20_000});
      expect(issues(), "no console error after the clicks").toEqual([]);
      await bothSchemes(page, "zero-shot", watch);
      await page.close();
    }, 15 * 60_000);

    it("the Compare page lists every source of the artifact with its intervals", async () => {
      const {page, bytes, watch} = await open("compare.html");
      note(`${build.name}: compare.html weighs ${(bytes / 1e6).toFixed(2)} MB`);
      const table = page.locator('[data-testid="compare-table"]');
      expect(Number(await table.getAttribute("data-rows"))).toBe(compare.rows.length);
      for (const row of compare.rows) {
        const tr = table.locator(`tr[data-id="${row.id}"]`);
        expect(await tr.count()).toBe(1);
        const values = await tr.locator("td[data-value]").evaluateAll((tds) => tds.map((td) => Number(td.getAttribute("data-value"))));
        expect(values).toEqual([row.planesMacroF1, row.subPlanesMacroF1, row.gaVpr].filter((s) => s !== null).map((s) => s!.value));
      }
      // Three panels, and three more for the probes when the Probes page's artifact has results.
      const probePanels = (await page.locator('[data-testid="compare-probes"]').count()) ? 3 : 0;
      expect(await page.locator(".compare-panel").count()).toBe(3 + probePanels);
      note(`${build.name}: compare.html ${probePanels ? "shows" : "has no"} probe results`);
      await bothSchemes(page, "compare", watch);
      await page.close();
    }, 5 * 60_000);
  });
}
