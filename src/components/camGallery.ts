// The CAM page's figures: maps over the images they explain, drawn on canvas at the
// model's input size (each pixel computed by the core's overlayRgba, so the browser
// test can read them back), in a gallery grouped by class, a large view with the
// outline of the structure the map is scored against, and the colour map's key.
import {html} from "htl";
import type {CamMethod} from "../lib/cam/camArtifact.js";
import {CAM_METHOD_NAMES, colourMapLut, mapPeak, maskOutline, overlayRgba, type CamGalleryEntry, type ColourMapName} from "../lib/camGallery.js";
import type {CamGallery, CamItem} from "../runtime/camGallery.js";

export interface OverlayStyle {
  opacity: number;
  colourMap: ColourMapName;
}

const pct = (v: number) => `${Math.round(100 * v)}%`;

/**
 * One map over its image: a canvas of imageSize^2 pixels shown at `cssSize` px. Its
 * data attributes name what it shows (entry key, method, image id, opacity, colour map),
 * so a test can recompute it.
 */
export function camOverlayCanvas(gallery: CamGallery, entry: CamGalleryEntry, item: CamItem, method: CamMethod | null, style: OverlayStyle, cssSize: number): HTMLCanvasElement {
  const size = entry.imageSize;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  canvas.style.width = canvas.style.height = `${cssSize}px`;
  canvas.className = method ? "cam-overlay" : "cam-overlay cam-plain";
  canvas.dataset.key = entry.key;
  canvas.dataset.id = item.id;
  canvas.dataset.method = method ?? "none";
  canvas.dataset.opacity = String(method ? style.opacity : 0);
  canvas.dataset.colourMap = style.colourMap;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", method ? `${CAM_METHOD_NAMES[method]} map of ${item.target} over ${item.id}` : item.id);
  const grey = gallery.grey(entry, item.id) ?? new Uint8Array(size * size);
  const row = method ? item.maps[method]?.row : undefined;
  const map = method && row !== undefined ? gallery.map(entry, method, row) : new Float32Array(size * size);
  // CPU-backed: pixels are put once and may be read back (tests).
  const ctx = canvas.getContext("2d", {willReadFrequently: true})!;
  const image = ctx.createImageData(size, size);
  overlayRgba(grey, map, colourMapLut(style.colourMap), method ? style.opacity : 0, image.data);
  ctx.putImageData(image, 0, 0);
  return canvas;
}

export interface CamGroup {
  className: string;
  /** Shown in the heading: the structure the class is scored by, the images of it. */
  note: string;
  items: CamItem[];
  /** Items of the class left out by the per-class limit. */
  hidden: number;
}

export interface CamGalleryOptions extends OverlayStyle {
  width: number;
  methods: CamMethod[];
  onSelect: (item: CamItem) => void;
  selectedId?: string | null;
}

/** Tiles grouped by class: each map of an image side by side, its prediction and localisation under it. */
export function camGalleryView(gallery: CamGallery, entry: CamGalleryEntry, groups: readonly CamGroup[], options: CamGalleryOptions): HTMLElement {
  const maps = Math.max(1, options.methods.length);
  // Tiles of ~100-128 px a map: a few per row on a phone, a dozen maps on a wide screen.
  // Tiles of 96-128 px a map (each tile has 8 px of padding and border, 3 px between its maps, 8 px between tiles).
  const tilePx = (px: number) => maps * px + 3 * (maps - 1) + 8 + 8;
  const perRow = Math.max(1, Math.floor((options.width + 8) / tilePx(96)));
  const mapPx = Math.max(72, Math.min(128, Math.floor(((options.width + 8) / perRow - 16 - 3 * (maps - 1)) / maps)));
  const tile = (item: CamItem) => {
    const shown = options.methods.filter((m) => item.maps[m]);
    const correct = item.correct === null ? "" : item.correct ? "✓" : "✗";
    const el = html`<div class="cam-tile" role="button" tabindex="0" data-id=${item.id} aria-pressed=${String(item.id === options.selectedId)}
      title=${`${item.id}: true ${item.label ?? "unlabelled"}, predicted ${item.predicted} (${item.probability.toFixed(3)}); click for the large view`}>
      <div class="cam-tile-maps">${shown.map((m) => {
        const loc = item.maps[m]!.image.localisation;
        return html`<figure>${camOverlayCanvas(gallery, entry, item, m, options, mapPx)}
          <figcaption>${maps > 1 ? `${CAM_METHOD_NAMES[m]} ` : ""}${loc ? html`<b>${pct(loc.share)}</b>${loc.hit ? " ●" : ""}` : "–"}</figcaption></figure>`;
      })}</div>
      <div class=${`cam-tile-caption ${item.correct === false ? "bad" : ""}`}>${correct} ${item.predicted} ${item.probability.toFixed(2)}</div>
    </div>` as HTMLElement;
    const select = () => {
      for (const other of el.closest(".cam-gallery")?.querySelectorAll(".cam-tile[aria-pressed=true]") ?? []) other.setAttribute("aria-pressed", "false");
      el.setAttribute("aria-pressed", "true");
      options.onSelect(item);
    };
    el.onclick = select;
    el.onkeydown = (event: KeyboardEvent) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select();
      }
    };
    return el;
  };
  return html`<div class="cam-gallery" data-tiles=${groups.reduce((n, g) => n + g.items.length, 0)}>${groups.map(
    (g) => html`<section class="cam-class" data-class=${g.className}>
      <h3>${g.className} <span class="muted">${g.note}</span></h3>
      <div class="cam-tiles">${g.items.map(tile)}</div>
      ${g.hidden ? html`<p class="muted cam-more">${g.hidden} more image${g.hidden === 1 ? "" : "s"} of ${g.className} not shown (raise "Tiles per class").</p>` : ""}
    </section>`
  )}</div>`;
}

