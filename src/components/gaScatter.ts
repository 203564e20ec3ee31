// True head circumference against predicted GA over the WHO fetal growth chart: the 2.5th
// to 97.5th percentile band (a prediction is valid when the true HC lies in it at the
// predicted GA), the median, and one dot per image, coloured valid / invalid; images
// outside FetalCLIP's scored HC range [100, 342] mm are drawn hollow. Click a dot (or focus
// it and press Enter) to select the image. d3 and SVG: ~1,000 dots redraw in a few
// milliseconds when the top-N slider moves.
import * as d3 from "d3";
import {html} from "htl";
import {hcQuantileMm} from "../lib/biometry.js";

export interface GaPoint {
  index: number;
  predictedGaDays: number;
  trueHcMm: number;
  scored: boolean;
  valid: boolean;
  /** Shown in the tooltip. */
  label: string;
}

export interface GaScatterOptions {
  width?: number;
  height?: number;
  selected?: number | null;
  onSelect?: (index: number) => void;
  /** GA range of the x axis in days (default the prompts' 98..272, widened to 13.5..40 weeks). */
  gaDomainDays?: [number, number];
}

export const GA_COLORS = {valid: "#4269d0", invalid: "#ff725c"} as const;

const MARGIN = {top: 14, right: 64, bottom: 40, left: 52};

export function gaScatter(points: readonly GaPoint[], options: GaScatterOptions = {}): HTMLElement {
  const width = Math.max(320, options.width ?? 640);
  const height = options.height ?? Math.round(Math.min(480, Math.max(300, width * 0.55)));
  const [d0, d1] = options.gaDomainDays ?? [13.5 * 7, 40 * 7];
  const x = d3.scaleLinear().domain([d0 / 7, d1 / 7]).range([MARGIN.left, width - MARGIN.right]);
  const y = d3.scaleLinear().domain([0, 380]).range([height - MARGIN.bottom, MARGIN.top]);
  const svg = d3.create("svg").attr("width", width).attr("height", height).attr("viewBox", `0 0 ${width} ${height}`)
    .attr("class", "ga-scatter-svg").attr("style", "max-width: 100%; height: auto; font: 12px var(--sans-serif); overflow: visible");

  // WHO band and curves, sampled every day.
  const days = d3.range(Math.ceil(d0), Math.floor(d1) + 1);
  const band = d3.area<number>().x((d) => x(d / 7)).y0((d) => y(hcQuantileMm(d, 0.025))).y1((d) => y(hcQuantileMm(d, 0.975)));
  svg.append("path").attr("d", band(days)).attr("fill", "currentColor").attr("fill-opacity", 0.07);
  for (const [q, dash, name] of [[0.025, "4 3", "2.5th"], [0.5, null, "50th"], [0.975, "4 3", "97.5th"]] as const) {
    const line = d3.line<number>().x((d) => x(d / 7)).y((d) => y(hcQuantileMm(d, q)));
    svg.append("path").attr("d", line(days)).attr("fill", "none").attr("stroke", "currentColor").attr("stroke-opacity", 0.55).attr("stroke-width", 1.2).attr("stroke-dasharray", dash);
    const last = days[days.length - 1]!;
    svg.append("text").attr("x", x(last / 7) + 4).attr("y", y(hcQuantileMm(last, q))).attr("dy", "0.32em").attr("fill", "currentColor").attr("fill-opacity", 0.75).text(`${name} WHO`);
  }
  // FetalCLIP's scored HC range.
  for (const mm of [100, 342]) {
    svg.append("line").attr("x1", MARGIN.left).attr("x2", width - MARGIN.right).attr("y1", y(mm)).attr("y2", y(mm))
      .attr("stroke", "currentColor").attr("stroke-opacity", 0.25).attr("stroke-dasharray", "1 3");
  }

  svg.append("g").attr("transform", `translate(0,${height - MARGIN.bottom})`).call(d3.axisBottom(x).ticks(Math.min(14, width / 55)))
    .call((g) => g.append("text").attr("x", width - MARGIN.right).attr("y", 32).attr("fill", "currentColor").attr("text-anchor", "end").text("predicted GA (weeks) →"));
  svg.append("g").attr("transform", `translate(${MARGIN.left},0)`).call(d3.axisLeft(y).ticks(8))
    .call((g) => g.selectAll(".tick line").clone().attr("x2", width - MARGIN.left - MARGIN.right).attr("stroke-opacity", 0.08))
    .call((g) => g.append("text").attr("x", -MARGIN.left).attr("y", MARGIN.top - 4).attr("fill", "currentColor").attr("text-anchor", "start").text("↑ true head circumference (mm)"));

  const color = (p: GaPoint) => (p.valid ? GA_COLORS.valid : GA_COLORS.invalid);
  const dots = svg.append("g").attr("class", "ga-points");
  for (const p of points) {
    const dot = dots.append("circle")
      .attr("cx", x(p.predictedGaDays / 7)).attr("cy", y(p.trueHcMm)).attr("r", 3.6)
      .attr("fill", p.scored ? color(p) : "none").attr("fill-opacity", 0.75)
      .attr("stroke", p.scored ? "none" : color(p)).attr("stroke-width", 1.2)
      .attr("data-index", p.index).attr("data-valid", String(p.valid)).attr("data-scored", String(p.scored))
      .attr("tabindex", options.onSelect ? 0 : null).attr("role", options.onSelect ? "button" : null)
      .attr("aria-label", p.label).style("cursor", options.onSelect ? "pointer" : "default");
    dot.append("title").text(p.label);
    if (options.onSelect) {
      dot.on("click", () => options.onSelect!(p.index));
      dot.on("keydown", (event: KeyboardEvent) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          options.onSelect!(p.index);
        }
      });
    }
  }
  const chosen = options.selected == null ? undefined : points.find((p) => p.index === options.selected);
  if (chosen) {
    svg.append("circle").attr("cx", x(chosen.predictedGaDays / 7)).attr("cy", y(chosen.trueHcMm)).attr("r", 8)
      .attr("fill", "none").attr("stroke", "var(--theme-foreground-focus)").attr("stroke-width", 2.5).attr("pointer-events", "none");
  }
  const counts = {valid: points.filter((p) => p.scored && p.valid).length, invalid: points.filter((p) => p.scored && !p.valid).length, unscored: points.filter((p) => !p.scored).length};
  return html`<figure class="ga-scatter" style="margin: 0; max-width: none">
    <div class="ga-legend">
      <span><span class="swatch" style=${{background: GA_COLORS.valid}}></span>valid (${counts.valid})</span>
      <span><span class="swatch" style=${{background: GA_COLORS.invalid}}></span>invalid (${counts.invalid})</span>
      ${counts.unscored ? html`<span><span class="swatch" style=${{border: `1.5px solid ${GA_COLORS.valid}`, background: "none"}}></span><span class="swatch" style=${{border: `1.5px solid ${GA_COLORS.invalid}`, background: "none"}}></span>HC outside [100, 342] mm, not scored (${counts.unscored})</span>` : ""}
      <span><span class="swatch" style="background: currentColor; opacity: 0.15"></span>WHO 2.5th–97.5th percentile HC</span>
    </div>
    ${svg.node()}
  </figure>`;
}
