// Helpers for the browser tests over the BUILT site (tests/e2e/site.test.ts):
// building it with Observable Framework's own CLI into a temp folder, the pages
// the config lists, a network guard that keeps every request on localhost, a
// watcher for console messages and failed requests, and an in-page recorder of
// the live page's result element and of long tasks.
import {spawn} from "node:child_process";
import {existsSync} from "node:fs";
import {cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile} from "node:fs/promises";
import {createRequire} from "node:module";
import {tmpdir} from "node:os";
import {delimiter, join, resolve} from "node:path";
import {pathToFileURL} from "node:url";
import type {BrowserContext, ConsoleMessage, Page, Request, Response} from "playwright-core";
import siteConfig from "../../observablehq.config.js";
import {clearStalePaperReferenceCache} from "../../loaders/paperReference.js";
import {clearStaleResultsCache} from "../../loaders/results/staleCache.js";
import {repoRoot, sharedPath} from "../shared.js";
import {pidAlive} from "../../loaders/processAlive.js";

/** Where the page screenshots go (gitignored); FETALCLIP_SCREENSHOTS overrides. */
export const SCREENSHOT_DIR = resolve(process.env.FETALCLIP_SCREENSHOTS ?? join(repoRoot, "tests", "e2e", "screenshots"));

export {siteConfig};

interface PageEntry {
  path?: string;
  pages?: PageEntry[];
}

/** Every page path the site config lists (sections flattened), "/" first; new pages are covered as they are added. */
export function sitePagePaths(config: {pages?: unknown} = siteConfig): string[] {
  const paths: string[] = ["/"];
  const visit = (entries: unknown): void => {
    if (!Array.isArray(entries)) return;
    for (const entry of entries as PageEntry[]) {
      if (typeof entry?.path === "string" && !paths.includes(entry.path)) paths.push(entry.path);
      visit(entry?.pages);
    }
  };
  visit(config.pages);
  return paths;
}

/** The built file of a page path: "/" -> index.html, "/live" -> live.html, "/dir/" -> dir/index.html. */
export function pageFile(path: string): string {
  const clean = path.replace(/^\/+/, "");
  if (clean === "" || clean.endsWith("/")) return `${clean}index.html`;
  return clean.endsWith(".html") ? clean : `${clean}.html`;
}

/** A file-name-safe name for a page path: "/" -> index, "/zero-shot" -> zero-shot. */
export function pageSlug(path: string): string {
  return path.replace(/^\/+|\/+$/g, "").replace(/[^A-Za-z0-9_-]+/g, "_") || "index";
}

export interface BuiltSite {
  /** The folder to serve. */
  dir: string;
  /** False when FETALCLIP_SITE_DIST named an existing build. */
  built: boolean;
  ms: number;
  /** Removes the temp folder (kept when FETALCLIP_SITE_KEEP=1, or when the site was not built here). */
  remove(): Promise<void>;
}

/** The text of the temp config: the repository's config, spread, with absolute root (default: the repository's src) and output. */
export function tempConfigSource(output: string, root: string = join(repoRoot, "src")): string {
  const require = createRequire(join(repoRoot, "package.json"));
  const tsxApi = pathToFileURL(require.resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const repoConfig = pathToFileURL(join(repoRoot, "observablehq.config.ts")).href;
  return `// Written by tests/e2e/site.ts: the repository's site config, built from its src into a temp folder.
import {tsImport} from ${JSON.stringify(tsxApi)};
const {default: config} = await tsImport(${JSON.stringify(repoConfig)}, import.meta.url);
export default {...config, root: ${JSON.stringify(root)}, output: ${JSON.stringify(output)}};
`;
}

/**
 * The environment the test builds use: FETALCLIP_REFERENCE set to ../shared/reference/fetalclip
 * when it exists and none is set, so the paper page is built with FetalCLIP's released outputs.
 */
export function siteBuildEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const reference = sharedPath("reference", "fetalclip");
  if (env.FETALCLIP_REFERENCE || !existsSync(reference)) return {...env};
  return {...env, FETALCLIP_REFERENCE: reference};
}

