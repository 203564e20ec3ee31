// The BUILT Probes page on the embedded default (phantom + demo model), served by a plain
// static server, in headless Chromium: it loads with no console error, no failed request
// and no request leaving localhost; the few-shot chart plots exactly the series the core
// (fewShotSeries) computes from the built artifact, before and after a class is toggled and
// when the task changes; the linear-probe table, the ROC curves, the segmentation tables and
// examples show the artifact's numbers; the curve and confusion CSVs equal the core's. Page weight is
// measured and printed. Screenshots with a class toggled, light and dark.
//
//   npx vitest run tests/e2e/probes.test.ts
//   FETALCLIP_SITE_DIST=dist npx vitest run tests/e2e/probes.test.ts   # test an existing build
import {readFileSync} from "node:fs";
import type {Page} from "playwright-core";
import {describe, expect, it} from "vitest";
import {
  checkProbesArtifact,
  chdFewShotCsv,
  chdFewShotSeries,
  checkSegmentationArtifact,
  confusionCsv,
  fewShotCsv,
  fewShotSeries,
  MACRO_SERIES,
  probeTableRows,
  rocSeries,
  type CurveSeries,
  type ProbesArtifact,
  type SegmentationArtifact
} from "../../src/lib/probeResults.js";
import {buildLine, builtJson, expectBothSchemes, expectCleanSession, openPage, reporter, useBuiltSite, weightLine} from "./pageChecks.js";

const PAGE = "probes.html";
/** The page's whole load, artifacts, bundles and styles included, must stay under this. */
const MAX_PAGE_BYTES = 3 * 1024 * 1024;

const report = reporter("probes");
const note = report.note;

declare global {
  interface Window {
    __fetalclipProbes?: {ready: boolean; task: string; classes: string[]; series: CurveSeries[]};
  }
}

/** The series the few-shot chart carries (data-series), once it shows `classes` for `task`. */
async function plotted(page: Page, task: string, classes: readonly string[]): Promise<CurveSeries[]> {
  await page.waitForFunction(
    ([task, classes]) => {
      const el = document.querySelector('[data-testid="probe-fewshot"]');
      return el?.getAttribute("data-task") === task && el.getAttribute("data-classes") === classes;
    },
    [task, JSON.stringify(classes)] as const,
    {timeout: 15_000}
  );
  return JSON.parse((await page.getAttribute('[data-testid="probe-fewshot"]', "data-series"))!) as CurveSeries[];
}

/** Paths drawn by the chart's line marks (Plot labels each mark's group). */
async function linePaths(page: Page): Promise<number> {
  return page.locator('[data-testid="probe-fewshot"] g[aria-label="line"] path').count();
}

