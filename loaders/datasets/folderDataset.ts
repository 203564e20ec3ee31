// Any folder as a dataset: labels.csv (one row per image, metadata in columns named
// as DATASET_COLUMNS) beside images/, or just a folder of PNG/JPEG files, walked
// recursively. A labels file is data, not a set of paths: a name that would leave
// the folder, a repeated name or a bad number is reported and skipped, never fatal.
import {existsSync, readdirSync, statSync} from "node:fs";
import {join, relative, resolve} from "node:path";
import {DATASET_COLUMNS, NUMERIC_COLUMNS, type DatasetColumn, type DatasetImage, type MetadataValue} from "./columns.js";
import {readCsv} from "./realDatasets.js";

const IMAGE_EXTENSION = /\.(png|jpe?g)$/i;
/** Column names accepted for the image's file name, first found wins. */
export const IMAGE_NAME_COLUMNS = ["id", "image", "file", "filename", "path", "Image_name"] as const;
/** Folders deeper than this are not walked (a symlink loop or a hostile tree cannot stall the walk). */
const MAX_DEPTH = 32;

export function hasLabelsFile(dir: string): boolean {
  return existsSync(join(dir, "labels.csv"));
}

/** The PNG/JPEG files under `dir`, hidden files and folders left out, symlinked folders not followed. */
function walkImages(dir: string, depth = 0, out: string[] = []): string[] {
  if (depth > MAX_DEPTH) return out;
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walkImages(path, depth + 1, out);
    else if ((entry.isFile() || entry.isSymbolicLink()) && IMAGE_EXTENSION.test(entry.name)) out.push(path);
  }
  return out;
}

/** A relative name from a labels file, or why it cannot be one: no absolute paths, "..", backslashes or NULs. */
function checkName(name: string): string | null {
  if (name === "") return "the image name is empty";
  if (/[\\\0]/.test(name) || name.startsWith("/") || /^[a-zA-Z]:/.test(name)) return `image name ${JSON.stringify(name)} is not a relative path`;
  if (name.split("/").some((part) => part === ".." || part === "." || part === "")) return `image name ${JSON.stringify(name)} is not a path inside the dataset`;
  return null;
}

function metadataValue(column: DatasetColumn, raw: string | undefined): {value: MetadataValue; bad: boolean} {
  const text = raw?.trim() ?? "";
  if (text === "") return {value: null, bad: false};
  if (!NUMERIC_COLUMNS.has(column)) return {value: text, bad: false};
  const n = Number(text);
  return Number.isFinite(n) ? {value: n, bad: false} : {value: null, bad: true};
}

export function readFolderDataset(root: string): {images: DatasetImage[]; columns: DatasetColumn[]; warnings: string[]} {
  const warnings: string[] = [];
  const id = (path: string) => relative(root, path).split(/[\\/]/).join("/");
  if (!hasLabelsFile(root)) {
    const images = walkImages(root).map((path) => ({id: id(path), path, meta: {}}));
    if (images.length === 0) throw new Error(`${root}: no labels.csv and no PNG or JPEG files`);
    return {images, columns: [], warnings};
  }
  const file = join(root, "labels.csv");
  const rows = readCsv(file);
  const header = Object.keys(rows[0] ?? {});
  const nameColumn = IMAGE_NAME_COLUMNS.map((n) => header.find((h) => h.trim() === n)).find((h) => h !== undefined);
  if (!nameColumn) throw new Error(`${file}: no image name column (looked for ${IMAGE_NAME_COLUMNS.join(", ")})`);
  const columns = DATASET_COLUMNS.filter((c) => header.some((h) => h.trim() === c));
  const headerOf = new Map(columns.map((c) => [c, header.find((h) => h.trim() === c)!]));
  const imageDir = existsSync(join(root, "images")) && statSync(join(root, "images")).isDirectory() ? join(root, "images") : root;
  const seen = new Set<string>();
  const images: DatasetImage[] = [];
  rows.forEach((row, i) => {
    const where = `${file}: row ${i + 2}`;
    const name = (row[nameColumn] ?? "").trim();
    const problem = checkName(name);
    if (problem) {
      warnings.push(`${where}: ${problem}; skipped`);
      return;
    }
    const path = resolve(imageDir, name);
    if (relative(imageDir, path).startsWith("..")) {
      warnings.push(`${where}: image name ${JSON.stringify(name)} is not inside ${imageDir}; skipped`);
      return;
    }
    const imageId = id(path);
    if (seen.has(imageId)) {
      warnings.push(`${where}: ${imageId} is listed again; the first row is kept`);
      return;
    }
    seen.add(imageId);
    const meta: DatasetImage["meta"] = {};
    for (const column of columns) {
      const {value, bad} = metadataValue(column, row[headerOf.get(column)!]);
      if (bad) warnings.push(`${where}: ${column} ${JSON.stringify(row[headerOf.get(column)!])} is not a number; left empty`);
      meta[column] = value;
    }
    images.push({id: imageId, path, meta});
  });
  return {images, columns, warnings};
}
