// How many augmented copies of each training image a probe trains on, as users ask for it:
// `--augment paper|N` on the command line, FETALCLIP_PROBE_AUGMENT for the Probes page.
// Light on purpose: the CLI parses its options with it before any probe code loads.

/** FetalCLIP's notebooks: 5 augmented copies per training image for probing, 10 for few-data training. */
export const OFFICIAL_AUGMENT_COPIES = {full: 5, fewShot: 10} as const;

/** Most augmented copies per image a job makes. */
export const MAX_AUGMENT_COPIES = 100;

/** "paper" (the notebooks' 5 and 10), N copies for both, or the two counts. */
export type AugmentChoice = number | "paper" | {full: number; fewShot: number};

/** "paper" or a whole number of copies from 0 to MAX_AUGMENT_COPIES; null for anything else. */
export function parseAugmentChoice(text: string): number | "paper" | null {
  if (text === "paper") return "paper";
  const n = Number(text);
  return text.trim() !== "" && Number.isInteger(n) && n >= 0 && n <= MAX_AUGMENT_COPIES ? n : null;
}

/** The copies per training image a choice means, for the full-data probe and for the few-shot curve. */
export function augmentCopiesOf(choice: AugmentChoice): {full: number; fewShot: number} {
  if (choice === "paper") return {...OFFICIAL_AUGMENT_COPIES};
  if (typeof choice === "number") return {full: choice, fewShot: choice};
  return {...choice};
}
