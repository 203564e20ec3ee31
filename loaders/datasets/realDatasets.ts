// Readers for the public fetal ultrasound datasets in their original layout:
// FETAL_PLANES_DB (Burgos-Artizzu et al., Sci Rep 2020), African fetal standard
// planes (Sendra-Balcells et al., Sci Rep 2023) and HC18 (van den Heuvel et al.,
// PLoS ONE 2018). Each gives image paths with labels named as FetalCLIP's prompts.
import {existsSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {csvParse} from "d3-dsv";
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

function readCsv(path: string): Record<string, string>[] {
  if (!existsSync(path)) throw new Error(`${path} is missing`);
  return csvParse(readFileSync(path, "utf8"));
}

function column(row: Record<string, string>, name: string, file: string): string {
  const value = row[name];
  if (value === undefined) throw new Error(`${file}: column "${name}" is missing`);
  return value;
}

/** FETAL_PLANES_DB: labels.csv with Image_name, Patient_num, Plane, Brain_plane. */
export function readFetalPlanesDb(dir: string): PlaneImage[] {
  const file = join(dir, "labels.csv");
  return readCsv(file).map((row) => ({
    path: join(dir, "images", column(row, "Image_name", file).replace(/(\.png)?$/, ".png")),
    patientId: column(row, "Patient_num", file),
    plane: planeClassOf(column(row, "Plane", file)),
    subPlane: brainSubplaneOf(column(row, "Brain_plane", file))
  }));
}

/** African planes: labels.csv with Patient_num, Plane, Center, Image_name (no extension). */
export function readAfricanPlanes(dir: string): PlaneImage[] {
  const file = join(dir, "labels.csv");
  return readCsv(file).map((row) => ({
    path: join(dir, "images", `${column(row, "Image_name", file)}.png`),
    patientId: `${column(row, "Center", file)}-${column(row, "Patient_num", file)}`,
    plane: planeClassOf(column(row, "Plane", file)),
    subPlane: null
  }));
}

/** HC18 training set: labels.csv with filename, pixel size(mm), head circumference (mm). */
export function readHc18(dir: string): HeadImage[] {
  const file = join(dir, "labels.csv");
  return readCsv(file).map((row) => ({
    path: join(dir, "images", column(row, "filename", file)),
    pixelSizeMm: Number(column(row, "pixel size(mm)", file)),
    hcMm: Number(column(row, "head circumference (mm)", file))
  }));
}
