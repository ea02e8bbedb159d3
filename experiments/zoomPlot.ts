// The picture `npm run zoom` draws: each evaluation of the stretch with its 95% interval over its
// own episodes (Wilson's for a success rate, Student's t for a mean return). One evaluation of 10
// episodes is a small sample; the band shows how small, next to the swings between evaluations.
import type { TopLevelSpec } from "vega-lite";
import type { EvalPoint } from "../agent/train.ts";
import { lineWithBand, type Row } from "./plots.ts";
import { ci95, mean, wilsonCi } from "./stats.ts";

/**
 * One row per evaluation and weights ("averaged weights" and, where recorded, "online weights"; a
 * run without evalAverage: "evaluation"). The success rate where any evaluation succeeded at all,
 * else the mean return (Breakout's, PointMass's).
 */
export function zoomRows(
  points: readonly EvalPoint[],
  averaged: boolean,
): { metric: "success" | "return"; rows: Row[] } {
  const metric = points.some((p) => p.success > 0 || (p.online?.success ?? 0) > 0) ? "success" : "return";
  const row = (step: number, weights: string, e: { success: number; returns: number[] }): Row => {
    const n = e.returns.length;
    if (metric === "success") {
      const [lo, hi] = wilsonCi(Math.round(e.success * n), n);
      return { step, weights, value: e.success, lo, hi };
    }
    const m = mean(e.returns);
    const half = ci95(e.returns);
    return { step, weights, value: m, lo: m - half, hi: m + half };
  };
  const rows = points.flatMap((p) => [
    row(p.step, averaged ? "averaged weights" : "evaluation", p),
    ...(p.online ? [row(p.step, "online weights", p.online)] : []),
  ]);
  return { metric, rows };
}

/** The stretch's evaluations as lines with their bands, titled with the run's env and seed. */
export function zoomSpec(
  points: readonly EvalPoint[],
  o: { env: string; envOptions?: Record<string, unknown>; seed: number; averaged: boolean; fromStep: number },
): TopLevelSpec {
  const { metric, rows } = zoomRows(points, o.averaged);
  const n = points[0]?.returns.length ?? 0;
  return lineWithBand(rows, {
    title: `${o.env}${options(o.envOptions)}, seed ${o.seed}: evaluations from step ${o.fromStep}`,
    subtitle: `${metric === "success" ? "success rate" : "mean return"} of each evaluation's ${n} episodes; band: its 95% interval (${metric === "success" ? "Wilson" : "Student's t"})`,
    x: "step",
    y: "value",
    lo: "lo",
    hi: "hi",
    color: "weights",
    xTitle: "env step",
    yTitle: metric === "success" ? "success rate" : "mean return",
  });
}

/** An env's options for a title: " (size 8)", or nothing. */
function options(envOptions: Record<string, unknown> | undefined): string {
  const set = Object.entries(envOptions ?? {});
  return set.length ? ` (${set.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(", ")})` : "";
}
