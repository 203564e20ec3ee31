// The BUILT paper page (/paper), served by a plain static server, in headless Chromium. The
// test builds set FETALCLIP_REFERENCE to ../shared/reference/fetalclip (tests/e2e/site.ts
// siteBuildEnv), so the page shows FetalCLIP's released outputs scored by the project: it
// loads with no console error, no failed request and no request leaving localhost; every
// number it shows equals the core's (zeroShotMetrics, gaMetrics from the same files, in
// Node), the confusion matrices' cells hold the core's counts, and the CSV download is the
// core's comparison. Then the same page fed the "not configured" artifact says how to
// configure the folder. Page weight is measured and printed.
//
//   npx vitest run tests/e2e/paper.test.ts
//   FETALCLIP_SITE_DIST=dist npx vitest run tests/e2e/paper.test.ts   # test an existing build
import {readFileSync} from "node:fs";
import type {Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {gaMetricsFromFile, paperReferenceArtifact, zeroShotMetricsFromFiles} from "../../loaders/paperReference.js";
import {paperComparisonCsv, paperComparisonRows, REFERENCE_FILES, type PaperReferenceArtifact} from "../../src/lib/paperReference.js";
import {describeShared, sharedPath} from "../shared.js";
import {buildLine, builtDataFile, expectBothSchemes, openPage, reporter, useBuiltSite, weightLine, type OpenedPage} from "./pageChecks.js";
import type {PageWatch} from "./site.js";

const PAGE = "paper.html";
const report = reporter("paper");
const note = report.note;

const reference = (name: string) => sharedPath("reference", "fetalclip", name);

describe("the paper page (built site, plain static server, headless Chromium)", () => {
  let built: PaperReferenceArtifact;
  let artifactName: string;
  const session = useBuiltSite(report, {
    built: (site) => {
      note(buildLine(site));
      const artifact = builtDataFile(site.dir, "paper-reference.json");
      artifactName = artifact.file;
      built = JSON.parse(readFileSync(artifact.path, "utf8")) as PaperReferenceArtifact;
      note(`artifact ${artifactName}: ${built.configured ? `configured (${built.folder})` : "not configured"}`);
    }
  });

  /** Opens the page (optionally answering the artifact's request with `artifact`) and checks it settled cleanly. */
  async function open(artifact?: PaperReferenceArtifact): Promise<OpenedPage> {
    return openPage(session, PAGE, {
      before: artifact
        ? (page) => page.route(`**/_file/data/${artifactName}`, (route) => route.fulfill({status: 200, contentType: "application/json", body: JSON.stringify(artifact)}))
        : undefined
    });
  }

  describeShared("with the reference folder configured (../shared/reference/fetalclip)", () => {
    let page: Page | undefined;
    let watch: PageWatch | undefined;
    const core = () => {
      const five = zeroShotMetricsFromFiles({predictions: reference(REFERENCE_FILES.fivePlanes.predictions), prompts: reference(REFERENCE_FILES.fivePlanes.prompts)});
      const brain = zeroShotMetricsFromFiles({predictions: reference(REFERENCE_FILES.brainSubplanes.predictions), prompts: reference(REFERENCE_FILES.brainSubplanes.prompts)});
      const ga = gaMetricsFromFile({dotProducts: reference(REFERENCE_FILES.gaDotProducts)});
      return {five, brain, ga};
    };
    let expected: ReturnType<typeof core>;

    beforeAll(() => {
      expected = core();
    });
    afterAll(async () => {
      await page?.close().catch(() => {});
    });

    it("the build was configured with the reference folder", () => {
      expect(built.configured).toBe(true);
      expect(built.configured && built.problem).toBeFalsy();
    });

    it("loads with no console error or warning, no failed request and no request leaving localhost; page weight measured", async () => {
      const opened = await open();
      ({page, watch} = opened);
      await page.waitForSelector('[data-testid="paper-comparison"]', {timeout: 30_000});
      await page.waitForLoadState("networkidle");
      const weight = await opened.weight();
      note(`page weight until settled: ${weightLine(weight, session.server!.url, 3)}`);
      expect(weight.bytes).toBeLessThan(5 * 1024 * 1024);
    });

    it("the summary shows the core's macro F1s and VPR beside the paper's", async () => {
      if (!page) throw new Error("the page did not open");
      const value = async (id: string) => Number(await page!.getAttribute(`[data-testid="${id}"] .big`, "data-value"));
      expect(await value("paper-five-planes")).toBe(expected.five.macroF1);
      expect(await value("paper-brain-subplanes")).toBe(expected.brain.macroF1);
      expect(await value("paper-ga")).toBe(expected.ga.vpr);
      expect(await page.textContent('[data-testid="paper-five-planes"] .big')).toBe("0.97275");
      expect(await page.textContent('[data-testid="paper-brain-subplanes"] .big')).toBe("0.69293");
      expect(await page.textContent('[data-testid="paper-ga"] .big')).toBe("83.42 %");
      for (const id of ["paper-five-planes", "paper-brain-subplanes", "paper-ga"]) {
        expect(await page.textContent(`[data-testid="${id}"]`)).toContain("✓ agrees");
      }
    });

    it("every row of the table is the core's number beside the paper's, and all agree", async () => {
      if (!page) throw new Error("the page did not open");
      const shown = await page.$$eval('[data-testid="paper-comparison"] tbody tr', (trs) =>
        trs.map((tr) => ({test: tr.getAttribute("data-test"), metric: tr.getAttribute("data-metric"), class: tr.getAttribute("data-class"), ours: Number(tr.getAttribute("data-ours")), paper: Number(tr.getAttribute("data-paper")), text: tr.children[4]!.textContent}))
      );
      const rows = paperComparisonRows(paperReferenceArtifact({dir: sharedPath("reference", "fetalclip")}));
      expect(shown.map(({text: _t, ...r}) => r)).toEqual(rows.map((r) => ({test: r.test, metric: r.metric, class: r.class, ours: r.ours, paper: r.paper})));
      expect(shown.map((r) => r.text)).toEqual(rows.map((r) => r.ours.toFixed(5)));
      expect(rows.every((r) => r.agrees)).toBe(true);
      // Per-class values straight from the core: F1 of the five planes and of the brain sub-planes.
      for (const [m, test] of [[expected.five, "Five planes"], [expected.brain, "Brain sub-planes"]] as const) {
        for (const c of m.trueClasses) expect(shown.find((r) => r.test === test && r.metric === "F1" && r.class === c)?.ours).toBe(m.f1[c]);
      }
      const csv = await page.evaluate(async () => (await fetch((document.querySelector('[data-testid="paper-csv"]') as HTMLAnchorElement).href)).text());
      expect(csv).toBe(paperComparisonCsv(rows));
    });

    it("the confusion matrices hold the core's counts, distractor columns included", async () => {
      if (!page) throw new Error("the page did not open");
      for (const [id, m] of [["paper-confusion-five-planes", expected.five], ["paper-confusion-brain-subplanes", expected.brain]] as const) {
        const counts = await page.$$eval(`[data-testid="${id}"] svg g[aria-label="text"] text`, (nodes) => nodes.map((n) => Number(n.textContent)));
        const nonZero = m.confusion.counts.flat().filter((c) => c > 0);
        expect(counts.sort((a, b) => a - b)).toEqual(nonZero.sort((a, b) => a - b));
        const columns = await page.$$eval(`[data-testid="${id}"] svg g[aria-label="x-axis tick label"] text`, (nodes) => nodes.map((n) => n.textContent));
        expect(columns).toEqual(m.classes);
      }
    });

    it("screenshots in light and dark re-render without console errors", async () => {
      if (!page) throw new Error("the page did not open");
      await expectBothSchemes(page, "paper-configured", watch, note);
    });
  });

  it("with no reference folder configured, the page says how to configure it and shows no results", async () => {
    const {page} = await open(paperReferenceArtifact({dir: null}));
    try {
      const text = await page.textContent('[data-testid="paper-not-configured"]');
      expect(text).toContain("FETALCLIP_REFERENCE");
      expect(text).toContain('"reference"');
      expect(await page.$('[data-testid="paper-summary"]')).toBeNull();
      expect(await page.$('[data-testid="paper-comparison"]')).toBeNull();
      // No watch: the switch is not checked here, only drawn.
      await expectBothSchemes(page, "paper-not-configured", undefined, note);
    } finally {
      await page.close();
    }
  });
});