/**
 * Builds the site as users do (`observable build`, after `npm run setup` made the embedded
 * default: vitest's globalSetup did that) but into a temp folder, so builds into dist/ by
 * anyone else never collide with this one. FETALCLIP_SITE_DIST=path tests that build instead.
 * `options.env`: the build's environment (default siteBuildEnv()); `options.root`: the site's
 * source root (default the repository's src; see buildSiteUnconfigured).
 */
export async function buildSite(
  log: (line: string) => void = () => {},
  into?: string,
  options: {env?: NodeJS.ProcessEnv; root?: string} = {}
): Promise<BuiltSite> {
  const started = Date.now();
  const given = process.env.FETALCLIP_SITE_DIST;
  if (given) {
    const dir = resolve(given);
    if (!existsSync(join(dir, "index.html"))) throw new Error(`FETALCLIP_SITE_DIST=${given}: ${dir} has no index.html (build the site first)`);
    return {dir, built: false, ms: 0, remove: async () => {}};
  }
  const tmp = into ? resolve(into, "..") : await mkdtemp(join(tmpdir(), "fetalclip-site-"));
  const output = into ? resolve(into) : join(tmp, "dist");
  const configFile = join(tmp, "observablehq.config.js");
  await writeFile(configFile, tempConfigSource(output, options.root));
  const require = createRequire(join(repoRoot, "package.json"));
  const bin = join(require.resolve("@observablehq/framework/package.json").replace(/package\.json$/, ""), "dist", "bin", "observable.js");
  const buildEnv = options.env ?? siteBuildEnv();
  // Framework's cache of the paper page's loader may hold another reference folder's data (so may
  // that of the Gestational-age, drill-down and Compare artifacts).
  clearStalePaperReferenceCache({env: buildEnv, siteRoot: options.root});
  clearStaleResultsCache({env: buildEnv, siteRoot: options.root});
  const lines: string[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, [bin, "build", "--config", configFile], {
      cwd: repoRoot,
      // TypeScript data loaders run with `tsx`, found on PATH as npm scripts find it.
      env: {...buildEnv, PATH: `${join(repoRoot, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`, NO_COLOR: "1", FORCE_COLOR: "0"},
      stdio: ["ignore", "pipe", "pipe"]
    });
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString().split(/\r?\n/)) {
        if (!line.trim()) continue;
        lines.push(line);
        log(line);
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("error", fail);
    child.once("close", done);
  });
  const keep = process.env.FETALCLIP_SITE_KEEP === "1";
  const remove = async (): Promise<void> => {
    if (!keep) await rm(tmp, {recursive: true, force: true});
  };
  if (code !== 0 || !existsSync(join(output, "index.html"))) {
    await remove();
    throw new Error(`observable build --config ${configFile} exited with ${code}; last output:\n${lines.slice(-40).join("\n")}`);
  }
  return {dir: output, built: true, ms: Date.now() - started, remove};
}


const RUN_SITE_PREFIX = "fetalclip-site-run-";

/**
 * One build for every browser test file of one vitest run: files run one after the other in
 * forked workers of one vitest process (their parent), so the first to ask builds into
 * tmp/fetalclip-site-run-<parent pid>/ under a lock and the others serve that folder. Folders of
 * runs whose vitest process is gone are removed here. FETALCLIP_SITE_DIST still names a build.
 */
export async function buildSiteForRun(log: (line: string) => void = () => {}): Promise<BuiltSite> {
  if (process.env.FETALCLIP_SITE_DIST) return buildSite(log);
  const root = tmpdir();
  for (const name of await readdir(root)) {
    const m = new RegExp(`^${RUN_SITE_PREFIX}(\\d+)(\\.lock)?$`).exec(name);
    if (m && Number(m[1]) !== process.ppid && !pidAlive(Number(m[1]))) await rm(join(root, name), {recursive: true, force: true});
  }
  const dir = join(root, `${RUN_SITE_PREFIX}${process.ppid}`);
  const lock = `${dir}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Date.now() - started > 20 * 60_000) throw new Error(`${lock}: still held after 20 minutes (another test file building the site?)`);
      await new Promise((done) => setTimeout(done, 1000));
    }
  }
  try {
    const output = join(dir, "dist");
    if (existsSync(join(dir, "complete")) && existsSync(join(output, "index.html"))) {
      log(`reusing this run's build in ${output}`);
      return {dir: output, built: false, ms: 0, remove: async () => {}};
    }
    await rm(dir, {recursive: true, force: true});
    await mkdir(dir, {recursive: true});
    const built = await buildSite(log, output);
    await writeFile(join(dir, "complete"), `${built.ms}\n`);
    return {...built, remove: async () => {}}; // left for the run's other files; removed by a later run
  } finally {
    await rm(lock, {recursive: true, force: true});
  }
}

