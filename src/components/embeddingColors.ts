// Colours of the Embeddings page's points, and their legend: a field of the map
// becomes a small palette plus one palette index per point, so the scatter draws
// each colour in one pass. Plane and zero-shot prediction share one class -> colour
// assignment (a correct prediction has its plane's colour); correctness has its own
// pair; numbers follow viridis, cut so both ends read on a light and a dark page.
import * as d3 from "d3";
import {html} from "htl";
import type {EmbeddingMap, MapField} from "../lib/embeddingMap.js";

export interface PointColors {
  /** CSS colours; index `missing` is the colour of points with no value. */
  palette: string[];
  /** Palette index per point. */
  index: Uint16Array;
  missing: number;
  legend: HTMLElement;
  /** The legend entries, for tests and screen readers: label and colour. */
  entries: {label: string; color: string; count: number}[];
}

export interface PointColorsOptions {
  dark?: boolean;
}

const CLASS_FIELDS = new Set(["plane", "zero_shot"]);
const CORRECTNESS: Record<string, string> = {correct: "#4e79a7", incorrect: "#e15759"};
const NUMBER_BINS = 48;
/** More categories than this are coloured but not listed one by one (patients). */
const LEGEND_MAX = 12;

function missingColor(dark: boolean): string {
  return dark ? "#6b6b6b" : "#b0b0b0";
}

/** Viridis without its faintest end: no bright yellow on white, no deep purple on black. */
function numberRamp(dark: boolean): (t: number) => string {
  const [lo, hi] = dark ? [0.2, 1] : [0, 0.85];
  return (t) => d3.interpolateViridis(lo + (hi - lo) * t);
}

/** Categories of plane and zero-shot together, so a class has one colour in both. */
function classCategories(map: EmbeddingMap): string[] {
  const all = new Set<string>();
  for (const f of map.fields) if (f.kind === "category" && CLASS_FIELDS.has(f.name)) for (const c of f.categories) all.add(c);
  return [...all].sort();
}

function categoryPalette(field: Extract<MapField, {kind: "category"}>, map: EmbeddingMap): {categories: string[]; colors: string[]} {
  if (field.name === "correct") return {categories: field.categories, colors: field.categories.map((c) => CORRECTNESS[c] ?? "#888")};
  const categories = CLASS_FIELDS.has(field.name) ? classCategories(map) : field.categories;
  const scheme = categories.length <= 10 ? d3.schemeTableau10 : [...d3.schemeTableau10, ...d3.schemeSet3, ...d3.schemeDark2];
  return {categories, colors: categories.map((_, i) => scheme[i % scheme.length]!)};
}

export function pointColors(map: EmbeddingMap, fieldName: string, options: PointColorsOptions = {}): PointColors {
  const dark = options.dark ?? false;
  const field = map.fields.find((f) => f.name === fieldName);
  if (!field) throw new Error(`pointColors: the map has no field "${fieldName}" (fields: ${map.fields.map((f) => f.name).join(", ")})`);
  const index = new Uint16Array(map.n);
  if (field.kind === "category") {
    const {categories, colors} = categoryPalette(field, map);
    const at = new Map(categories.map((c, i) => [c, i]));
    const missing = colors.length;
    const counts = new Array<number>(missing + 1).fill(0);
    field.values.forEach((v, i) => {
      index[i] = v === null ? missing : at.get(v) ?? missing;
      counts[index[i]!]!++;
    });
    const entries = categories.map((label, i) => ({label, color: colors[i]!, count: counts[i]!})).filter((e) => e.count > 0);
    if (counts[missing]) entries.push({label: "no value", color: missingColor(dark), count: counts[missing]!});
    const legend =
      entries.length <= LEGEND_MAX
        ? html`<div class="embedding-legend" role="list" aria-label=${`Colour: ${field.label}`}>${entries.map(
            (e) => html`<span role="listitem" data-category=${e.label}><span class="swatch" style=${{background: e.color}}></span>${e.label} <span class="muted">${e.count}</span></span>`
          )}</div>`
        : html`<div class="embedding-legend" aria-label=${`Colour: ${field.label}`}><span class="muted">${field.label}: ${entries.length} values, one colour each (colours repeat after ${colors.length > 10 ? 30 : 10}); hover a point to read its value.</span></div>`;
    return {palette: [...colors, missingColor(dark)], index, missing, legend, entries};
  }
  const [lo, hi] = field.extent;
  const ramp = numberRamp(dark);
  const palette = Array.from({length: NUMBER_BINS}, (_, b) => ramp(b / (NUMBER_BINS - 1)));
  const missing = NUMBER_BINS;
  let absent = 0;
  field.values.forEach((v, i) => {
    if (Number.isNaN(v)) {
      index[i] = missing;
      absent++;
    } else index[i] = hi > lo ? Math.min(NUMBER_BINS - 1, Math.floor(((v - lo) / (hi - lo)) * NUMBER_BINS)) : 0;
  });
  const gradient = `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((t) => ramp(t)).join(", ")})`;
  const fmt = d3.format(hi - lo >= 20 ? ".0f" : hi - lo >= 2 ? ".1f" : ".3f");
  const legend = html`<div class="embedding-legend" aria-label=${`Colour: ${field.label}, from ${fmt(lo)} to ${fmt(hi)}`}>
    <span>${field.label}</span> <span class="embedding-ramp-label">${fmt(lo)}</span><span class="embedding-ramp" style=${{background: gradient}}></span><span class="embedding-ramp-label">${fmt(hi)}</span>
    ${absent ? html`<span><span class="swatch" style=${{background: missingColor(dark)}}></span>no value <span class="muted">${absent}</span></span>` : ""}
  </div>`;
  return {
    palette: [...palette, missingColor(dark)],
    index,
    missing,
    legend,
    entries: [
      {label: fmt(lo), color: palette[0]!, count: 0},
      {label: fmt(hi), color: palette[NUMBER_BINS - 1]!, count: 0}
    ]
  };
}
