// What the Embeddings page's panels share: the selected images (by id, so a brush in
// one model's map highlights the same images in the other's), the image whose
// neighbours are shown, and each panel's zoom (kept when a panel is redrawn for a new
// colour or width). One small event target; cells follow it with Generators.observe.

export interface Selection {
  /** The map (its key) the selection was drawn in; its rows give the table and CSV. */
  source: string | null;
  /** Row indices in the source map, in row order. */
  rows: Int32Array;
  ids: ReadonlySet<string>;
  /** How it was made: "brush", "keyboard" (Escape clears), "clear". */
  how: string;
}

export interface Focus {
  /** The map the point was clicked in. */
  source: string;
  row: number;
  id: string;
}

export interface ZoomState {
  k: number;
  x: number;
  y: number;
}

export class EmbeddingSelection extends EventTarget {
  selection: Selection = {source: null, rows: new Int32Array(0), ids: new Set(), how: "clear"};
  focus: Focus | null = null;
  /** The focused image's nearest neighbours (ids) in each map, once computed. */
  readonly neighbours = new Map<string, string[]>();
  readonly zoom = new Map<string, ZoomState>();

  select(source: string | null, rows: Int32Array, ids: readonly string[], how: string): void {
    this.selection = {source, rows, ids: new Set(Array.from(rows, (r) => ids[r]!)), how};
    this.dispatchEvent(new Event("selection"));
  }

  clear(): void {
    this.select(null, new Int32Array(0), [], "clear");
  }

  setFocus(focus: Focus | null): void {
    this.focus = focus;
    this.neighbours.clear();
    this.dispatchEvent(new Event("focus"));
  }

  /** Marks the neighbours of the focused image in map `key`. */
  setNeighbours(key: string, ids: readonly string[]): void {
    this.neighbours.set(key, [...ids]);
    this.dispatchEvent(new Event("neighbours"));
  }

  /** Calls `listener` now and on every change of `type`; returns the unsubscribe function. */
  follow(type: "selection" | "focus" | "neighbours", listener: () => void): () => void {
    this.addEventListener(type, listener);
    listener();
    return () => this.removeEventListener(type, listener);
  }
}
