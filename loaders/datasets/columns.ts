// The metadata columns every dataset shares, by the same names, where it has them.

/**
 * Metadata columns, in table order; a dataset has the ones its labels give. `diagnosis`
 * (normal, vsd, hlhs) and `chd` (normal, chd) are the CHD phantom set's.
 */
export const DATASET_COLUMNS = ["plane", "sub_plane", "patient", "split", "ga_days", "hc_mm", "spacing_mm", "operator", "machine", "centre", "diagnosis", "chd"] as const;
export type DatasetColumn = (typeof DATASET_COLUMNS)[number];
/** Columns holding numbers (days, millimetres, millimetres per pixel); the others hold text. */
export const NUMERIC_COLUMNS: ReadonlySet<DatasetColumn> = new Set(["ga_days", "hc_mm", "spacing_mm"]);

export type MetadataValue = string | number | null;

export interface DatasetImage {
  /** Path relative to the dataset root, '/' separators: stable across machines and runs. */
  id: string;
  /** Absolute path of the file. */
  path: string;
  meta: Partial<Record<DatasetColumn, MetadataValue>>;
}
