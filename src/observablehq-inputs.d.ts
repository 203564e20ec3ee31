// The part of @observablehq/inputs (which ships no types) that the components use.
declare module "@observablehq/inputs" {
  /** A sortable, lazily rendered table of rows (plain objects). */
  export function table(data: readonly object[], options?: {columns?: string[]; header?: Record<string, string>; rows?: number; layout?: "auto" | "fixed"; format?: Record<string, (value: never) => string>}): HTMLElement;
}
