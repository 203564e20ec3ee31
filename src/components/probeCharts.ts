// The Probes page's figures: few-shot curves (macro F1 against patients on a log scale,
// mean and spread, per-class means, the zero-shot reference), ROC curves, few-shot
// AUROC, the linear-probe table, segmentation examples drawn over their image, and
// CSV download links. Data first, options last; each returns a DOM node. The series come
// from src/lib/probeResults.ts, and each chart carries them as JSON (data-series) so a
// test can compare what is drawn with what the core computes.
import * as Plot from "@observablehq/plot";
import {html} from "htl";
import {MACRO_SERIES, type CurveSeries, type ProbeTableRow, type RocSeries, type SegmentationEntry, type SegmentationExample} from "../lib/probeResults.js";

/** Line styles that tell models apart (colour tells series apart). */
const MODEL_DASHES = ["none", "7 3", "2 3", "9 3 2 3"];
const MODEL_SYMBOLS = ["circle", "square", "triangle", "diamond"] as const;
/** Overlay colours over grey images: they do not depend on the page's theme. */
export const TRUE_MASK_RGB = [0, 190, 255] as const;
export const PREDICTED_RGB = [255, 140, 0] as const;

export interface ModelStyle {
  id: string;
  name: string;
  dash: string;
  symbol: string;
}

/** Each model's dash and symbol, in the order given. */
export function modelStyles(models: readonly {id: string; name: string}[]): ModelStyle[] {
  return models.map((m, i) => ({...m, dash: MODEL_DASHES[i % MODEL_DASHES.length]!, symbol: MODEL_SYMBOLS[i % MODEL_SYMBOLS.length]!}));
}

function styleOf(styles: readonly ModelStyle[], id: string): ModelStyle {
  return styles.find((s) => s.id === id) ?? {id, name: id, dash: "none", symbol: "circle"};
}

/** A short line sample in an inline SVG, for legends written in HTML. */
function lineSwatch(dash: string, color = "currentColor", width = 2): SVGSVGElement {
  return html`<svg width="28" height="10" aria-hidden="true" style="vertical-align: middle; overflow: visible"><line x1="1" x2="27" y1="5" y2="5" stroke=${color} stroke-width=${width} stroke-dasharray=${dash === "none" ? null : dash}></line></svg>` as unknown as SVGSVGElement;
}

/** A legend of the models' line styles (only when there are several). */
export function modelLegend(styles: readonly ModelStyle[]): HTMLElement | string {
  if (styles.length < 2) return "";
  return html`<div class="probe-legend">${styles.map((s) => html`<span>${lineSwatch(s.dash)} ${s.name}</span>`)}</div>`;
}

/** Class colours: Plot's observable10 scheme, the same in every chart of a task. */
export function classColors(classes: readonly string[]): Plot.ScaleOptions {
  return {type: "categorical", domain: [...classes], scheme: "observable10"};
}

/** The few-shot charts' x axis: patients per support set on a log2 scale, a tick at each count drawn. */
const patientsAxis = (counts: readonly number[]) => ({
  type: "log" as const, base: 2, ticks: [...new Set(counts)].sort((a, b) => a - b), tickFormat: (d: number) => String(d),
  label: "training patients per support set (log scale) →", labelAnchor: "right" as const, insetLeft: 8, insetRight: 8
});

/** The tenth just below the lowest finite value (at least 0.02 below it), never under 0. */
function lowerBound(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return 0;
  return Math.max(0, Math.floor((Math.min(...finite) - 0.02) * 10) / 10);
}

export interface FewShotChartOptions {
  width?: number;
  models: readonly ModelStyle[];
  /** The task's classes (the colour domain, whether toggled or not). */
  classes: readonly string[];
  /** Each fit's macro F1 (dots behind the mean). */
  fits?: readonly {model: string; patients: number; macroF1: number}[];
  /** Zero-shot macro F1 per model (dotted rules). */
  zeroShot?: readonly {model: string; macroF1: number}[];
  /** Data-testid of the wrapper (default "probe-fewshot"). */
  testId?: string;
  /** Extra attributes for the wrapper (e.g. the task). */
  task?: string;
}

