// The field's aggregate statistics over a suite of tasks (Agarwal et al., "Deep RL at the Edge of the
// Statistical Precipice", NeurIPS 2021; the rliable library). Scores are normalised per task
// (random = 0, oracle = 1) and held per task: byTask[m] = the runs (seeds) of task m.
//   IQM               mean of the middle 50% of all runs x tasks (iqm in stats.ts)
//   mean / median     of the per-task means;  optimality gap  g - mean(min(x, g)), g = 1
//   P(X > Y)          mean over tasks of (1 / NK) sum_i sum_j ([x_i > y_j] + 0.5 [x_i = y_j])
//                     (the Mann-Whitney U statistic over N x K pairs)
//   profile F(tau)    the fraction of runs x tasks with a score > tau
// Confidence intervals: stratified bootstrap, runs resampled with replacement within each task
// (tasks kept), percentile 95% intervals; P(X > Y) resamples X and Y independently.
import { Rng } from "../common/rng.ts";
import { iqm, mean, median } from "./stats.ts";

/** Scores per task: byTask[m][i] is run i of task m (tasks may have different numbers of runs). */
export type ScoresByTask = readonly (readonly number[])[];

/** (score - random) / (oracle - random): 0 at the random policy, 1 at the oracle. */
export function normalizeScore(score: number, random: number, oracle: number): number {
  if (!(Math.abs(oracle - random) > 1e-12))
    throw new RangeError(
      `normalizeScore: the oracle's score (${oracle}) equals the random policy's (${random}); no scale to normalise by`,
    );
  return (score - random) / (oracle - random);
}

const all = (s: ScoresByTask): number[] => s.flat();
const taskMeans = (s: ScoresByTask): number[] => s.map((runs) => mean(runs));

export const aggregateIqm = (s: ScoresByTask): number => iqm(all(s));
export const aggregateMean = (s: ScoresByTask): number => mean(taskMeans(s));
export const aggregateMedian = (s: ScoresByTask): number => median(taskMeans(s));
export const optimalityGap = (s: ScoresByTask, gamma = 1): number =>
  gamma - mean(all(s).map((x) => Math.min(x, gamma)));

/** P(X > Y): per task the probability that a run of X beats a run of Y (ties count half), averaged over tasks. */
export function probabilityOfImprovement(x: ScoresByTask, y: ScoresByTask): number {
  if (x.length !== y.length) throw new RangeError(`probabilityOfImprovement: ${x.length} tasks vs ${y.length}`);
  return mean(
    x.map((xs, m) => {
      let wins = 0;
      for (const a of xs) for (const b of y[m]!) wins += a > b ? 1 : a === b ? 0.5 : 0;
      return wins / (xs.length * y[m]!.length);
    }),
  );
}

/** The score distribution: for each tau, the fraction of all runs x tasks scoring above it. */
export function performanceProfile(s: ScoresByTask, taus: readonly number[]): number[] {
  const xs = all(s);
  return taus.map((t) => xs.filter((x) => x > t).length / xs.length);
}

export interface Interval {
  point: number;
  lo: number;
  hi: number;
}

export interface BootstrapOptions {
  seed?: number;
  reps?: number;
  /** Coverage of the interval (0.95: the 2.5% and 97.5% percentiles). */
  size?: number;
}

/** One stratified resample: every task keeps its number of runs, drawn with replacement from its own. */
function resample(s: ScoresByTask, rng: Rng): number[][] {
  return s.map((runs) => runs.map(() => runs[rng.int(runs.length)]!));
}

/** Percentile intervals of a vector statistic over `reps` resamples. */
function percentileIntervals(point: number[], draws: number[][], size: number): Interval[] {
  return point.map((p, k) => {
    const v = draws.map((d) => d[k]!).sort((a, b) => a - b);
    const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))]!;
    return { point: p, lo: at((1 - size) / 2), hi: at((1 + size) / 2) };
  });
}

/** A statistic of one method's scores with its stratified-bootstrap interval (per output value). */
export function stratifiedBootstrap(
  s: ScoresByTask,
  stat: (s: ScoresByTask) => number[],
  { seed = 0, reps = 2000, size = 0.95 }: BootstrapOptions = {},
): Interval[] {
  check(s, "stratifiedBootstrap");
  const rng = new Rng(seed);
  const draws = Array.from({ length: reps }, () => stat(resample(s, rng)));
  return percentileIntervals(stat(s), draws, size);
}

/** P(X > Y) with its interval: X and Y resampled independently within each task. */
export function probabilityOfImprovementCi(
  x: ScoresByTask,
  y: ScoresByTask,
  { seed = 0, reps = 2000, size = 0.95 }: BootstrapOptions = {},
): Interval {
  check(x, "probabilityOfImprovementCi");
  check(y, "probabilityOfImprovementCi");
  const rng = new Rng(seed);
  const draws = Array.from({ length: reps }, () => [probabilityOfImprovement(resample(x, rng), resample(y, rng))]);
  return percentileIntervals([probabilityOfImprovement(x, y)], draws, size)[0]!;
}

/** IQM, mean, median and optimality gap of one method, each with its interval. */
export function aggregates(
  s: ScoresByTask,
  opts: BootstrapOptions = {},
): { iqm: Interval; mean: Interval; median: Interval; optimalityGap: Interval } {
  const [a, b, c, d] = stratifiedBootstrap(
    s,
    (r) => [aggregateIqm(r), aggregateMean(r), aggregateMedian(r), optimalityGap(r)],
    opts,
  );
  return { iqm: a!, mean: b!, median: c!, optimalityGap: d! };
}

function check(s: ScoresByTask, where: string): void {
  if (s.length === 0) throw new RangeError(`${where}: no tasks`);
  s.forEach((runs, m) => {
    if (runs.length === 0) throw new RangeError(`${where}: task ${m} has no runs`);
    if (!runs.every(Number.isFinite)) throw new RangeError(`${where}: task ${m} has a score that is not finite`);
  });
}
