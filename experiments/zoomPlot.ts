// The pictures `npm run zoom` draws: each evaluation of the stretch with its 95% interval over its
// own episodes (Wilson's for a success rate, Student's t for a mean return): one evaluation of 10
// episodes is a small sample, and the band shows how small, next to the swings between
// evaluations. And each episode's return, layout by layout: which layouts those swings won and lost.
import type { TopLevelSpec } from "vega-lite";
import { evaluationSeeds } from "../agent/evaluate.ts";
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

/**
 * One row per evaluation, weights and episode: its return. Every evaluation plays the same layouts
 * (its episodes' seeds, evaluationSeeds), so a layout's row across steps shows what the weights
 * gained and lost between evaluations, where the success rate shows only how many.
 */
export function layoutRows(points: readonly EvalPoint[], averaged: boolean): Row[] {
  const rows = (step: number, weights: string, returns: readonly number[]): Row[] =>
    returns.map((value, e) => ({ step, weights, layout: `episode ${e}`, order: e, value }));
  return points.flatMap((p) => [
    ...rows(p.step, averaged ? "averaged weights" : "evaluation", p.returns),
    ...(p.online ? rows(p.step, "online weights", p.online.returns) : []),
  ]);
}

/** layoutRows as a grid: a cell per evaluation (columns) and episode (rows), coloured by its return; a panel per weights. */
export function layoutSpec(
  points: readonly EvalPoint[],
  o: { env: string; envOptions?: Record<string, unknown>; seed: number; averaged: boolean; fromStep: number },
): TopLevelSpec {
  const rows = layoutRows(points, o.averaged);
  const steps = [...new Set(rows.map((r) => r.step as number))];
  const seeds = evaluationSeeds(points[0]?.returns.length ?? 0);
  return {
    title: {
      text: `${o.env}${options(o.envOptions)}, seed ${o.seed}: each evaluation episode's return from step ${o.fromStep}`,
      subtitle: [
        `every evaluation plays the same layouts (env seeds ${seeds[0]}-${seeds.at(-1)}), greedily: a row is one layout`,
        "x: an episode that returned nothing (0 or less)",
      ],
    },
    data: { values: rows },
    facet: { row: { field: "weights", type: "nominal", title: null } },
    spec: {
      width: Math.max(220, 22 * steps.length),
      height: 16 * seeds.length,
      layer: [
        {
          mark: { type: "rect", stroke: "white", strokeWidth: 1 },
          encoding: {
            x: { field: "step", type: "ordinal", title: "env step" },
            y: { field: "layout", type: "ordinal", sort: { field: "order" }, title: null },
            color: { field: "value", type: "quantitative", title: "return", scale: { scheme: "viridis" } },
          },
        },
        {
          transform: [{ filter: "datum.value <= 0" }],
          mark: { type: "text", text: "x", color: "white", fontSize: 11 },
          encoding: {
            x: { field: "step", type: "ordinal" },
            y: { field: "layout", type: "ordinal", sort: { field: "order" } },
          },
        },
      ],
    },
  } as TopLevelSpec;
}
