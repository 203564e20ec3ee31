// Converting any decoded image to 8-bit RGB with the semantics of PIL's
// Image.convert("RGB") on the image as PIL opens the same file.
import {checkRaster, type RasterImage, type Rgb8Image} from "./raster.js";

/**
 * PIL convert("RGB"): grey is replicated, alpha is dropped (not composited), palette
 * indices are looked up. 16-bit files follow PIL too: a 16-bit grey PNG opens as
 * I;16 (older PIL: I) and converts by saturating, min(v, 255) (Convert.c I16_RGB /
 * i2rgb); 16-bit RGB, RGBA and grey+alpha PNGs are cut to their high byte on load
 * (rawmodes RGB;16B, RGBA;16B, LA;16B).
 */
export function toRgb8(img: RasterImage): Rgb8Image {
  checkRaster(img, "toRgb8");
  const {width, height, mode} = img;
  const n = width * height;
  const src = img.data;
  const out = new Uint8Array(n * 3);
  const put = (i: number, r: number, g: number, b: number) => {
    out[3 * i] = r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = b;
  };
  switch (mode) {
    case "L":
      for (let i = 0; i < n; i++) put(i, src[i]!, src[i]!, src[i]!);
      break;
    case "LA":
      for (let i = 0; i < n; i++) put(i, src[2 * i]!, src[2 * i]!, src[2 * i]!);
      break;
    case "RGB":
      out.set(src);
      break;
    case "RGBA":
      for (let i = 0; i < n; i++) put(i, src[4 * i]!, src[4 * i + 1]!, src[4 * i + 2]!);
      break;
    case "P": {
      const pal = img.palette!;
      for (let i = 0; i < n; i++) {
        const k = 3 * src[i]!;
        put(i, pal[k] ?? 0, pal[k + 1] ?? 0, pal[k + 2] ?? 0);
      }
      break;
    }
    case "I;16":
      for (let i = 0; i < n; i++) {
        const v = Math.min(src[i]!, 255);
        put(i, v, v, v);
      }
      break;
    case "LA;16":
      for (let i = 0; i < n; i++) {
        const v = src[2 * i]! >> 8;
        put(i, v, v, v);
      }
      break;
    case "RGB;16":
      for (let i = 0; i < 3 * n; i++) out[i] = src[i]! >> 8;
      break;
    case "RGBA;16":
      for (let i = 0; i < n; i++) put(i, src[4 * i]! >> 8, src[4 * i + 1]! >> 8, src[4 * i + 2]! >> 8);
      break;
  }
  return {width, height, data: out};
}
