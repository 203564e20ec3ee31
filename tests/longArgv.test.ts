// A long command line (a shell glob of thousands of images, one long --texts string) must
// not crash `fetalclip embed`. Without the guard in loaders/session.ts, onnxruntime 1.29+'s
// telemetry matched a recursive std::regex against /proc/self/cmdline when the first session
// was created and overflowed the main-thread stack (SIGSEGV, no message) from about 29 KB of
// arguments. The CLI is run through its real entry, bin/fetalclip.js, with the environment
// variables that would switch that telemetry off anyway (CI markers, ORT's own opt-outs)
// removed, so the test exercises the code path the guard is for.
import {spawnSync} from "node:child_process";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {encode as encodePng} from "fast-png";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readManifest} from "../loaders/bundles.js";
import {DEMO_BUNDLE_DIR} from "../loaders/demo/bundle.js";
import {loadBundleTokenizer} from "../loaders/nodeModel.js";
import {repoRoot} from "./shared.js";

const IMAGES = 2000;
const TEXT_BYTES = 100_000;

// ORT skips its telemetry (and so the crash) when any of these is truthy; the test must not.
const TELEMETRY_OFF = [
  "ORT_DISABLE_TELEMETRY", "ORT_TELEMETRY_DISABLED", "ORT_RUNNING_UNIT_TESTS", "CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI",
  "CIRCLECI", "TRAVIS", "JENKINS_URL", "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER",
  "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI"
];
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !TELEMETRY_OFF.includes(name)));

let tmp = "";
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "fetalclip-longargv-"));
});
afterAll(() => rmSync(tmp, {recursive: true, force: true}));

const cli = (args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, "bin", "fetalclip.js"), ...args], {cwd: tmp, env, encoding: "utf8", maxBuffer: 256 * 2 ** 20});

const argBytes = (args: string[]) => args.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);

type Embedded = {images?: {path: string; embedding: number[]}[]; texts?: {text: string; embedding: number[]}[]};

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

describe("fetalclip embed with a long command line", () => {
  it(`embeds ${IMAGES} image paths given as arguments, each as the single image alone`, () => {
    // One small grayscale gradient, written 2,000 times under long absolute names.
    const side = 48;
    const data = new Uint8Array(side * side).map((_, i) => ((i % side) * 5 + Math.floor(i / side) * 3) % 256);
    const png = encodePng({width: side, height: side, data, channels: 1, depth: 8});
    const paths = Array.from({length: IMAGES}, (_, i) => join(tmp, `long-argv-image-${String(i).padStart(4, "0")}.png`));
    for (const path of paths) writeFileSync(path, png);

    const single = cli(["embed", "--model", DEMO_BUNDLE_DIR, "--images", paths[0]!]);
    expect(single.status, single.stderr).toBe(0);
    const reference = (JSON.parse(single.stdout) as Embedded).images![0]!.embedding;
    expect(reference).toHaveLength(readManifest(DEMO_BUNDLE_DIR).embedDim);
    expect(reference.every(Number.isFinite)).toBe(true);

    const args = ["embed", "--model", DEMO_BUNDLE_DIR, "--batch", "64", "--images", ...paths];
    expect(argBytes(args)).toBeGreaterThan(100_000); // over three times the ~29 KB that crashed
    const r = cli(args);
    expect(r.signal, r.stderr.slice(-2000)).toBeNull();
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const out = JSON.parse(r.stdout) as Embedded;
    expect(out.images!.map((i) => i.path)).toEqual(paths);
    // Batches of 64 against batch 1: the same image, so the same embedding up to float rounding.
    const worst = Math.max(...out.images!.map((i) => maxAbsDiff(i.embedding, reference)));
    expect(worst).toBeLessThan(1e-4);
  });

  it(`embeds one ${TEXT_BYTES / 1000} KB --texts string as its truncation to the context length`, () => {
    const phrase = "fetal brain transthalamic plane ";
    const long = phrase.repeat(Math.ceil(TEXT_BYTES / phrase.length)).slice(0, TEXT_BYTES);
    const {contextLength} = readManifest(DEMO_BUNDLE_DIR).text;
    // A short text that still runs past the context: the tokenizer truncates both to the same ids.
    const short = phrase.repeat(contextLength);
    const tokenizer = loadBundleTokenizer(DEMO_BUNDLE_DIR);
    const [longIds, shortIds] = tokenizer.tokenize([long, short], contextLength);
    expect(longIds).toEqual(shortIds);

    const r = cli(["embed", "--model", DEMO_BUNDLE_DIR, "--texts", long, short]);
    expect(r.signal, r.stderr.slice(-2000)).toBeNull();
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const texts = (JSON.parse(r.stdout) as Embedded).texts!;
    expect(texts.map((t) => t.text)).toEqual([long, short]);
    expect(texts[0]!.embedding.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(texts[0]!.embedding, texts[1]!.embedding)).toBeLessThan(1e-5);
  });
});
