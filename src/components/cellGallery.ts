// The images of one confusion-matrix cell as a gallery: each tile a thumbnail drawn from the
// one decoded sprite sheet (no request per image), its class probabilities as a strip of bars
// (the predicted class in the accent colour, the true class outlined) and the probabilities
// of the predicted and the true class (the same two classes for every tile of a cell). Sources without pictures (FetalCLIP's released predictions name no
// files) get numbered tiles instead.
import {html} from "htl";
import {drawThumbnail, type Sprite} from "./embeddingScatter.js";

export interface GalleryItem {
  /** What the tile is called: the image id, or "#123" (position in a released file). */
  id: string;
  /** Thumbnail cell, -1 for none. */
  cell: number;
  truth: string;
  predicted: string;
  /** Every class's probability in class order, or null. */
  probabilities: {label: string; p: number}[] | null;
}

export interface CellGalleryOptions {
  width?: number;
  /** Thumbnail side in CSS px (default 64). */
  size?: number;
  /** At most this many tiles (default 240); the rest are counted. */
  max?: number;
}

const STRIP_HEIGHT = 16;

function probabilityStrip(item: GalleryItem, width: number): SVGSVGElement | string {
  if (!item.probabilities) return "";
  const k = item.probabilities.length;
  const step = width / k;
  const bars = item.probabilities.map((d, i) => {
    const h = Math.max(1, Math.round(d.p * (STRIP_HEIGHT - 2)));
    const fill = d.label === item.predicted ? "var(--theme-foreground-focus)" : "var(--theme-foreground-muted)";
    const stroke = d.label === item.truth ? "var(--theme-foreground)" : "none";
    return `<rect x="${(i * step + 0.5).toFixed(1)}" y="${STRIP_HEIGHT - h - 0.5}" width="${Math.max(1, step - 1.5).toFixed(1)}" height="${h}" fill="${fill}" stroke="${stroke}" stroke-width="1"><title>${d.label}: ${d.p.toFixed(3)}</title></rect>`;
  });
  const svg = html`<svg class="gallery-strip" width=${width} height=${STRIP_HEIGHT} viewBox=${`0 0 ${width} ${STRIP_HEIGHT}`} role="img"></svg>` as unknown as SVGSVGElement;
  svg.innerHTML = bars.join("");
  svg.setAttribute("aria-label", `class probabilities: ${item.probabilities.map((d) => `${d.label} ${d.p.toFixed(2)}`).join(", ")}`);
  return svg;
}

const pct = (p: number) => `${(100 * p).toFixed(p >= 0.995 || p < 0.005 ? 0 : 1)}%`;

export function cellGallery(items: readonly GalleryItem[], sprite: Sprite | null, options: CellGalleryOptions = {}): HTMLElement {
  const size = options.size ?? 64;
  const max = options.max ?? 240;
  const shown = items.slice(0, max);
  const withPictures = sprite !== null && shown.some((item) => item.cell >= 0);
  const tile = (item: GalleryItem) => {
    const byLabel = new Map(item.probabilities?.map((d) => [d.label, d.p]) ?? []);
    const pPredicted = byLabel.get(item.predicted);
    const pTrue = byLabel.get(item.truth);
    const title = item.probabilities
      ? `${item.id}\n${item.probabilities.map((d) => `${d.label}: ${d.p.toFixed(3)}`).join("\n")}`
      : `${item.id}: true ${item.truth}, predicted ${item.predicted}`;
    let picture: HTMLCanvasElement | string = "";
    if (withPictures) {
      picture = html`<canvas class="thumbnail-image" role="img" aria-label=${item.id}></canvas>` as HTMLCanvasElement;
      drawThumbnail(picture, sprite, item.cell, size);
    }
    return html`<figure class="gallery-tile" data-id=${item.id} title=${title} style=${{width: `${withPictures ? size : 56}px`}}>
      ${picture}
      ${withPictures ? "" : html`<span class="gallery-index">${item.id}</span>`}
      ${probabilityStrip(item, size)}
      ${pPredicted === undefined ? "" : html`<figcaption>pred. ${pct(pPredicted)}</figcaption>`}
      ${pTrue === undefined || item.truth === item.predicted ? "" : html`<figcaption>true ${pct(pTrue)}</figcaption>`}
    </figure>`;
  };
  return html`<div class="cell-gallery" data-count=${items.length} data-shown=${shown.length} style=${options.width ? {maxWidth: `${options.width}px`} : {}}>
    ${shown.map(tile)}
    ${items.length > shown.length ? html`<p class="muted thumbnail-more">… and ${items.length - shown.length} more.</p>` : ""}
  </div>`;
}
