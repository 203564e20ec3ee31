// The datasets the CLI and the site know, by name or by folder: the phantom (the
// embedded default), FETAL_PLANES_DB, HC18, the African fetal standard planes and
// any folder (labels.csv + images/, or just images). Every image gets a stable id,
// its path relative to the dataset root with '/' separators, and metadata columns
// with the same names in every dataset that has them (DATASET_COLUMNS).
import {existsSync, readFileSync, statSync} from "node:fs";
import {basename, join, relative, resolve, sep} from "node:path";
import {DATA_DIR, PHANTOM_CHD_DIR, PHANTOM_DIR, SHARED_DIR} from "../paths.js";
import {readPhantomManifest} from "../phantomDataset.js";
import {DATASET_COLUMNS, type DatasetColumn, type DatasetImage} from "./columns.js";
import {hasLabelsFile, readFolderDataset} from "./folderDataset.js";
import {locate, readAfricanPlanes, readCsv, readFetalPlanesDb, readHc18} from "./realDatasets.js";

export {DATASET_COLUMNS, NUMERIC_COLUMNS, type DatasetColumn, type DatasetImage, type MetadataValue} from "./columns.js";

export type DatasetLayout = "phantom" | "phantom-chd" | "fetal-planes-db" | "hc18" | "african-planes" | "folder";

export interface Dataset {
  /** Registry name, or the folder's name for a path. */
  name: string;
  layout: DatasetLayout;
  root: string;
  /** The metadata columns this dataset has, in DATASET_COLUMNS order. */
  columns: DatasetColumn[];
  /** Sorted by id. */
  images: DatasetImage[];
  /** Labels that could not be used (a bad number, a name outside the folder): reported, the rest goes on. */
  warnings: string[];
}

/** Registry names and, for each, the folders looked in (first that exists): under FETALCLIP_DATA, then the copies in ../shared/data. */
export const REGISTERED_DATASETS: Readonly<Record<Exclude<DatasetLayout, "folder">, () => string[]>> = {
  phantom: () => [PHANTOM_DIR],
  "phantom-chd": () => [PHANTOM_CHD_DIR],
  "fetal-planes-db": () => [join(DATA_DIR, "FETAL_PLANES_DB"), join(DATA_DIR, "fetal-planes-db"), join(SHARED_DIR, "data", "planes")],
  hc18: () => [join(DATA_DIR, "HC18"), join(DATA_DIR, "hc18"), join(SHARED_DIR, "data", "hc18")],
  "african-planes": () => [join(DATA_DIR, "African_planes"), join(DATA_DIR, "african-planes"), join(SHARED_DIR, "data", "african")]
};

export function isRegisteredDataset(name: string): name is Exclude<DatasetLayout, "folder"> {
  return Object.hasOwn(REGISTERED_DATASETS, name);
}

/** The folder of a registered dataset; the error lists every place looked in. */
export function registeredDatasetRoot(name: Exclude<DatasetLayout, "folder">): string {
  const candidates = REGISTERED_DATASETS[name]();
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) {
    const hint =
      name === "phantom" ? " (run `npx fetalclip setup` to generate it)"
      : name === "phantom-chd" ? " (run `npx fetalclip phantom --set chd` or `npx fetalclip setup` to generate it)"
      : " (download it, then put it under FETALCLIP_DATA)";
    throw new Error(`dataset ${name}: not found; looked in ${candidates.join(", ")}${hint}`);
  }
  return found;
}

/** The id of a file: its path relative to the dataset root with '/' separators. */
export function imageId(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}

/** Which reader a folder needs, judged by its files: phantom manifest, a known labels file, any labels.csv, or just images. */
export function detectLayout(dir: string): DatasetLayout {
  const manifest = join(dir, "manifest.json");
  if (existsSync(manifest)) {
    try {
      const json = JSON.parse(readFileSync(manifest, "utf8")) as {format?: unknown};
      // The CHD set is read as any phantom (its manifest adds diagnosis columns).
      if (typeof json.format === "string" && json.format.startsWith("fetalclip-explorer/phantom@")) return "phantom";
    } catch {
      // not a phantom manifest: judged by the other files
    }
  }
  if (existsSync(join(dir, "FETAL_PLANES_DB_data.csv"))) return "fetal-planes-db";
  if (existsSync(join(dir, "training_set_pixel_size_and_HC.csv"))) return "hc18";
  if (hasLabelsFile(dir)) {
    const header = new Set(Object.keys(readCsv(join(dir, "labels.csv"))[0] ?? {}).map((c) => c.trim()));
    const has = (...names: string[]) => names.every((n) => header.has(n));
    if (has("Image_name", "Patient_num", "Plane", "Brain_plane")) return "fetal-planes-db";
    if (has("filename", "pixel size(mm)", "head circumference (mm)")) return "hc18";
    if (has("Image_name", "Patient_num", "Plane", "Center")) return "african-planes";
  }
  return "folder";
}

export interface OpenDatasetOptions {
  /** Keep the first N images by id (a quick look at a large dataset). */
  limit?: number;
}

/**
 * A dataset by registry name (phantom, phantom-chd, fetal-planes-db, hc18, african-planes) or by
 * folder (its layout detected from its files). Images are sorted by id.
 */
