// Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by
// playwright-core (never `npx playwright install`: no downloads on CI or here),
// a static server with the headers onnxruntime-web needs, and esbuild to
// bundle a browser entry the way a page would ship it.
import {build} from "esbuild";
import {existsSync} from "node:fs";
import {copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile} from "node:fs/promises";
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {tmpdir} from "node:os";
import {dirname, extname, join, relative, resolve, sep} from "node:path";
import {chromium, type BrowserContext, type Page} from "playwright-core";
import {repoRoot} from "../shared.js";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags verified on Debian chromium: no network chatter, SwiftShader WebGPU adapter (slow, correct). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--enable-unsafe-webgpu"
];

/** Throws a message that says how to get Chromium when it is missing. */
export function assertChromium(path = CHROMIUM_PATH): void {
  if (!existsSync(path)) {
    throw new Error(
      `browser tests need Chromium at ${path}, which does not exist: install it with \`apt-get install -y chromium\` ` +
        `(Debian; .ci/run does this) or point CHROMIUM_PATH at a Chromium binary`
    );
  }
}

export interface Browser {
  context: BrowserContext;
  /** Console lines and page errors seen so far, for failure messages. */
  console: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Expose a WebGPU adapter (SwiftShader) with --enable-unsafe-webgpu; default true. Without it navigator.gpu gives no adapter. */
  webgpu?: boolean;
}

/** The flags for one launch: CHROMIUM_ARGS, less --enable-unsafe-webgpu when `webgpu` is false. */
export function chromiumArgs(options: LaunchOptions = {}): string[] {
  return options.webgpu === false ? CHROMIUM_ARGS.filter((flag) => flag !== "--enable-unsafe-webgpu") : [...CHROMIUM_ARGS];
}

/** One Chromium with a fresh profile in a temp dir, removed on close. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  assertChromium();
  const profile = await mkdtemp(join(tmpdir(), "fetalclip-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs(options)});
  } catch (error) {
    await rm(profile, {recursive: true, force: true});
    throw error;
  }
  const lines: string[] = [];
  return {
    context,
    console: lines,
    async newPage() {
      const page = await context.newPage();
      page.on("console", (message) => lines.push(`[${message.type()}] ${message.text()}`));
      page.on("pageerror", (error) => lines.push(`[pageerror] ${error.message}`));
      return page;
    },
    async close() {
      await context.close();
      await rm(profile, {recursive: true, force: true});
    }
  };
}

const MIME_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm", // WebAssembly.instantiateStreaming refuses any other type
  ".onnx": "application/octet-stream",
  ".gz": "application/octet-stream", // served as bytes: a gzip Content-Type could invite transparent decoding
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  // What a built Observable Framework site serves besides the above.
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".zip": "application/zip",
  ".parquet": "application/octet-stream",
  ".arrow": "application/vnd.apache.arrow.file"
};

export interface StaticServer {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /**
   * Send COOP/COEP/CORP (cross-origin isolation) and Cache-Control: no-store; default true.
   * false: a plain static server with no special headers, as most hosts serve a built site.
   */
  isolated?: boolean;
}

/** Serves `root` on 127.0.0.1 (a secure context, so WebGPU is exposed), cross-origin isolated unless `isolated: false`. */
export async function serveStatic(root: string, options: ServeOptions = {}): Promise<StaticServer> {
  const base = resolve(root);
  const isolated = options.isolated ?? true;
  const server: Server = createServer(async (request, response) => {
    if (isolated) {
      // COOP + COEP make the page cross-origin isolated: SharedArrayBuffer, so wasm threads.
      response.setHeader("Cross-Origin-Opener-Policy", "same-origin");
      response.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
      response.setHeader("Cross-Origin-Resource-Policy", "same-origin");
      response.setHeader("Cache-Control", "no-store");
    }
    const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    const file = resolve(base, `.${pathname.endsWith("/") ? `${pathname}index.html` : pathname}`);
    if (file !== base && !file.startsWith(base + sep)) {
      response.writeHead(403).end("outside the served folder");
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      response.writeHead(200, {"Content-Type": MIME_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream", "Content-Length": body.length});
      response.end(body);
    } catch {
      response.writeHead(404, {"Content-Type": "text/plain"}).end(`not found: ${pathname}`);
    }
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", done);
  });
  const {port} = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections(); // keep-alive sockets a browser left open would hold close() back
      })
  };
}

/** onnxruntime-web files a page needs: the default entry (webgpu + wasm) and its one binary. */
export const ORT_WEB_FILES = ["ort.bundle.min.mjs", "ort-wasm-simd-threaded.jsep.wasm"] as const;

/**
 * Bundles a browser entry into `siteDir/<name>.js` beside an index.html that
 * loads it, with onnxruntime-web copied to `siteDir/ort/` and mapped by an
 * import map (kept a separate module so its pthread workers load ort itself,
 * not the page). Returns the site-relative URL of the wasm binary.
 */
export async function buildBrowserPage(entry: string, siteDir: string, name: string): Promise<{page: string; wasm: string}> {
  const ortDist = join(repoRoot, "node_modules", "onnxruntime-web", "dist");
  await mkdir(join(siteDir, "ort"), {recursive: true});
  for (const file of ORT_WEB_FILES) await copyFile(join(ortDist, file), join(siteDir, "ort", file));
  await build({
    entryPoints: [entry],
    outfile: join(siteDir, `${name}.js`),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // fs and path: only libjpeg-turbo's Emscripten glue (src/lib/image/jpeg.ts) requires them, in its Node branch.
    external: ["onnxruntime-web", "fs", "path"],
    logLevel: "silent"
  });
  const importMap = JSON.stringify({imports: {"onnxruntime-web": "./ort/ort.bundle.min.mjs"}});
  const html = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>${name}</title>
<script type="importmap">${importMap}</script>
<script type="module" src="./${name}.js"></script>
`;
  await writeFile(join(siteDir, `${name}.html`), html);
  return {page: `${name}.html`, wasm: "ort/ort-wasm-simd-threaded.jsep.wasm"};
}

/** Copies files into the served folder, returning their site-relative paths. */
export async function copyIntoSite(siteDir: string, sub: string, files: string[]): Promise<string[]> {
  await mkdir(join(siteDir, sub), {recursive: true});
  const out: string[] = [];
  for (const file of files) {
    const target = join(siteDir, sub, file.split(/[\\/]/).pop()!);
    await mkdir(dirname(target), {recursive: true});
    await copyFile(file, target);
    out.push(relative(siteDir, target).split(sep).join("/"));
  }
  return out;
}
