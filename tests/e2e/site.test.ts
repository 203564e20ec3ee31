// The BUILT site, as users open it: `observable build` into a temp folder, served by a
// plain static server (no COOP/COEP), in headless Chromium. First the live page's contract
// ([data-testid="live-result"]) with and without a WebGPU adapter, each on a cold page:
// the phantom answer within 60 s, real HC18 uploads (and a JPEG) equal to Node's numbers, bad uploads,
// long tasks and per-image time. Then every page the config lists, with no console error
// or warning, no failed request and no request leaving localhost, screenshots in light and dark.
//
//   npx vitest run tests/e2e/site.test.ts
//   FETALCLIP_SITE_DIST=dist npx vitest run tests/e2e/site.test.ts   # test an existing build
//   FETALCLIP_SITE_KEEP=1 ...                                        # keep the temp build
import {readFileSync} from "node:fs";
import {join} from "node:path";
import type {Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {DEMO_BUNDLE_DIR} from "../../loaders/demo/bundle.js";
import {loadNodeModel, preprocessImageFile} from "../../loaders/nodeModel.js";
import {GA_BIN_DAYS} from "../../src/lib/gestationalAge.js";
import {FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS} from "../../src/lib/prompts.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import {estimateGa, GaPromptCache} from "../../src/lib/tasks/gestationalAge.js";
import {promptClassEmbeddings} from "../../src/lib/tasks/zeroShot.js";
import {zeroShotProbabilities} from "../../src/lib/zeroShot.js";
import {describeShared, repoRoot, sharedPath} from "../shared.js";
import {assertChromium, launchChromium, serveStatic, type Browser, type StaticServer} from "./browser.js";
import {
  buildSiteForRun,
  cellErrors,
  collapseLines,
  guardNetwork,
  LIVE_RECORDER_SCRIPT,
  liveLength,
  longFrames,
  longTasks,
  scriptsDuring,
  pageFile,
  pageSlug,
  pngClaimingSize,
  screenshotBothSchemes,
  setPhase,
  settlePage,
  SCREENSHOT_DIR,
  sitePagePaths,
  waitForLive,
  watchPage,
  type BuiltSite,
  type LiveSnapshot,
  type LongTask,
  type NetworkGuard,
  type PageWatch
} from "./site.js";

/** A committed test JPEG (tests/fixtures/jpeg, made by scripts/make_jpeg_reference.py). */
const jpegFixture = (name: string): string => join(repoRoot, "tests", "fixtures", "jpeg", `${name}.jpg`);
const PAGES = sitePagePaths();
const LIVE_PATH = "/live";
const FIRST_ANSWER_MS = 60_000;
const MAX_LONG_TASK_MS = 200;
const SCREENSHOT_PHASE = "screenshots";
const PROBABILITY_TOLERANCE = 1e-3;
const CLASSES: readonly string[] = FIVE_PLANES_CLASSES;
const GA_RANGE = [Math.min(...GA_BIN_DAYS), Math.max(...GA_BIN_DAYS)] as const;
/** Settling time for a page in the sweep: the live page loads a model and scores a sample. */
const SETTLE_MS = (path: string) => (path === LIVE_PATH ? 120_000 : 60_000);

type Setup = "webgpu" | "no-webgpu";
interface SetupBrowser {
  browser: Browser;
  guard: NetworkGuard;
}

/** Timings and findings printed as they come and again at the end. */
const report: string[] = [];
function note(line: string): void {
  report.push(line);
  console.log(`[site] ${line}`);
}

// ---------------------------------------------------------------------------
// Node's numbers for an image: the project's own loaders and scoring, on onnxruntime-node cpu.

interface NodeAnswer {
  topClass: string;
  probabilities: Record<string, number>;
  gaDays: number;
}
const nodeAnswers = new Map<string, Promise<NodeAnswer>>();
let nodeModel: ReturnType<typeof loadNodeModel> | undefined;
let nodeClassEmbeds: Promise<Float32Array[]> | undefined;

function nodeAnswer(file: string, pixelSizeMm: number): Promise<NodeAnswer> {
  let answer = nodeAnswers.get(file);
  if (!answer) {
    answer = (async () => {
      nodeModel ??= loadNodeModel(DEMO_BUNDLE_DIR, {ep: "cpu"});
      const {model} = await nodeModel;
      nodeClassEmbeds ??= promptClassEmbeddings(model, FIVE_PLANES_CLASSES, FIVE_PLANES_PROMPTS);
      const classEmbeds = await nodeClassEmbeds;
      const [embedding] = (await model.encodeImages([preprocessImageFile(file, model)])).embeddings;
      const p = zeroShotProbabilities(embedding, classEmbeds);
      const probabilities = Object.fromEntries(CLASSES.map((c, i) => [c, p[i]]));
      const top = CLASSES.reduce((best, c) => (probabilities[c] > probabilities[best] ? c : best), CLASSES[0]);
      // GA with the pixel size the test types into the page, from the same core task the page runs.
      const raster = decodeImage(new Uint8Array(readFileSync(file)));
      const ga = await estimateGa(new GaPromptCache(model, model.imageSize), {embed: embedding, width: raster.width, height: raster.height, pixelSizeMm});
      return {topClass: top, probabilities, gaDays: ga.gaDays};
    })();
    nodeAnswers.set(file, answer);
  }
  return answer;
}

// ---------------------------------------------------------------------------
// The contract of [data-testid="live-result"] when ready.

function parseProbabilities(snapshot: LiveSnapshot): Record<string, number> {
  expect(snapshot.probabilities, "data-probabilities is set when ready").toBeTruthy();
  let parsed: unknown;
  try {
    parsed = JSON.parse(snapshot.probabilities!);
  } catch (error) {
    throw new Error(`data-probabilities is not JSON: ${snapshot.probabilities} (${(error as Error).message})`);
  }
  const probabilities = parsed as Record<string, number>;
  expect(Object.keys(probabilities).sort(), "data-probabilities names the 9 plane classes").toEqual([...CLASSES].sort());
  for (const c of CLASSES) {
    expect(Number.isFinite(probabilities[c]) && probabilities[c] >= 0 && probabilities[c] <= 1, `probability of ${c}: ${probabilities[c]}`).toBe(true);
  }
  const sum = CLASSES.reduce((s, c) => s + probabilities[c], 0);
  expect(Math.abs(sum - 1), `probabilities sum to 1 (got ${sum})`).toBeLessThan(1e-3);
  return probabilities;
}

function expectReady(snapshot: LiveSnapshot, source: "phantom" | "upload"): Record<string, number> {
  expect(snapshot.state, `data-state (text: ${snapshot.text})`).toBe("ready");
  expect(snapshot.ariaLive, 'aria-live="polite"').toBe("polite");
  expect(snapshot.source, "data-source").toBe(source);
  expect(CLASSES, `data-top-class "${snapshot.topClass}" is one of the 9 classes`).toContain(snapshot.topClass);
  const probabilities = parseProbabilities(snapshot);
  const best = Math.max(...CLASSES.map((c) => probabilities[c]));
  expect(probabilities[snapshot.topClass!], "data-top-class has the highest probability").toBe(best);
  return probabilities;
}

function expectGaDays(snapshot: LiveSnapshot): number {
  expect(snapshot.gaDays, "data-ga-days").toMatch(/^\d+$/);
  const days = Number(snapshot.gaDays);
  expect(days, `GA ${days} days lies within the GA bins ${GA_RANGE[0]}-${GA_RANGE[1]}`).toBeGreaterThanOrEqual(GA_RANGE[0]);
  expect(days).toBeLessThanOrEqual(GA_RANGE[1]);
  return days;
}

function hc18Labels(): Map<string, number> {
  const lines = readFileSync(sharedPath("data", "hc18", "labels.csv"), "utf8").trim().split(/\r?\n/);
  const header = lines[0].split(",");
  const nameAt = header.indexOf("filename");
  const pixelAt = header.indexOf("pixel size(mm)");
  if (nameAt < 0 || pixelAt < 0) throw new Error(`hc18/labels.csv: unexpected header ${lines[0]}`);
  return new Map(lines.slice(1).map((line) => line.split(",")).map((cells) => [cells[nameAt], Number(cells[pixelAt])]));
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

// ---------------------------------------------------------------------------

describe("the built site (observable build, plain static server, headless Chromium)", () => {
  let site: BuiltSite | undefined;
  let server: StaticServer | undefined;
  const browsers = new Map<Setup, Promise<SetupBrowser>>();

  /** One browser per setup, shared by every test that needs it. */
  function browserFor(setup: Setup): Promise<SetupBrowser> {
    let entry = browsers.get(setup);
    if (!entry) {
      entry = (async () => {
        const browser = await launchChromium({webgpu: setup === "webgpu"});
        await browser.context.addInitScript(LIVE_RECORDER_SCRIPT);
        const guard = await guardNetwork(browser.context);
        return {browser, guard};
      })();
      browsers.set(setup, entry);
    }
    return entry;
  }

  async function closeBrowser(setup: Setup): Promise<void> {
    const entry = browsers.get(setup);
    browsers.delete(setup);
    await (await entry?.catch(() => undefined))?.browser.close();
  }

  const url = (path: string): string => {
    if (!server) throw new Error("the site is not served (the build failed: see beforeAll)");
    return server.url + pageFile(path);
  };

  beforeAll(async () => {
    assertChromium();
    const started = Date.now();
    site = await buildSiteForRun();
    note(site.built ? `built with observable build into ${site.dir} in ${seconds(site.ms)}` : `testing the existing build ${site.dir} (FETALCLIP_SITE_DIST, or built earlier in this run)`);
    server = await serveStatic(site.dir, {isolated: false});
    note(`served at ${server.url} (no COOP/COEP); pages from the config: ${PAGES.join(", ")}; setup ${seconds(Date.now() - started)}`);
  }, 20 * 60_000);

  afterAll(async () => {
    for (const setup of [...browsers.keys()]) await closeBrowser(setup);
    await server?.close();
    await site?.remove();
    if (nodeModel) {
      const {model} = await nodeModel.catch(() => ({model: undefined}));
      await model?.imageSession.release();
      await model?.textSession.release();
    }
    console.log(`[site] summary:\n  ${report.join("\n  ")}\n  screenshots: ${SCREENSHOT_DIR}`);
  }, 60_000);

  for (const setup of ["webgpu", "no-webgpu"] as const) {
    describe(`the live page (${LIVE_PATH}), ${setup === "webgpu" ? "with a WebGPU adapter (SwiftShader)" : "without a WebGPU adapter"}`, () => {
      let page: Page | undefined;
      let watch: PageWatch | undefined;
      let firstReady: LiveSnapshot | undefined;
      let setupProblem: string | undefined;
      let uploadMs: number[] = [];
      let nextGood = 0;
      let lastProbabilities: string | null = null;

      /** The live page, open and past its first answer; otherwise fail fast with why. */
      function live(): Page {
        if (setupProblem) throw new Error(setupProblem);
        if (!page || !firstReady) throw new Error(`the live page never showed its first answer (see the first failing test of this setup)`);
        return page;
      }

      /** A whole new session of the live page: the longest main-thread task after its first answer, over an HC18 upload and its GA. */
      async function freshSessionLongestTaskMs(which: Setup): Promise<{worst: number; detail: string}> {
        const {browser} = await browserFor(which);
        const p = await browser.newPage();
        try {
          await p.goto(url(LIVE_PATH), {waitUntil: "domcontentloaded"});
          const first = await waitForLive(p, {from: 0, states: ["ready"], needTopClass: true}, 2 * FIRST_ANSWER_MS);
          const [name, pixel] = [...hc18Labels()][1]!;
          await p.fill('[data-testid="live-pixel-size"] input', String(pixel));
          const from = await liveLength(p);
          await p.setInputFiles('input[type=file][data-testid="live-upload"]', sharedPath("data", "hc18", "images", name));
          await waitForLive(p, {from, states: ["ready"], source: "upload", needTopClass: true, needGa: true}, 90_000);
          await p.waitForTimeout(500);
          const tasks = (await longTasks(p)).filter((t) => t.start >= first.t);
          const worst = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
          return {worst, detail: tasks.length ? ` (${tasks.map((t) => `${t.duration.toFixed(0)} ms at +${(t.start - first.t).toFixed(0)} ms`).join(", ")})` : ""};
        } finally {
          await p.close();
        }
      }

      it(
        setup === "webgpu"
          ? "the browser exposes a WebGPU adapter (--enable-unsafe-webgpu)"
          : "the browser exposes no WebGPU adapter: navigator.gpu?.requestAdapter() gives null",
        async () => {
          const {browser} = await browserFor(setup);
          const probe = await browser.newPage();
          try {
            await probe.goto(url("/"), {waitUntil: "domcontentloaded"});
            const adapter = await probe.evaluate(async () => {
              const gpu = (navigator as Navigator & {gpu?: {requestAdapter(): Promise<unknown>}}).gpu;
              return gpu ? (await gpu.requestAdapter()) !== null : false;
            });
            const want = setup === "webgpu";
            if (adapter !== want) {
              setupProblem = want
                ? `this Chromium gives no WebGPU adapter even with --enable-unsafe-webgpu: the WebGPU setup cannot be tested here`
                : `this Chromium gives a WebGPU adapter without --enable-unsafe-webgpu: the no-WebGPU setup cannot be tested here`;
              throw new Error(setupProblem);
            }
          } finally {
            await probe.close();
          }
        },
        60_000
      );

      it(`shows the default phantom sample's top class within ${FIRST_ANSWER_MS / 1000} s of opening`, async () => {
        if (setupProblem) throw new Error(setupProblem);
        const {browser, guard} = await browserFor(setup);
        page = await browser.newPage();
        watch = watchPage(page, guard);
        const started = Date.now();
        await page.goto(url(LIVE_PATH), {waitUntil: "domcontentloaded"});
        // Waits past the limit, so a slow first answer still lets the tests after this one run.
        const answer = await waitForLive(page, {from: 0, states: ["ready", "error"], needTopClass: true}, 2 * FIRST_ANSWER_MS);
        const wallMs = Date.now() - started;
        note(`${setup}: first answer (phantom) ${answer.state} top=${answer.topClass} at ${seconds(answer.t)} after navigation (${seconds(wallMs)} wall)`);
        expect(answer.state, `the live result shows an error instead: ${answer.text}`).toBe("ready");
        expectReady(answer, "phantom");
        firstReady = answer;
        lastProbabilities = answer.probabilities;
        await setPhase(page, "after the first answer (phantom sample)");
        expect(answer.t, "ms from navigation to the first answer").toBeLessThanOrEqual(FIRST_ANSWER_MS);
      }, 2 * FIRST_ANSWER_MS + 60_000);

      it("opening it logs no console error or warning, no failed or external request", async () => {
        const p = live();
        await p.waitForTimeout(500);
        const issues = [...watch!.issues(), ...(await cellErrors(p)).map((e) => `[cell error shown] ${e}`)];
        if (issues.length) note(`${setup} ${LIVE_PATH}: ${issues.length} issue(s) while opening:\n    ${issues.join("\n    ")}`);
        expect(issues).toEqual([]);
      });

      describeShared("uploads (real HC18 images from ../shared/data)", () => {
        const labels = new Map<string, number>();
        const goodImages = ["000_HC.png", "004_HC.png"];
        const image = (name: string) => sharedPath("data", "hc18", "images", name);

        beforeAll(() => {
          for (const [name, pixel] of hc18Labels()) labels.set(name, pixel);
          for (const name of goodImages) if (!labels.has(name)) throw new Error(`hc18/labels.csv has no row for ${name}`);
        });

        /** Sets the pixel size, uploads, and waits for a ready (or error) result of this upload. */
        async function upload(p: Page, file: string | {name: string; mimeType: string; buffer: Buffer}, options: {pixelSizeMm?: number; expect: "ready" | "error"}) {
          if (options.pixelSizeMm !== undefined) {
            await p.fill('[data-testid="live-pixel-size"] input', String(options.pixelSizeMm), {timeout: 10_000});
          }
          await setPhase(p, `upload of ${typeof file === "string" ? file.split("/").pop() : file.name}`);
          const from = await liveLength(p);
          const started = Date.now();
          await p.setInputFiles('input[type=file][data-testid="live-upload"]', file, {timeout: 10_000});
          const snapshot = await waitForLive(
            p,
            {from, states: ["ready", "error"], source: "upload", needTopClass: true, changedFrom: options.expect === "ready" ? lastProbabilities : null},
            60_000
          );
          const ms = Date.now() - started;
          if (snapshot.state === "ready") lastProbabilities = snapshot.probabilities;
          if (options.expect === "ready") expect(snapshot.state, `the upload gave an error: ${snapshot.text}`).toBe("ready");
          else expect(snapshot.state, `expected an error, got a ${snapshot.state} result (top ${snapshot.topClass})`).toBe("error");
          return {snapshot, ms};
        }

        async function goodUpload(p: Page): Promise<number> {
          const name = goodImages[nextGood++ % goodImages.length];
          const {snapshot, ms} = await upload(p, image(name), {pixelSizeMm: labels.get(name), expect: "ready"});
          expectReady(snapshot, "upload");
          return ms;
        }

        it("an HC18 upload shows a class and a GA; class and probabilities equal Node's (onnxruntime-node cpu)", async () => {
          const p = live();
          const name = goodImages[0];
          const file = image(name);
          // Node's answer first: computed alongside the page, it would compete with it for the CPU and lengthen its tasks.
          const expected = await nodeAnswer(file, labels.get(name)!);
          const {snapshot, ms} = await upload(p, file, {pixelSizeMm: labels.get(name), expect: "ready"});
          const probabilities = expectReady(snapshot, "upload");
          const started = Date.now();
          const withGa = snapshot.gaDays ? snapshot : await waitForLive(p, {from: snapshot.index, states: ["ready"], source: "upload", needGa: true}, 90_000);
          const gaMs = ms + (Date.now() - started);
          const gaDays = expectGaDays(withGa);
          nextGood = 1;
          note(`${setup}: HC18 ${name} (${labels.get(name)} mm/px): ${snapshot.topClass} in ${seconds(ms)}, GA ${gaDays} d (${Math.floor(gaDays / 7)}w${gaDays % 7}d) after ${seconds(gaMs)}`);
          await setPhase(p, SCREENSHOT_PHASE);
          await screenshotBothSchemes(p, `live-${setup}-hc18`);
          await setPhase(p, "idle after the HC18 screenshots");
          const node = await expected;
          const diffs = CLASSES.map((c) => Math.abs(probabilities[c] - node.probabilities[c]));
          note(`${setup}: browser vs Node on ${name}: top ${snapshot.topClass} vs ${node.topClass}, max |p diff| ${Math.max(...diffs).toExponential(2)}`);
          expect(snapshot.topClass).toBe(node.topClass);
          expect(gaDays, `GA in the browser vs Node at ${labels.get(name)} mm/px`).toBe(node.gaDays);
          for (const [i, c] of CLASSES.entries()) expect(diffs[i], `|p(${c})| browser ${probabilities[c]} vs Node ${node.probabilities[c]}`).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
        }, 180_000);

        it("a new image after the first: time until its answer", async () => {
          const p = live();
          const ms = await goodUpload(p);
          uploadMs.push(ms);
          note(`${setup}: time per new image (second upload until ready): ${seconds(ms)}`);
        }, 120_000);

        it("a JPEG upload (progressive, red/green edges) decodes as in Node: class and probabilities equal Node's", async () => {
          const p = live();
          // libjpeg-turbo's wasm in the worker. jpeg-js, which it replaced, is 30 levels off PIL on average
          // here: a worker still decoding with it answered 1.4e-2 away from Node.
          const file = jpegFixture("progressive-checker-420");
          const expected = await nodeAnswer(file, 0.2);
          const {snapshot, ms} = await upload(p, file, {pixelSizeMm: 0.2, expect: "ready"});
          const probabilities = expectReady(snapshot, "upload");
          const diffs = CLASSES.map((c) => Math.abs(probabilities[c] - expected.probabilities[c]));
          note(`${setup}: JPEG upload: ${snapshot.topClass} in ${seconds(ms)}, max |p diff| vs Node ${Math.max(...diffs).toExponential(2)}`);
          expect(snapshot.topClass).toBe(expected.topClass);
          for (const [i, c] of CLASSES.entries()) expect(diffs[i], `|p(${c})| browser ${probabilities[c]} vs Node ${expected.probabilities[c]}`).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
        }, 120_000);

        const badUploads: {what: string; file: () => {name: string; mimeType: string; buffer: Buffer}}[] = [
          {what: "an empty file", file: () => ({name: "empty.png", mimeType: "image/png", buffer: Buffer.alloc(0)})},
          {what: "a text file named .png", file: () => ({name: "notes.png", mimeType: "image/png", buffer: Buffer.from("This is not an image, just some text.\n")})},
          {what: "a truncated PNG (its first 100 bytes)", file: () => ({name: "truncated.png", mimeType: "image/png", buffer: readFileSync(image(goodImages[0])).subarray(0, 100)})},
          {what: "a truncated JPEG (its first 1000 bytes)", file: () => ({name: "truncated.jpg", mimeType: "image/jpeg", buffer: readFileSync(jpegFixture("progressive-420")).subarray(0, 1000)})},
          {what: "a PNG whose header claims 100000x100000 px", file: () => ({name: "huge.png", mimeType: "image/png", buffer: pngClaimingSize(100_000, 100_000)})}
        ];
        for (const bad of badUploads) {
          it(`${bad.what}: data-state="error" with one message; the next good upload then works`, async () => {
            const p = live();
            const {snapshot} = await upload(p, bad.file(), {expect: "error"});
            await p.waitForTimeout(300); // a repeated message would show by now
            const shown = await p.evaluate(() => {
              const results = document.querySelectorAll('[data-testid="live-result"]');
              const el = results[0] as HTMLElement | undefined;
              const text = (el?.innerText ?? "").trim();
              const body = document.body.innerText;
              let count = 0;
              for (let at = text ? body.indexOf(text) : -1; at >= 0; at = body.indexOf(text, at + 1)) count++;
              return {elements: results.length, state: el?.getAttribute("data-state"), text, count, cellErrors: document.querySelectorAll(".observablehq--error").length};
            });
            note(`${setup}: ${bad.what}: error "${shown.text.replace(/\s+/g, " ").slice(0, 200)}"`);
            expect(shown.elements, "one live-result element").toBe(1);
            expect(shown.state, "still data-state=error").toBe("error");
            expect(shown.text, "the error has a message").not.toBe("");
            expect(snapshot.text.length).toBeGreaterThan(0);
            const lines = shown.text.split(/\n+/).map((l) => l.trim()).filter(Boolean);
            expect(new Set(lines).size, `no line repeated in the message: ${JSON.stringify(shown.text)}`).toBe(lines.length);
            expect(shown.count, "the message shows once on the page").toBe(1);
            expect(shown.cellErrors, "no Framework cell error besides it").toBe(0);
            const ms = await goodUpload(p);
            uploadMs.push(ms);
          }, 150_000);
        }

        afterAll(() => {
          if (uploadMs.length) {
            const mean = uploadMs.reduce((s, v) => s + v, 0) / uploadMs.length;
            note(`${setup}: good uploads after the first: ${uploadMs.length}, mean ${seconds(mean)}, max ${seconds(Math.max(...uploadMs))}`);
          }
          uploadMs = [];
        });
      });

      it(`the main thread is never blocked more than ${MAX_LONG_TASK_MS} ms at a time after the first answer`, async () => {
        const p = live();
        const supported = await p.evaluate(() => PerformanceObserver.supportedEntryTypes.includes("longtask"));
        expect(supported, "the Long Tasks API (PerformanceObserver 'longtask') is available").toBe(true);
        const after = (await longTasks(p)).filter((t) => t.start >= firstReady!.t);
        // Screenshots re-render the page for light/dark and lay it out beyond the viewport: the test's doing, not the page's.
        const tasks = after.filter((t) => t.phase !== SCREENSHOT_PHASE);
        const worst = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
        const over = tasks.filter((t) => t.duration > MAX_LONG_TASK_MS);
        const frames = await longFrames(p);
        const describeTask = (t: LongTask) => {
          const scripts = scriptsDuring(t, frames);
          return (
            `${t.duration.toFixed(0)} ms at ${seconds(t.start)}, ${(t.start - firstReady!.t).toFixed(0)} ms after the first answer (test phase: ${t.phase})` +
            (scripts.length ? ` [scripts: ${scripts.join("; ")}]` : "")
          );
        };
        note(
          `${setup}: long tasks after the first answer (at ${seconds(firstReady!.t)}): ${tasks.length}, max ${worst.toFixed(0)} ms` +
            (over.length ? `; over ${MAX_LONG_TASK_MS} ms: ${over.map(describeTask).join(", ")}` : "") +
            `; ${after.length - tasks.length} more while taking screenshots (not counted)`
        );
        if (worst <= MAX_LONG_TASK_MS) return;
        // This 2-core VM sometimes stalls a whole renderer for a few hundred ms (no page script runs
        // in those tasks). A session with such a stall is re-measured, in full, on up to four fresh
        // sessions of the page (open, first answer, an HC18 upload and its GA); the page passes
        // when one whole session stays under the limit. Every session's figure is printed.
        const worstFresh: number[] = [];
        for (let attempt = 1; attempt <= 4; attempt++) {
          const fresh = await freshSessionLongestTaskMs(setup);
          worstFresh.push(fresh.worst);
          note(`${setup}: fresh session ${attempt}: long tasks after the first answer: max ${fresh.worst.toFixed(0)} ms${fresh.detail}`);
          if (fresh.worst <= MAX_LONG_TASK_MS) return;
        }
        expect(Math.min(worst, ...worstFresh), `long tasks over ${MAX_LONG_TASK_MS} ms in every session: ${over.map(describeTask).join(", ")}; fresh sessions: ${worstFresh.map((w) => w.toFixed(0)).join(", ")} ms`).toBeLessThanOrEqual(MAX_LONG_TASK_MS);
      }, 6 * FIRST_ANSWER_MS + 120_000);

      afterAll(async () => {
        await page?.close().catch(() => {});
        // The page sweep below reuses the WebGPU browser; the other is done.
        if (setup !== "webgpu") await closeBrowser(setup);
      });
    });
  }

  describe("every page in the config", () => {
    it.each(PAGES)(
      "%s loads with no console error or warning, no failed or external request; screenshots light and dark",
      async (path) => {
        const {browser, guard} = await browserFor("webgpu");
        const page = await browser.newPage();
        try {
          const watch = watchPage(page, guard);
          const started = Date.now();
          const response = await page.goto(url(path), {waitUntil: "domcontentloaded"});
          const pending = await settlePage(page, SETTLE_MS(path));
          const ms = Date.now() - started;
          const errors = await cellErrors(page);
          const loadIssues = watch.issues();
          const shots = await screenshotBothSchemes(page, pageSlug(path), watch);
          const afterSchemes = await cellErrors(page);
          note(`${path}: settled in ${seconds(ms)}; screenshots ${shots.files.join(", ")}`);
          if (shots.duringCapture.length) note(`${path}: while taking full-page screenshots (not failed on):\n    ${shots.duringCapture.join("\n    ")}`);
          const issues = [
            ...(response && response.status() >= 400 ? [`the page itself: HTTP ${response.status()}`] : []),
            ...loadIssues,
            ...shots.afterSwitch,
            ...collapseLines(errors).map((e) => `[cell error shown] ${e}`),
            ...collapseLines(afterSchemes.filter((e) => !errors.includes(e))).map((e) => `[cell error shown after switching light/dark] ${e}`),
            ...pending.map((p) => `[still loading after ${seconds(SETTLE_MS(path))}] ${p}`)
          ];
          if (issues.length) note(`${path}: ${issues.length} issue(s):\n    ${issues.join("\n    ")}`);
          expect(issues, `${path}: console errors/warnings, failed or external requests, cell errors`).toEqual([]);
        } finally {
          await page.close();
        }
      },
      240_000
    );
  });
});
