// Suite-level view of learning runs, shared by the agent experiments (efficiency, E4): returns
// normalised per task (random = 0, oracle MPC = 1, both measured in the same run), then the
// aggregate statistics of experiments/aggregate.ts: IQM and mean with stratified-bootstrap 95% CIs,
// the probability of improvement over a reference method, and the performance profile, as a
// Markdown section and two plots.
//   final: the run's last evaluation;  area: the mean over all its evaluations (the area under its
//   learning curve, higher when a run gets there sooner).
import {
  aggregates,
  normalizeScore,
  performanceProfile,
  probabilityOfImprovementCi,
  stratifiedBootstrap,
  type Interval,
  type ScoresByTask,
} from "./aggregate.ts";
import { lineWithBand, pointsWithErrors, renderPlot, type Row } from "./plots.ts";
import { mean } from "./stats.ts";
import { markdownTable } from "./tables.ts";
import { findingsSection } from "./whatThisShows.ts";

export interface SuiteRun {
  task: string;
  method: string;
  evals: readonly { return: number }[];
}

/** One method's normalised scores per task. */
export interface MethodScores {
  final: Map<string, number[]>;
  area: Map<string, number[]>;
}

/**
 * Normalised scores of the learning methods' runs, on the tasks whose random and oracle returns
 * differ (elsewhere there is no scale); the reference returns are the means of those methods' runs.
 */
export function normaliseRuns(
  runs: readonly SuiteRun[],
  references: { random: string; oracle: string } = { random: "random", oracle: "oracle" },
): Map<string, MethodScores> {
  const refMean = (task: string, method: string) => {
    const xs = runs.filter((r) => r.task === task && r.method === method).map((r) => r.evals.at(-1)!.return);
    return xs.length ? mean(xs) : NaN;
  };
  const out = new Map<string, MethodScores>();
  for (const task of new Set(runs.map((r) => r.task))) {
    const random = refMean(task, references.random);
    const oracle = refMean(task, references.oracle);
    if (!(Math.abs(oracle - random) > 1e-9)) continue;
    for (const r of runs) {
      if (r.task !== task || r.method === references.random || r.method === references.oracle) continue;
      const s = out.get(r.method) ?? { final: new Map(), area: new Map() };
      const score = (x: number) => normalizeScore(x, random, oracle);
      s.final.set(task, [...(s.final.get(task) ?? []), score(r.evals.at(-1)!.return)]);
      s.area.set(task, [...(s.area.get(task) ?? []), score(mean(r.evals.map((e) => e.return)))]);
      out.set(r.method, s);
    }
  }
  return out;
}

/**
 * The scores on the tasks every method ran, the tasks left out, and which tasks the aggregates span: an IQM over one method's 7 tasks and another's 4 would compare the task sets as
 * much as the methods. With no task in common, each method keeps its own.
 */
export function onCommonTasks(scores: Map<string, MethodScores>): {
  scores: Map<string, MethodScores>;
  tasks: string[];
  leftOut: string[];
  span: string;
} {
  const all = [...new Set([...scores.values()].flatMap((s) => [...s.final.keys()]))].sort();
  const tasks = all.filter((t) => [...scores.values()].every((s) => s.final.has(t)));
  if (!tasks.length)
    return { scores, tasks: all, leftOut: [], span: "each method's own tasks (no task did every method run)" };
  const keep = (m: Map<string, number[]>) => new Map(tasks.map((t) => [t, m.get(t)!]));
  return {
    scores: new Map([...scores].map(([method, s]) => [method, { final: keep(s.final), area: keep(s.area) }])),
    tasks,
    leftOut: all.filter((t) => !tasks.includes(t)),
    span: `the ${tasks.length} tasks every method ran`,
  };
}

/** Where a probability of improvement stands: its 95% CI wholly above 0.5, wholly below, or holding it. */
export function sideOfHalf(p: Interval): "better" | "worse" | "undecided" {
  return p.lo > 0.5 ? "better" : p.hi < 0.5 ? "worse" : "undecided";
}

/** An interval as the pages print it: "0.12 [0.05, 0.20]". */
export const showInterval = (v: Interval) => `${v.point.toFixed(2)} [${v.lo.toFixed(2)}, ${v.hi.toFixed(2)}]`;

