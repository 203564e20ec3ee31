// Localisation per class and method, against a uniform map: horizontal bars (one per
// method) in a row per class, a dashed tick at what a uniform map scores there (the
// structure's share of the image, which is also the chance that a random pixel falls
// inside it), a column per model.
import * as Plot from "@observablehq/plot";
import type {LocalisationReport} from "../lib/cam/localisation.js";

export interface CamLocalisationRow {
  model: string;
  method: string;
  className: string;
  images: number;
  /** Mean share of the map's mass inside the structure. */
  share: number;
  /** Share of images whose map maximum is inside. */
  pointing: number;
  uniform: number;
}

export const ALL_CLASSES = "all scored";

/** Rows of one model's summaries, one per (method, scored class), then each method over all its scored images. */
export function camLocalisationRows(model: string, summaries: readonly {method: string; summary: LocalisationReport}[]): CamLocalisationRow[] {
  const rows: CamLocalisationRow[] = [];
  for (const {method, summary} of summaries) {
    const add = (className: string, s: {images: number; meanLocalisation: number | null; pointingGame: number | null; uniformBaseline: number | null}) => {
      if (!s.images || s.meanLocalisation === null || s.pointingGame === null || s.uniformBaseline === null) return;
      rows.push({model, method, className, images: s.images, share: s.meanLocalisation, pointing: s.pointingGame, uniform: s.uniformBaseline});
    };
    for (const [className, s] of Object.entries(summary.perClass)) add(className, s);
    add(ALL_CLASSES, summary);
  }
  return rows;
}

export function camLocalisationChart(rows: readonly CamLocalisationRow[], options: {width?: number; metric: "share" | "pointing"; methods: string[]}): SVGSVGElement | HTMLElement {
  const classes = [...new Set(rows.filter((r) => r.className !== ALL_CLASSES).map((r) => r.className)).values(), ALL_CLASSES];
  const models = [...new Set(rows.map((r) => r.model))];
  const marginLeft = Math.max(70, 6.5 * Math.max(...classes.map((c) => c.length)) + 16);
  const label = options.metric === "share" ? "mass of the map inside the structure →" : "maps whose maximum is inside →";
  const value = (r: CamLocalisationRow) => (options.metric === "share" ? r.share : r.pointing);
  return Plot.plot({
    width: Math.max(options.width ?? 640, marginLeft + 200 * models.length),
    height: 50 + classes.length * (options.methods.length * 14 + 12),
    marginLeft,
    marginTop: models.length > 1 ? 30 : 10,
    marginRight: 36,
    x: {domain: [0, 1], label, tickFormat: "%", grid: true},
    y: {domain: options.methods, axis: null},
    fy: {domain: classes, label: null},
    fx: models.length > 1 ? {domain: models, label: null, axis: "top"} : undefined,
    color: {domain: options.methods, legend: true},
    marks: [
      Plot.barX(rows, {fy: "className", fx: models.length > 1 ? "model" : undefined, y: "method", x: value, fill: "method", tip: true,
        title: (r: CamLocalisationRow) => `${r.model}, ${r.method}, ${r.className}: ${(100 * value(r)).toFixed(1)}% over ${r.images} image${r.images === 1 ? "" : "s"} (uniform map ${(100 * r.uniform).toFixed(1)}%)`}),
      Plot.text(rows, {fy: "className", fx: models.length > 1 ? "model" : undefined, y: "method", x: value, text: (r: CamLocalisationRow) => `${Math.round(100 * value(r))}%`, textAnchor: "start", dx: 4, fontSize: 10, fill: "currentColor"}),
      Plot.tickX(rows, {fy: "className", fx: models.length > 1 ? "model" : undefined, y: "method", x: "uniform", stroke: "currentColor", strokeWidth: 2, strokeDasharray: "3,2"}),
      Plot.ruleX([0])
    ]
  });
}
