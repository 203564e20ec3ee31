// The zero-shot macro F1 a probe is compared with: FetalCLIP's zero-shot test on the
// probe's own test rows, scored as its zero-shot scripts score it (five planes: top-1 over
// the 9 prompt classes, Other excluded; brain sub-planes: top-1 over the 3), from the
// table's embeddings and the class embeddings of the prompt ensembles.
import type {EmbeddingTableData} from "../embeddingTable.js";
import {classificationScores, confusionMatrix} from "../metrics.js";
import {BRAIN_SUBPLANE_CLASSES, FIVE_PLANES_CLASSES, SCORED_PLANES} from "../prompts.js";
import {predictLabels} from "../tasks/zeroShot.js";
import type {ZeroShotReference} from "./probe.js";

export interface ZeroShotSetup {
  /** The column holding the true labels. */
  column: string;
  /** Every prompt class, in order (distractors included). */
  classes: readonly string[];
  /** True labels that are scored. */
  scored: readonly string[];
  note: string;
}

/** The zero-shot test that goes with a probe task, or null when the task has none. */
export function zeroShotSetup(task: string): ZeroShotSetup | null {
  if (task === "six-planes") {
    return {column: "plane", classes: FIVE_PLANES_CLASSES, scored: SCORED_PLANES, note: "zero-shot on the same test patients: 5 planes (Other not scored), top-1 over 9 prompt classes, as FetalCLIP's zero-shot script"};
  }
  if (task === "brain-subplanes") {
    return {column: "sub_plane", classes: BRAIN_SUBPLANE_CLASSES, scored: BRAIN_SUBPLANE_CLASSES, note: "zero-shot on the same test patients: top-1 over the 3 brain sub-plane prompt classes"};
  }
  return null;
}

/** Zero-shot macro F1 over `rows` of the table (those whose label is scored), given the class embeddings in `setup.classes` order. */
export function zeroShotReference(table: EmbeddingTableData, rows: ArrayLike<number>, setup: ZeroShotSetup, classEmbeds: readonly Float32Array[]): ZeroShotReference | null {
  const column = table.columns.find((c) => c.name === setup.column);
  if (!column) return null;
  const dim = table.embedDim;
  const embeds: Float32Array[] = [];
  const labels: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const value = column.values[rows[i]!];
    if (typeof value !== "string" || !setup.scored.includes(value)) continue;
    embeds.push(table.embeddings.subarray(rows[i]! * dim, (rows[i]! + 1) * dim));
    labels.push(value);
  }
  if (embeds.length === 0) return null;
  const predicted = predictLabels(embeds, classEmbeds, setup.classes);
  const scores = classificationScores(confusionMatrix(labels, predicted, setup.classes));
  return {macroF1: scores.macroF1, f1: Object.fromEntries(scores.classes.map((c, i) => [c, scores.f1[i]!])), note: `${setup.note} (${embeds.length} images)`};
}
