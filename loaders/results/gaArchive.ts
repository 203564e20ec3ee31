// ga.zip, the Gestational-age page's artifact: per source, every image's true HC (and true
// GA where known), its 175 GA dot products and a thumbnail where the image is at hand.
// Sources: every bundle scored on the phantom's held-out heads, and FetalCLIP's released
// HC18 dot products when a reference folder is configured (their images are shown for the
// HC18 files found locally, ../shared/data/hc18 holding every fourth of the 999).
import {zipSync} from "fflate";
import {join} from "node:path";
import {encodeDotProducts, GA_EXPLORER_FORMAT, type GaExplorerIndex, type GaSourceEntry, type GaSourceImages} from "../../src/lib/gaExplorer.js";
import {readHc18} from "../datasets/realDatasets.js";
import {imageId, registeredDatasetRoot} from "../datasets/registry.js";
import type {SpriteSheet} from "../embeddingMaps/thumbnails.js";
import {PHANTOM_DIR} from "../phantomDataset.js";
import {modelRuns, paperOutputs, PHANTOM_TEST_NAME, referenceDir, resultsKey, withoutPath} from "./sources.js";
import {imageSheet} from "./thumbnails.js";

/** GA thumbnails are shown one at a time beside the curve: larger cells than the galleries'. */
export const GA_THUMBNAIL = {cell: 96, bits: 4} as const;

interface Member {
  entry: GaSourceEntry;
  images: GaSourceImages;
  dotProducts: Uint8Array;
}

/**
 * HC18 files in the released rows' order: the rows follow HC18's CSV (000_HC, 001_HC, ...)
 * and carry only the true HC, so each local file (in its CSV order) is matched to the next
 * row with the same HC. A local folder with all 999 files matches one to one.
 */
export function matchHc18Rows(rowsHcMm: readonly number[], files: readonly {hcMm: number}[]): number[] {
  const rowOf: number[] = [];
  let next = 0;
  for (const file of files) {
    while (next < rowsHcMm.length && rowsHcMm[next] !== file.hcMm) next++;
    if (next >= rowsHcMm.length) return rowOf; // the rest do not follow the released order
    rowOf.push(next++);
  }
  return rowOf;
}

function sheetEntry(file: string, sheet: SpriteSheet) {
  return {file, ...sheet.info};
}

