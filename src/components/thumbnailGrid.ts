// Thumbnails from a sprite sheet as a wrapping grid, each with a caption (its id,
// a value such as a cosine): CSS backgrounds on one decoded image, so hundreds of
// thumbnails cost no request and no canvas each.
import {html} from "htl";
import type {Sprite} from "./embeddingScatter.js";

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
    const style: Record<string, string> = {width: `${size}px`, height: `${size}px`};
    if (sprite && item.cell >= 0) {
      const {cell, columns, rows} = sprite.info;
      const scale = size / cell;
      style.backgroundImage = `url(${sprite.url})`;
      style.backgroundSize = `${columns * cell * scale}px ${rows * cell * scale}px`;
      style.backgroundPosition = `${-(item.cell % columns) * size}px ${-Math.floor(item.cell / columns) * size}px`;
    }
    return html`<figure class="thumbnail" data-id=${item.id} title=${item.id}>
      <div class="thumbnail-image" role="img" aria-label=${item.id} style=${style}></div>
      ${(item.caption ?? []).map((line) => html`<figcaption>${line}</figcaption>`)}
    </figure>`;
  };
  return html`<div class="thumbnail-grid" aria-label=${options.label ?? "thumbnails"} style=${options.width ? {maxWidth: `${options.width}px`} : {}}>
    ${shown.map(tile)}
    ${items.length > shown.length ? html`<p class="muted thumbnail-more">… and ${items.length - shown.length} more (all ${items.length} are in the table and the CSV).</p>` : ""}
  </div>`;
}
