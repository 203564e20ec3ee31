// The CAM page's archive in the browser: cam.zip read once with fflate (bundled from
// node_modules, no CDN), each artifact parsed and each map upsampled by the core when
// first shown, the image sheet decoded once with the core's PNG reader (exact grey
// levels, no canvas colour management), masks unpacked on demand.
import {strFromU8, unzipSync} from "fflate";
import {camImageMap, checkCamArtifact, type CamArtifactIndex, type CamImageEntry, type CamMethod} from "../lib/cam/camArtifact.js";
import {checkCamGalleryIndex, decodeGreySheet, sheetCell, unpackMask, type CamGalleryEntry, type CamGalleryIndex} from "../lib/camGallery.js";

export interface CamArtifact {
  index: CamArtifactIndex;
  grids: Uint8Array;
  /** Row of each image id in index.images. */
  rowOf: Map<string, number>;
}

/** One image of an entry with what each method says about it. */
export interface CamItem {
  id: string;
  label: string | null;
  target: string;
  predicted: string;
  probability: number;
  correct: boolean | null;
  /** Per method that mapped it: its row in that artifact and its entry. */
  maps: Partial<Record<CamMethod, {row: number; image: CamImageEntry}>>;
}

export class CamGallery {
  private readonly artifacts = new Map<string, CamArtifact>();
  private readonly maps = new Map<string, Float32Array>();
  private readonly sheets = new Map<string, {width: number; height: number; data: Uint8Array}>();

  private constructor(
    readonly index: CamGalleryIndex,
    private readonly files: Record<string, Uint8Array>
  ) {}

  static open(bytes: ArrayBuffer): CamGallery {
    const files = unzipSync(new Uint8Array(bytes));
    const raw = files["index.json"];
    if (!raw) throw new Error("cam.zip: no index.json");
    return new CamGallery(checkCamGalleryIndex(JSON.parse(strFromU8(raw))), files);
  }

  private member(name: string): Uint8Array {
    const bytes = this.files[name];
    if (!bytes) throw new Error(`cam.zip: no member ${name}`);
    return bytes;
  }

  methods(entry: CamGalleryEntry): CamMethod[] {
    return (["scorecam", "similarity"] as const).filter((m) => entry.methods[m]);
  }

  artifact(entry: CamGalleryEntry, method: CamMethod): CamArtifact {
    const k = `${entry.key}\t${method}`;
    let a = this.artifacts.get(k);
    if (!a) {
      const names = entry.methods[method];
      if (!names) throw new Error(`cam.zip: ${entry.key} has no ${method} maps`);
      const index = checkCamArtifact(JSON.parse(strFromU8(this.member(names.index))), names.index);
      a = {index, grids: this.member(names.grids), rowOf: new Map(index.images.map((e, i) => [e.id, i]))};
      this.artifacts.set(k, a);
    }
    return a;
  }

  /** The map of an artifact's row at the model's input size: camImageMap, what was scored. */
  map(entry: CamGalleryEntry, method: CamMethod, row: number): Float32Array {
    const k = `${entry.key}\t${method}\t${row}`;
    let m = this.maps.get(k);
    if (!m) {
      const a = this.artifact(entry, method);
      m = camImageMap(a.index, a.grids, row);
      this.maps.set(k, m);
    }
    return m;
  }

  /** The image as the model sees it (imageSize grey pixels); null when the sheet has no cell for it. */
  grey(entry: CamGalleryEntry, id: string): Uint8Array | null {
    const file = entry.images.file;
    let sheet = this.sheets.get(file);
    if (!sheet) {
      sheet = decodeGreySheet(this.member(file));
      this.sheets.set(file, sheet);
    }
    const cell = entry.images.ids.indexOf(id);
    return cell < 0 ? null : sheetCell(sheet.data, entry.images.info, cell);
  }

  /** The mask of the structure `target` is scored by, in the model's input geometry; null when there is none. */
  mask(entry: CamGalleryEntry, id: string, target: string): Uint8Array | null {
    const i = entry.masks.ids.indexOf(id);
    if (i < 0 || entry.masks.targets[i] !== target) return null;
    const per = entry.masks.bytesPerImage;
    const bytes = this.member(entry.masks.file).subarray(i * per, (i + 1) * per);
    if (bytes.every((b) => b === 0)) return null;
    return unpackMask(bytes, entry.imageSize * entry.imageSize);
  }

  /** Every mapped image of an entry, in the one-pass artifact's order, with each method's row. */
  items(entry: CamGalleryEntry): CamItem[] {
    const byId = new Map<string, CamItem>();
    for (const method of ["similarity", "scorecam"] as const) {
      if (!entry.methods[method]) continue;
      this.artifact(entry, method).index.images.forEach((image, row) => {
        let item = byId.get(image.id);
        if (!item) {
          item = {id: image.id, label: image.label, target: image.target, predicted: image.predicted, probability: image.probability, correct: image.label === null ? null : image.predicted === image.label, maps: {}};
          byId.set(image.id, item);
        }
        item.maps[method] = {row, image};
      });
    }
    return [...byId.values()];
  }
}
