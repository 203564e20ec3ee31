// The live page's answer: the image as scored, and its plane and sub-plane
// probabilities. Built once; each new answer updates it in place (text, pixels, bar
// lengths and order), so an answer costs the page a small layout, never a rebuild.
// Bars and image are fluid (CSS), so the card needs no width from resize().
import {html} from "htl";
import {PREVIEW_SIDE, type Scored} from "../runtime/liveProtocol.js";

import {probabilityBars} from "./probabilityBars.js";

export interface LiveScoreCardOptions {
  planeClasses: readonly string[];
  subPlaneClasses: readonly string[];
  /** Shown for uploads when the model is the phantom-trained demo. */
  demoNote: string;
}

export interface LiveScoreCard {
  element: HTMLElement;
  /** Shows a scored image; `demo`: whether the model is the phantom-only demo. */
  update(scored: Scored, demo: boolean): void;
}

export function liveScoreCard(options: LiveScoreCardOptions): LiveScoreCard {
  const title = html`<h2>The first image is being scored…</h2>`;
  // An <img> of the PNG the worker made: the browser decodes it off the main thread (drawing
  // pixels into a canvas here cost up to several hundred ms of rendering on a small machine).
  const image = html`<img alt="" decoding="async" width=${PREVIEW_SIDE} height=${PREVIEW_SIDE} style="max-width: 100%; height: auto; image-rendering: pixelated; background: #000">` as HTMLImageElement;
  let imageUrl: string | null = null;
  const imageBox = html`<div class="live-preview">${image}</div>`;
  const size = html`<p class="muted">–</p>`;
  const warning = html`<div class="warning" hidden>${options.demoNote}</div>`;
  const planes = html`<div></div>`;
  const subPlanes = html`<div></div>`;
  const zeros = (classes: readonly string[]) => classes.map(() => 0);
  planes.append(probabilityBars(options.planeClasses, zeros(options.planeClasses), {pending: true, label: "Plane probabilities"}));
  subPlanes.append(probabilityBars(options.subPlaneClasses, zeros(options.subPlaneClasses), {pending: true, label: "Brain sub-plane probabilities"}));
  const truthNote = html`<span></span>`;
  // The symbols answers use, laid out once before the first answer: a glyph missing from the
  // page font costs a slow font-fallback lookup the first time it is drawn.
  const glyphs = html`<span aria-hidden="true" style="position: absolute; left: -9999px; font: 12px var(--sans-serif)">× → ↑ … – · <span style="font: 16px var(--serif)">× → ↑ … –</span></span>`;
  const element = html`<div class="grid grid-cols-2">
    <div class="card">${glyphs}${title}${imageBox}${size}${warning}</div>
    <div class="card"><h2>Plane probabilities (9 prompt classes)</h2>${planes}
      <h2>Brain sub-plane probabilities</h2>${subPlanes}
      <p class="muted">${truthNote} Sub-plane probabilities mean something only for brain images.</p></div>
  </div>`;
  return {
    element,
    update(scored, demo) {
      title.textContent = scored.label;
      const {width, height, png} = scored.preview;
      const url = URL.createObjectURL(new Blob([png as BlobPart], {type: "image/png"}));
      image.width = Math.round(PREVIEW_SIDE * (width / Math.max(width, height)));
      image.height = Math.round(PREVIEW_SIDE * (height / Math.max(width, height)));
      image.alt = `the image scored: ${scored.label}`;
      image.src = url;
      if (imageUrl) URL.revokeObjectURL(imageUrl);
      imageUrl = url;
      size.textContent = `${scored.width} × ${scored.height} px${scored.source === "phantom" ? ` at ${scored.pixelSizeMm.toFixed(3)} mm/px` : ""}.`;
      warning.hidden = !(scored.source === "upload" && demo);
      updateBars(planes, options.planeClasses, scored.planes, scored.truth?.plane ?? null);
      updateBars(subPlanes, options.subPlaneClasses, scored.subPlanes, scored.truth?.subPlane ?? null);
      truthNote.textContent = scored.truth ? "Highlighted: the sample's true class." : "An upload has no known class.";
    }
  };
}

/** Updates a probabilityBars list in place: values, lengths, truth mark, best first. */
function updateBars(container: HTMLElement, classes: readonly string[], probabilities: readonly number[], truth: string | null): void {
  const list = container.querySelector<HTMLElement>(".probability-list")!;
  const rows = new Map([...list.children].map((row) => [(row as HTMLElement).dataset.class!, row as HTMLElement]));
  const order = classes.map((c, i) => ({c, p: probabilities[i] ?? 0})).sort((a, b) => b.p - a.p);
  for (const {c, p} of order) {
    const row = rows.get(c)!;
    row.classList.toggle("is-truth", c === truth);
    row.querySelector<HTMLElement>(".probability-bar")!.style.width = `${(100 * Math.min(1, Math.max(0, p))).toFixed(2)}%`;
    row.querySelector<HTMLElement>(".probability-value")!.textContent = p.toFixed(3);
    list.append(row); // moves it: rows end up best first
  }
  const legend = container.querySelector<HTMLElement>(".probability-legend");
  if (legend) legend.hidden = truth === null || !classes.includes(truth);
}
