// First-run setup of the embedded default, run before `npm run dev` and `npm run build`:
// the phantom dataset is generated into data/phantom (and its CHD set into
// data/phantom-chd) and the committed demo weights are
// imported into models/fetalclip-demo. Both steps are idempotent and skip when up to date.
import {ensureDemoBundle} from "./demo/bundle.js";
import {clearStalePaperReferenceCache} from "./paperReference.js";
import {generatePhantomDataset} from "./phantomDataset.js";
import {clearStaleResultsCache} from "./results/staleCache.js";

export async function setupEmbeddedDefault(log: (m: string) => void = () => {}): Promise<void> {
  const started = performance.now();
  await generatePhantomDataset({onProgress: (done: number, total: number) => {
    if (done === total || done % 500 === 0) log(`phantom: ${done}/${total} images`);
  }});
  // The CHD set (400 four-chamber views, a few seconds): CHD detection and cardiac segmentation probes.
  await generatePhantomDataset({set: "chd"});
  await ensureDemoBundle({log});
  // Framework caches data loaders by their own date: a paper page built for another reference folder is rebuilt.
  if (clearStalePaperReferenceCache()) log("paper page: the reference folder changed; its cached data will be rebuilt");
  const stale = clearStaleResultsCache();
  if (stale.length) log(`gestational-age, zero-shot and compare pages: the reference folder or the bundles changed; ${stale.join(", ")} will be rebuilt`);
  log(`embedded default ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