/** Few-shot curves: macro F1 (mean line, ±1 SD band, each fit a dot) and the toggled classes' mean F1 against patients (log scale). */
export function fewShotChart(series: readonly CurveSeries[], options: FewShotChartOptions): HTMLElement {
  const width = options.width ?? 640;
  const macro = series.filter((s) => s.series === MACRO_SERIES);
  const perClass = series.filter((s) => s.series !== MACRO_SERIES);
  const flat = (list: readonly CurveSeries[]) => list.flatMap((s) => s.points.map((p) => ({...p, model: s.model, series: s.series})));
  const macroPoints = flat(macro);
  const classPoints = flat(perClass);
  const nModels = options.models.length;
  // Each model's fit dots shifted a little along x (log2 units), so models do not hide each other.
  const shift = (model: string) => {
    const i = Math.max(0, options.models.findIndex((m) => m.id === model));
    return 2 ** ((i - (nModels - 1) / 2) * 0.12);
  };
  const dash = (d: {model: string}) => styleOf(options.models, d.model).dash;
  const modelName = (id: string) => styleOf(options.models, id).name;
  const zeroShot = options.zeroShot ?? [];
  const marks: Plot.Markish[] = [
    ...options.models.map((m) =>
      Plot.areaY(macroPoints.filter((p) => p.model === m.id), {x: "patients", y1: "lo", y2: "hi", fill: "currentColor", fillOpacity: 0.12, curve: "monotone-x"})
    ),
    Plot.dot(options.fits ?? [], {x: (d) => d.patients * shift(d.model), y: "macroF1", r: 1.6, fill: "currentColor", fillOpacity: 0.35, stroke: null}),
    ...options.models.map((m) =>
      Plot.line(macroPoints.filter((p) => p.model === m.id), {x: "patients", y: "mean", stroke: "currentColor", strokeWidth: 2, strokeDasharray: m.dash === "none" ? undefined : m.dash, curve: "monotone-x"})
    ),
    Plot.dot(macroPoints, {x: "patients", y: "mean", fill: "currentColor", r: 3, symbol: (d) => styleOf(options.models, d.model).symbol, tip: true,
      title: (d) => `${modelName(d.model)}: ${d.patients} patients\nmacro F1 ${d.mean.toFixed(3)} ± ${(d.std ?? 0).toFixed(3)} (SD over ${d.fits} fits)`}),
    ...options.models.map((m) =>
      Plot.line(classPoints.filter((p) => p.model === m.id), {x: "patients", y: "mean", z: "series", stroke: "series", strokeWidth: 1.5, strokeDasharray: m.dash === "none" ? undefined : m.dash, curve: "monotone-x"})
    ),
    Plot.dot(classPoints, {x: "patients", y: "mean", stroke: "series", fill: "var(--theme-background)", r: 2.5, symbol: (d) => styleOf(options.models, d.model).symbol, tip: true,
      title: (d) => `${modelName(d.model)}: ${d.patients} patients\n${d.series} F1 ${d.mean.toFixed(3)} (mean over ${d.fits} fits)`}),
    Plot.ruleY(zeroShot, {y: "macroF1", stroke: "var(--theme-foreground-focus)", strokeWidth: 1.5, strokeDasharray: "3 3"}),
    Plot.text(zeroShot, {y: "macroF1", frameAnchor: "left", dx: 4, dy: -7, fill: "var(--theme-foreground-focus)", fontSize: 11,
      text: (d) => `zero-shot ${d.macroF1.toFixed(3)}${nModels > 1 ? ` (${modelName(d.model)})` : ""}`})
  ];
  const plot = Plot.plot({
    width,
    height: Math.round(Math.min(420, Math.max(260, width * 0.5))),
    marginLeft: 44,
    marginRight: 16,
    marginTop: 24,
    marginBottom: 36,
    style: {fontSize: "11px"},
    x: patientsAxis(macroPoints.map((p) => p.patients)),
    // From just below the lowest value drawn (a tenth), to 1: the curves' differences stay visible.
    y: {domain: [lowerBound([...macroPoints.map((p) => p.lo ?? p.mean), ...classPoints.map((p) => p.mean), ...(options.fits ?? []).map((f) => f.macroF1), ...zeroShot.map((z) => z.macroF1)]), 1], grid: true, label: "↑ F1 on the test patients", insetTop: 14},
    color: classColors(options.classes),
    marks
  });
  const toggled = [...new Set(perClass.map((s) => s.series))];
  return html`<div data-testid=${options.testId ?? "probe-fewshot"} data-task=${options.task ?? ""} data-classes=${JSON.stringify(toggled)} data-series=${JSON.stringify(series)}>
    ${plot}
    <div class="probe-legend">
      <span>${lineSwatch("none")} macro F1, mean</span>
      <span><span class="probe-band"></span> ±1 SD over fits</span>
      <span><svg width="10" height="10" aria-hidden="true"><circle cx="5" cy="5" r="2" fill="currentColor" fill-opacity="0.5"></circle></svg> each fit</span>
      ${zeroShot.length ? html`<span>${lineSwatch("3 3", "var(--theme-foreground-focus)", 1.5)} zero-shot macro F1</span>` : ""}
      ${toggled.map((c) => html`<span><span class="swatch" style=${`background: ${(Plot.scale({color: classColors(options.classes)}).apply(c) as string)}`}></span>${c} F1 (mean)</span>`)}
    </div>
    ${modelLegend(options.models)}
  </div>` as HTMLElement;
}

