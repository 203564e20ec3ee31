// npm run bench -- NAME [options]: benchmarks that print ratios against a peer measured in the same run.
const benches: Record<string, () => Promise<{run: (args: string[]) => Promise<void>}>> = {
  model: () => import("./model.js"),
  demo: () => import("./demo.js"),
  embeddings: () => import("./embeddingsSuite.js"),
  "embeddings-job": () => import("./embeddings.js"),
  "embeddings-page": () => import("./embeddingsPage.js"),
  umap: () => import("./umap.js"),
  probes: () => import("./probes.js"),
  augment: () => import("./augment.js"),
  cam: () => import("./cam.js")
};

export {};

const [benchName, ...args] = process.argv.slice(2);
if (!benchName || !(benchName in benches)) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join("|")}> [options]\n`);
  process.exit(2);
}
const bench = await benches[benchName]();
await bench.run(args);