/** `to` mirrors `from`: the same folders, each file a symbolic link to the original (Framework's .observablehq left out). */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, {recursive: true});
  for (const entry of await readdir(from, {withFileTypes: true})) {
    if (entry.name === ".observablehq") continue;
    if (entry.isDirectory()) await linkTree(join(from, entry.name), join(to, entry.name));
    else await symlink(join(from, entry.name), join(to, entry.name));
  }
}

/**
 * The embedded default with no reference folder configured (an empty project config, no
 * FETALCLIP_REFERENCE), built from a sandbox source root under the repository's tmp/ (so
 * node_modules resolve): the repository's src linked file by file and Framework's cache copied
 * with its dates, so every loader that does not depend on the configuration stays fresh and
 * the shared build's cache is never touched. For tests that check both configurations.
 */
export async function buildSiteUnconfigured(log: (line: string) => void = () => {}): Promise<BuiltSite> {
  await mkdir(join(repoRoot, "tmp"), {recursive: true});
  const base = await mkdtemp(join(repoRoot, "tmp", "site-unconfigured-"));
  try {
    const root = join(base, "src");
    await linkTree(join(repoRoot, "src"), root);
    const cache = join(repoRoot, "src", ".observablehq", "cache");
    if (existsSync(cache)) await cp(cache, join(root, ".observablehq", "cache"), {recursive: true, preserveTimestamps: true});
    const config = join(base, "fetalclip.config.json");
    await writeFile(config, "{}\n");
    const env: NodeJS.ProcessEnv = {...process.env, FETALCLIP_CONFIG: config};
    delete env.FETALCLIP_REFERENCE;
    return await buildSite(log, join(base, "dist"), {env, root});
  } catch (error) {
    if (process.env.FETALCLIP_SITE_KEEP !== "1") await rm(base, {recursive: true, force: true});
    throw error;
  }
}

/** True for URLs that stay on this machine (127.0.0.1, localhost) or never touch the network (data:, blob:, about:). */
export function isLocalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (["data:", "blob:", "about:", "chrome-error:"].includes(parsed.protocol)) return true;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}

export interface NetworkGuard {
  /** Every request to a non-local URL, blocked, in order. */
  external: string[];
}

/** Blocks and records every request leaving localhost, for all pages (and their workers) of a context. */
export async function guardNetwork(context: BrowserContext): Promise<NetworkGuard> {
  const guard: NetworkGuard = {external: []};
  await context.route(
    (url) => !isLocalUrl(url.href),
    async (route) => {
      guard.external.push(`${route.request().method()} ${route.request().url()}`);
      await route.abort("blockedbyclient");
    }
  );
  return guard;
}

export interface PageWatch {
  /** Console errors and warnings (the page and its workers) and uncaught page errors. */
  console: string[];
  /** Responses with status >= 400 and failed local requests. */
  failed: string[];
  /** Non-local requests blocked while this watch was on. */
  external(): string[];
  /** Everything above, identical lines collapsed, between marks `from` and `to` (default: all). */
  issues(from?: PageWatchMark, to?: PageWatchMark): string[];
  /** A point in the record, to tell apart what happened before and after it. */
  mark(): PageWatchMark;
}

export interface PageWatchMark {
  console: number;
  failed: number;
  external: number;
}

function consoleLine(message: ConsoleMessage): string {
  const where = message.location();
  const at = where?.url ? ` (${where.url}${where.lineNumber ? `:${where.lineNumber}` : ""})` : "";
  // ANSI colours (onnxruntime's wasm logger) stripped
  return `[console.${message.type() === "warning" ? "warn" : message.type()}] ${message.text().replace(/\x1b\[[0-9;]*m/g, "")}${at}`;
}