/** ROC curves of the full-data probe, one per model, with the chance diagonal. */
export function rocChart(series: readonly RocSeries[], options: {width?: number; models: readonly ModelStyle[]}): HTMLElement {
  const width = Math.min(options.width ?? 440, 440);
  const points = series.flatMap((s) => s.points.map((p) => ({...p, model: s.model})));
  const modelName = (id: string) => styleOf(options.models, id).name;
  const plot = Plot.plot({
    width,
    height: width,
    marginLeft: 44,
    marginBottom: 36,
    style: {fontSize: "11px"},
    x: {domain: [0, 1], label: "false-positive rate (normal hearts called CHD) →", labelAnchor: "right", grid: true},
    y: {domain: [0, 1], label: "↑ true-positive rate (CHD found)", grid: true},
    marks: [
      Plot.line([[0, 0], [1, 1]], {stroke: "currentColor", strokeOpacity: 0.4, strokeDasharray: "4 4"}),
      ...series.map((s) =>
        Plot.line(points.filter((p) => p.model === s.model), {x: "fpr", y: "tpr", stroke: "currentColor", strokeWidth: 2, strokeDasharray: styleOf(options.models, s.model).dash === "none" ? undefined : styleOf(options.models, s.model).dash})
      ),
      Plot.dot(points, Plot.pointer({x: "fpr", y: "tpr", r: 4, fill: "var(--theme-foreground-focus)"})),
      Plot.tip(points, Plot.pointer({x: "fpr", y: "tpr", title: (d) => `${modelName(d.model)}\nFPR ${d.fpr.toFixed(3)}, TPR ${d.tpr.toFixed(3)}`}))
    ]
  });
  return html`<div data-testid="probe-roc" data-series=${JSON.stringify(series)}>
    ${plot}
    <div class="probe-legend">
      ${series.map((s) => html`<span>${lineSwatch(styleOf(options.models, s.model).dash)} ${modelName(s.model)}: AUROC <b>${s.auroc.toFixed(3)}</b> (95% CI ${s.ci95[0].toFixed(3)}–${s.ci95[1].toFixed(3)})</span>`)}
      <span>${lineSwatch("4 4")} chance (AUROC 0.5)</span>
    </div>
  </div>` as HTMLElement;
}

