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

/**
 * `width`: the room the page gives (cells grow to fill it, up to MAX_CELL_PX). `dark`: the page is
 * in dark mode (Framework's `dark`), which swaps Plot's "blues" for a ramp that starts dark.
 */
export function confusionMatrixPlot(cm: ConfusionMatrix, options: {width?: number; label?: string; dark?: boolean} = {}): SVGSVGElement | HTMLElement {
  const cells = cm.trueClasses.flatMap((t, r) => {
    const total = cm.counts[r].reduce((a, b) => a + b, 0) || 1;
    return cm.predictedClasses.map((p, c) => ({truth: t, predicted: p, count: cm.counts[r][c], share: cm.counts[r][c] / total}));
  });
  // Margins fit the longest class name at Plot's 10 px font (about 6 px a character).
  const longest = (names: string[]) => Math.max(...names.map((n) => n.length));
  const marginLeft = Math.max(60, 6 * longest(cm.trueClasses) + 24);
  const marginBottom = Math.max(50, Math.ceil(6 * longest(cm.predictedClasses) * Math.sin(Math.PI / 5)) + 30);
  const marginRight = 20;
  const available = (options.width ?? 640) - marginLeft - marginRight;
  const cell = Math.max(MIN_CELL_PX, Math.min(MAX_CELL_PX, available / cm.predictedClasses.length));
  const color: Plot.ScaleOptions = {
    type: "linear",
    domain: [0, 1],
    ...(options.dark ? {interpolate: darkRamp} : {scheme: "blues"}),
    legend: true,
    label: "share of the true class"
  };
  // Counts in white or near-black, whichever contrasts more with the cell: the cell's colour,
  // not the page's theme, decides, so the text reads the same in light and dark mode.
  const blues = Plot.scale({color});
  const textFill = (share: number) => (relativeLuminance(String(blues.apply(share))) < EQUAL_CONTRAST_LUMINANCE ? "white" : "#1b1e23");
  return Plot.plot({
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
      Plot.cell(cells, {x: "predicted", y: "truth", fill: "share", tip: true, title: (d) => `${d.truth} → ${d.predicted}: ${d.count} (${(100 * d.share).toFixed(1)}%)`}),
      Plot.text(cells, {x: "predicted", y: "truth", text: (d) => (d.count ? String(d.count) : ""), fill: (d) => textFill(d.share)})
    ]
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
