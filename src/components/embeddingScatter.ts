// The UMAP of one (dataset, model) map as a canvas scatter that stays smooth at
// 10,000 points: discs are rasterised into one pixel buffer (a few ms for 10,000, where
// 10,000 drawImage or arc calls cost ~60 ms in software-rendered Chromium), hover looks
// up a quadtree and repaints only an overlay, the zoom is d3-zoom's. Drag draws a
// selection rectangle (a free-hand lasso in lasso mode; pans in pan mode); wheel or pinch zooms; a click shows
// a point's nearest neighbours; the keyboard pans (arrows), zooms (+ -), resets (0)
// and clears the selection (Escape). What it shares with the other panel and the
// page (selection, focus, neighbours, zoom) lives in an EmbeddingSelection.
import * as d3 from "d3";
import {html, svg} from "htl";
import {pointsInPolygon, pointsInRect, type EmbeddingMap, type SpriteSheetInfo} from "../lib/embeddingMap.js";
import type {PointColors} from "./embeddingColors.js";
import type {EmbeddingSelection} from "./embeddingSelection.js";

/** A decoded sprite sheet: the image to draw cells from. */
export interface Sprite {
  info: SpriteSheetInfo;
  image: CanvasImageSource;
}

export interface EmbeddingScatterOptions {
  width: number;
  height?: number;
  /** The map's key ("<dataset>/<model>"): how the shared selection names it. */
  key: string;
  colors: PointColors;
  store: EmbeddingSelection;
  sprite?: Sprite | null;
  /** Heading over the plot, e.g. the model's name. */
  title?: string;
  /** Fields listed in the hover card (default: every field). */
  hoverFields?: string[];
}

/** What the page and its tests can ask a scatter element (el.embedding). */
export interface ScatterHandle {
  key: string;
  map: EmbeddingMap;
  /** Viewport (client) coordinates of a data point under the current zoom. */
  toClient(x: number, y: number): [number, number];
  fromClient(cx: number, cy: number): [number, number];
  /** Input-to-next-frame latencies (ms) of the last hovers and selections, and the last full redraws' times, newest last. */
  stats: {hoverMs: number[]; brushMs: number[]; drawMs: number[]};
  hovered(): number | null;
  /** How many of this map's points the shared selection highlights. */
  highlighted(): number;
}

const RADIUS = 3;
const HOVER_PX = 10;
const PAD = 14;
const CLICK_SLOP = 4;
const TOOLTIP_THUMB = 96;

interface Stencil {
  /** Buffer offsets (dy * width + dx) and their dx, dy, for fully covered pixels and for the rim. */
  full: Int32Array;
  fullDx: Int8Array;
  fullDy: Int8Array;
  edge: Int32Array;
  edgeDx: Int8Array;
  edgeDy: Int8Array;
  /** Coverage of each rim pixel (4 x 4 samples). */
  cover: Float32Array;
  reach: number;
}

/** A disc of radius r (device px) as pixel offsets into a buffer `width` pixels wide. */
function discStencil(r: number, width: number): Stencil {
  const reach = Math.ceil(r);
  const full: number[][] = [], edge: number[][] = [], cover: number[] = [];
  for (let dy = -reach; dy <= reach; dy++) {
    for (let dx = -reach; dx <= reach; dx++) {
      let inside = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if ((dx - 0.375 + sx / 4) ** 2 + (dy - 0.375 + sy / 4) ** 2 <= r * r) inside++;
      if (inside === 16) full.push([dx, dy]);
      else if (inside > 0) edge.push([dx, dy]), cover.push(inside / 16);
    }
  }
  return {
    full: Int32Array.from(full, ([dx, dy]) => dy! * width + dx!),
    fullDx: Int8Array.from(full, ([dx]) => dx!),
    fullDy: Int8Array.from(full, ([, dy]) => dy!),
    edge: Int32Array.from(edge, ([dx, dy]) => dy! * width + dx!),
    edgeDx: Int8Array.from(edge, ([dx]) => dx!),
    edgeDy: Int8Array.from(edge, ([, dy]) => dy!),
    cover: Float32Array.from(cover),
    reach
  };
}

let probe: CanvasRenderingContext2D | null = null;

