// The embedded demo model's acceptance targets on the phantom's held-out patients
// (issue 3): the test suite asserts them and the Zero-shot page shows them.
export const DEMO_TARGETS = {planesMacroF1: 0.9, subPlanesMacroF1: 0.75, gaValidRate: 0.8} as const;
