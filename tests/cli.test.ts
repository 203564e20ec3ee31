// The `fetalclip` CLI end to end on the open_clip fixture: import, tokenize, embed, verify,
// and the clear errors a user gets for bad input.
import {execFileSync, spawnSync} from "node:child_process";
import {copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, expect, test} from "vitest";
import {cosine} from "../src/lib/vector.js";
import {describeShared, repoRoot, sharedPath} from "./shared.js";

const fixture = (...p: string[]) => sharedPath("fixtures", "openclip-micro", ...p);
const vocab = () => sharedPath("fixtures", "bpe_simple_vocab_16e6.txt.gz");

function cli(args: string[]): {code: number; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), ...args], {cwd: repoRoot, encoding: "utf8"});
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}

function cliJson<T>(args: string[]): T {
  const r = cli(args);
  if (r.code !== 0) throw new Error(`fetalclip ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describeShared("fetalclip CLI on the openclip-micro fixture", () => {
  let tmp: string;
  let bundle: string;
  const expected = () => JSON.parse(readFileSync(fixture("expected.json"), "utf8")) as {images: {image: string; features: number[]}[]; text_features: number[][]};
  const tokens = () => JSON.parse(readFileSync(fixture("tokens.json"), "utf8")) as {texts: string[]; ids: number[][]};

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "fetalclip-cli-"));
    bundle = join(tmp, "micro");
    cliJson(["import", "--weights", fixture("weights.pt"), "--config", fixture("config.json"), "--vocab", vocab(), "--out", bundle, "--fp16"]);
  });
  afterAll(() => rmSync(tmp, {recursive: true, force: true}));

  test("import writes a bundle whose manifest records provenance, sizes and logit scale", () => {
    const manifest = JSON.parse(readFileSync(join(bundle, "model.json"), "utf8"));
    expect(manifest.config.vision_cfg).toMatchObject({image_size: 224, layers: 2, width: 128, patch_size: 14});
    expect(manifest.text).toMatchObject({contextLength: 117, sot: 49406, eot: 49407});
    expect(manifest.logitScale).toBeCloseTo(Math.log(1 / 0.07), 5);
    const weights = manifest.source.files.find((f: {role: string}) => f.role === "weights");
    const sha = execFileSync("sha256sum", [fixture("weights.pt")], {encoding: "utf8"}).split(" ")[0];
    expect(weights.sha256).toBe(sha);
    expect(manifest.files).toMatchObject({image: "image.onnx", text: "text.onnx", imageFp16: "image.fp16.onnx", textFp16: "text.fp16.onnx"});
  });

  test("tokenize prints open_clip's token ids", () => {
    const t = tokens();
    const picks = [0, 10, 40, t.texts.length - 1];
    const out = cliJson<{ids: number[][]}>(["tokenize", "--model", bundle, ...picks.map((i) => t.texts[i])]);
    expect(out.ids).toEqual(picks.map((i) => t.ids[i]));
  });

  test("embed --images matches open_clip's encode_image from the PNG files (cosine >= 0.9999)", () => {
    const e = expected();
    const paths = e.images.map((i) => fixture("images", i.image));
    const out = cliJson<{images: {path: string; embedding: number[]}[]; ep: string}>(["embed", "--model", bundle, "--ep", "cpu", "--images", ...paths]);
    expect(out.ep).toBe("cpu");
    out.images.forEach((img, i) => {
      expect(img.path).toBe(paths[i]);
      expect(img.embedding).toHaveLength(48);
      expect(cosine(Float32Array.from(img.embedding), Float32Array.from(e.images[i].features))).toBeGreaterThanOrEqual(0.9999);
    });
  });

  test("embed --texts matches open_clip's encode_text (cosine >= 0.99999)", () => {
    const e = expected();
    const t = tokens();
    const picks = [0, 5, 20, 63];
    const out = cliJson<{texts: {text: string; embedding: number[]}[]}>(["embed", "--model", bundle, "--texts", ...picks.map((i) => t.texts[i])]);
    out.texts.forEach((row, k) => {
      expect(row.text).toBe(t.texts[picks[k]]);
      expect(cosine(Float32Array.from(row.embedding), Float32Array.from(e.text_features[picks[k]]))).toBeGreaterThanOrEqual(0.99999);
    });
  });

  test("verify records a passing parity report in the bundle", () => {
    const report = cliJson<{pass: boolean; images: {cosine: number}[]; texts: {count: number; minCosine: number}}>(["verify", "--model", bundle, "--reference", fixture()]);
    expect(report.pass).toBe(true);
    expect(report.texts.count).toBe(64);
    expect(Math.min(...report.images.map((i) => i.cosine))).toBeGreaterThanOrEqual(0.99999);
    expect(JSON.parse(readFileSync(join(bundle, "parity.json"), "utf8")).pass).toBe(true);
  });

  test("a config that does not match the weights fails with the key and both shapes", () => {
    const config = JSON.parse(readFileSync(fixture("config.json"), "utf8"));
    config.vision_cfg.width = 256;
    const bad = join(tmp, "wide.json");
    writeFileSync(bad, JSON.stringify(config));
    const r = cli(["import", "--weights", fixture("weights.pt"), "--config", bad, "--vocab", vocab(), "--out", join(tmp, "bad")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/visual\.\S+.*expected shape \[.*256.*\].*got \[.*128.*\]/);
  });

  test("a missing weights file and an unknown execution provider are clear errors", () => {
    const r = cli(["import", "--weights", join(tmp, "nope.pt"), "--config", fixture("config.json"), "--vocab", vocab(), "--out", join(tmp, "x")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nope.pt does not exist");
    const r2 = cli(["embed", "--model", bundle, "--ep", "tpu", "--texts", "a"]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('unknown execution provider "tpu"');
  });

  test("a truncated checkpoint is refused without leaving a half-written bundle", () => {
    const bytes = readFileSync(fixture("weights.pt"));
    const cut = join(tmp, "cut.pt");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const out = join(tmp, "cut-bundle");
    const r = cli(["import", "--weights", cut, "--config", fixture("config.json"), "--vocab", vocab(), "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cut\.pt/);
    expect(spawnSync("ls", [out]).status).not.toBe(0);
  });

  test("no temporary folder survives a failed import", () => {
    const leftovers = readdirSync(tmp).filter((name) => name.includes(".importing-") || name.includes(".replaced-"));
    expect(leftovers).toEqual([]);
  });

  test("--out never deletes or overwrites what is not a bundle: a non-empty folder, a file, the working directory", () => {
    const importInto = (out: string, extra: string[] = [], cwd?: string) =>
      spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), "import", "--weights", fixture("weights.pt"), "--config", fixture("config.json"), "--vocab", vocab(), "--out", out, ...extra], {cwd: cwd ?? repoRoot, encoding: "utf8"});
    const mine = join(tmp, "my-folder");
    mkdirSync(mine);
    writeFileSync(join(mine, "notes.txt"), "precious");
    for (const extra of [[], ["--force"]]) {
      const r = importInto(mine, extra);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`--out ${mine}: the folder is not empty and is not a model bundle`);
      expect(readdirSync(mine)).toEqual(["notes.txt"]);
      expect(readFileSync(join(mine, "notes.txt"), "utf8")).toBe("precious");
    }
    // A failed import (a bad config) leaves the folder as it was too.
    const bad = join(tmp, "bad-config-2.json");
    writeFileSync(bad, "{");
    const failed = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), "import", "--weights", fixture("weights.pt"), "--config", bad, "--vocab", vocab(), "--out", mine], {cwd: repoRoot, encoding: "utf8"});
    expect(failed.status).toBe(1);
    expect(readdirSync(mine)).toEqual(["notes.txt"]);
    const file = join(tmp, "a-file");
    writeFileSync(file, "keep me");
    const onFile = importInto(file);
    expect(onFile.status).toBe(1);
    expect(onFile.stderr).toContain("a file (not a folder) is there");
    expect(readFileSync(file, "utf8")).toBe("keep me");
    const dot = importInto(".", [], mine);
    expect(dot.status).toBe(1);
    expect(readdirSync(mine)).toEqual(["notes.txt"]);
    expect(readdirSync(tmp).filter((name) => name.includes(".importing-") || name.includes(".replaced-"))).toEqual([]);
  });

  test("an existing bundle is replaced only with --force, and atomically", () => {
    const refused = cli(["import", "--weights", fixture("weights.pt"), "--config", fixture("config.json"), "--vocab", vocab(), "--out", bundle]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("a model bundle is already there; add --force to replace it");
    const before = JSON.parse(readFileSync(join(bundle, "model.json"), "utf8")).source.importedAt;
    const replaced = cliJson<{manifest: {source: {importedAt: string}; files: Record<string, string>}}>(["import", "--weights", fixture("weights.pt"), "--config", fixture("config.json"), "--vocab", vocab(), "--out", bundle, "--fp16", "--force"]);
    expect(replaced.manifest.source.importedAt > before).toBe(true);
    expect(JSON.parse(readFileSync(join(bundle, "model.json"), "utf8")).source.importedAt).toBe(replaced.manifest.source.importedAt);
    expect(readdirSync(tmp).filter((name) => name.includes(".replaced-") || name.includes(".importing-"))).toEqual([]);
  });

  test("a bundle copied elsewhere still embeds (no absolute paths inside)", () => {
    const moved = join(tmp, "moved");
    execFileSync("cp", ["-r", bundle, moved]);
    copyFileSync(join(bundle, "model.json"), join(moved, "model.json"));
    const out = cliJson<{texts: unknown[]}>(["embed", "--model", moved, "--texts", "fetal brain"]);
    expect(out.texts).toHaveLength(1);
  });
});
