// "What this shows" for pages whose comparisons are per-group means with 95% CIs over seeds: per
// group (env) and metric, the methods whose interval lies wholly above or below the reference's
// (a conservative reading: intervals that do not overlap), with the difference of the means, and
// the rest left undecided at the experiment's budget. pairedWith reads methods run on the same seeds
// by their per-seed differences instead.
import { ci95, mean } from "./stats.ts";

export interface CiCell {
  group: string;
  method: string;
  metric: string;
  mean: number;
  lo: number;
  hi: number;
}

/** Four significant digits below 1 (differences of a few thousandths stay visible), fewer decimals above. */
const fmt = (x: number) =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x === 0 ? "0" : x.toPrecision(4);

export function separatedFrom(cells: readonly CiCell[], reference: string, budget: string, note = ""): string[] {
  const above: string[] = [];
  const below: string[] = [];
  const undecided = new Map<string, string[]>();
  const keyOf = (c: CiCell) => `${c.group}|${c.metric}`;
  const refs = new Map(cells.filter((c) => c.method === reference).map((c) => [keyOf(c), c]));
  for (const c of cells) {
    const r = refs.get(keyOf(c));
    if (c.method === reference || !r || ![c.lo, c.hi, r.lo, r.hi].every(Number.isFinite)) continue;
    const text = `${c.group} ${c.metric}: ${c.method} ${fmt(c.mean)} [${fmt(c.lo)}, ${fmt(c.hi)}] vs ${fmt(r.mean)} [${fmt(r.lo)}, ${fmt(r.hi)}] (difference ${c.mean - r.mean >= 0 ? "+" : ""}${fmt(c.mean - r.mean)})`;
    if (c.lo > r.hi) above.push(text);
    else if (c.hi < r.lo) below.push(text);
    else undecided.set(`${c.group} ${c.metric}`, [...(undecided.get(`${c.group} ${c.metric}`) ?? []), c.method]);
  }
  return findingsSection(`At ${budget}, against ${reference} (95% CIs over seeds that do not overlap)${note}:`, {
    [`Higher than ${reference}`]: above,
    [`Lower than ${reference}`]: below,
    "Undecided (intervals overlap)": [...undecided].map(([k, methods]) => `${k}: ${methods.join(", ")}`),
  });
}

/** One run's value of a metric: the run's method, its seed, and the group (env) it belongs to. */
export interface SeedCell {
  group: string;
  method: string;
  metric: string;
  seed: number;
  value: number;
}

/**
 * For methods measured on the same seeds (paired: e.g. one trained agent planning in every mode):
 * per group and metric, the mean of each method's per-seed differences from the reference's, with a
 * 95% Student's t interval over the seeds both have; higher or lower where it excludes 0. Sharper than
 * comparing the two means' intervals, since what a seed shares across methods cancels. (t rather than
 * the bootstrap: over 5 seeds a percentile bootstrap interval is about 0.6 of the t interval's width.)
 */
export function pairedWith(cells: readonly SeedCell[], reference: string, budget: string, note = ""): string[] {
  const above: string[] = [];
  const below: string[] = [];
  const undecided = new Map<string, string[]>();
  const runs = new Map<string, Map<number, number>>();
  for (const c of cells) {
    if (!Number.isFinite(c.value)) continue;
    const key = `${c.group}|${c.metric}|${c.method}`;
    if (!runs.has(key)) runs.set(key, new Map());
    runs.get(key)!.set(c.seed, c.value);
  }
  for (const [key, bySeed] of runs) {
    const [group, metric, method] = key.split("|") as [string, string, string];
    const ref = runs.get(`${group}|${metric}|${reference}`);
    if (method === reference || !ref) continue;
    const diffs = [...bySeed].filter(([seed]) => ref.has(seed)).map(([seed, v]) => v - ref.get(seed)!);
    // Differences of equal values summed in another order leave ~1e-17, not 0.
    const tidy = (x: number) => (Math.abs(x) < 1e-12 ? 0 : x);
    const m = tidy(mean(diffs));
    const [lo, hi] = [tidy(m - ci95(diffs)), tidy(m + ci95(diffs))];
    const text = `${group} ${metric}: ${method} minus ${reference} ${m >= 0 ? "+" : ""}${fmt(m)} [${fmt(lo)}, ${fmt(hi)}] over ${diffs.length} seeds`;
    if (diffs.length >= 2 && lo > 0) above.push(text);
    else if (diffs.length >= 2 && hi < 0) below.push(text);
    else undecided.set(`${group} ${metric}`, [...(undecided.get(`${group} ${metric}`) ?? []), text.split(": ")[1]!]);
  }
  return findingsSection(
    `At ${budget}, against ${reference}, paired by seed (the mean per-seed difference, and its 95% t interval over seeds where it excludes 0)${note}:`,
    {
      [`Higher than ${reference}`]: above,
      [`Lower than ${reference}`]: below,
      "Undecided (the interval holds 0)": [...undecided].map(([k, xs]) => `${k}: ${xs.join("; ")}`),
    },
  );
}

/** The "What this shows" section: an intro line, then each heading with its findings ("none" if empty). */
export function findingsSection(intro: string, findings: Record<string, string[]>): string[] {
  return [
    "",
    "## What this shows",
    "",
    intro,
    "",
    ...Object.entries(findings).flatMap(([heading, xs]) => [
      `- ${heading}:`,
      ...(xs.length ? xs.map((x) => `  - ${x}`) : ["  - none"]),
    ]),
    "",
  ];
}
