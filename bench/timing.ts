// Timing helpers for benchmarks: repeat a measurement, report the median (the machines are noisy).
import { performance } from "node:perf_hooks";

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `fn` (which does `work` units) `repeats` times after one warm-up; returns the median units/s. */
export function medianRate(fn: () => void, work: number, repeats = 5): number {
  fn();
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    fn();
    rates.push(work / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** Median milliseconds per call of `fn` over `repeats` calls after `warmup` calls. */
export function medianMs(fn: () => void, repeats = 20, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Prints rows as an aligned text table. */
export function printTable(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]!);
  const cell = (v: string | number) => (typeof v === "number" ? formatNumber(v) : v);
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]!).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i]!)).join("  ");
  console.log(line(keys));
  for (const r of rows) console.log(line(keys.map((k) => cell(r[k]!))));
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return v.toPrecision(3);
}
