// efficiency-stability.png: every run's evaluations against its task's threshold, one cell each, so
// that target 3 (stable once solved) can be read run by run: where each run first got there, where
// it dipped, and where it fell below the stability floor.
import type { TopLevelSpec } from "vega-lite";
import type { Row } from "../plots.ts";

/** What one evaluation was against its run's threshold (in the threshold's metric). */
export const STATES = [
  "below, not reached yet",
  "at or above the threshold",
  "below since, above the floor",
  "below the floor (a fall)",
] as const;
const COLOURS = ["#d9d9d9", "#4c9f70", "#f2c14e", "#d1495b"];

/**
 * Each evaluation's state (STATES) for a run whose evaluations scored `values` in the threshold's
 * metric, against `target` and the stability `floor`.
 */
export function evaluationStates(values: readonly number[], target: number, floor: number): (typeof STATES)[number][] {
  let reached = false;
  return values.map((v) => {
    if (v >= target) {
      reached = true;
      return STATES[1];
    }
    if (!reached) return STATES[0];
    return v < floor ? STATES[3] : STATES[2];
  });
}

/** Rows {task, run, order, step, state} as a grid: a panel per task, a row per run, a cell per evaluation. */
export function stabilitySpec(rows: Row[], o: { subtitle: string }): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Efficiency: each run's evaluations against its task's threshold",
      subtitle: o.subtitle,
    },
    data: { values: rows },
    facet: { field: "task", type: "nominal", title: null },
    columns: 2,
    spec: {
      width: { step: 7 },
      height: { step: 11 },
      mark: { type: "rect", stroke: "white", strokeWidth: 0.5 },
      encoding: {
        x: {
          field: "step",
          type: "ordinal",
          title: "env step",
          axis: { labelExpr: "datum.value % 10000 ? '' : datum.value", labelAngle: 0 },
        },
        y: { field: "run", type: "ordinal", sort: { field: "order" }, title: null },
        color: {
          field: "state",
          type: "nominal",
          title: null,
          scale: { domain: [...STATES], range: COLOURS },
          legend: { orient: "top", direction: "horizontal", labelLimit: 400, columns: 4 },
        },
      },
    },
    resolve: { scale: { x: "independent" } },
  } as TopLevelSpec;
}
