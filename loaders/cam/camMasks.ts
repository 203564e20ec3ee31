// The mask of the structure that defines a class, per image, in the model's input
// geometry: the phantom's label maps (masks/<id>.png, PHANTOM_CLASS_STRUCTURES) and
// HC18's head ellipses (annotations/<stem>_Annotation.png, the outline filled) for
// brain planes. Other datasets have no masks: their maps are drawn, not scored.
import {existsSync, readFileSync} from "node:fs";
import {basename, dirname, join} from "node:path";
import {labelMask, maskToInputGeometry, PHANTOM_CLASS_STRUCTURES} from "../../src/lib/cam/localisation.js";
import {CHD_STRUCTURES} from "../../src/lib/phantom/chd.js";
import {toRgb8} from "../../src/lib/image/convert.js";
import {decodeImage} from "../../src/lib/image/decode.js";
import type {Dataset, DatasetImage} from "../datasets/registry.js";
import {readPhantomManifest} from "../phantomDataset.js";

/** The binary mask (size x size) of `className`'s structure in an image; null when the dataset has none for it or the image does not show it. */
export type StructureMasks = (image: DatasetImage, className: string, size: number) => Uint8Array | null;

function decodeGrey(path: string): {data: Uint8Array; width: number; height: number; channels: number} {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new Error(`${path}: cannot read the mask (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const raster = decodeImage(bytes);
    if (raster.mode === "L") return {data: raster.data as Uint8Array, width: raster.width, height: raster.height, channels: 1};
    const rgb = toRgb8(raster);
    return {data: rgb.data, width: rgb.width, height: rgb.height, channels: 3};
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message.replace(/^decodeImage: /, "")}`);
  }
}

/**
 * A closed outline filled, outline included (OpenCV's drawContours of the external
 * contour, thickness -1, as FetalCLIP's HC18 notebook fills it): every pixel that the
 * border cannot reach in 4-connected steps without crossing the outline.
 */
export function fillOutline(outline: Uint8Array, width: number, height: number): Uint8Array {
  const outside = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  let top = 0;
  const push = (i: number) => {
    if (!outline[i] && !outside[i]) {
      outside[i] = 1;
      stack[top++] = i;
    }
  };
  for (let x = 0; x < width; x++) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (top > 0) {
    const i = stack[--top]!;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < (height - 1) * width) push(i + width);
  }
  const filled = new Uint8Array(width * height);
  for (let i = 0; i < filled.length; i++) filled[i] = outside[i] ? 0 : 1;
  return filled;
}

function phantomMasks(dataset: Dataset): StructureMasks {
  // The CHD set paints the heart as wall (4) plus chambers, septum and defect (5-10).
  const chd = (JSON.parse(readFileSync(join(dataset.root, "manifest.json"), "utf8")) as {set?: string}).set === "chd";
  const structures = chd ? {...PHANTOM_CLASS_STRUCTURES, heart: CHD_STRUCTURES.heart!} : PHANTOM_CLASS_STRUCTURES;
  const maskOf = new Map(readPhantomManifest(dataset.root).map((s) => [s.file.split(/[\\/]/).join("/"), (s as {maskFile?: string}).maskFile]));
  return (image, className, size) => {
    const labels = structures[className];
    const file = maskOf.get(image.id);
    if (!labels || !file) return null;
    const m = decodeGrey(join(dataset.root, file));
    if (m.channels !== 1) throw new Error(`${join(dataset.root, file)}: a phantom mask should be an 8-bit grey label map`);
    const mask = maskToInputGeometry(labelMask(m.data, labels), m.width, m.height, size);
    return mask.some((v) => v !== 0) ? mask : null;
  };
}

/** HC18's annotation of an image: annotations/<stem>_Annotation.png (the subsets' layout) or beside the image (training_set/). */
function hc18Annotation(root: string, imagePath: string): string | null {
  const stem = basename(imagePath).replace(/\.png$/i, "");
  return [join(root, "annotations", `${stem}_Annotation.png`), join(dirname(imagePath), `${stem}_Annotation.png`)].find((p) => existsSync(p)) ?? null;
}

function hc18Masks(dataset: Dataset): StructureMasks {
  return (image, className, size) => {
    if (!PHANTOM_CLASS_STRUCTURES[className]?.includes(1)) return null; // the head defines brain planes only
    const path = hc18Annotation(dataset.root, image.path);
    if (!path) return null;
    const a = decodeGrey(path);
    const outline = new Uint8Array(a.width * a.height);
    for (let i = 0; i < outline.length; i++) for (let c = 0; c < a.channels; c++) if (a.data[i * a.channels + c]! > 127) outline[i] = 1;
    const filled = fillOutline(outline, a.width, a.height);
    const inside = filled.reduce((s, v) => s + v, 0);
    if (inside === 0 || inside > 0.9 * filled.length) throw new Error(`${path}: not a closed ellipse outline (its fill covers ${((100 * inside) / filled.length).toFixed(0)}% of the image)`);
    return maskToInputGeometry(filled, a.width, a.height, size);
  };
}

/** The dataset's structure masks, or a source that has none. */
export function structureMasks(dataset: Dataset): StructureMasks {
  if (dataset.layout === "phantom" || dataset.layout === "phantom-chd") return phantomMasks(dataset);
  if (dataset.layout === "hc18") return hc18Masks(dataset);
  return () => null;
}