/** Identical lines once, prefixed with their count when repeated. */
export function collapseLines(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, n]) => (n > 1 ? `${n}x ${line}` : line));
}

/** Records what a page must never show: console errors/warnings, uncaught errors, failed requests, external requests. */
export function watchPage(page: Page, guard: NetworkGuard): PageWatch {
  const consoleLines: string[] = [];
  const failed: string[] = [];
  const externalFrom = guard.external.length;
  const onConsole = (message: ConsoleMessage): void => {
    if (message.type() === "error" || message.type() === "warning") consoleLines.push(consoleLine(message));
  };
  // Playwright reports the console of the page's dedicated workers here too (location: the worker's script).
  page.on("console", onConsole);
  page.on("pageerror", (error) => consoleLines.push(`[pageerror] ${error.stack ?? error.message}`));
  page.on("response", (response: Response) => {
    if (response.status() >= 400) failed.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on("requestfailed", (request: Request) => {
    if (!isLocalUrl(request.url())) return; // blocked by the guard: reported as external
    failed.push(`FAILED ${request.method()} ${request.url()}: ${request.failure()?.errorText ?? "unknown error"}`);
  });
  const external = (): string[] => guard.external.slice(externalFrom);
  const mark = (): PageWatchMark => ({console: consoleLines.length, failed: failed.length, external: guard.external.length - externalFrom});
  return {
    console: consoleLines,
    failed,
    external,
    mark,
    issues: (from = {console: 0, failed: 0, external: 0}, to = mark()) =>
      collapseLines([
        ...consoleLines.slice(from.console, to.console),
        ...failed.slice(from.failed, to.failed),
        ...external()
          .slice(from.external, to.external)
          .map((e) => `[external request blocked] ${e}`)
      ])
  };
}

/**
 * Waits until the page has rendered: the load event, the network idle, no Framework
 * loading placeholder (<observablehq-loading>) and no element with data-state="loading".
 * Returns what still pends when the time runs out (empty when settled).
 */
export async function settlePage(page: Page, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const left = (): number => Math.max(1000, deadline - Date.now());
  await page.waitForLoadState("load", {timeout: timeoutMs});
  await page.waitForLoadState("networkidle", {timeout: left()}).catch(() => {});
  await page
    .waitForFunction(() => !document.querySelector("observablehq-loading") && !document.querySelector('[data-state="loading"]'), null, {timeout: left(), polling: 250})
    .catch(() => {}); // reported below
  await page.waitForTimeout(300); // late console messages of the last cells
  return page.evaluate(() => {
    const out: string[] = [];
    const placeholders = document.querySelectorAll("observablehq-loading").length;
    if (placeholders) out.push(`${placeholders} Framework loading placeholder(s) still shown`);
    for (const el of document.querySelectorAll('[data-state="loading"]')) out.push(`${el.getAttribute("data-testid") ?? el.tagName} still data-state="loading"`);
    return out;
  });
}

/** Text of every Framework cell error shown on the page (class observablehq--error). */
export async function cellErrors(page: Page): Promise<string[]> {
  return page.$$eval(".observablehq--error", (nodes) => nodes.map((n) => (n.textContent ?? "").trim()).filter(Boolean));
}

export interface Screenshots {
  files: string[];
  /** Issues (see PageWatch) that came while the page re-rendered for a colour scheme: the page's own. */
  afterSwitch: string[];
  /**
   * Issues that came while a full-page screenshot was taken: Chromium lays the page out
   * beyond the viewport for it, so resize-driven cells may re-render; reported, not the page's fault alone.
   */
  duringCapture: string[];
}

/**
 * Full-page screenshots in light and dark (prefers-color-scheme via emulateMedia), each after
 * the page has re-rendered for the scheme; then the emulation is reset.
 */
export async function screenshotBothSchemes(page: Page, name: string, watch?: PageWatch): Promise<Screenshots> {
  await mkdir(SCREENSHOT_DIR, {recursive: true});
  const out: Screenshots = {files: [], afterSwitch: [], duringCapture: []};
  for (const colorScheme of ["light", "dark"] as const) {
    let mark = watch?.mark();
    await page.emulateMedia({colorScheme});
    await settleRender(page);
    if (watch) out.afterSwitch.push(...watch.issues(mark).map((i) => `[after switching to ${colorScheme}] ${i}`));
    mark = watch?.mark();
    const file = join(SCREENSHOT_DIR, `${name}-${colorScheme}.png`);
    await page.screenshot({path: file, fullPage: true});
    if (watch) out.duringCapture.push(...watch.issues(mark).map((i) => `[while capturing ${colorScheme}] ${i}`));
    out.files.push(file);
  }
  await page.emulateMedia({colorScheme: null});
  await settleRender(page);
  return out;
}

/** Two animation frames, no Framework loading placeholder, then a second for cells that re-run (dark, resize). */
async function settleRender(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))));
  await page.waitForFunction(() => !document.querySelector("observablehq-loading"), null, {timeout: 10_000, polling: 100}).catch(() => {});
  await page.waitForTimeout(1000);
}