export async function buildGaArchive(log: (m: string) => void): Promise<{index: GaExplorerIndex; bytes: Uint8Array}> {
  const key = resultsKey();
  const members: Member[] = [];
  const sheets = new Map<string, Uint8Array>();
  const {runs, skipped} = await modelRuns(log);

  for (const run of runs) {
    const ga = run.evaluation.details.ga;
    const sheetFile = "thumbnails/phantom-test-heads.png";
    const sheet = imageSheet("ga-phantom-test", ga.ids.map((id) => ({id, path: join(PHANTOM_DIR, id)})), {...GA_THUMBNAIL, log});
    sheets.set(sheetFile, sheet.png);
    const id = `${run.id}-phantom`;
    const {bytes, encoding} = encodeDotProducts(ga.dotProducts, ga.binDays.length);
    members.push({
      entry: {
        id,
        name: `${run.name} · phantom`,
        model: run.name,
        dataset: PHANTOM_TEST_NAME,
        note: `${run.name} scored on the phantom's ${ga.ids.length} held-out brain images with a true HC in [100, 342] mm: 875 prompts each (5 templates × 175 GA bins, naming the image's pixel spacing), computed by this project.`,
        rows: ga.ids.length,
        gaDays: ga.binDays,
        dotProducts: {file: `${id}/dot-products.bin`, encoding},
        images: `${id}/images.json`,
        thumbnails: sheetEntry(sheetFile, sheet),
        withImages: ga.ids.length - sheet.failed.length,
        trueGa: true,
        reported: null
      },
      images: {ids: ga.ids, trueHcMm: ga.trueHcMm, trueGaDays: ga.trueGaDays, cell: ga.ids.map((i) => sheet.cellOf.get(i) ?? -1)},
      dotProducts: bytes
    });
  }

  const dir = referenceDir();
  if (dir) {
    try {
      const paper = paperOutputs(dir)!;
      const rows = paper.ga.rows;
      const images: GaSourceImages = {ids: rows.map(() => null), trueHcMm: rows.map((r) => r.trueHcMm), trueGaDays: rows.map(() => null), cell: rows.map(() => -1)};
      let thumbnails: GaSourceEntry["thumbnails"] = null;
      let withImages = 0;
      let hc18Note = "no HC18 image folder was found (FETALCLIP_DATA/HC18 or ../shared/data/hc18), so no image is shown";
      let hc18Root: string | null = null;
      try {
        hc18Root = registeredDatasetRoot("hc18");
      } catch {
        // no local HC18 images: the page shows curves without pictures
      }
      if (hc18Root) {
        const files = readHc18(hc18Root);
        const rowOf = matchHc18Rows(images.trueHcMm, files);
        const matched = rowOf.map((row, k) => ({row, id: imageId(hc18Root!, files[k]!.path), path: files[k]!.path}));
        if (matched.length > 0) {
          const sheetFile = "thumbnails/hc18.png";
          const sheet = imageSheet("ga-hc18", matched, {...GA_THUMBNAIL, log});
          sheets.set(sheetFile, sheet.png);
          thumbnails = sheetEntry(sheetFile, sheet);
          for (const m of matched) {
            images.ids[m.row] = m.id;
            images.cell[m.row] = sheet.cellOf.get(m.id) ?? -1;
          }
          withImages = matched.length - sheet.failed.length;
        }
        hc18Note = `${withImages} of the ${rows.length} HC18 images are at hand locally and shown; the others have a curve but no picture`;
      }
      const {bytes, encoding} = encodeDotProducts(rows.map((r) => r.dotProducts), paper.ga.gaDays.length);
      members.push({
        entry: {
          id: "fetalclip-paper-hc18",
          name: "FetalCLIP (released outputs) · HC18",
          model: "FetalCLIP (released outputs)",
          dataset: "HC18 training set",
          note: `FetalCLIP's own dot products for the ${rows.length} HC18 training images, as its repository released them (hc18_ga_dot_prods.json), scored here with the project's GA code; ${hc18Note}.`,
          rows: rows.length,
          gaDays: paper.ga.gaDays,
          dotProducts: {file: "fetalclip-paper-hc18/dot-products.bin", encoding},
          images: "fetalclip-paper-hc18/images.json",
          thumbnails,
          withImages,
          trueGa: false,
          reported: {
            vpr: paper.gaReported.vpr,
            ci95: [...paper.gaReported.ci95] as [number, number],
            n: paper.gaReported.n,
            topBins: paper.gaReported.topBins,
            note: "the paper's valid-prediction rate (FetalCLIP's post-processing script, top-15 median, 10,000 bootstrap resamples)"
          }
        },
        images,
        dotProducts: bytes
      });
    } catch (error) {
      const message = withoutPath((error as Error).message, dir);
      log(`ga: the released HC18 dot products: skipped: ${message}`);
      skipped.push({source: "FetalCLIP (released outputs) × HC18", error: message});
    }
  }

  const index: GaExplorerIndex = {format: GA_EXPLORER_FORMAT, sources: members.map((m) => m.entry), skipped, key};
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const files: Record<string, [Uint8Array, {level: 0 | 9}]> = {"index.json": [json(index), {level: 9}]};
  for (const m of members) {
    files[m.entry.images] = [json(m.images), {level: 9}];
    files[m.entry.dotProducts.file] = [m.dotProducts, {level: 9}];
  }
  // PNGs are compressed already.
  for (const [file, png] of sheets) files[file] = [png, {level: 0}];
  return {index, bytes: zipSync(files, {mtime: new Date("2025-01-01T00:00:00Z")})};
}