/** Any CSS colour (hex, rgb(), color(srgb ...) as themes compute) as 8-bit RGBA, read back from a 1 x 1 canvas. */
function cssRgba(css: string): [number, number, number, number] {
  probe ??= Object.assign(document.createElement("canvas"), {width: 1, height: 1}).getContext("2d", {willReadFrequently: true})!;
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = "#000";
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data;
  return [r!, g!, b!, a!];
}

/** A colour, optionally mixed towards another by `amount`, packed as ImageData's bytes read through a little-endian Uint32Array. */
function packColor(rgb: readonly number[], mix?: {with: readonly number[]; amount: number}): number {
  const m = (i: number) => Math.round(mix ? rgb[i]! * (1 - mix.amount) + mix.with[i]! * mix.amount : rgb[i]!);
  return ((255 << 24) | (m(2) << 16) | (m(1) << 8) | m(0)) >>> 0;
}

function pushStat(list: number[], value: number): void {
  list.push(value);
  if (list.length > 50) list.shift();
}

/** Draws thumbnail cell `cell` of the sprite into a canvas of side `side` (CSS px). */
export function drawThumbnail(canvas: HTMLCanvasElement, sprite: Sprite | null | undefined, cell: number, side: number): void {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(side * dpr)) canvas.width = canvas.height = Math.round(side * dpr);
  canvas.style.width = canvas.style.height = `${side}px`;
  const ctx = canvas.getContext("2d")!;
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!sprite || cell < 0) return;
  const {cell: c, columns} = sprite.info;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(sprite.image, (cell % columns) * c, Math.floor(cell / columns) * c, c, c, 0, 0, canvas.width, canvas.height);
}

