// The GA similarity curve of one image: prompt-averaged similarity per GA bin, the
// predicted GA (solid) and, where the truth is known, the true GA (dashed), with a legend.
import * as Plot from "@observablehq/plot";

export interface GaCurveOptions {
  width?: number;
  /** True GA in days (phantom samples); omitted for uploads. */
  trueGaDays?: number | null;
}

export function gaCurve(binDays: readonly number[], dotProducts: readonly number[], predictedGaDays: number, options: GaCurveOptions = {}): SVGSVGElement | HTMLElement {
  const rules = [{weeks: predictedGaDays / 7, what: "predicted GA"}];
  if (options.trueGaDays != null) rules.push({weeks: options.trueGaDays / 7, what: "true GA"});
  return Plot.plot({
    width: options.width,
    height: 240,
    style: {fontSize: "12px"},
    x: {label: "GA bin (weeks)"},
    y: {label: "mean prompt similarity ×100", grid: true},
    color: {domain: rules.map((r) => r.what), range: ["var(--theme-foreground-focus)", "currentColor"], legend: true},
    marks: [
      Plot.lineY(dotProducts.map((d, i) => ({weeks: binDays[i]! / 7, d})), {x: "weeks", y: "d", stroke: "currentColor"}),
      Plot.ruleX(rules.filter((r) => r.what === "predicted GA"), {x: "weeks", stroke: "what", strokeWidth: 2}),
      Plot.ruleX(rules.filter((r) => r.what === "true GA"), {x: "weeks", stroke: "what", strokeWidth: 2, strokeDasharray: "5 4"})
    ]
  });
}