// ---------------------------------------------------------------------------
// The live page: a recorder of [data-testid="live-result"] and of long tasks.

/** One observed state of the live result element (a new entry each time any of it changes). */
export interface LiveSnapshot {
  /** performance.now() in the page: ms since the navigation started. */
  t: number;
  present: boolean;
  state: string | null;
  topClass: string | null;
  probabilities: string | null;
  source: string | null;
  gaDays: string | null;
  ariaLive: string | null;
  text: string;
}

export interface LongTask {
  start: number;
  duration: number;
  /** What the test was doing when the observer reported it (setPhase). */
  phase: string;
}

declare global {
  interface Window {
    __fetalclipSite?: {live: LiveSnapshot[]; longtasks: LongTask[]; frames: LongFrame[]; phase: string};
  }
}

/**
 * Installed with addInitScript before any page script (window.__fetalclipSite): records
 * each change of [data-testid="live-result"] (LiveSnapshot) and every long task. A string,
 * so no transform of this file can leak helpers into the page.
 */
export const LIVE_RECORDER_SCRIPT = `(() => {
  const store = (window.__fetalclipSite = {live: [], longtasks: [], frames: [], phase: "opening"});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) store.longtasks.push({start: e.startTime, duration: e.duration, phase: store.phase});
    }).observe({type: "longtask", buffered: true});
  } catch (e) {}
  try {
    // Long animation frames name the scripts that ran in them: what a long task was doing.
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.duration < 150) continue;
        store.frames.push({start: e.startTime, duration: e.duration, scripts: (e.scripts || []).filter((x) => x.duration >= 20).map((x) =>
          \`\${Math.round(x.duration)} ms \${x.invokerType || ""} \${x.invoker || ""} \${x.sourceFunctionName || ""} \${x.sourceURL || ""}:\${x.sourceCharPosition ?? ""}\`.replace(/\\s+/g, " ").trim())});
      }
    }).observe({type: "long-animation-frame", buffered: true});
  } catch (e) {}
  let last = "";
  const snap = () => {
    const el = document.querySelector('[data-testid="live-result"]');
    const s = {
      present: !!el,
      state: el ? el.getAttribute("data-state") : null,
      topClass: el ? el.getAttribute("data-top-class") : null,
      probabilities: el ? el.getAttribute("data-probabilities") : null,
      source: el ? el.getAttribute("data-source") : null,
      gaDays: el ? el.getAttribute("data-ga-days") : null,
      ariaLive: el ? el.getAttribute("aria-live") : null,
      // textContent, not innerText: innerText forces a layout inside the page's own task and would add to its long tasks.
      text: el ? (el.textContent ?? "").replace(/\\s+/g, " ").trim() : ""
    };
    const key = JSON.stringify(s);
    if (key === last) return;
    last = key;
    store.live.push({t: performance.now(), ...s});
  };
  new MutationObserver(snap).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();`;

