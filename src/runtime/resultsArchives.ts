// The Gestational-age and Zero-shot drill-down artifacts in the browser: each zip is read
// once with fflate (bundled, no CDN), its members decoded by the core (src/lib/gaExplorer.ts,
// src/lib/zeroShotDrilldown.ts), and each sprite sheet decoded once and shared.
import {strFromU8, unzipSync} from "fflate";
import type {Sprite} from "../components/embeddingScatter.js";
import type {SpriteSheetInfo} from "../lib/embeddingMap.js";
import {decodeDotProducts, GA_EXPLORER_FORMAT, gaRows, type GaExplorerIndex, type GaSourceEntry, type GaSourceImages} from "../lib/gaExplorer.js";
import type {GaDotProductRow} from "../lib/tasks/gestationalAge.js";
import {ZERO_SHOT_DRILLDOWN_FORMAT, type DrilldownImages, type DrilldownIndex, type DrilldownTask} from "../lib/zeroShotDrilldown.js";

class Archive<Index extends {format: string}> {
  private readonly sprites = new Map<string, Promise<Sprite>>();

  protected constructor(readonly index: Index, protected readonly files: Record<string, Uint8Array>, protected readonly name: string) {}

  protected static read<I extends {format: string}>(bytes: ArrayBuffer, name: string, format: string): {index: I; files: Record<string, Uint8Array>} {
    const files = unzipSync(new Uint8Array(bytes));
    const raw = files["index.json"];
    if (!raw) throw new Error(`${name}: no index.json`);
    const index = JSON.parse(strFromU8(raw)) as I;
    if (index.format !== format) throw new Error(`${name}: index format ${JSON.stringify(index.format)}, expected ${format}`);
    return {index, files};
  }

  protected member(file: string): Uint8Array {
    const bytes = this.files[file];
    if (!bytes) throw new Error(`${this.name}: no member ${file}`);
    return bytes;
  }

  protected json<T>(file: string): T {
    return JSON.parse(strFromU8(this.member(file))) as T;
  }

  /** A sprite sheet, decoded once. */
  sprite(sheet: ({file: string} & SpriteSheetInfo) | null): Promise<Sprite | null> {
    if (!sheet) return Promise.resolve(null);
    let sprite = this.sprites.get(sheet.file);
    if (!sprite) {
      const blob = new Blob([this.member(sheet.file) as BlobPart], {type: "image/png"});
      sprite = createImageBitmap(blob).then((image) => ({info: sheet, image}));
      this.sprites.set(sheet.file, sprite);
    }
    return sprite;
  }
}

export interface GaSourceData {
  entry: GaSourceEntry;
  images: GaSourceImages;
  /** What gaMetrics takes. */
  rows: GaDotProductRow[];
}

export class GaArchive extends Archive<GaExplorerIndex> {
  private readonly decoded = new Map<string, GaSourceData>();

  static open(bytes: ArrayBuffer): GaArchive {
    const {index, files} = Archive.read<GaExplorerIndex>(bytes, "ga.zip", GA_EXPLORER_FORMAT);
    return new GaArchive(index, files, "ga.zip");
  }

  source(entry: GaSourceEntry): GaSourceData {
    let data = this.decoded.get(entry.id);
    if (!data) {
      const images = this.json<GaSourceImages>(entry.images);
      const dots = decodeDotProducts(this.member(entry.dotProducts.file), entry.dotProducts.encoding, entry.rows, entry.gaDays.length, entry.dotProducts.file);
      data = {entry, images, rows: gaRows(images, dots)};
      this.decoded.set(entry.id, data);
    }
    return data;
  }
}

export class DrilldownArchive extends Archive<DrilldownIndex> {
  private readonly decoded = new Map<string, DrilldownImages>();

  static open(bytes: ArrayBuffer): DrilldownArchive {
    const {index, files} = Archive.read<DrilldownIndex>(bytes, "zero-shot-images.zip", ZERO_SHOT_DRILLDOWN_FORMAT);
    return new DrilldownArchive(index, files, "zero-shot-images.zip");
  }

  images(task: DrilldownTask): DrilldownImages {
    let images = this.decoded.get(task.file);
    if (!images) {
      images = this.json<DrilldownImages>(task.file);
      this.decoded.set(task.file, images);
    }
    return images;
  }
}
