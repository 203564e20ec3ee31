// Class probabilities as horizontal bars, best first, each with its value printed;
// the true class (when there is one) is marked in the focus colour and named in a legend.
import * as Plot from "@observablehq/plot";

export interface ProbabilityBarsOptions {
  width?: number;
  /** The true class, when the image has one (phantom samples); uploads have none. */
  truth?: string | null;
}

export function probabilityBars(classes: readonly string[], probabilities: readonly number[], options: ProbabilityBarsOptions = {}): SVGSVGElement | HTMLElement {
  const rows = classes.map((c, i) => ({c, p: probabilities[i] ?? 0, isTruth: c === options.truth}));
  const hasTruth = rows.some((r) => r.isTruth);
  return Plot.plot({
    width: options.width,
    height: 32 + 22 * rows.length,
    marginLeft: 130,
    marginRight: 48,
    style: {fontSize: "12px"},
    x: {domain: [0, 1], label: "probability", grid: true},
    y: {label: null, domain: rows.slice().sort((a, b) => b.p - a.p).map((r) => r.c)},
    color: hasTruth ? {domain: ["true class", "other classes"], range: ["var(--theme-foreground-focus)", "var(--theme-foreground-muted)"], legend: true} : undefined,
    marks: [
      Plot.barX(rows, {y: "c", x: "p", fill: hasTruth ? (d) => (d.isTruth ? "true class" : "other classes") : "var(--theme-foreground-muted)"}),
      Plot.text(rows, {y: "c", x: "p", text: (d) => d.p.toFixed(3), textAnchor: "start", dx: 4, fill: "currentColor"}),
      Plot.ruleX([0])
    ]
  });
}