export function embeddingScatter(map: EmbeddingMap, options: EmbeddingScatterOptions): HTMLElement & {embedding: ScatterHandle} {
  const {key, colors, store, sprite} = options;
  // options.width is the figure's: the plot inside its 1 px border.
  const width = Math.max(240, Math.floor(options.width) - 2);
  const height = Math.floor(options.height ?? Math.min(640, Math.max(320, width * 0.75)));
  const dpr = window.devicePixelRatio || 1;
  const n = map.n;
  const rowOf = new Map(map.ids.map((id, i) => [id, i]));
  const hoverFields = options.hoverFields ? map.fields.filter((f) => options.hoverFields!.includes(f.name)) : map.fields;

  // Base screen coordinates: the data's extent fitted with equal scales on both axes (UMAP's axes share a unit).
  const [x0, x1] = d3.extent(map.x) as [number, number];
  const [y0, y1] = d3.extent(map.y) as [number, number];
  const span = Math.max((x1 - x0) / (width - 2 * PAD), (y1 - y0) / (height - 2 * PAD), 1e-9);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const bx = (x: number) => width / 2 + (x - cx) / span;
  const by = (y: number) => height / 2 - (y - cy) / span; // y up, as a plot reads
  const ux = (sx: number) => cx + (sx - width / 2) * span;
  const uy = (sy: number) => cy - (sy - height / 2) * span;
  const baseX = Float32Array.from(map.x, bx);
  const baseY = Float32Array.from(map.y, by);
  const tree = d3.quadtree<number>().x((i) => baseX[i]!).y((i) => baseY[i]!).addAll(d3.range(n));

  // Points grouped by colour (drawn in that order, so a colour's points overlap each other, not the others at random).
  const order = Int32Array.from(d3.range(n)).sort((a, b) => colors.index[a]! - colors.index[b]! || a - b);
  const selected = new Uint8Array(n);
  let selectedCount = 0;
  let neighbourRows: number[] = [];
  let focusRow: number | null = null;
  let hover: number | null = null;
  let t = d3.zoomIdentity;
  let mode: "select" | "lasso" | "pan" = "select";
  const stats: ScatterHandle["stats"] = {hoverMs: [], brushMs: [], drawMs: []};

  const canvas = html`<canvas class="embedding-canvas" tabindex="0" role="img" width=${width * dpr} height=${height * dpr} style=${{width: `${width}px`, height: `${height}px`}}
    aria-label=${`UMAP of ${n} images${options.title ? ` under ${options.title}` : ""}. Drag to select (a rectangle, or a free-hand loop in lasso mode), wheel to zoom, click a point for its neighbours; arrows pan, plus and minus zoom, 0 resets, S, L and P choose rectangle, lasso or pan, Escape clears the selection.`}></canvas>` as HTMLCanvasElement;
  const overlay = html`<canvas class="embedding-overlay" width=${width * dpr} height=${height * dpr} style=${{width: `${width}px`, height: `${height}px`}} aria-hidden="true"></canvas>` as HTMLCanvasElement;
  const brush = html`<div class="embedding-brush" hidden></div>` as HTMLDivElement;
  const lassoPath = svg`<polygon></polygon>` as unknown as SVGPolygonElement;
  const lasso = html`<svg class="embedding-lasso" width=${width} height=${height} aria-hidden="true" hidden>${lassoPath}</svg>` as unknown as SVGSVGElement;
  const thumb = html`<canvas class="embedding-tooltip-thumb"></canvas>` as HTMLCanvasElement;
  const tipText = html`<div class="embedding-tooltip-text"></div>` as HTMLDivElement;
  const tooltip = html`<div class="embedding-tooltip" data-testid="embedding-tooltip" hidden>${thumb}${tipText}</div>` as HTMLDivElement;
  const modeSelect = html`<button type="button" aria-pressed="true" title="Drag draws a selection rectangle (S)">Select</button>` as HTMLButtonElement;
  const modeLasso = html`<button type="button" aria-pressed="false" title="Drag draws a free-hand loop around the points to select (L)">Lasso</button>` as HTMLButtonElement;
  const modePan = html`<button type="button" aria-pressed="false" title="Drag pans the view (P)">Pan</button>` as HTMLButtonElement;
  const reset = html`<button type="button" title="Back to the whole map (0)">Reset view</button>` as HTMLButtonElement;
  const stage = html`<div class="embedding-stage" style=${{width: `${width}px`, height: `${height}px`}}>${canvas}${overlay}${brush}${lasso}${tooltip}</div>`;
  const root = html`<figure class="embedding-scatter" data-map-key=${key} data-points=${n} style=${{width: `${width + 2}px`}}>
    <div class="embedding-toolbar">${options.title ? html`<strong>${options.title}</strong>` : ""}<span class="embedding-modes" role="group" aria-label="Drag mode">${modeSelect}${modeLasso}${modePan}</span>${reset}</div>
    ${stage}
    ${colors.legend}
  </figure>` as HTMLElement & {embedding: ScatterHandle};

  const ctx = canvas.getContext("2d")!;
  const octx = overlay.getContext("2d")!;
  const image = ctx.createImageData(canvas.width, canvas.height);
  const pixels = new Uint32Array(image.data.buffer);
  const stencil = discStencil(RADIUS * dpr, canvas.width);
  let palette: {normal: Uint32Array; faded: Uint32Array} | null = null;

  let drawPending = 0;
  let waitFrames = 0;
  function draw(): void {
    // The theme's colours (faded points, rings) are read from the page: wait (a few seconds at most) until on it.
    if (!root.isConnected) {
      if (!drawPending && !attached && waitFrames++ < 300) {
        drawPending = requestAnimationFrame(() => {
          drawPending = 0;
          draw();
        });
      }
      return;
    }
    attached = true;
    const started = performance.now();
    // Colours resolved on the page once (the theme's background, for points outside a selection);
    // a change of colour scheme redraws the page's panels anew.
    if (!palette) {
      const bg = cssRgba(getComputedStyle(stage).backgroundColor);
      const fadeWith = bg[3] > 0 ? bg : [255, 255, 255];
      const rgbs = colors.palette.map(cssRgba);
      palette = {
        normal: Uint32Array.from(rgbs, (c) => packColor(c)),
        faded: Uint32Array.from(rgbs, (c) => packColor(c, {with: fadeWith, amount: 0.8}))
      };
    }
    pixels.fill(0);
    const k = t.k * dpr, ox = t.x * dpr, oy = t.y * dpr;
    const W = canvas.width, H = canvas.height, R = stencil.reach;
    const {full, fullDx, fullDy, edge, edgeDx, edgeDy, cover} = stencil;
    const onCanvas = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H;
    // With a selection: the other points first, faded, then the selected ones over them.
    for (const pass of selectedCount > 0 ? [0, 1] : [1]) {
      const colorsOf = pass === 0 ? palette.faded : palette.normal;
      for (let o = 0; o < n; o++) {
        const i = order[o]!;
        if (selectedCount > 0 && (selected[i] === 1) !== (pass === 1)) continue;
        const px = Math.round(ox + k * baseX[i]!), py = Math.round(oy + k * baseY[i]!);
        if (px < -R || py < -R || px >= W + R || py >= H + R) continue;
        const color = colorsOf[colors.index[i]!]!;
        const centre = py * W + px;
        const inside = px >= R && py >= R && px < W - R && py < H - R;
        for (let s = 0; s < full.length; s++) {
          const at = centre + full[s]!;
          if (inside || onCanvas(px + fullDx[s]!, py + fullDy[s]!)) pixels[at] = color;
        }
        // Anti-aliased rim: the colour over what is there (un-premultiplied, as ImageData holds it).
        const cr = color & 255, cg = (color >>> 8) & 255, cb = (color >>> 16) & 255;
        for (let s = 0; s < edge.length; s++) {
          const at = centre + edge[s]!;
          if (!inside && !onCanvas(px + edgeDx[s]!, py + edgeDy[s]!)) continue;
          const a = cover[s]!, d = pixels[at]!, da = (d >>> 24) / 255;
          const outA = a + da * (1 - a);
          const w = (da * (1 - a)) / outA, v = a / outA;
          pixels[at] =
            ((Math.round(outA * 255) << 24) |
              (Math.round(cb * v + ((d >>> 16) & 255) * w) << 16) |
              (Math.round(cg * v + ((d >>> 8) & 255) * w) << 8) |
              Math.round(cr * v + (d & 255) * w)) >>>
            0;
        }
      }
    }
    ctx.putImageData(image, 0, 0);
    drawOverlay();
    pushStat(stats.drawMs, performance.now() - started);
  }

  function ring(i: number, r: number, color: string, lineWidth: number): void {
    octx.strokeStyle = color;
    octx.lineWidth = lineWidth * dpr;
    octx.beginPath();
    octx.arc((t.x + t.k * baseX[i]!) * dpr, (t.y + t.k * baseY[i]!) * dpr, r * dpr, 0, 2 * Math.PI);
    octx.stroke();
  }

  function drawOverlay(): void {
    if (!root.isConnected) return;
    octx.clearRect(0, 0, overlay.width, overlay.height);
    const fg = getComputedStyle(root).color;
    for (const i of neighbourRows) ring(i, RADIUS + 3, fg, 1.5);
    if (focusRow !== null) ring(focusRow, RADIUS + 5, fg, 2.5);
    if (hover !== null) ring(hover, RADIUS + 4, fg, 2);
  }

  const fmtNumber = d3.format(".4~r");
  function showTooltip(i: number | null, px: number, py: number): void {
    if (i === null) {
      tooltip.hidden = true;
      return;
    }
    drawThumbnail(thumb, sprite, map.cell[i]!, TOOLTIP_THUMB);
    const lines = [`<b>${escapeHtml(map.ids[i]!)}</b>`];
    for (const f of hoverFields) {
      const v = f.kind === "number" ? (Number.isNaN(f.values[i]!) ? "–" : fmtNumber(f.values[i]!)) : f.values[i] ?? "–";
      lines.push(`<span class="muted">${escapeHtml(f.label)}</span> ${escapeHtml(String(v))}`);
    }
    tipText.innerHTML = lines.join("<br>");
    tooltip.dataset.id = map.ids[i]!;
    tooltip.dataset.cell = String(map.cell[i]);
    tooltip.hidden = false;
    // Beside the pointer, flipped to stay inside the plot.
    const w = tooltip.offsetWidth, h = tooltip.offsetHeight;
    const left = px + 16 + w > width ? Math.max(0, px - 16 - w) : px + 16;
    const top = Math.min(Math.max(0, py - h / 2), Math.max(0, height - h));
    tooltip.style.transform = `translate(${left}px, ${top}px)`;
  }

  function nearest(px: number, py: number): number | null {
    const found = tree.find(t.invertX(px), t.invertY(py), HOVER_PX / t.k);
    return found === undefined ? null : found;
  }

  function local(event: PointerEvent | MouseEvent): [number, number] {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  function setHover(i: number | null, px: number, py: number): void {
    if (i === hover && i === null) return;
    hover = i;
    drawOverlay();
    showTooltip(i, px, py);
  }

  // Zoom and pan: the wheel and pinches always; a one-button drag only in pan mode.
  const zoom = d3
    .zoom<HTMLCanvasElement, unknown>()
    .scaleExtent([0.5, 64])
    .filter((event: Event) => {
      if (event.type === "wheel") return true;
      if (event.type.startsWith("touch")) return mode === "pan" || (event as TouchEvent).touches.length > 1;
      return mode === "pan" && !(event as MouseEvent).button;
    })
    .on("zoom", (event: d3.D3ZoomEvent<HTMLCanvasElement, unknown>) => {
      t = event.transform;
      store.zoom.set(key, {k: t.k, x: t.x, y: t.y});
      hover = null;
      tooltip.hidden = true;
      draw();
    });
  const zoomTarget = d3.select(canvas);
  zoomTarget.call(zoom).on("dblclick.zoom", null);
  const saved = store.zoom.get(key);
  if (saved) {
    t = d3.zoomIdentity.translate(saved.x, saved.y).scale(saved.k);
    zoomTarget.call(zoom.transform, t);
  }

  function setMode(next: "select" | "lasso" | "pan"): void {
    mode = next;
    modeSelect.setAttribute("aria-pressed", String(mode === "select"));
    modeLasso.setAttribute("aria-pressed", String(mode === "lasso"));
    modePan.setAttribute("aria-pressed", String(mode === "pan"));
    canvas.style.cursor = mode === "pan" ? "grab" : "crosshair";
  }
  setMode("select");
  modeSelect.onclick = () => setMode("select");
  modeLasso.onclick = () => setMode("lasso");
  modePan.onclick = () => setMode("pan");
  reset.onclick = () => zoomTarget.transition().duration(250).call(zoom.transform, d3.zoomIdentity);

  // Selection rectangle or lasso, and click, with pointer events (mouse, pen, one finger).
  // The lasso keeps every pointer position a pixel or more from the last, in screen pixels.
  let drag: {id: number; x: number; y: number; moved: boolean; path: [number, number][]} | null = null;
  const hideShapes = () => {
    brush.hidden = true;
    lasso.setAttribute("hidden", "");
  };
  const pointers = new Set<number>();
  canvas.addEventListener("pointerdown", (event) => {
    pointers.add(event.pointerId);
    if (pointers.size > 1) {
      drag = null; // a second finger: the pinch is the zoom's
      hideShapes();
      return;
    }
    if (event.button !== 0) return;
    const [px, py] = local(event);
    drag = {id: event.pointerId, x: px, y: py, moved: false, path: [[px, py]]};
    if (mode !== "pan") canvas.setPointerCapture(event.pointerId);
  });
  const endPointer = (event: PointerEvent) => {
    pointers.delete(event.pointerId);
    if (!drag || drag.id !== event.pointerId) return;
    const start = drag;
    drag = null;
    hideShapes();
    if (event.type === "pointercancel") return;
    const [px, py] = local(event);
    if (start.moved && mode !== "pan") {
      if (mode === "select") {
        const rect = {x0: ux(t.invertX(start.x)), x1: ux(t.invertX(px)), y0: uy(t.invertY(start.y)), y1: uy(t.invertY(py))};
        store.select(key, pointsInRect(map.x, map.y, rect), map.ids, "brush");
      } else {
        start.path.push([px, py]);
        const polygon = start.path.map(([sx, sy]): [number, number] => [ux(t.invertX(sx)), uy(t.invertY(sy))]);
        store.select(key, pointsInPolygon(map.x, map.y, polygon), map.ids, "lasso");
      }
      const stamp = event.timeStamp;
      requestAnimationFrame(() => pushStat(stats.brushMs, performance.now() - stamp));
    } else if (!start.moved) {
      const i = nearest(px, py);
      if (i !== null) store.setFocus({source: key, row: i, id: map.ids[i]!});
      else if (selectedCount > 0) store.clear();
    }
  };
  canvas.addEventListener("pointerup", endPointer);
  canvas.addEventListener("pointercancel", endPointer);
  canvas.addEventListener("pointermove", (event) => {
    const [px, py] = local(event);
    if (drag && drag.id === event.pointerId) {
      if (Math.hypot(px - drag.x, py - drag.y) > CLICK_SLOP) drag.moved = true;
      if (mode === "lasso") {
        const [lx, ly] = drag.path[drag.path.length - 1]!;
        if (Math.hypot(px - lx, py - ly) >= 1) drag.path.push([px, py]);
        if (drag.moved) {
          lassoPath.setAttribute("points", drag.path.map(([sx, sy]) => `${sx},${sy}`).join(" "));
          lasso.removeAttribute("hidden");
        }
      } else if (mode === "select" && drag.moved) {
        brush.hidden = false;
        brush.style.transform = `translate(${Math.min(px, drag.x)}px, ${Math.min(py, drag.y)}px)`;
        brush.style.width = `${Math.abs(px - drag.x)}px`;
        brush.style.height = `${Math.abs(py - drag.y)}px`;
      }
      if (hover !== null) setHover(null, px, py);
      return;
    }
    setHover(nearest(px, py), px, py);
    const stamp = event.timeStamp;
    requestAnimationFrame(() => pushStat(stats.hoverMs, performance.now() - stamp));
  });
  canvas.addEventListener("pointerleave", (event) => {
    if (!drag) setHover(null, ...local(event));
  });
  canvas.addEventListener("keydown", (event) => {
    const step = 40;
    const moves: Record<string, () => void> = {
      ArrowLeft: () => zoom.translateBy(zoomTarget, step / t.k, 0),
      ArrowRight: () => zoom.translateBy(zoomTarget, -step / t.k, 0),
      ArrowUp: () => zoom.translateBy(zoomTarget, 0, step / t.k),
      ArrowDown: () => zoom.translateBy(zoomTarget, 0, -step / t.k),
      "+": () => zoom.scaleBy(zoomTarget, 1.25),
      "=": () => zoom.scaleBy(zoomTarget, 1.25),
      "-": () => zoom.scaleBy(zoomTarget, 0.8),
      "0": () => zoom.transform(zoomTarget, d3.zoomIdentity),
      Escape: () => store.clear(),
      s: () => setMode("select"),
      l: () => setMode("lasso"),
      p: () => setMode("pan")
    };
    const action = moves[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // The shared state: followed while this element is on the page.
  let attached = false;
  const unsubscribe: (() => void)[] = [];
  const live = (): boolean => {
    if (root.isConnected) attached = true;
    else if (attached) {
      unsubscribe.forEach((u) => u());
      return false;
    }
    return true;
  };
  unsubscribe.push(
    store.follow("selection", () => {
      if (!live()) return;
      selected.fill(0);
      selectedCount = 0;
      for (const id of store.selection.ids) {
        const i = rowOf.get(id);
        if (i !== undefined) (selected[i] = 1), selectedCount++;
      }
      draw();
    }),
    store.follow("focus", () => {
      if (!live()) return;
      const focus = store.focus;
      focusRow = focus ? rowOf.get(focus.id) ?? null : null;
      neighbourRows = [];
      drawOverlay();
    }),
    store.follow("neighbours", () => {
      if (!live()) return;
      neighbourRows = (store.neighbours.get(key) ?? []).map((id) => rowOf.get(id)).filter((i): i is number => i !== undefined);
      drawOverlay();
    })
  );

  const handle: ScatterHandle = {
    key,
    map,
    toClient(x, y) {
      const rect = canvas.getBoundingClientRect();
      return [rect.left + t.applyX(bx(x)), rect.top + t.applyY(by(y))];
    },
    fromClient(clientX, clientY) {
      const rect = canvas.getBoundingClientRect();
      return [ux(t.invertX(clientX - rect.left)), uy(t.invertY(clientY - rect.top))];
    },
    stats,
    hovered: () => hover,
    highlighted: () => selectedCount
  };
  root.embedding = handle;
  return root;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
