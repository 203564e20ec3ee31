// Readers for the public fetal ultrasound datasets in their original layout:
// FETAL_PLANES_DB (Burgos-Artizzu et al., Sci Rep 2020), African fetal standard
// planes (Sendra-Balcells et al., Sci Rep 2023) and HC18 (van den Heuvel et al.,
// PLoS ONE 2018). Each gives image paths with labels named as FetalCLIP's prompts.
import {existsSync, readFileSync, statSync} from "node:fs";
import {join, relative, resolve} from "node:path";
import {csvParse, dsvFormat} from "d3-dsv";
import {brainSubplaneOf, planeClassOf} from "../../src/lib/prompts.js";

export interface PlaneImage {
  path: string;
  patientId: string;
  /** FetalCLIP prompt class (abdomen, brain, femur, heart, cervix), or null for 'Other'. */
  plane: string | null;
  /** Brain sub-plane (trans-thalamic, trans-cerebellum, trans-ventricular) when labelled. */
  subPlane: string | null;
}

export interface HeadImage {
  path: string;
  pixelSizeMm: number;
  hcMm: number;
}

/** FETAL_PLANES_DB's CSV (12,400 rows) is about 1 MB; a labels file over this is refused before reading. */
export const MAX_LABELS_CSV_BYTES = 256 * 1024 * 1024;

/** Comma- or semicolon-separated (FETAL_PLANES_DB's own CSV uses ';'), judged by the header line. */
export function readCsv(path: string): Record<string, string>[] {
  if (!existsSync(path)) throw new Error(`${path} is missing`);
  const bytes = statSync(path).size;
  if (bytes > MAX_LABELS_CSV_BYTES) throw new Error(`${path}: ${bytes} bytes, over the ${MAX_LABELS_CSV_BYTES}-byte limit for a labels file`);
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  const header = text.slice(0, text.indexOf("\n") >>> 0);
  return header.split(";").length > header.split(",").length ? dsvFormat(";").parse(text) : csvParse(text);
}

/**
 * The labels file and image folder of a dataset: the subsets' labels.csv + images/,
 * or the names the dataset ships with (first that exists; errors name them all).
 */
export function locate(dir: string, csvNames: readonly string[], imageDirs: readonly string[]): {csv: string; images: string} {
  const csv = csvNames.map((n) => join(dir, n)).find((p) => existsSync(p));
  if (!csv) throw new Error(`${join(dir, csvNames[0]!)} is missing (looked for ${csvNames.join(", ")} in ${dir})`);
  const images = imageDirs.map((n) => join(dir, n)).find((p) => existsSync(p));
  if (!images) throw new Error(`${dir}: no image folder (looked for ${imageDirs.join(", ")})`);
  return {csv, images};
}

/**
 * `images/<name>`, refusing names from the CSV that would leave the image folder
 * ("../../x", absolute paths, folders): a labels file is data, not a set of paths.
 */
function imagePath(images: string, name: string, file: string, row: number): string {
  const path = resolve(images, name);
  if (name === "" || /[\\/]/.test(name) || name === "." || name === ".." || relative(images, path).startsWith("..")) {
    throw new Error(`${file}: row ${row + 2}: image name ${JSON.stringify(name)} is not a file name inside ${images}`);
  }
  return path;
}

function column(row: Record<string, string>, name: string, file: string): string {
  const value = row[name];
  if (value === undefined) throw new Error(`${file}: column "${name}" is missing`);
  return value;
}

/** FETAL_PLANES_DB: labels.csv (or the release's FETAL_PLANES_DB_data.csv) with Image_name, Patient_num, Plane, Brain_plane. */
export function readFetalPlanesDb(dir: string): PlaneImage[] {
  const {csv: file, images} = locate(dir, ["labels.csv", "FETAL_PLANES_DB_data.csv"], ["images", "Images"]);
  return readCsv(file).map((row, i) => ({
    path: imagePath(images, column(row, "Image_name", file).replace(/(\.png)?$/, ".png"), file, i),
    patientId: column(row, "Patient_num", file),
    plane: planeClassOf(column(row, "Plane", file)),
    subPlane: brainSubplaneOf(column(row, "Brain_plane", file))
  }));
}

/** African planes: labels.csv with Patient_num, Plane, Center, Image_name (no extension). */
export function readAfricanPlanes(dir: string): PlaneImage[] {
  const {csv: file, images} = locate(dir, ["labels.csv"], ["images"]);
  return readCsv(file).map((row, i) => ({
    path: imagePath(images, `${column(row, "Image_name", file)}.png`, file, i),
    patientId: `${column(row, "Center", file)}-${column(row, "Patient_num", file)}`,
    plane: planeClassOf(column(row, "Plane", file)),
    subPlane: null
  }));
}

/** HC18 training set: labels.csv (or the release's training_set_pixel_size_and_HC.csv) with filename, pixel size(mm), head circumference (mm). */
export function readHc18(dir: string): HeadImage[] {
  const {csv: file, images} = locate(dir, ["labels.csv", "training_set_pixel_size_and_HC.csv"], ["images", "training_set"]);
  return readCsv(file).map((row, i) => ({
    path: imagePath(images, column(row, "filename", file), file, i),
    pixelSizeMm: Number(column(row, "pixel size(mm)", file)),
    hcMm: Number(column(row, "head circumference (mm)", file))
  }));
}
