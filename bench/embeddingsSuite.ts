// npm run bench -- embeddings: issue 10's three measurements in one run, each with its own
// peer: embed-dataset cold vs warm cache (embeddings-job), our UMAP vs plain umap-js (umap),
// and the Embeddings page's weight and latency at 10,000 points in Chromium (embeddings-page).
// Each part also runs alone under its own name, with its own options.
export async function run(args: string[]): Promise<void> {
  for (const [name, load] of [
    ["embeddings-job", () => import("./embeddings.js")],
    ["umap", () => import("./umap.js")],
    ["embeddings-page", () => import("./embeddingsPage.js")]
  ] as const) {
    process.stdout.write(`\n## ${name}\n`);
    await (await load()).run(args);
  }
}
