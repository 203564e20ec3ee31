// cam.zip, the CAM page's one archive: index.json, then per (dataset, model) of the
// project config its `fetalclip cam` artifacts (METHOD.json + METHOD.grids.u8, as the
// CLI writes them) and masks, and per dataset the image sheet. A pair that cannot be
// built (a dataset not downloaded, a bundle missing) is listed with the reason.
import {zipSync, type Zippable} from "fflate";
import {CAM_GALLERY_FORMAT, type CamGalleryIndex} from "../../src/lib/camGallery.js";
import {buildConfiguredPairs, readProjectConfig, type ProjectConfig} from "../projectConfig.js";
import {buildCamGallery, type BuiltCamGallery} from "./build.js";

export async function buildCamGalleries(log: (m: string) => void = () => {}, config: ProjectConfig = readProjectConfig()): Promise<{index: CamGalleryIndex; built: BuiltCamGallery[]}> {
  const {built, skipped} = await buildConfiguredPairs(config, "cam gallery", (dataset, model) => buildCamGallery(dataset, model, log), log);
  return {index: {format: CAM_GALLERY_FORMAT, entries: built.map((b) => b.entry), skipped}, built};
}

/** The archive: PNG sheets stored (they are deflated already), the rest deflated. */
export function camArchive(index: CamGalleryIndex, built: readonly BuiltCamGallery[]): Uint8Array {
  const files: Zippable = {"index.json": [new TextEncoder().encode(JSON.stringify(index)), {level: 6}]};
  for (const b of built) {
    for (const [name, bytes] of Object.entries(b.files)) files[name] = [bytes, {level: name.endsWith(".png") ? 0 : 9}];
  }
  return zipSync(files, {mtime: new Date("2025-01-01T00:00:00Z")});
}