/** P(method > against) on the tasks both ran, final and area; undefined when they share none. */
function improvement(x: MethodScores, y: MethodScores): { tasks: number; final: Interval; area: Interval } | undefined {
  const shared = [...x.final.keys()].filter((t) => y.final.has(t));
  if (!shared.length) return undefined;
  const pick = (m: Map<string, number[]>): ScoresByTask => shared.map((t) => m.get(t)!);
  return {
    tasks: shared.length,
    final: probabilityOfImprovementCi(pick(x.final), pick(y.final), { seed: 1 }),
    area: probabilityOfImprovementCi(pick(x.area), pick(y.area), { seed: 1 }),
  };
}

/** Each method's aggregates (final and area) and its P(> against), computed once for the page and the plots. */
function estimates(scores: Map<string, MethodScores>, against?: string) {
  const reference = against ? scores.get(against) : undefined;
  return [...scores].map(([method, s]) => ({
    method,
    tasks: s.final.size,
    final: aggregates([...s.final.values()], { seed: 1 }),
    area: aggregates([...s.area.values()], { seed: 1 }),
    improvement: reference && method !== against ? improvement(s, reference) : undefined,
  }));
}

/** The Markdown section: a table per method, and P(method > against) for every other method. */
export function aggregateSection(allScores: Map<string, MethodScores>, against?: string): string[] {
  if (!allScores.size) return [];
  const { scores, leftOut, span } = onCommonTasks(allScores);
  const reference = against ? scores.get(against) : undefined;
  const rows: Row[] = estimates(scores, against).map((e) => ({
    method: e.method,
    tasks: e.tasks,
    "IQM final": showInterval(e.final.iqm),
    "mean final": showInterval(e.final.mean),
    "optimality gap final": showInterval(e.final.optimalityGap),
    "IQM area": showInterval(e.area.iqm),
    ...(reference ? { [`P(> ${against}) final`]: e.improvement ? showInterval(e.improvement.final) : "-" } : {}),
    ...(reference ? { [`P(> ${against}) area`]: e.improvement ? showInterval(e.improvement.area) : "-" } : {}),
  }));
  return [
    "",
    "## Across tasks (normalised: random = 0, oracle MPC = 1)",
    "",
    `Point estimate [95% CI], stratified bootstrap over seeds within each task (Agarwal et al., NeurIPS 2021). \`final\`: the last evaluation's return; \`area\`: the mean return over all evaluations of a run (the area under its learning curve: higher when a run gets there sooner). Tasks where random and oracle score alike have no scale and are left out. The oracle plans in the true simulator with a short horizon, so a learner can score above 1.${reference ? ` P(> ${against}): the probability that a run of the method beats a run of ${against} on the same task, averaged over the tasks both ran (0.5: neither is better; an interval holding 0.5 leaves it undecided).` : ""}`,
    "",
    `Over ${span}${leftOut.length ? ` (left out: ${leftOut.join(", ")}, which not every method ran)` : ""}.`,
    "",
    markdownTable(rows),
    "Plots: `*-aggregate.png` (the table's estimates with their intervals), `*-profile.png` (performance profile of the final scores: the fraction of runs x tasks above each normalised score, with 95% CIs).",
    "",
  ];
}

