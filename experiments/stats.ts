// Summary statistics over seeds: mean, standard deviation, 95% confidence interval (Student's t),
// interquartile mean (Agarwal et al. 2021).

// Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Half-width of the 95% confidence interval of the mean (0 for a single value). */
export function ci95(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const t = T975[Math.min(xs.length - 1, T975.length) - 1] ?? 1.96;
  return (t * std(xs)) / Math.sqrt(xs.length);
}

/**
 * Wilson's 95% score interval for a success rate of `successes` in `n` trials: inside [0, 1], and not
 * empty at 0 or n (10 of 10 gives [0.72, 1]), where the normal approximation's is.
 */
export function wilsonCi(successes: number, n: number): [number, number] {
  const z = 1.959964;
  const p = successes / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The median (the mean of the two middle values for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Mean of the middle 50% (interquartile mean), with fractional weights at the cut points. */
export function iqm(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const lo = n / 4;
  const hi = (3 * n) / 4;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.max(0, Math.min(i + 1, hi) - Math.max(i, lo));
    total += w * s[i]!;
  }
  return total / (hi - lo);
}

export interface Summary {
  n: number;
  mean: number;
  std: number;
  ci95: number;
}

export function summarise(xs: readonly number[]): Summary {
  return { n: xs.length, mean: mean(xs), std: std(xs), ci95: ci95(xs) };
}

/** Groups items by a key. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * The mean over seeds with its 95% bootstrap CI (seed 1). Missing values (NaN, or null: JSON's NaN)
 * are left out; none left gives NaN everywhere.
 */
export function meanWithCi(xs: readonly (number | null | undefined)[]): { mean: number; lo: number; hi: number } {
  const ok = xs.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  if (ok.length === 0) return { mean: NaN, lo: NaN, hi: NaN };
  const [lo, hi] = bootstrapCi(ok, 1);
  return { mean: mean(ok), lo, hi };
}

/** 95% percentile-bootstrap interval of the mean (Efron), from a seeded Rng; [mean, mean] for one value. */
export function bootstrapCi(xs: readonly number[], seed = 0, resamples = 2000): [number, number] {
  if (xs.length < 2) return [mean(xs), mean(xs)];
  let state = (seed * 2654435761 + 1) >>> 0;
  const next = () => {
    // xorshift32: a tiny, self-contained generator (the CI only needs to be reproducible).
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(next() * xs.length)]!;
    means.push(s / xs.length);
  }
  means.sort((a, b) => a - b);
  return [means[Math.floor(0.025 * resamples)]!, means[Math.min(resamples - 1, Math.floor(0.975 * resamples))]!];
}
