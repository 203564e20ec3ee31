// Per-class scores as bars: one panel per metric, one bar per class, the scale fixed at [0, 1].
import * as Plot from "@observablehq/plot";
import type {ClassificationScores} from "../lib/metrics.js";

const METRICS = ["F1", "accuracy"] as const;
const BAR_STEP_PX = 18;
const MARGIN_RIGHT_PX = 70;
// Narrower than this the bars have no room; the figure is drawn at this width and scaled down.
const MIN_BARS_PX = 120;

/** Rows of every class of every score set, in the order given (planes, then sub-planes). */
export function classScoreRows(scores: ClassificationScores[]): {class: string; metric: string; value: number}[] {
  return scores.flatMap((s) =>
    s.classes.flatMap((c, i) => [
      {class: c, metric: "F1", value: s.f1[i]},
      {class: c, metric: "accuracy", value: s.classAccuracy[i]}
    ])
  );
}

export function classScoresPlot(scores: ClassificationScores[], options: {width?: number} = {}): SVGSVGElement | HTMLElement {
  const rows = classScoreRows(scores);
  const classes = [...new Set(rows.map((r) => r.class))];
  const marginLeft = Math.max(60, 6 * Math.max(...classes.map((c) => c.length)) + 20);
  return Plot.plot({
    width: Math.max(options.width ?? 640, marginLeft + MARGIN_RIGHT_PX + MIN_BARS_PX),
    height: 40 + METRICS.length * (classes.length * BAR_STEP_PX + 16),
    marginTop: 10,
    marginLeft,
    // Room for the panel names (F1, accuracy) on the right.
    marginRight: MARGIN_RIGHT_PX,
    x: {domain: [0, 1], label: "score", grid: true},
    y: {domain: classes, label: null},
    fy: {domain: METRICS, label: null, axis: "right"},
    color: {domain: METRICS, legend: true},
    marks: [
      Plot.barX(rows, {y: "class", x: "value", fill: "metric", fy: "metric", tip: true, title: (d) => `${d.class}, ${d.metric}: ${d.value.toFixed(3)}`}),
      Plot.ruleX([0])
    ]
  });
}
