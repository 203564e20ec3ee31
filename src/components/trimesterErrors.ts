// GA error by trimester: mean absolute error (bar) and mean signed error (tick) per
// trimester of the reference GA, each bar labelled with its image count and VPR, so a reader
// sees where in pregnancy the model dates heads well and whether it dates them early or late.
import * as Plot from "@observablehq/plot";
import type {TrimesterError} from "../lib/gaExplorer.js";

export function trimesterErrorsPlot(rows: readonly TrimesterError[], options: {width?: number; reference?: string} = {}): SVGSVGElement | HTMLElement {
  // Each row's label carries its count and VPR, on a second line.
  const shown = rows.filter((r) => r.n > 0).map((r) => ({...r, label: `${r.label}\n${r.n} heads · VPR ${(100 * r.vpr).toFixed(0)}%`}));
  const max = Math.max(7, ...shown.map((r) => Math.max(r.maeDays, Math.abs(r.biasDays))));
  return Plot.plot({
    width: Math.max(320, options.width ?? 640),
    height: 56 + 52 * Math.max(1, shown.length),
    marginLeft: 165,
    marginRight: 70,
    style: {fontSize: "12px"},
    x: {domain: [Math.min(0, ...shown.map((r) => r.biasDays)) - 1, max * 1.05], label: `days against ${options.reference ?? "the reference GA"}`, grid: true},
    y: {domain: shown.map((r) => r.label), label: null},
    color: {domain: ["mean absolute error", "mean signed error (+: dated older)"], range: ["var(--theme-foreground-focus)", "currentColor"], legend: true},
    marks: [
      Plot.barX(shown, {y: "label", x: "maeDays", fill: "var(--theme-foreground-focus)", fillOpacity: 0.8, insetTop: 8, insetBottom: 8, tip: true,
        title: (d: TrimesterError) => `${d.label}: MAE ${d.maeDays.toFixed(1)} d, signed ${d.biasDays >= 0 ? "+" : ""}${d.biasDays.toFixed(1)} d, VPR ${(100 * d.vpr).toFixed(1)}% (${d.n} images)`}),
      Plot.tickX(shown, {y: "label", x: "biasDays", stroke: "currentColor", strokeWidth: 2.5}),
      Plot.ruleX([0]),
      Plot.text(shown, {y: "label", x: "maeDays", text: (d: TrimesterError) => `${d.maeDays.toFixed(1)} d`, textAnchor: "start", dx: 6, fill: "currentColor"})
    ]
  });
}
