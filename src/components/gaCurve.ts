// The GA similarity curve of one image: prompt-averaged similarity per GA bin, the
// predicted GA (solid) and, where the truth is known, the true GA (dashed), with a
// legend. Drawn with d3's scales, line and axes rather than Plot: it is redrawn on
// every GA answer in the live page, and Plot's full pipeline cost ~150 ms of the
// page's main thread per draw on a small machine, d3 a few milliseconds.
import * as d3 from "d3";
import {html} from "htl";

export interface GaCurveOptions {
  width?: number;
  /** True GA in days (phantom samples); omitted for uploads. */
  trueGaDays?: number | null;
  /** What the dashed rule is called (default "true GA"; e.g. the WHO median GA of the true HC). */
  trueGaLabel?: string;
  /** Indices of the top-N bins the median is taken over, marked as dots on the curve. */
  topBins?: readonly number[];
}

const HEIGHT = 240;
const MARGIN = {top: 12, right: 20, bottom: 34, left: 44};

export function gaCurve(binDays: readonly number[], dotProducts: readonly number[], predictedGaDays: number, options: GaCurveOptions = {}): HTMLElement {
  const width = Math.max(280, options.width ?? 640);
  const x = d3.scaleLinear().domain([binDays[0]! / 7, binDays[binDays.length - 1]! / 7]).range([MARGIN.left, width - MARGIN.right]);
  const [lo, hi] = d3.extent(dotProducts) as [number, number];
  const y = d3.scaleLinear().domain([lo, hi === lo ? lo + 1 : hi]).nice().range([HEIGHT - MARGIN.bottom, MARGIN.top]);
  const svg = d3.create("svg").attr("width", width).attr("height", HEIGHT).attr("viewBox", `0 0 ${width} ${HEIGHT}`)
    .attr("style", "max-width: 100%; height: auto; font: 12px var(--sans-serif); overflow: visible")
    .attr("role", "img").attr("aria-label", `GA similarity curve; predicted GA ${Math.floor(predictedGaDays / 7)} weeks ${predictedGaDays % 7} days`);
  svg.append("g").attr("transform", `translate(0,${HEIGHT - MARGIN.bottom})`).call(d3.axisBottom(x).ticks(Math.min(12, width / 60)))
    .call((g) => g.append("text").attr("x", width - MARGIN.right).attr("y", 30).attr("fill", "currentColor").attr("text-anchor", "end").text("GA bin (weeks) →"));
  svg.append("g").attr("transform", `translate(${MARGIN.left},0)`).call(d3.axisLeft(y).ticks(5))
    .call((g) => g.selectAll(".tick line").clone().attr("x2", width - MARGIN.left - MARGIN.right).attr("stroke-opacity", 0.1))
    .call((g) => g.append("text").attr("x", -MARGIN.left).attr("y", MARGIN.top - 4).attr("fill", "currentColor").attr("text-anchor", "start").text("↑ mean prompt similarity ×100"));
  svg.append("path").attr("fill", "none").attr("stroke", "currentColor").attr("stroke-width", 1.5)
    .attr("d", d3.line<number>().x((_, i) => x(binDays[i]! / 7)).y((d) => y(d))(dotProducts as number[]));
  const rule = (days: number, dashed: boolean) => svg.append("line").attr("x1", x(days / 7)).attr("x2", x(days / 7)).attr("y1", MARGIN.top).attr("y2", HEIGHT - MARGIN.bottom)
    .attr("stroke", dashed ? "currentColor" : "var(--theme-foreground-focus)").attr("stroke-width", 2).attr("stroke-dasharray", dashed ? "5 4" : null);
  rule(predictedGaDays, false);
  const hasTruth = options.trueGaDays != null;
  if (hasTruth) rule(options.trueGaDays!, true);
  const top = options.topBins ?? [];
  if (top.length) {
    svg.append("g").attr("class", "ga-top-bins").selectAll("circle").data(top).join("circle")
      .attr("cx", (b) => x(binDays[b]! / 7)).attr("cy", (b) => y(dotProducts[b]!)).attr("r", 3)
      .attr("fill", "var(--theme-foreground-focus)").attr("stroke", "var(--theme-background)").attr("stroke-width", 0.8);
  }
  return html`<figure style="margin: 0; max-width: none">
    <div class="ga-legend" style="font: 12px var(--sans-serif)">
      <span class="swatch" style="background: var(--theme-foreground-focus)"></span> predicted GA${top.length ? ` (median of the top ${top.length})` : ""}
      ${top.length ? html`<span style="display: inline-block; width: 7px; height: 7px; border-radius: 50%; background: var(--theme-foreground-focus); margin: 0 0.3em 0 1em"></span> the top ${top.length} bin${top.length > 1 ? "s" : ""}` : ""}
      ${hasTruth ? html`<span style="display: inline-block; width: 1.2em; border-top: 2px dashed currentColor; vertical-align: middle; margin: 0 0.3em 0 1em"></span> ${options.trueGaLabel ?? "true GA"}` : ""}
    </div>
    ${svg.node()}
  </figure>`;
}
