// What the page tests of the built site (cam, embeddings, probes, paper, drilldown) share: a
// report of findings, the built artifacts under _file/data, one built site served by a plain
// static server to one headless Chromium with the network guarded (hooks registered by
// useBuiltSite), a page opened and checked to have loaded cleanly (HTTP 200, settled, no cell
// error, no console error or warning, no failed request, no request leaving localhost), its
// weight, light and dark screenshots, and the end-of-session check.
import {readdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import type {Page} from "playwright-core";
import {afterAll, beforeAll, expect} from "vitest";
import {assertChromium, launchChromium, serveStatic, type Browser, type StaticServer} from "./browser.js";
import {buildSiteForRun, cellErrors, guardNetwork, screenshotBothSchemes, settlePage, watchPage, type BuiltSite, type NetworkGuard, type PageWatch, type Screenshots} from "./site.js";

/** Findings printed as they come (`[tag] line`) and again, all of them, by summary(). */
export interface Reporter {
  lines: string[];
  note(line: string): void;
  summary(): void;
}

export function reporter(tag: string): Reporter {
  const lines: string[] = [];
  return {
    lines,
    note(line) {
      lines.push(line);
      console.log(`[${tag}] ${line}`);
    },
    summary() {
      console.log(`[${tag}] summary:\n  ${lines.join("\n  ")}`);
    }
  };
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A built artifact, `_file/data/<stem>.<hash>.<ext>` for `name` = `<stem>.<ext>`: exactly one must exist. */
export function builtDataFile(dist: string, name: string): {file: string; path: string} {
  const dir = join(dist, "_file", "data");
  const dot = name.lastIndexOf(".");
  const pattern = new RegExp(`^${escapeRegExp(name.slice(0, dot))}\\.[0-9a-f]{8}${escapeRegExp(name.slice(dot))}$`);
  const found = readdirSync(dir).filter((f) => pattern.test(f));
  if (found.length !== 1) throw new Error(`${dir}: expected one ${name} (hashed), found ${found.join(", ") || "none"}`);
  return {file: found[0]!, path: join(dir, found[0]!)};
}

export const builtBytes = (dist: string, name: string): Uint8Array => new Uint8Array(readFileSync(builtDataFile(dist, name).path));
export const builtJson = (dist: string, name: string): unknown => JSON.parse(readFileSync(builtDataFile(dist, name).path, "utf8"));

/** The line that says whether the site was built now or an existing build is reused. */
export function buildLine(site: BuiltSite): string {
  return site.built ? `built the site in ${(site.ms / 1000).toFixed(1)} s` : `reusing the build ${site.dir}`;
}

/** One built site, served and opened in one Chromium; filled in by the hooks of useBuiltSite. */
export interface SiteSession {
  site?: BuiltSite;
  server?: StaticServer;
  browser?: Browser;
  guard?: NetworkGuard;
  /** The page last opened by openPage, and its watch, set as soon as the page exists. */
  page?: Page;
  watch?: PageWatch;
  /** Every page openPage opened, closed (if still open) after the tests. */
  pages: Page[];
}

export interface SiteOptions {
  /** The build (default: this run's shared build, buildSiteForRun). */
  make?: () => Promise<BuiltSite>;
  /** Runs once the site is built (`ms`: how long make took), before it is served: read its artifacts here. */
  built?: (site: BuiltSite, ms: number) => void | Promise<void>;
  /** beforeAll's timeout (default 20 minutes). */
  setupMs?: number;
}

/**
 * Registers, in the current describe, a beforeAll that builds the site (or reuses this run's
 * build), serves it with a plain static server (no COOP/COEP) and launches Chromium without
 * WebGPU with every request leaving localhost blocked, and an afterAll that closes all of it
 * and prints the report's summary.
 */
export function useBuiltSite(report: Reporter, options: SiteOptions = {}): SiteSession {
  const session: SiteSession = {pages: []};
  beforeAll(async () => {
    assertChromium();
    const started = Date.now();
    session.site = await (options.make ?? buildSiteForRun)();
    if (options.built) await options.built(session.site, Date.now() - started);
    else report.note(buildLine(session.site));
    session.server = await serveStatic(session.site.dir, {isolated: false});
    session.browser = await launchChromium({webgpu: false});
    session.guard = await guardNetwork(session.browser.context);
  }, options.setupMs ?? 20 * 60_000);

  afterAll(async () => {
    for (const page of session.pages) await page.close().catch(() => {});
    await session.browser?.close();
    await session.server?.close();
    await session.site?.remove();
    report.summary();
  }, 60_000);
  return session;
}

export interface PageWeight {
  bytes: number;
  requests: number;
  /** The largest responses, largest first: URL and bytes. */
  largest: [string, number][];
}

/** Bytes (bodies plus headers, as the bench counts them) and requests of the page, from now on. */
export function weighPage(page: Page): () => Promise<PageWeight> {
  const sizes = new Map<string, Promise<number>>();
  page.on("requestfinished", (request) => {
    sizes.set(
      request.url(),
      request.sizes().then(
        (s) => s.responseBodySize + s.responseHeadersSize,
        () => 0
      )
    );
  });
  return async () => {
    const all = await Promise.all([...sizes].map(async ([url, size]): Promise<[string, number]> => [url, await size]));
    return {bytes: all.reduce((a, [, b]) => a + b, 0), requests: all.length, largest: all.sort((a, b) => b[1] - a[1]).slice(0, 4)};
  };
}

/** `1.23 MB in 17 requests; largest: /a.js 456 kB, ...` (MB of 2^20 bytes), URLs relative to `base`. */
export function weightLine(weight: PageWeight, base: string, largest = weight.largest.length): string {
  const files = weight.largest.slice(0, largest).map(([url, bytes]) => `${url.replace(base, "/")} ${(bytes / 1024).toFixed(0)} kB`);
  return `${(weight.bytes / 1024 / 1024).toFixed(2)} MB in ${weight.requests} requests; largest: ${files.join(", ")}`;
}

export interface OpenOptions {
  /** Waited for (30 s at most) once the page has settled: a function run in the page, or its source. */
  ready?: string | (() => unknown);
  /** How long the page may take to settle (default 60 s). */
  settleMs?: number;
  /** Runs on the new page before anything is watched or loaded (e.g. page.route). */
  before?: (page: Page) => Promise<unknown>;
  /** Given, notes `settled in <s> s` once ready. */
  note?: (line: string) => void;
}

export interface OpenedPage {
  page: Page;
  watch: PageWatch;
  /** Bytes and requests since the page was opened, up to the call. */
  weight(): Promise<PageWeight>;
}

/**
 * Opens `file` of the served site in a 1280 x 1000 page and checks it loaded cleanly: HTTP 200,
 * settled (no loading placeholder left), ready, no cell error, and no console error or warning,
 * failed request or request leaving localhost. The page and its watch are the session's `page`
 * and `watch` as soon as it exists, so later tests can go on even when these checks fail.
 */
export async function openPage(session: SiteSession, file: string, options: OpenOptions = {}): Promise<OpenedPage> {
  const page = await session.browser!.newPage();
  session.pages.push(page);
  session.page = page;
  await page.setViewportSize({width: 1280, height: 1000});
  if (options.before) await options.before(page);
  const watch = watchPage(page, session.guard!);
  session.watch = watch;
  const weight = weighPage(page);
  const started = Date.now();
  const response = await page.goto(session.server!.url + file, {waitUntil: "domcontentloaded"});
  expect(response?.status(), `${file}: HTTP status`).toBe(200);
  const pending = await settlePage(page, options.settleMs ?? 60_000);
  if (options.ready) await page.waitForFunction(options.ready, null, {timeout: 30_000});
  options.note?.(`settled in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  expect(pending, `${file}: still loading`).toEqual([]);
  expect(await cellErrors(page), `${file}: cell errors`).toEqual([]);
  expect(watch.issues(), `${file}: console, failed or external requests`).toEqual([]);
  expect(watch.external(), `${file}: requests leaving localhost`).toEqual([]);
  return {page, watch, weight};
}

/** Light and dark screenshots (noted when `note` is given); switching the scheme re-renders the page with no new issue of `watch`. */
export async function expectBothSchemes(page: Page, name: string, watch: PageWatch | undefined, note?: (line: string) => void): Promise<Screenshots> {
  const shots = await screenshotBothSchemes(page, name, watch);
  note?.(`screenshots ${shots.files.join(", ")}`);
  expect(shots.afterSwitch, `${name}: after switching the colour scheme`).toEqual([]);
  return shots;
}

/** Nothing went wrong while the page was open: no console error, failed or external request, and no cell error shown now. */
export async function expectCleanSession(page: Page, watch: PageWatch): Promise<void> {
  expect(watch.issues(), "console errors, failed or external requests during the whole session").toEqual([]);
  expect(await cellErrors(page)).toEqual([]);
}
