// The paper's numbers beside the project's: a dot-and-interval plot (ours with its bootstrap
// 95% CI, the paper's value as a tick) and a table of every compared number.
import * as Plot from "@observablehq/plot";
import {html} from "htl";
import type {PaperComparisonRow} from "../lib/paperReference.js";

/** Legend names of the two series. */
export const SERIES = {ours: "this project (dot: value, bar: bootstrap 95% CI)", paper: "FetalCLIP's results file (tick; thin bar: its CI)"} as const;

// Blue and orange with >= 4.5:1 contrast on the light page (white) and the dark one (near-midnight).
const COLORS = {light: ["#2456b8", "#b5400f"], dark: ["#8fb3ff", "#ffa37a"]} as const;
const ROW_PX = 30;

/** A row's label on the y axis: its class, or its metric for a summary ("all") row. */
export function rowLabel(row: PaperComparisonRow): string {
  return row.class === "all" ? row.metric : row.class;
}

const fmt = (x: number, digits = 5) => x.toFixed(digits);

/**
 * One line per row: our value (dot) with its CI (bar), the paper's value (tick) and, when it
 * states one, its CI (thin bar below). `domain` fixes the value axis (default: the data's range, padded).
 */
export function agreementPlot(
  rows: readonly PaperComparisonRow[],
  options: {width?: number; dark?: boolean; label?: string; domain?: [number, number]} = {}
): SVGSVGElement | HTMLElement {
  const [ours, paper] = options.dark ? COLORS.dark : COLORS.light;
  const labels = rows.map(rowLabel);
  const values = rows.flatMap((r) => [r.ours, r.paper, ...(r.ci95 ?? []), ...(r.paperCi95 ?? [])]);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = Math.max(0.005, (hi - lo) * 0.08);
  const domain = options.domain ?? [Math.max(0, lo - pad), Math.min(1, hi + pad)];
  const marginLeft = Math.max(70, 6.5 * Math.max(...labels.map((l) => l.length)) + 16);
  const data = rows.map((r) => ({...r, label: rowLabel(r)}));
  const title = (d: (typeof data)[number]) =>
    `${d.test}, ${d.metric}${d.class === "all" ? "" : ` (${d.class})`}\nthis project: ${fmt(d.ours)}` +
    (d.ci95 ? `, 95% CI ${fmt(d.ci95[0], 3)}–${fmt(d.ci95[1], 3)}` : "") +
    `\npaper: ${d.paper}${d.paperCi95 ? `, 95% CI ${d.paperCi95[0]}–${d.paperCi95[1]}` : ""}`;
  return Plot.plot({
    width: Math.max(options.width ?? 640, marginLeft + 160),
    height: 56 + ROW_PX * rows.length,
    marginLeft,
    marginRight: 20,
    x: {domain, label: options.label ?? "score", grid: true},
    y: {domain: labels, label: null},
    color: {domain: [SERIES.ours, SERIES.paper], range: [ours, paper], legend: true},
    marks: [
      Plot.ruleY(data.filter((d) => d.ci95), {y: "label", x1: (d) => d.ci95![0], x2: (d) => d.ci95![1], stroke: () => SERIES.ours, strokeWidth: 3, strokeOpacity: 0.55}),
      Plot.ruleY(data.filter((d) => d.paperCi95), {y: "label", x1: (d) => d.paperCi95![0], x2: (d) => d.paperCi95![1], stroke: () => SERIES.paper, strokeWidth: 1.5, dy: 8}),
      Plot.tickX(data, {y: "label", x: "paper", stroke: () => SERIES.paper, strokeWidth: 2}),
      Plot.dot(data, {y: "label", x: "ours", fill: () => SERIES.ours, r: 4, title, tip: true})
    ]
  });
}

/** Decimals shown for the compared values: enough to see agreement at the printed precision. */
const SHOWN_DECIMALS = 5;

function difference(d: number): string {
  if (d === 0) return "0";
  const text = Math.abs(d) < 1e-4 ? d.toExponential(1) : d.toFixed(5);
  return text.replace("-", "−");
}

/** Every compared number as a table; each row carries its full-precision values as data attributes. */
export function comparisonTable(rows: readonly PaperComparisonRow[]): HTMLElement {
  return html`<table class="paper-comparison" data-testid="paper-comparison">
  <thead><tr><th>test</th><th>metric</th><th>class</th><th style="text-align:right">paper</th><th style="text-align:right">this project</th><th style="text-align:right">difference</th><th>our 95% CI</th><th>agree</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr data-test=${r.test} data-metric=${r.metric} data-class=${r.class} data-paper=${String(r.paper)} data-ours=${String(r.ours)}>
    <td>${r.test}</td><td>${r.metric}</td><td>${r.class}</td>
    <td style="text-align:right;font-variant-numeric:tabular-nums">${r.paper.toFixed(Math.min(r.decimals, SHOWN_DECIMALS))}</td>
    <td style="text-align:right;font-variant-numeric:tabular-nums">${r.ours.toFixed(SHOWN_DECIMALS)}</td>
    <td style="text-align:right;font-variant-numeric:tabular-nums">${difference(r.difference)}</td>
    <td style="font-variant-numeric:tabular-nums">${r.ci95 ? `${r.ci95[0].toFixed(3)}–${r.ci95[1].toFixed(3)}` : "–"}</td>
    <td>${r.agrees ? `✓ to ${r.decimals} decimals` : "✗"}</td>
  </tr>`
  )}</tbody>
</table>`;
}

/** A link that downloads `text` as a CSV file (a blob URL: nothing leaves the page). */
export function csvDownload(text: string, filename: string, label = `Download ${filename}`): HTMLElement {
  const url = URL.createObjectURL(new Blob([text], {type: "text/csv"}));
  return html`<a download=${filename} href=${url} data-testid="paper-csv">${label}</a>`;
}
