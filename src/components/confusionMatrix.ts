// A confusion matrix as a heatmap: true classes down, predicted classes across,
// each cell the share of its row (recall-normalised) with the count written in it.
import * as Plot from "@observablehq/plot";
import type {ConfusionMatrix} from "../lib/metrics.js";

// Cells grow with the width up to this side, so a 3 × 3 matrix stays a figure, not a poster.
const MAX_CELL_PX = 56;
const MIN_CELL_PX = 22;
// Cell luminance at which white and #1b1e23 text have the same WCAG contrast ratio.
const EQUAL_CONTRAST_LUMINANCE = 0.21;

// Dark mode's ramp: from just above the dark page's background to pale blue, so empty cells
// recede and large shares stand out bright, as dark ink on white does in light mode.
const DARK_RAMP: [number, number, number][] = [[30, 36, 48], [33, 113, 181], [198, 219, 239]];

function darkRamp(t: number): string {
  const x = Math.max(0, Math.min(1, t)) * (DARK_RAMP.length - 1);
  const i = Math.min(DARK_RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const [r, g, b] = DARK_RAMP[i].map((c, k) => Math.round(c + f * (DARK_RAMP[i + 1][k] - c)));
  return `rgb(${r}, ${g}, ${b})`;
}

/** One cell of the matrix, as `onSelect` receives it. */
export interface ConfusionCell {
  truth: string;
  predicted: string;
  count: number;
  /** Share of the true class (row). */
  share: number;
}

export interface ConfusionMatrixOptions {
  /** The room the page gives (cells grow to fill it, up to MAX_CELL_PX). */
  width?: number;
  label?: string;
  /** The page is in dark mode (Framework's `dark`): Plot's "blues" give way to a ramp that starts dark. */
  dark?: boolean;
  /** Colour and label cells by their share of the row (default) or by their count. */
  view?: "share" | "count";
  /** Makes cells clickable (and focusable: Enter or Space selects). */
  onSelect?: (cell: ConfusionCell) => void;
  /** The cell drawn as selected. */
  selected?: {truth: string; predicted: string} | null;
}

export function confusionMatrixPlot(cm: ConfusionMatrix, options: ConfusionMatrixOptions = {}): SVGSVGElement | HTMLElement {
  const byCount = options.view === "count";
  const cells: ConfusionCell[] = cm.trueClasses.flatMap((t, r) => {
    const total = cm.counts[r].reduce((a, b) => a + b, 0) || 1;
    return cm.predictedClasses.map((p, c) => ({truth: t, predicted: p, count: cm.counts[r][c], share: cm.counts[r][c] / total}));
  });
  const maxCount = Math.max(1, ...cells.map((d) => d.count));
  // Margins fit the longest class name at Plot's 10 px font (about 6 px a character).
  const longest = (names: string[]) => Math.max(...names.map((n) => n.length));
  const marginLeft = Math.max(60, 6 * longest(cm.trueClasses) + 24);
  const marginBottom = Math.max(50, Math.ceil(6 * longest(cm.predictedClasses) * Math.sin(Math.PI / 5)) + 30);
  const marginRight = 20;
  const available = (options.width ?? 640) - marginLeft - marginRight;
  const cell = Math.max(MIN_CELL_PX, Math.min(MAX_CELL_PX, available / cm.predictedClasses.length));
  const color: Plot.ScaleOptions = {
    type: "linear",
    domain: [0, byCount ? maxCount : 1],
    ...(options.dark ? {interpolate: darkRamp} : {scheme: "blues"}),
    legend: true,
    label: byCount ? "images" : "share of the true class"
  };
  // Counts in white or near-black, whichever contrasts more with the cell: the cell's colour,
  // not the page's theme, decides, so the text reads the same in light and dark mode.
  const blues = Plot.scale({color});
  const textFill = (d: ConfusionCell) => (relativeLuminance(String(blues.apply(byCount ? d.count : d.share))) < EQUAL_CONTRAST_LUMINANCE ? "white" : "#1b1e23");
  // In the row-share view of a clickable matrix, cells read as percentages; otherwise as counts.
  const cellText = (d: ConfusionCell) => (!d.count ? "" : options.onSelect && !byCount ? (d.share < 0.005 ? "<1%" : `${Math.round(100 * d.share)}%`) : String(d.count));
  const plot = Plot.plot({
    width: marginLeft + marginRight + cell * cm.predictedClasses.length,
    height: 10 + marginBottom + cell * cm.trueClasses.length,
    marginTop: 10,
    marginLeft,
    marginRight,
    marginBottom,
    padding: 0.04,
    x: {domain: cm.predictedClasses, label: options.label ?? "predicted", tickRotate: -35, labelAnchor: "center", labelOffset: marginBottom - 6},
    y: {domain: cm.trueClasses, label: "true", labelAnchor: "center"},
    color,
    marks: [
      // A clickable matrix shows the browser's own tooltip: Plot's tip captures the pointer on
      // press, so the click would land on the svg instead of the cell.
      Plot.cell(cells, {x: "predicted", y: "truth", fill: byCount ? "count" : "share", tip: !options.onSelect, title: (d) => `${d.truth} → ${d.predicted}: ${d.count} (${(100 * d.share).toFixed(1)}%)`}),
      Plot.text(cells, {x: "predicted", y: "truth", text: cellText, fill: textFill}),
      ...(options.selected ? [Plot.cell(cells.filter((d) => d.truth === options.selected!.truth && d.predicted === options.selected!.predicted), {
        x: "predicted", y: "truth", fill: "none", stroke: "var(--theme-foreground-focus)", strokeWidth: 3, inset: 1
      })] : [])
    ]
  });
  if (options.onSelect) makeSelectable(plot, cells, options.onSelect);
  return plot;
}

/** Cells answer a click (and Enter or Space once focused) with their datum; each carries data-true, data-predicted and data-count. */
function makeSelectable(plot: SVGSVGElement | HTMLElement, cells: readonly ConfusionCell[], onSelect: (cell: ConfusionCell) => void): void {
  // With a legend, Plot returns a figure holding the legend's svg and then the plot's.
  const rects = plot.querySelector('g[aria-label="cell"]')?.querySelectorAll("rect") ?? [];
  // The counts written over the cells must not take the pointer from them.
  plot.querySelectorAll('g[aria-label="text"]').forEach((g) => g.setAttribute("pointer-events", "none"));
  if (rects.length !== cells.length) throw new Error(`confusionMatrixPlot: ${rects.length} cells drawn for ${cells.length} data`);
  rects.forEach((rect, i) => {
    const cell = cells[i]!;
    rect.setAttribute("data-true", cell.truth);
    rect.setAttribute("data-predicted", cell.predicted);
    rect.setAttribute("data-count", String(cell.count));
    rect.setAttribute("tabindex", "0");
    rect.setAttribute("role", "button");
    rect.setAttribute("aria-label", `${cell.truth} predicted as ${cell.predicted}: ${cell.count} images; show them`);
    (rect as SVGElement).style.cursor = "pointer";
    rect.addEventListener("click", () => onSelect(cell));
    rect.addEventListener("keydown", (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === "Enter" || key === " ") {
        event.preventDefault();
        onSelect(cell);
      }
    });
  });
}

/** WCAG relative luminance of an "rgb(r, g, b)" colour. */
function relativeLuminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/[\d.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