/** `<outPrefix>-aggregate.png` (IQM, and P(> against)) and `<outPrefix>-profile.png`. */
export async function aggregatePlots(
  allScores: Map<string, MethodScores>,
  outPrefix: string,
  title: string,
  against?: string,
): Promise<string[]> {
  if (!allScores.size) return [];
  const { scores, span } = onCommonTasks(allScores);
  const reference = against ? scores.get(against) : undefined;
  const points: Row[] = estimates(scores, against).flatMap(({ method, final, area, improvement: p }) => [
    { statistic: "IQM final", method, ...interval(final.iqm) },
    { statistic: "IQM area", method, ...interval(area.iqm) },
    ...(p
      ? [
          { statistic: `P(> ${against}) final`, method, ...interval(p.final) },
          { statistic: `P(> ${against}) area`, method, ...interval(p.area) },
        ]
      : []),
  ]);
  const all = [...scores.values()].flatMap((s) => [...s.final.values()].flat());
  const { taus, beyond, max } = profileTaus(all);
  const profile: Row[] = [];
  for (const [method, s] of scores) {
    const cis = stratifiedBootstrap([...s.final.values()], (r) => performanceProfile(r, taus), { seed: 1 });
    cis.forEach((c, i) => profile.push({ method, tau: taus[i]!, ...interval(c) }));
  }
  return [
    ...(await renderPlot(
      pointsWithErrors(points, {
        title: `${title}: aggregate scores across tasks (normalised: random 0, oracle MPC 1)`,
        subtitle: `${span}; point estimate with its 95% stratified-bootstrap CI; P(> ${against ?? "-"}): dashed at 0.5, neither is better`,
        x: "method",
        y: "value",
        lo: "lo",
        hi: "hi",
        facet: "statistic",
        references: reference
          ? ["final", "area"].map((what) => ({ y: 0.5, label: "0.5", facetValue: `P(> ${against}) ${what}` }))
          : undefined,
      }),
      `${outPrefix}-aggregate`,
    )),
    ...(await renderPlot(
      lineWithBand(profile, {
        title: `${title}: performance profile of final scores`,
        subtitle: [
          "fraction of runs x tasks with a normalised score above tau; band: 95% stratified-bootstrap CI",
          ...(beyond > 0
            ? [`${beyond} of the ${all.length} runs score beyond the axis (up to ${max.toFixed(1)})`]
            : []),
        ],
        x: "tau",
        y: "value",
        lo: "lo",
        hi: "hi",
        color: "method",
        xTitle: "normalised score tau (random 0, oracle MPC 1)",
        yTitle: "fraction of runs above tau",
      }),
      `${outPrefix}-profile`,
    )),
  ];
}

/**
 * The performance profile's tau axis, 41 points from min(0, lowest score) to the highest (at least
 * 1); where the highest is more than twice the 90th percentile (a task whose oracle plans poorly,
 * so that a learner scores many times its return), to that percentile instead, so that those few
 * runs do not squeeze every other into the axis's first tenth. `beyond` counts the runs past the
 * axis, `max` is the highest score.
 */
export function profileTaus(all: readonly number[]): { taus: number[]; beyond: number; max: number } {
  const sorted = [...all].sort((a, b) => a - b);
  const lo = Math.min(0, sorted[0] ?? 0);
  const max = sorted[sorted.length - 1] ?? 1;
  const p90 = Math.max(1, sorted[Math.floor(0.9 * (sorted.length - 1))] ?? 1);
  const hi = max > 2 * p90 ? p90 : Math.max(1, max);
  return {
    taus: Array.from({ length: 41 }, (_, i) => lo + ((hi - lo) * i) / 40),
    beyond: sorted.filter((x) => x > hi).length,
    max,
  };
}

const interval = (v: Interval) => ({ value: v.point, lo: v.lo, hi: v.hi });

/**
 * "What this shows", read off the intervals: which methods' P(> against) excludes 0.5 (final and
 * area), and which stay undecided, at the budget described by `budget`.
 */
export function whatThisShows(allScores: Map<string, MethodScores>, against: string, budget: string): string[] {
  const { scores } = onCommonTasks(allScores);
  const reference = scores.get(against);
  if (!reference) return [];
  const better: string[] = [];
  const worse: string[] = [];
  const undecided: string[] = [];
  for (const [method, s] of scores) {
    if (method === against) continue;
    const p = improvement(s, reference);
    if (!p) continue;
    for (const [what, v] of [
      ["final", p.final],
      ["area", p.area],
    ] as const) {
      const text = `${method} (${what}: P = ${showInterval(v)}, ${p.tasks} tasks)`;
      const side = sideOfHalf(v);
      if (side === "better") better.push(text);
      else if (side === "worse") worse.push(text);
      else undecided.push(`${method} (${what})`);
    }
  }
  return findingsSection(
    `At ${budget}, read off the probability of improvement over ${against} (95% CIs that exclude 0.5):`,
    {
      [`Better than ${against}`]: better,
      [`Worse than ${against}`]: worse,
      "Undecided at this budget": undecided,
    },
  );
}
