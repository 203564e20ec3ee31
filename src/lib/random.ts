// Seeded pseudo-random numbers: the phantom, captions and splits must come out
// byte-identical from the same seed in Node and in the browser, which
// Math.random cannot promise.

/** A seeded generator of uniform, integer and normal draws. */
export interface Rng {
  /** Uniform in [0, 1); a plain function, so it can be passed where `() => number` is expected. */
  readonly next: () => number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Integer uniform in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** Normal draw (Box-Muller). */
  normal(mean?: number, sd?: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** +1 or -1 with equal probability. */
  sign(): 1 | -1;
  pick<T>(items: readonly T[]): T;
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** An independent generator whose stream depends on this one's seed and `label` only. */
  fork(label: string | number): Rng;
}

/** 32-bit hash of a seed (xmur3-style string hash with a murmur3 finaliser). */
export function hashSeed(seed: string | number): number {
  const text = typeof seed === "number" ? `n:${seed}` : `s:${seed}`;
  let h = 1779033703 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return (h ^ (h >>> 16)) >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG): 128-bit state, passes PractRand to 2^60+. */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A generator seeded from a number or a string (42 and "42" give different streams). */
export function createRng(seed: string | number): Rng {
  const key = typeof seed === "number" ? `n:${seed}` : `s:${seed}`;
  const next = sfc32(hashSeed(`${key}#0`), hashSeed(`${key}#1`), hashSeed(`${key}#2`), hashSeed(`${key}#3`));
  // Warm-up: sfc32's first outputs correlate with its seed words.
  for (let i = 0; i < 12; i++) next();
  let spare: number | null = null;
  const rng: Rng = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    normal(mean = 0, sd = 1) {
      if (spare !== null) {
        const z = spare;
        spare = null;
        return mean + sd * z;
      }
      let u = next();
      while (u <= 1e-12) u = next();
      const radius = Math.sqrt(-2 * Math.log(u));
      const angle = 2 * Math.PI * next();
      spare = radius * Math.sin(angle);
      return mean + sd * radius * Math.cos(angle);
    },
    chance: (p) => next() < p,
    sign: () => (next() < 0.5 ? -1 : 1),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error("Rng.pick: cannot pick from an empty list");
      return items[Math.floor(next() * items.length)]!;
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = items[i]!;
        items[i] = items[j]!;
        items[j] = tmp;
      }
      return items;
    },
    fork: (label) => createRng(`${key}/${label}`)
  };
  return rng;
}
