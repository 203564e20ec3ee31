// The colour key of grayCanvas's mask overlay, as an inline run of swatches and names.
import {html} from "htl";
import {MASK_LABELS} from "../lib/phantom/types.js";
import {MASK_TINTS} from "./grayCanvas.js";

export function maskLegend(): HTMLElement {
  const entries = Object.entries(MASK_LABELS).filter(([, label]) => label !== 0);
  return html`<span class="mask-legend">${entries.map(([name, label], i) => {
    const [r, g, b] = MASK_TINTS[label];
    return html`${i ? ", " : ""}<span class="swatch" style=${`background: rgb(${r}, ${g}, ${b})`}></span>${name}`;
  })}</span>`;
}
