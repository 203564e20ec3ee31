// Small multiples of the Compare page: one panel per metric (five-plane macro F1, brain
// sub-plane macro F1, GA valid-prediction rate), one row per model and dataset, a dot at the
// score and a bar across its 95% CI on a shared [0, 1] axis, and a hollow diamond where the
// model's own publication reported the same number.
import * as Plot from "@observablehq/plot";
import {html} from "htl";

export interface CompareScore {
  value: number;
  ci95: [number, number];
  n: number;
  reported: number | null;
}

export interface ComparePanel {
  title: string;
  rows: {label: string; score: CompareScore | null}[];
}

const ROW_PX = 40;

export function compareMultiples(panels: readonly ComparePanel[], options: {width?: number} = {}): HTMLElement {
  const width = Math.max(320, options.width ?? 640);
  // Two lines per row: the model, then the data it was scored on.
  const labels = [...new Set(panels.flatMap((p) => p.rows.map((r) => r.label)))];
  const rowsOf = (p: ComparePanel) => [...new Set(p.rows.map((r) => r.label))];
  const longestLine = Math.max(...labels.flatMap((l) => l.split("\n").map((line) => line.length)));
  const marginLeft = Math.min(Math.floor(width * 0.45), Math.ceil(6.6 * longestLine) + 16);
  const scores = panels.flatMap((p) => p.rows.flatMap((r) => (r.score ? [r.score.ci95[0], r.score.value, r.score.reported ?? 1] : [])));
  // One axis for every panel, so a gap reads the same everywhere; it starts below the lowest interval.
  const x0 = Math.max(0, Math.floor(Math.min(...scores, 1) * 10 - 1) / 10);
  const panel = (p: ComparePanel) => {
    const rows = p.rows.filter((r) => r.score).map((r) => ({label: r.label, ...r.score!}));
    const fmt = (v: number) => v.toFixed(3);
    const plot = Plot.plot({
      width,
      height: 46 + ROW_PX * rowsOf(p).length,
      marginLeft,
      marginRight: 20,
      style: {fontSize: "12px"},
      x: {domain: [x0, 1], label: "score (95% CI)", grid: true},
      y: {domain: rowsOf(p), label: null},
      marks: [
        Plot.ruleY(rows, {y: "label", x1: (d) => d.ci95[0], x2: (d) => d.ci95[1], stroke: "var(--theme-foreground-focus)", strokeWidth: 2}),
        Plot.dot(rows, {y: "label", x: "value", fill: "var(--theme-foreground-focus)", r: 4, tip: true,
          title: (d) => `${d.label.replace("\n", ", ")}\n${p.title}: ${fmt(d.value)} (95% CI ${fmt(d.ci95[0])}–${fmt(d.ci95[1])}), ${d.n.toLocaleString("en")} images${d.reported === null ? "" : `\nreported: ${fmt(d.reported)}`}`}),
        Plot.dot(rows.filter((d) => d.reported !== null), {y: "label", x: "reported", symbol: "diamond", stroke: "currentColor", r: 6, strokeWidth: 1.2})
      ]
    });
    return html`<figure class="compare-panel"><figcaption>${p.title}</figcaption>${plot}</figure>`;
  };
  const anyReported = panels.some((p) => p.rows.some((r) => r.score?.reported != null));
  return html`<div class="compare-multiples">
    <div class="ga-legend"><span><span class="swatch" style="background: var(--theme-foreground-focus); border-radius: 50%"></span>scored by this project; bar = 95% CI unless the panel says otherwise</span>
    ${anyReported ? html`<span>◇ reported by the model's own evaluation scripts</span>` : ""}</div>
    ${panels.map(panel)}
  </div>`;
}
