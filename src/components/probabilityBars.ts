// Class probabilities as horizontal bars, best first, each with its value printed;
// the true class (when there is one) is marked in the focus colour and named in a
// legend. Plain HTML, not a chart: it renders in a few milliseconds, so a new answer
// never blocks the page, and screen readers read the numbers as text.
import {html} from "htl";

export interface ProbabilityBarsOptions {
  width?: number;
  /** The true class, when the image has one (phantom samples); uploads have none. */
  truth?: string | null;
  /** Accessible name of the list, e.g. "Plane probabilities". */
  label?: string;
  /** No answer yet: empty bars with placeholders, in the layout the answer will take. */
  pending?: boolean;
}

export function probabilityBars(classes: readonly string[], probabilities: readonly number[], options: ProbabilityBarsOptions = {}): HTMLElement {
  const rows = classes.map((c, i) => ({c, p: probabilities[i] ?? 0, isTruth: c === options.truth})).sort((a, b) => b.p - a.p);
  const hasTruth = rows.some((r) => r.isTruth);
  const width = options.width ? `${options.width}px` : "100%";
  return html`<div class="probability-bars" style=${{width, maxWidth: "100%"}}>
    <div class="probability-list">
      ${rows.map((r) => html`<div class=${r.isTruth ? "probability-row is-truth" : "probability-row"} data-class=${r.c}>
        <span class="probability-class" title=${r.c}>${r.c}</span>
        <span class="probability-track"><span class="probability-bar" style=${{width: `${(100 * Math.min(1, Math.max(0, r.p))).toFixed(2)}%`}}></span></span>
        <span class="probability-value">${options.pending ? "…" : r.p.toFixed(3)}</span>
      </div>`)}
    </div>
    <p class="probability-legend" hidden=${!hasTruth}><span class="swatch is-truth"></span> true class <span class="swatch"></span> other classes</p>
  </div>`;
}