/** The structure's outline (and the map's maximum, the pointing game's pixel) drawn crisply over a canvas shown at `cssSize` px. */
function outlineLayer(mask: Uint8Array | null, size: number, cssSize: number, peak: number | null): HTMLCanvasElement {
  const dpr = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.className = "cam-outline";
  canvas.width = canvas.height = Math.round(cssSize * dpr);
  canvas.style.width = canvas.style.height = `${cssSize}px`;
  const ctx = canvas.getContext("2d")!;
  const k = (cssSize * dpr) / size;
  const stroke = (width: number, colour: string, draw: () => void) => {
    ctx.beginPath();
    draw();
    ctx.lineWidth = width * dpr;
    ctx.strokeStyle = colour;
    ctx.stroke();
  };
  if (mask) {
    const segments = maskOutline(mask, size);
    const path = () => {
      for (let s = 0; s < segments.length; s += 4) {
        ctx.moveTo(segments[s]! * k, segments[s + 1]! * k);
        ctx.lineTo(segments[s + 2]! * k, segments[s + 3]! * k);
      }
    };
    ctx.lineCap = "square";
    stroke(3, "rgba(0, 0, 0, 0.8)", path);
    stroke(1.5, "#fff", path);
  }
  if (peak !== null) {
    const x = ((peak % size) + 0.5) * k;
    const y = (Math.floor(peak / size) + 0.5) * k;
    const r = 7 * dpr;
    const cross = () => {
      ctx.moveTo(x - r, y);
      ctx.lineTo(x + r, y);
      ctx.moveTo(x, y - r);
      ctx.lineTo(x, y + r);
    };
    stroke(4, "rgba(0, 0, 0, 0.8)", cross);
    stroke(2, "#fff", cross);
  }
  return canvas;
}

export interface CamLargeViewOptions extends OverlayStyle {
  width: number;
  methods: CamMethod[];
  structures: Record<string, string>;
}

/** The image alone and under each map, large, with the structure's outline and each map's maximum marked; the numbers beside. */
export function camLargeView(gallery: CamGallery, entry: CamGalleryEntry, item: CamItem, options: CamLargeViewOptions): HTMLElement {
  const size = entry.imageSize;
  const mask = gallery.mask(entry, item.id, item.target);
  const shown = options.methods.filter((m) => item.maps[m]);
  const panels = 1 + shown.length;
  const cssSize = Math.max(160, Math.min(360, Math.floor((options.width - 16 * (panels - 1)) / panels)));
  const panel = (method: CamMethod | null) => {
    const map = method ? gallery.map(entry, method, item.maps[method]!.row) : null;
    const loc = method ? item.maps[method]!.image.localisation : null;
    return html`<figure class="cam-large-panel" style=${{width: `${cssSize}px`}}>
      <div class="cam-stack" style=${{width: `${cssSize}px`, height: `${cssSize}px`}}>${camOverlayCanvas(gallery, entry, item, method, options, cssSize)}${outlineLayer(mask, size, cssSize, map ? mapPeak(map) : null)}</div>
      <figcaption>${method ? html`<b>${CAM_METHOD_NAMES[method]}</b>: ${loc ? html`${pct(loc.share)} of the map's mass inside the ${options.structures[item.target] ?? "structure"} (a uniform map: ${pct(loc.uniform)}); maximum ${loc.hit ? "inside" : "outside"}` : "no mask to score against"}` : html`<b>The image</b> as the model sees it (${size} × ${size} px)`}</figcaption>
    </figure>`;
  };
  const sc = item.maps.scorecam?.image.localisation;
  const wrongReason = item.correct === true && sc && sc.share < sc.uniform;
  return html`<div class="cam-large" data-testid="cam-large" data-id=${item.id}>
    <p><b class="mono">${item.id}</b>: true class <b>${item.label ?? "unlabelled"}</b>, predicted <b class=${item.correct === false ? "bad" : ""}>${item.predicted}</b> (probability ${item.probability.toFixed(3)}); the maps explain <b>${item.target}</b> (probability ${(item.maps.similarity ?? item.maps.scorecam)!.image.targetProbability.toFixed(3)})${mask ? html`, scored against the outlined ${options.structures[item.target] ?? "structure"}` : ", which has no mask of its defining structure, so it is not scored"}.
      ${wrongReason ? html`<span class="bad">Right, but ScoreCAM puts less of its mass on the ${options.structures[item.target]} than a uniform map would.</span>` : ""}</p>
    <div class="cam-large-panels">${panel(null)}${shown.map(panel)}</div>
    <p class="muted">White outline: the ${options.structures[item.target] ?? "structure"} mask, in the model's input geometry; white cross: each map's maximum (the pointing game's pixel).</p>
  </div>`;
}

/** The colour map as a ramp, low to high. */
export function colourMapLegend(name: ColourMapName, options: {width?: number} = {}): HTMLElement {
  const width = Math.max(80, Math.min(200, options.width ?? 160));
  const canvas = document.createElement("canvas");
  canvas.width = 256;
  canvas.height = 1;
  canvas.className = "cam-ramp";
  canvas.style.width = `${width}px`;
  const ctx = canvas.getContext("2d")!;
  const image = ctx.createImageData(256, 1);
  const lut = colourMapLut(name);
  for (let k = 0; k < 256; k++) image.data.set([lut[3 * k]!, lut[3 * k + 1]!, lut[3 * k + 2]!, 255], 4 * k);
  ctx.putImageData(image, 0, 0);
  return html`<span class="cam-legend" data-colour-map=${name}>map value: low ${canvas} high <span class="muted">(each map scaled to its own minimum and maximum)</span></span>`;
}
