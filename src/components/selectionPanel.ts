// The Embeddings page's "Selected images" panel: count, CSV download, a contact sheet of
// the first images and a table of all of them. It follows the shared selection itself and
// redraws in the same task as the brush or lasso that changed it, so the grid and table
// reach the screen in the map's frame instead of a reactive cell's later one.
import * as Inputs from "@observablehq/inputs";
import {html} from "htl";
import {selectionCsv, type EmbeddingMap} from "../lib/embeddingMap.js";
import type {Sprite} from "./embeddingScatter.js";
import type {EmbeddingSelection} from "./embeddingSelection.js";
import {thumbnailSheet} from "./thumbnailGrid.js";

export interface SelectionPanelOptions {
  width: number;
  /** The map a selection was drawn in, and its model's name, by map key (null: not on the page). */
  mapOf: (key: string) => {map: EmbeddingMap; name: string} | null;
  sprite: Sprite | null;
  /** Thumbnails in the contact sheet (the table and CSV hold every selected image). */
  maxThumbnails?: number;
}

const FORMAT = {hc_mm: (v: number | null) => v?.toFixed(1) ?? "", spacing_mm: (v: number | null) => v?.toFixed(3) ?? "", zero_shot_p: (v: number | null) => v?.toFixed(3) ?? ""};

function downloadCsv(map: EmbeddingMap, rows: readonly number[], key: string): void {
  const url = URL.createObjectURL(new Blob([selectionCsv(map, rows)], {type: "text/csv"}));
  const a = html`<a download=${`selection-${key.replace(/\//g, "-")}.csv`} href=${url} hidden></a>` as HTMLAnchorElement;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function content(store: EmbeddingSelection, options: SelectionPanelOptions): Node {
  const {source, rows: selected} = store.selection;
  const found = source ? options.mapOf(source) : null;
  if (!found || selected.length === 0) return html`<p class="muted">Nothing selected yet: drag a rectangle (or, in lasso mode, a loop) over the map.</p>`;
  const {map, name} = found;
  const rows = Array.from(selected);
  const tableRows = rows.map((i) => {
    const row: Record<string, string | number | null> = {id: map.ids[i]!};
    for (const f of map.fields) row[f.name] = f.kind === "number" ? (Number.isNaN(f.values[i] as number) ? null : (f.values[i] as number)) : (f.values[i] as string | null);
    return row;
  });
  return html`<p><b>${rows.length.toLocaleString("en")}</b> image${rows.length === 1 ? "" : "s"} selected in ${name}'s map
      <button type="button" data-testid="embedding-csv" onclick=${() => downloadCsv(map, rows, source!)}>Download CSV</button>
      <button type="button" onclick=${() => store.clear()}>Clear</button></p>
    ${thumbnailSheet(rows.map((i) => ({id: map.ids[i]!, cell: map.cell[i]!})), options.sprite, {width: options.width, size: 56, max: options.maxThumbnails ?? 120, label: "selected images"})}
    ${Inputs.table(tableRows, {columns: ["id", ...map.fields.map((f) => f.name)], header: Object.fromEntries(map.fields.map((f) => [f.name, f.label])), rows: 12, layout: "auto", format: FORMAT})}`;
}

/** The panel; it stops following the selection once it has left the page. */
export function selectionPanel(store: EmbeddingSelection, options: SelectionPanelOptions): HTMLElement {
  const root = html`<div data-testid="embedding-selection"></div>` as HTMLDivElement;
  let attached = false;
  const unfollow = store.follow("selection", () => {
    if (root.isConnected) attached = true;
    else if (attached) return unfollow();
    root.dataset.count = String(store.selection.rows.length);
    root.dataset.source = store.selection.source ?? "";
    root.replaceChildren(content(store, options));
  });
  return root;
}