describe("the Probes page (built site, plain static server, headless Chromium)", () => {
  let probes: ProbesArtifact;
  let segmentation: SegmentationArtifact;
  const session = useBuiltSite(report, {
    built: (site) => {
      note(buildLine(site));
      probes = checkProbesArtifact(builtJson(site.dir, "probes.json"));
      segmentation = checkSegmentationArtifact(builtJson(site.dir, "segmentation-probes.json"));
      note(`artifact: ${probes.classification.length} classification and ${probes.chd.length} CHD reports (${probes.settings.mode} mode), ${segmentation.segmentation.length} segmentation reports; skipped ${JSON.stringify([...probes.skipped, ...segmentation.skipped])}`);
    }
  });

  function opened(): Page {
    if (!session.page) throw new Error("the page did not open (see the first failing test)");
    return session.page;
  }

  it("loads with no console error or warning, no failed request and no request leaving localhost; page weight measured", async () => {
    const {weight: weigh} = await openPage(session, PAGE, {
      ready: () => window.__fetalclipProbes?.ready && document.querySelectorAll('[data-testid="segmentation-example"]').length > 0,
      note
    });
    expect(probes.classification.length, "the demo model's two tasks").toBeGreaterThanOrEqual(2);
    expect(probes.chd.length).toBeGreaterThanOrEqual(1);
    expect(segmentation.segmentation.length).toBeGreaterThanOrEqual(1);
    const weight = await weigh();
    note(`page weight until settled: ${weightLine(weight, session.server!.url)}`);
    expect(weight.bytes).toBeLessThan(MAX_PAGE_BYTES);
  }, 120_000);

  it("the few-shot chart plots the core's series; toggling a class adds exactly that class's curve", async () => {
    const p = opened();
    const task = "six-planes";
    const entries = probes.classification.filter((e) => e.task === task);
    const before = await plotted(p, task, []);
    expect(before).toEqual(fewShotSeries(probes.classification, task, []));
    expect(before.map((s) => s.series)).toEqual(entries.map(() => MACRO_SERIES));
    const macroPaths = await linePaths(p);
    expect(macroPaths, "one macro-F1 line per model").toBe(entries.length);

    const form = p.locator("form").filter({hasText: "Per-class F1"});
    await form.getByLabel("abdomen", {exact: true}).check();
    const one = await plotted(p, task, ["abdomen"]);
    const expected = fewShotSeries(probes.classification, task, ["abdomen"]);
    expect(one).toEqual(expected);
    expect(one).not.toEqual(before);
    // The core's per-class means, read straight from the report: what the class's curve must show.
    const abdomen = one.find((s) => s.series === "abdomen")!;
    expect(abdomen.points.map((q) => [q.patients, q.mean])).toEqual(entries[0]!.report.curve.map((c) => [c.patients, c.perClass.abdomen]));
    expect(await linePaths(p), "the class adds one line per model").toBe(2 * entries.length);

    await form.getByLabel("heart", {exact: true}).check();
    const two = await plotted(p, task, ["abdomen", "heart"]);
    expect(two).toEqual(fewShotSeries(probes.classification, task, ["abdomen", "heart"]));
    expect(await linePaths(p)).toBe(3 * entries.length);
    note(`six planes: abdomen F1 ${abdomen.points.map((q) => `${q.patients}:${q.mean.toFixed(3)}`).join(" ")}`);

    const hook = await p.evaluate(() => ({task: window.__fetalclipProbes!.task, classes: window.__fetalclipProbes!.classes, series: window.__fetalclipProbes!.series}));
    expect(hook).toEqual({task, classes: ["abdomen", "heart"], series: two});

    await expectBothSchemes(p, "probes-classes", session.watch, note);

    await form.getByLabel("abdomen", {exact: true}).uncheck();
    expect(await plotted(p, task, ["heart"])).toEqual(fewShotSeries(probes.classification, task, ["heart"]));
  }, 120_000);

  it("another task plots that task's series, zero-shot reference included", async () => {
    const p = opened();
    const task = "brain-subplanes";
    if (!probes.classification.some((e) => e.task === task)) throw new Error("no brain sub-plane reports in the artifact");
    await p.locator("form").filter({hasText: "Task"}).getByLabel("Brain sub-planes", {exact: true}).check();
    expect(await plotted(p, task, [])).toEqual(fewShotSeries(probes.classification, task, []));
    await p.locator("form").filter({hasText: "Per-class F1"}).getByLabel("trans-cerebellum", {exact: true}).check();
    expect(await plotted(p, task, ["trans-cerebellum"])).toEqual(fewShotSeries(probes.classification, task, ["trans-cerebellum"]));
    const zeroShot = probes.classification.find((e) => e.task === task)!.report.zeroShot;
    if (zeroShot) expect(await p.locator('[data-testid="probe-fewshot"]').textContent()).toContain(`zero-shot ${zeroShot.macroF1.toFixed(3)}`);
  }, 60_000);

  it("the curve CSV is the core's", async () => {
    const p = opened();
    const task = await p.getAttribute('[data-testid="probe-fewshot"]', "data-task");
    const [download] = await Promise.all([p.waitForEvent("download", {timeout: 15_000}), p.click('[data-testid="probe-fewshot-csv"]')]);
    const text = readFileSync((await download.path())!, "utf8");
    expect(text).toBe(fewShotCsv(probes.classification, task!));
    note(`CSV ${download.suggestedFilename()}: ${text.split("\n").length - 1} rows`);
  }, 60_000);

  it("the linear-probe tables, ROC curves and segmentation results show the artifact's numbers", async () => {
    const p = opened();
    const tables = await p.$$eval('[data-testid="probe-table"]', (els) => els.map((el) => JSON.parse(el.getAttribute("data-rows")!)));
    const tasks = [...new Set(probes.classification.map((e) => e.task))];
    expect(tables).toEqual(tasks.map((t) => probeTableRows(probes.classification.filter((e) => e.task === t))));
    // The confusion matrix shown first is the first full-data report's; its CSV is the core's.
    const [download] = await Promise.all([p.waitForEvent("download", {timeout: 15_000}), p.click('[data-testid="probe-confusion-csv"]')]);
    expect(readFileSync((await download.path())!, "utf8")).toBe(confusionCsv(probes.classification.filter((e) => e.report.full)[0]!));
    const roc = JSON.parse((await p.getAttribute('[data-testid="probe-roc"]', "data-series"))!);
    expect(roc).toEqual(rocSeries(probes.chd));
    // Few-shot CHD: the chart's series and its CSV are the core's, each point with the CI of its mean AUROC.
    const chdFew = JSON.parse((await p.getAttribute('[data-testid="probe-chd-fewshot"]', "data-series"))!);
    expect(chdFew).toEqual(chdFewShotSeries(probes.chd));
    expect(chdFew.length).toBeGreaterThan(0);
    for (const r of chdFew) expect(r.ci95[0]).toBeLessThanOrEqual(r.auroc);
    const [fewCsv] = await Promise.all([p.waitForEvent("download", {timeout: 15_000}), p.click('[data-testid="probe-chd-fewshot-csv"]')]);
    expect(readFileSync((await fewCsv.path())!, "utf8")).toBe(chdFewShotCsv(probes.chd));
    const rocText = await p.locator('[data-testid="probe-roc"]').textContent();
    for (const s of rocSeries(probes.chd)) expect(rocText).toContain(`AUROC ${s.auroc.toFixed(3)} (95% CI ${s.ci95[0].toFixed(3)}–${s.ci95[1].toFixed(3)})`);

    const examples = await p.$$eval('[data-testid="segmentation-example"]', (els) => els.map((el) => ({id: el.getAttribute("data-id"), structure: el.getAttribute("data-structure"), dice: Number(el.getAttribute("data-dice"))})));
    const structure = examples[0]?.structure;
    const expected = segmentation.segmentation.flatMap((e) => e.examples.filter((x) => x.structure === structure).map((x) => ({id: x.id, structure: x.structure, dice: x.dice})));
    expect(examples).toEqual(expected);
    // The panels are drawn: the prediction panel of the first example has orange pixels where the core predicted the structure.
    const painted = await p.evaluate(() => {
      const canvases = document.querySelectorAll('[data-testid="segmentation-example"] canvas');
      const c = canvases[2] as HTMLCanvasElement;
      const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let orange = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! > data[i + 2]! + 60) orange++;
      return {canvases: canvases.length, orange};
    });
    expect(painted.canvases).toBe(3 * examples.length);
    expect(painted.orange).toBeGreaterThan(0);
    const segRows = await p.$$eval('[data-testid="segmentation-table"]', (els) => els.map((el) => JSON.parse(el.getAttribute("data-rows")!)));
    expect(segRows).toEqual(segmentation.segmentation.map((e) => e.structures.map((s) => ({structure: s.structure, dice: s.dice, diceCi95: s.diceCi95, perImage: s.perImage.dice, perImageCi95: s.perImage.diceCi95}))));

    // The note says how the probes were trained, augmentation included (none by default).
    const how = await p.locator("h2", {hasText: "How these numbers were made"}).locator("..").textContent();
    expect(probes.settings.augment).toBeNull();
    expect(how).toContain("Augmentation: none (FetalCLIP's scripts embed 5 augmented copies of each training image for probing and 10 for few-data training");
    expect(how).toContain(probes.settings.note);

    const demo = probes.classification.find((e) => e.task === "six-planes")!.report;
    const chd = probes.chd[0]!.report.auroc!;
    const head = segmentation.segmentation[0]!.structures.find((s) => s.structure === "head")!;
    note(`${probes.classification[0]!.model}: six planes few-shot ${demo.curve.map((c) => `${c.patients}:${c.mean.toFixed(3)}±${c.std.toFixed(3)}`).join(" ")}; full macro F1 ${demo.full!.macroF1.toFixed(4)} (scored as zero-shot ${demo.full!.scoredAsZeroShot?.macroF1.toFixed(4)}, zero-shot ${demo.zeroShot?.macroF1.toFixed(4)}); CHD AUROC ${chd.auroc.toFixed(3)} [${chd.ci95.map((v) => v.toFixed(3)).join(", ")}]; head Dice ${head.dice.toFixed(3)} [${head.diceCi95.map((v) => v.toFixed(3)).join(", ")}], per image ${head.perImage.dice.toFixed(3)}`);
    await expectCleanSession(p, session.watch!);
  }, 60_000);
});
