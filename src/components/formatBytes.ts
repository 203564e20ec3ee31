// File sizes for people: kB under 1 MB (so a 4.7 kB vocabulary is not "0.00 MB"), MB above.
// Decimal units (1 kB = 1000 bytes), as browsers' download panels and `ls --si` show them.
export function formatBytes(bytes: number): string {
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(bytes < 1e4 ? 1 : 0)} kB`;
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}