/** What a wait for the live result asks for: a snapshot after index `from` in one of `states`; a ready one must also match the rest. */
export interface LiveWant {
  from: number;
  states: string[];
  source?: string;
  needTopClass?: boolean;
  needGa?: boolean;
  /** Only a result that differs from these probabilities, or one after a loading state (a new run). */
  changedFrom?: string | null;
}

/** Waits for a matching live-result snapshot; throws with the recorded history when none comes in time. */
export async function waitForLive(page: Page, want: LiveWant, timeoutMs: number): Promise<LiveSnapshot & {index: number}> {
  try {
    const handle = await page.waitForFunction(
      (w: LiveWant) => {
        const log = window.__fetalclipSite?.live ?? [];
        let sawLoading = false;
        for (let i = w.from; i < log.length; i++) {
          const s = log[i];
          if (s.state === "loading") sawLoading = true;
          if (!s.state || !w.states.includes(s.state)) continue;
          if (s.state === "ready") {
            // what a ready result must show; an error counts as it is (the test reports its text)
            if (w.source && s.source !== w.source) continue;
            if (w.needTopClass && !s.topClass) continue;
            if (w.needGa && !s.gaDays) continue;
            if (w.changedFrom != null && !sawLoading && s.probabilities === w.changedFrom) continue;
          }
          return {...s, index: i};
        }
        return null;
      },
      want,
      {timeout: timeoutMs, polling: 100}
    );
    return (await handle.jsonValue()) as LiveSnapshot & {index: number};
  } catch (error) {
    const history = await liveHistory(page).catch(() => [] as LiveSnapshot[]);
    const tail = history
      .slice(Math.max(0, want.from - 1))
      .slice(-12)
      .map((s) => `  t=${s.t.toFixed(0)} ms ${s.present ? `state=${s.state} top=${s.topClass} source=${s.source} ga=${s.gaDays} text=${JSON.stringify(s.text.slice(0, 160))}` : "no live-result element"}`);
    throw new Error(
      `no live result with state in [${want.states}]${want.source ? ` source=${want.source}` : ""}${want.needGa ? " and data-ga-days" : ""} ` +
        `within ${(timeoutMs / 1000).toFixed(0)} s (${(error as Error).message.split("\n")[0]}); live-result history:\n${tail.join("\n") || "  (the page never showed [data-testid=\"live-result\"])"}`
    );
  }
}

export async function liveHistory(page: Page): Promise<LiveSnapshot[]> {
  return page.evaluate(() => window.__fetalclipSite?.live ?? []);
}

export async function liveLength(page: Page): Promise<number> {
  return page.evaluate(() => window.__fetalclipSite?.live.length ?? 0);
}

/** Labels the long tasks reported from now on with what the test does. */
export async function setPhase(page: Page, phase: string): Promise<void> {
  await page.evaluate((p) => {
    if (window.__fetalclipSite) window.__fetalclipSite.phase = p;
  }, phase);
}

export async function longTasks(page: Page): Promise<LongTask[]> {
  return page.evaluate(() => window.__fetalclipSite?.longtasks ?? []);
}

/** A long animation frame (>= 150 ms) and the scripts (>= 20 ms) that ran in it. */
export interface LongFrame {
  start: number;
  duration: number;
  scripts: string[];
}

export async function longFrames(page: Page): Promise<LongFrame[]> {
  return page.evaluate(() => window.__fetalclipSite?.frames ?? []);
}

/** The scripts of the long animation frames that overlap a long task: who blocked the main thread. */
export function scriptsDuring(task: LongTask, frames: readonly LongFrame[]): string[] {
  const end = task.start + task.duration;
  return frames.filter((f) => f.start < end && f.start + f.duration > task.start).flatMap((f) => f.scripts);
}

// ---------------------------------------------------------------------------
// Bad uploads.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, "latin1"), Buffer.from(data)]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A well-formed PNG header (valid CRCs) whose IHDR claims width x height 8-bit grayscale, with a tiny IDAT and IEND. */
export function pngClaimingSize(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // zlib stream of a few zero bytes: far less data than the header claims
  const idat = Buffer.from([0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]);
  return Buffer.concat([signature, pngChunk("IHDR", ihdr), pngChunk("IDAT", idat), pngChunk("IEND", new Uint8Array(0))]);
}