/** Few-shot CHD detection: AUROC (mean, band its 95% CI, or ±1 SD for reports without one) against patients, log scale, with the full-data AUROC as a reference. */
export function chdFewShotChart(rows: readonly {model: string; patients: number; auroc: number; aurocStd: number; ci95: [number, number] | null; fits: number}[], options: {width?: number; models: readonly ModelStyle[]; full?: readonly RocSeries[]}): HTMLElement {
  const width = options.width ?? 640;
  const withCi = rows.every((r) => r.ci95);
  const data = rows.map((r) => ({...r, lo: r.ci95 ? r.ci95[0] : Math.max(0, r.auroc - r.aurocStd), hi: r.ci95 ? r.ci95[1] : Math.min(1, r.auroc + r.aurocStd)}));
  const modelName = (id: string) => styleOf(options.models, id).name;
  const full = options.full ?? [];
  const plot = Plot.plot({
    width,
    height: Math.round(Math.min(360, Math.max(240, width * 0.42))),
    marginLeft: 44,
    marginTop: 24,
    marginBottom: 36,
    style: {fontSize: "11px"},
    x: patientsAxis(rows.map((r) => r.patients)),
    y: {domain: [Math.min(0.4, lowerBound(data.map((d) => d.lo))), 1], grid: true, label: "↑ AUROC on the test patients", insetTop: 14},
    marks: [
      Plot.ruleY([0.5], {stroke: "currentColor", strokeOpacity: 0.4, strokeDasharray: "4 4"}),
      ...options.models.map((m) => Plot.areaY(data.filter((d) => d.model === m.id), {x: "patients", y1: "lo", y2: "hi", fill: "currentColor", fillOpacity: 0.12})),
      ...options.models.map((m) => Plot.line(data.filter((d) => d.model === m.id), {x: "patients", y: "auroc", stroke: "currentColor", strokeWidth: 2, strokeDasharray: m.dash === "none" ? undefined : m.dash})),
      Plot.dot(data, {x: "patients", y: "auroc", fill: "currentColor", r: 3, symbol: (d) => styleOf(options.models, d.model).symbol, tip: true,
        title: (d) => `${modelName(d.model)}: ${d.patients} patients\nAUROC ${d.auroc.toFixed(3)}${d.ci95 ? ` (95% CI ${d.ci95[0].toFixed(3)}–${d.ci95[1].toFixed(3)})` : ""}\n± ${d.aurocStd.toFixed(3)} SD over ${d.fits} fits`}),
      Plot.ruleY(full, {y: "auroc", stroke: "var(--theme-foreground-focus)", strokeWidth: 1.5, strokeDasharray: "3 3"}),
      Plot.text(full, {y: "auroc", frameAnchor: "left", dx: 4, dy: -7, fill: "var(--theme-foreground-focus)", fontSize: 11, text: (d) => `full data ${d.auroc.toFixed(3)}${options.models.length > 1 ? ` (${modelName(d.model)})` : ""}`})
    ]
  });
  return html`<div data-testid="probe-chd-fewshot" data-series=${JSON.stringify(rows)}>
    ${plot}
    <div class="probe-legend">
      <span>${lineSwatch("none")} AUROC, mean over fits</span>
      <span><span class="probe-band"></span> ${withCi ? "95% CI of the mean (test patients resampled)" : "±1 SD"}</span>
      ${full.length ? html`<span>${lineSwatch("3 3", "var(--theme-foreground-focus)", 1.5)} full-data probe</span>` : ""}
      <span>${lineSwatch("4 4")} chance</span>
    </div>
    ${modelLegend(options.models)}
  </div>` as HTMLElement;
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(3));

/** The full-data linear probe of one task: one row per model, macro scores, zero-shot beside them, per-class F1. */
export function probeTable(rows: readonly ProbeTableRow[], classes: readonly string[], options: {models: readonly ModelStyle[]; zeroShotNote?: string}): HTMLElement {
  const modelName = (id: string) => styleOf(options.models, id).name;
  return html`<div class="probe-table-wrap"><table class="probe-table" data-testid="probe-table" data-task=${rows[0]?.task ?? ""} data-rows=${JSON.stringify(rows)}>
    <thead><tr>
      <th>model</th><th>macro F1 (± SD)</th><th>mean class accuracy</th><th>probe, scored as zero-shot</th><th>zero-shot</th>
      ${classes.map((c) => html`<th>F1 ${c}</th>`)}
    </tr></thead>
    <tbody>${rows.map((r) => html`<tr>
      <td>${modelName(r.model)}</td>
      <td><b>${f3(r.macroF1)}</b> ± ${f3(r.macroF1Std)}</td>
      <td>${f3(r.meanClassAccuracy)}</td>
      <td>${f3(r.scoredAsZeroShot)}</td>
      <td>${f3(r.zeroShot)}</td>
      ${classes.map((c) => html`<td>${f3(r.f1[c])}</td>`)}
    </tr>`)}</tbody>
  </table></div>` as HTMLElement;
}

/** The segmentation scores of one model: pooled and per-image Dice with CIs, IoU, the mean-shape baseline. */
export function segmentationTable(entry: SegmentationEntry): HTMLElement {
  const ci = (c: [number, number]) => `${c[0].toFixed(3)}–${c[1].toFixed(3)}`;
  return html`<div class="probe-table-wrap"><table class="probe-table" data-testid="segmentation-table" data-model=${entry.model} data-rows=${JSON.stringify(entry.structures.map((s) => ({structure: s.structure, dice: s.dice, diceCi95: s.diceCi95, perImage: s.perImage.dice, perImageCi95: s.perImage.diceCi95})))}>
    <thead><tr><th>structure</th><th>Dice, pooled (95% CI)</th><th>Dice per image (95% CI)</th><th>IoU, pooled</th><th>test images showing it</th><th>mean-shape baseline, Dice per image</th></tr></thead>
    <tbody>${entry.structures.map((s) => html`<tr>
      <td>${s.structure}</td>
      <td><b>${s.dice.toFixed(3)}</b> (${ci(s.diceCi95)})</td>
      <td>${s.perImage.dice.toFixed(3)} (${ci(s.perImage.diceCi95)})</td>
      <td>${s.iou.toFixed(3)}</td>
      <td>${s.perImage.images} of ${s.testImages}</td>
      <td>${s.baseline.meanShapePerImageDice.toFixed(3)}</td>
    </tr>`)}</tbody>
  </table></div>` as HTMLElement;
}

