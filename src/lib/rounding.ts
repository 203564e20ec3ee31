// Rounding to the nearest integer with ties to even: Python's round(), numpy's rint,
// OpenCV's cvRound (the SSE conversion) and ONNX QuantizeLinear all round this way;
// JavaScript's Math.round sends ties up.

/** Nearest integer, halves to the even neighbour (2.5 -> 2, 3.5 -> 4, -2.5 -> -2). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
