// `fetalclip umap` and `fetalclip neighbours` end to end on a small embeddings.arrow
// built here (the embed-dataset job's format: id utf8, embedding fixed-size list of float32).
import {spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {tableFromIPC} from "@uwdata/flechette";
import {afterAll, describe, expect, it} from "vitest";
import {encodeEmbeddingTable} from "../src/lib/embeddingTable.js";
import {cosineNeighbours} from "../src/lib/projection/neighbours.js";
import {syntheticEmbeddings} from "../src/lib/projection/syntheticEmbeddings.js";
import {umapLayout} from "../src/lib/projection/umap.js";
import {repoRoot} from "./shared.js";

function cli(args: string[]): {code: number; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "loaders/cli.ts"), ...args], {cwd: repoRoot, encoding: "utf8"});
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}

const dir = mkdtempSync(join(tmpdir(), "fetalclip-projection-"));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

const n = 240, dim = 48;
const {vectors, labels} = syntheticEmbeddings({n, dim, clusters: 3, seed: 21});
const ids = Array.from({length: n}, (_, i) => `images/plane${labels[i]}/img${String(i).padStart(4, "0")}.png`);
const embeddingsFile = join(dir, "embeddings.arrow");
writeFileSync(
  embeddingsFile,
  encodeEmbeddingTable({ids, embedDim: dim, embeddings: vectors, columns: [{name: "plane", type: "utf8", values: Array.from(labels, (l) => `plane${l}`)}], metadata: {}})
);

describe("fetalclip umap", () => {
  it("writes id, x, y as Arrow: the core's layout for the same seed and options, parameters in the metadata", async () => {
    const out = join(dir, "layout.arrow");
    const r = cli(["umap", "--embeddings", embeddingsFile, "--out", out, "--seed", "7", "--neighbors", "10", "--min-dist", "0.2", "--pca-dims", "20", "--epochs", "80"]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({rows: n, dim, parameters: {"umap.seed": "7", "umap.n_neighbors": "10", "umap.min_dist": "0.2", "umap.pca_dims": "20", "umap.n_epochs": "80"}});
    expect(r.stderr).toMatch(/umap: 240 embeddings of 48/);
    expect(r.stderr).toMatch(/umap: epoch 80\/80/);

    const table = tableFromIPC(readFileSync(out));
    expect(table.schema.fields.map((f) => f.name)).toEqual(["id", "x", "y"]);
    expect(table.schema.metadata?.get("fetalclip.format")).toBe("fetalclip-explorer/layout@1");
    expect(Array.from(table.getChild("id")!)).toEqual(ids);
    const expected = await umapLayout(vectors, n, dim, {seed: 7, nNeighbors: 10, minDist: 0.2, pcaDims: 20, nEpochs: 80});
    const x = table.getChild("x")!.toArray() as Float32Array, y = table.getChild("y")!.toArray() as Float32Array;
    for (let i = 0; i < n; i++) {
      expect(x[i]).toBe(expected[i * 2]);
      expect(y[i]).toBe(expected[i * 2 + 1]);
    }
    // Same command, same bytes.
    const again = join(dir, "layout-again.arrow");
    expect(cli(["umap", "--embeddings", embeddingsFile, "--out", again, "--seed", "7", "--neighbors", "10", "--min-dist", "0.2", "--pca-dims", "20", "--epochs", "80"]).code).toBe(0);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it("refuses a missing input, a file that is not Arrow and an unwritable output, naming the file", () => {
    const missing = cli(["umap", "--embeddings", join(dir, "nope.arrow"), "--out", join(dir, "x.arrow")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--embeddings .*nope\.arrow: ENOENT/);
    const text = join(dir, "text.arrow");
    writeFileSync(text, "not arrow");
    const bad = cli(["umap", "--embeddings", text, "--out", join(dir, "x.arrow")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/text\.arrow: not an embeddings table/);
    const unwritable = cli(["umap", "--embeddings", embeddingsFile, "--out", join(dir, "no-such-folder", "x.arrow"), "--epochs", "5"]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toMatch(/--out .*x\.arrow: cannot be written \(ENOENT\)/);
  });
});

describe("fetalclip neighbours", () => {
  it("prints the k nearest ids by cosine, as the core computes them", () => {
    const query = 17;
    const r = cli(["neighbours", "--embeddings", embeddingsFile, "--id", ids[query]!, "--k", "6"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as {id: string; k: number; neighbours: {id: string; cosine: number}[]};
    const reference = cosineNeighbours(vectors, n, dim, 6);
    expect(result.id).toBe(ids[query]);
    expect(result.k).toBe(6);
    expect(result.neighbours.map((x) => x.id)).toEqual(Array.from(reference.index.subarray(query * 6, query * 6 + 6), (j) => ids[j]));
    result.neighbours.forEach((x, t) => expect(x.cosine).toBeCloseTo(reference.cosine[query * 6 + t]!, 6));
    // Same-cluster neighbours: the synthetic clusters are well separated.
    expect(result.neighbours.every((x) => x.id.startsWith(`images/plane${labels[query]}/`))).toBe(true);
  });

  it("names an unknown id and exits 1", () => {
    const r = cli(["neighbours", "--embeddings", embeddingsFile, "--id", "images/none.png"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--id images\/none\.png: no such id in .*embeddings\.arrow \(240 rows/);
  });
});
