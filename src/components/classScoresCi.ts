// Per-class precision, recall and F1 with their bootstrap 95% intervals: one panel per
// metric, one row per true class, a dot at the score and a bar across its interval; where a
// results file reported the same score (the paper's), a hollow diamond marks it.
import * as Plot from "@observablehq/plot";
import {html} from "htl";
import type {ZeroShotMetrics} from "../lib/tasks/zeroShot.js";

export type ClassMetrics = Pick<ZeroShotMetrics, "trueClasses" | "f1" | "f1Ci95" | "precision" | "precisionCi95" | "accuracy" | "accuracyCi95">;

export interface ClassScoresCiOptions {
  width?: number;
  /** Published per-class F1 and recall ("accuracy") for the same predictions. */
  reported?: {f1: Record<string, number>; accuracy: Record<string, number>} | null;
}

const METRICS = ["precision", "recall", "F1"] as const;
const ROW_PX = 20;

export interface ClassScoreRow {
  class: string;
  metric: (typeof METRICS)[number];
  value: number;
  lo: number;
  hi: number;
  reported: number | null;
}

export function classScoreCiRows(m: ClassMetrics, reported: ClassScoresCiOptions["reported"] = null): ClassScoreRow[] {
  return m.trueClasses.flatMap((c) => [
    {class: c, metric: "precision" as const, value: m.precision[c]!, lo: m.precisionCi95[c]![0], hi: m.precisionCi95[c]![1], reported: null},
    {class: c, metric: "recall" as const, value: m.accuracy[c]!, lo: m.accuracyCi95[c]![0], hi: m.accuracyCi95[c]![1], reported: reported?.accuracy[c] ?? null},
    {class: c, metric: "F1" as const, value: m.f1[c]!, lo: m.f1Ci95[c]![0], hi: m.f1Ci95[c]![1], reported: reported?.f1[c] ?? null}
  ]);
}

export function classScoresCiPlot(m: ClassMetrics, options: ClassScoresCiOptions = {}): HTMLElement {
  const rows = classScoreCiRows(m, options.reported);
  const marginLeft = Math.max(70, 6.5 * Math.max(...m.trueClasses.map((c) => c.length)) + 16);
  const withReported = rows.some((r) => r.reported !== null);
  const lowest = Math.min(...rows.map((r) => Math.min(r.lo, r.reported ?? 1)));
  // Scores near 1 would crowd the right edge of [0, 1]: start the axis near the lowest value.
  const x0 = lowest > 0.5 ? Math.floor(lowest * 10) / 10 : 0;
  const fmt = (v: number) => v.toFixed(3);
  const plot = Plot.plot({
    width: Math.max(320, options.width ?? 640),
    height: 50 + METRICS.length * (m.trueClasses.length * ROW_PX + 18),
    marginLeft,
    marginRight: 80,
    style: {fontSize: "12px"},
    x: {domain: [x0, 1], label: "score (95% bootstrap CI)", grid: true},
    y: {domain: m.trueClasses, label: null},
    fy: {domain: METRICS, label: null, axis: "right"},
    marks: [
      Plot.ruleY(rows, {y: "class", fy: "metric", x1: "lo", x2: "hi", stroke: "var(--theme-foreground-focus)", strokeWidth: 2}),
      Plot.dot(rows, {
        y: "class", fy: "metric", x: "value", fill: "var(--theme-foreground-focus)", r: 3.5, tip: true,
        title: (d: ClassScoreRow) => `${d.class}, ${d.metric}: ${fmt(d.value)} (95% CI ${fmt(d.lo)}–${fmt(d.hi)})${d.reported === null ? "" : `\nresults file: ${fmt(d.reported)}`}`
      }),
      ...(withReported ? [Plot.dot(rows.filter((r) => r.reported !== null), {y: "class", fy: "metric", x: "reported", symbol: "diamond", stroke: "currentColor", r: 5, strokeWidth: 1.2})] : [])
    ]
  });
  return html`<figure class="class-scores-ci" style="margin: 0; max-width: none">
    <div class="ga-legend">
      <span><span class="swatch" style="background: var(--theme-foreground-focus); border-radius: 50%"></span>this project's scoring; bar = 95% bootstrap CI</span>
      ${withReported ? html`<span>◇ reported in the results file</span>` : ""}
    </div>
    ${plot}
  </figure>`;
}