async function greyPixels(base64: string, size: number): Promise<Uint8ClampedArray> {
  const image = new Image();
  image.src = `data:image/png;base64,${base64}`;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext("2d", {willReadFrequently: true})!;
  context.drawImage(image, 0, 0, size, size);
  return context.getImageData(0, 0, size, size).data;
}

/** Pixels of a mask's boundary: inside, with a 4-neighbour outside. */
function boundary(mask: Uint8ClampedArray, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= size || y >= size ? false : mask[4 * (y * size + x)]! > 127);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    if (at(x, y) && (!at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1))) out[y * size + x] = 1;
  }
  return out;
}

function panel(size: number, displayPx: number, label: string, paint: (rgba: Uint8ClampedArray) => void): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "probe-seg-canvas";
  canvas.style.width = `${displayPx}px`;
  canvas.style.height = `${displayPx}px`;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  const context = canvas.getContext("2d")!;
  const data = context.createImageData(size, size);
  paint(data.data);
  context.putImageData(data, 0, 0);
  return canvas;
}

/** One example: the image as the encoder saw it, the true mask over it, the prediction over it (true outline kept). */
export async function segmentationExample(example: SegmentationExample, options: {displayPx?: number} = {}): Promise<HTMLElement> {
  const {size} = example;
  const px = options.displayPx ?? 120;
  const [image, mask, prediction] = await Promise.all([greyPixels(example.image, size), greyPixels(example.mask, size), greyPixels(example.prediction, size)]);
  const edge = boundary(mask, size);
  const blend = (rgba: Uint8ClampedArray, i: number, rgb: readonly number[], alpha: number) => {
    for (let k = 0; k < 3; k++) rgba[4 * i + k] = Math.round(rgba[4 * i + k]! * (1 - alpha) + rgb[k]! * alpha);
  };
  const grey = (rgba: Uint8ClampedArray) => {
    for (let i = 0; i < size * size; i++) {
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = image[4 * i]!;
      rgba[4 * i + 3] = 255;
    }
  };
  const panels = [
    panel(size, px, `${example.id}: image`, grey),
    panel(size, px, `${example.id}: true ${example.structure} mask`, (rgba) => {
      grey(rgba);
      for (let i = 0; i < size * size; i++) if (mask[4 * i]! > 127) blend(rgba, i, TRUE_MASK_RGB, 0.45);
    }),
    panel(size, px, `${example.id}: predicted ${example.structure} mask, true outline`, (rgba) => {
      grey(rgba);
      for (let i = 0; i < size * size; i++) {
        if (prediction[4 * i]! > 127) blend(rgba, i, PREDICTED_RGB, 0.5);
        if (edge[i]) blend(rgba, i, TRUE_MASK_RGB, 1);
      }
    })
  ];
  return html`<figure class="probe-seg-example" data-testid="segmentation-example" data-id=${example.id} data-structure=${example.structure} data-dice=${example.dice}>
    <div class="probe-seg-panels">${panels}</div>
    <figcaption>${example.id.replace(/^images\//, "")} · Dice <b>${example.dice.toFixed(3)}</b></figcaption>
  </figure>` as HTMLElement;
}

/** The colour key of the segmentation examples. */
export function segmentationLegend(): HTMLElement {
  const rgb = (c: readonly number[]) => `rgb(${c.join(", ")})`;
  return html`<div class="probe-legend">
    <span>Panels: the image as the encoder saw it · the true mask · the prediction</span>
    <span><span class="swatch" style=${`background: ${rgb(TRUE_MASK_RGB)}`}></span>true mask (fill, then outline)</span>
    <span><span class="swatch" style=${`background: ${rgb(PREDICTED_RGB)}`}></span>predicted mask (threshold 0.5)</span>
  </div>` as HTMLElement;
}

/** A link that downloads `text` as a CSV file (a blob URL: nothing leaves the page). */
export function csvLink(text: string, filename: string, testId?: string): HTMLAnchorElement {
  const url = URL.createObjectURL(new Blob([text], {type: "text/csv"}));
  return html`<a class="probe-csv" download=${filename} href=${url} data-testid=${testId ?? null}>Download ${filename}</a>` as HTMLAnchorElement;
}