export function openDataset(nameOrPath: string, options: OpenDatasetOptions = {}): Dataset {
  let root: string;
  let name: string;
  let layout: DatasetLayout;
  if (isRegisteredDataset(nameOrPath)) {
    name = nameOrPath;
    root = registeredDatasetRoot(nameOrPath);
    layout = nameOrPath;
  } else {
    root = resolve(nameOrPath);
    let isDir = false;
    try {
      isDir = statSync(root).isDirectory();
    } catch {
      throw new Error(`--dataset ${nameOrPath}: neither a dataset name (${Object.keys(REGISTERED_DATASETS).join(", ")}) nor an existing folder`);
    }
    if (!isDir) throw new Error(`--dataset ${nameOrPath}: is not a folder`);
    name = basename(root);
    layout = detectLayout(root);
  }
  const read = READERS[layout];
  const {images, columns, warnings} = read(root);
  images.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < images.length; i++) {
    if (images[i]!.id === images[i - 1]!.id) throw new Error(`${root}: image ${images[i]!.id} is listed twice`);
  }
  const limited = options.limit !== undefined ? images.slice(0, options.limit) : images;
  return {name, layout, root, columns: DATASET_COLUMNS.filter((c) => columns.includes(c)), images: limited, warnings};
}

type Reader = (root: string) => {images: DatasetImage[]; columns: readonly DatasetColumn[]; warnings: string[]};

/** A value of a column, whatever the spacing around its name ("Train " in FETAL_PLANES_DB's release). */
function field(row: Record<string, string>, name: string): string | null {
  for (const [key, value] of Object.entries(row)) if (key.trim() === name) return value.trim() === "" ? null : value.trim();
  return null;
}

/** "1"/"0" of a Train column, as the split names the phantom uses. */
function trainSplit(value: string | null): string | null {
  return value === "1" ? "train" : value === "0" ? "test" : null;
}

/** A phantom folder (the default set or the CHD set, whose samples add diagnosis and chd). */
function readPhantomFolder(root: string): ReturnType<Reader> {
  const samples = readPhantomManifest(root);
  const hasDiagnosis = samples.some((s) => s.diagnosis !== undefined);
  const images = samples.map((s) => ({
    id: s.file.split(/[\\/]/).join("/"),
    path: join(root, s.file),
    meta: {
      plane: s.plane, sub_plane: s.subPlane ?? null, patient: s.patientId, split: s.split, ga_days: s.gaDays, hc_mm: s.hcMm, spacing_mm: s.spacingMmPerPx,
      ...(hasDiagnosis ? {diagnosis: s.diagnosis ?? null, chd: s.chd ?? null} : {})
    }
  }));
  for (const image of images) {
    if (relative(root, image.path).startsWith("..")) throw new Error(`${join(root, "manifest.json")}: file ${image.id} is outside the dataset folder`);
  }
  const columns: DatasetColumn[] = ["plane", "sub_plane", "patient", "split", "ga_days", "hc_mm", "spacing_mm"];
  return {images, columns: hasDiagnosis ? [...columns, "diagnosis", "chd"] : columns, warnings: []};
}

const READERS: Record<DatasetLayout, Reader> = {
  phantom: readPhantomFolder,
  "phantom-chd": readPhantomFolder,
  "fetal-planes-db"(root) {
    // The reader checks names and maps labels to FetalCLIP's classes; the extra columns come from the same rows.
    const parsed = readFetalPlanesDb(root);
    const rows = readCsv(locate(root, ["labels.csv", "FETAL_PLANES_DB_data.csv"], ["images", "Images"]).csv);
    const images = parsed.map((image, i) => {
      const row = rows[i]!;
      const brainPlane = field(row, "Brain_plane");
      return {
        id: imageId(root, image.path),
        path: image.path,
        meta: {
          plane: image.plane ?? "other",
          // Brain images only: 'Other' brain planes stay "other"; 'Not A Brain' has no sub-plane.
          sub_plane: image.subPlane ?? (image.plane === "brain" && brainPlane ? "other" : null),
          patient: image.patientId,
          split: trainSplit(field(row, "Train")),
          operator: field(row, "Operator"),
          machine: field(row, "US_Machine")
        }
      };
    });
    return {images, columns: ["plane", "sub_plane", "patient", "split", "operator", "machine"], warnings: []};
  },
  "african-planes"(root) {
    const parsed = readAfricanPlanes(root);
    const rows = readCsv(locate(root, ["labels.csv"], ["images"]).csv);
    const images = parsed.map((image, i) => ({
      id: imageId(root, image.path),
      path: image.path,
      meta: {plane: image.plane ?? "other", patient: image.patientId, split: trainSplit(field(rows[i]!, "Train")), centre: field(rows[i]!, "Center")}
    }));
    return {images, columns: ["plane", "patient", "split", "centre"], warnings: []};
  },
  hc18(root) {
    // HC18's training set: every image is a fetal head at the plane where HC is measured;
    // "010_HC.png" and "010_2HC.png" are two images of one fetus, so the number is the patient.
    const images = readHc18(root).map((image) => ({
      id: imageId(root, image.path),
      path: image.path,
      meta: {
        plane: "brain",
        patient: /^(\d+)_/.exec(basename(image.path))?.[1] ?? null,
        split: "train",
        hc_mm: Number.isFinite(image.hcMm) ? image.hcMm : null,
        spacing_mm: Number.isFinite(image.pixelSizeMm) ? image.pixelSizeMm : null
      }
    }));
    return {images, columns: ["plane", "patient", "split", "hc_mm", "spacing_mm"], warnings: []};
  },
  folder: readFolderDataset
};
