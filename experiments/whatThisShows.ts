// "What this shows" for pages whose comparisons are per-group means with 95% CIs over seeds: per
// group (env) and metric, the methods whose interval lies wholly above or below the reference's
// (a conservative reading: intervals that do not overlap), with the difference of the means, and
// the rest left undecided at the experiment's budget.

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
