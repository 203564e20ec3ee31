// The mask of the structure that defines a class, per image, in the model's input
// geometry: the phantom's label maps (masks/<id>.png, PHANTOM_CLASS_STRUCTURES) and
// HC18's head ellipses (annotations/<stem>_Annotation.png, the outline filled) for
// brain planes. Other datasets have no masks: their maps are drawn, not scored.
import {existsSync, readFileSync} from "node:fs";
import {basename, dirname, join} from "node:path";
import {PHANTOM_CLASS_STRUCTURES} from "../../src/lib/cam/localisation.js";
import {fillOutline, labelMask, maskToInputGeometry, outlinePixels} from "../../src/lib/image/masks.js";
import {CHD_STRUCTURES} from "../../src/lib/phantom/chd.js";
import type {Dataset, DatasetImage} from "../datasets/registry.js";
import {readMaskImage} from "../maskImage.js";
import {readPhantomManifest} from "../phantomDataset.js";

/** The binary mask (size x size) of `className`'s structure in an image; null when the dataset has none for it or the image does not show it. */
export type StructureMasks = (image: DatasetImage, className: string, size: number) => Uint8Array | null;

function phantomMasks(dataset: Dataset): StructureMasks {
  // The CHD set paints the heart as wall (4) plus chambers, septum and defect (5-10).
  const chd = (JSON.parse(readFileSync(join(dataset.root, "manifest.json"), "utf8")) as {set?: string}).set === "chd";
  const structures = chd ? {...PHANTOM_CLASS_STRUCTURES, heart: CHD_STRUCTURES.heart!} : PHANTOM_CLASS_STRUCTURES;
  const maskOf = new Map(readPhantomManifest(dataset.root).map((s) => [s.file.split(/[\\/]/).join("/"), (s as {maskFile?: string}).maskFile]));
  return (image, className, size) => {
    const labels = structures[className];
    const file = maskOf.get(image.id);
    if (!labels || !file) return null;
    const m = readMaskImage(join(dataset.root, file));
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
    const a = readMaskImage(path);
    const filled = fillOutline(outlinePixels(a.data, a.width, a.height, a.channels), a.width, a.height);
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
