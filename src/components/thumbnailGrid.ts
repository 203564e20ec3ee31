// Thumbnails from a sprite sheet as a wrapping grid, each with a caption (its id,
// a value such as a cosine): small canvases drawn from the one decoded sheet, so a
// hundred thumbnails cost no request and no second decode of a 20-megapixel image
// (which CSS backgrounds on the sheet's URL would make the browser do).
import {html} from "htl";
import {drawThumbnail, type Sprite} from "./embeddingScatter.js";

export interface ThumbnailItem {
  id: string;
  cell: number;
  /** Lines under the image (the id is the tooltip). */
  caption?: string[];
}

export interface ThumbnailGridOptions {
  width?: number;
  /** Side of a thumbnail in CSS px (default 64). */
  size?: number;
  /** At most this many thumbnails (default 200); the rest are counted. */
  max?: number;
  label?: string;
}

export function thumbnailGrid(items: readonly ThumbnailItem[], sprite: Sprite | null, options: ThumbnailGridOptions = {}): HTMLElement {
  const size = options.size ?? 64;
  const max = options.max ?? 200;
  const shown = items.slice(0, max);
  const tile = (item: ThumbnailItem) => {
    const canvas = html`<canvas class="thumbnail-image" role="img" aria-label=${item.id}></canvas>` as HTMLCanvasElement;
    drawThumbnail(canvas, sprite, item.cell, size);
    return html`<figure class="thumbnail" data-id=${item.id} title=${item.id}>
      ${canvas}
      ${(item.caption ?? []).map((line) => html`<figcaption>${line}</figcaption>`)}
    </figure>`;
  };
  return html`<div class="thumbnail-grid" aria-label=${options.label ?? "thumbnails"} style=${options.width ? {maxWidth: `${options.width}px`} : {}}>
    ${shown.map(tile)}
    ${items.length > shown.length ? html`<p class="muted thumbnail-more">… and ${items.length - shown.length} more (all ${items.length} are in the table and the CSV).</p>` : ""}
  </div>`;
}

/**
 * Many thumbnails without captions as one canvas (a contact sheet): one element and one
 * draw per image, where a canvas per thumbnail costs ~1 ms each in a software-rendered
 * browser. The id of the thumbnail under the pointer is its tooltip.
 */
export function thumbnailSheet(items: readonly ThumbnailItem[], sprite: Sprite | null, options: ThumbnailGridOptions = {}): HTMLElement {
  const size = options.size ?? 56;
  const gap = 4;
  const shown = items.slice(0, options.max ?? 200);
  const width = Math.max(size, options.width ?? 640);
  const columns = Math.max(1, Math.floor((width + gap) / (size + gap)));
  const rows = Math.ceil(shown.length / columns);
  const dpr = window.devicePixelRatio || 1;
  const cssWidth = Math.min(shown.length, columns) * (size + gap) - gap;
  const cssHeight = Math.max(0, rows * (size + gap) - gap);
  const canvas = html`<canvas class="thumbnail-sheet" role="img" aria-label=${`${options.label ?? "thumbnails"}: ${shown.length} images`}
    width=${Math.max(1, Math.round(cssWidth * dpr))} height=${Math.max(1, Math.round(cssHeight * dpr))} style=${{width: `${cssWidth}px`, height: `${cssHeight}px`}}></canvas>` as HTMLCanvasElement;
  const ctx = canvas.getContext("2d")!;
  ctx.imageSmoothingEnabled = true;
  shown.forEach((item, i) => {
    const x = (i % columns) * (size + gap) * dpr, y = Math.floor(i / columns) * (size + gap) * dpr;
    ctx.fillStyle = "#000";
    ctx.fillRect(x, y, size * dpr, size * dpr);
    if (!sprite || item.cell < 0) return;
    const {cell, columns: sheetColumns} = sprite.info;
    ctx.drawImage(sprite.image, (item.cell % sheetColumns) * cell, Math.floor(item.cell / sheetColumns) * cell, cell, cell, x, y, size * dpr, size * dpr);
  });
  canvas.onpointermove = (event) => {
    const rect = canvas.getBoundingClientRect();
    const col = Math.floor((event.clientX - rect.left) / (size + gap)), row = Math.floor((event.clientY - rect.top) / (size + gap));
    const item = col < columns ? shown[row * columns + col] : undefined;
    canvas.title = item?.id ?? "";
  };
  return html`<div class="thumbnail-grid" data-count=${shown.length}>
    ${canvas}
    ${items.length > shown.length ? html`<p class="muted thumbnail-more">… and ${items.length - shown.length} more (all ${items.length} are in the table and the CSV).</p>` : ""}
  </div>`;
}
