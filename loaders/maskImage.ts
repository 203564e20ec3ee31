// Reading a mask or annotation image from disk (the segmentation probe's and the CAM
// localisation's): 8-bit grey stays one channel, anything else becomes RGB.
import {readFileSync} from "node:fs";
import {toRgb8} from "../src/lib/image/convert.js";
import {decodeImage} from "../src/lib/image/decode.js";

/** The mask's samples (1 channel for a grey image, else 3), with errors that name the file. */
export function readMaskImage(path: string): {data: Uint8Array; width: number; height: number; channels: number} {
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
