// Largest and mean absolute difference of two equal-length arrays (pixels, tensors).
export function absDiff(a: ArrayLike<number>, b: ArrayLike<number>): {max: number; mean: number} {
  if (a.length !== b.length) throw new Error(`absDiff: lengths differ (${a.length} vs ${b.length})`);
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return {max, mean: sum / a.length};
}
