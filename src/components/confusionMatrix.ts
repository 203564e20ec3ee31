// A confusion matrix as a heatmap: true classes down, predicted classes across,
// each cell the share of its row (recall-normalised) with the count written in it.
import * as Plot from "@observablehq/plot";
import type {ConfusionMatrix} from "../lib/metrics.js";

export function confusionMatrixPlot(cm: ConfusionMatrix, options: {width?: number; label?: string} = {}): SVGSVGElement | HTMLElement {
  const cells = cm.trueClasses.flatMap((t, r) => {
    const total = cm.counts[r].reduce((a, b) => a + b, 0) || 1;
    return cm.predictedClasses.map((p, c) => ({truth: t, predicted: p, count: cm.counts[r][c], share: cm.counts[r][c] / total}));
  });
  return Plot.plot({
    width: options.width,
    marginLeft: 120,
    marginBottom: 80,
    padding: 0.04,
    x: {domain: cm.predictedClasses, label: options.label ?? "predicted", tickRotate: -35},
    y: {domain: cm.trueClasses, label: "true"},
    color: {type: "linear", domain: [0, 1], scheme: "blues", legend: true, label: "share of the true class"},
    marks: [
      Plot.cell(cells, {x: "predicted", y: "truth", fill: "share", tip: true, title: (d) => `${d.truth} → ${d.predicted}: ${d.count} (${(100 * d.share).toFixed(1)}%)`}),
      Plot.text(cells, {x: "predicted", y: "truth", text: (d) => (d.count ? String(d.count) : ""), fill: (d) => (d.share > 0.5 ? "white" : "black")})
    ]
  });
}
