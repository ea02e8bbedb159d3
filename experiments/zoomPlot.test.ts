import { describe, expect, it } from "vitest";
import type { EvalPoint } from "../agent/train.ts";
import { zoomRows } from "./zoomPlot.ts";

const point = (step: number, returns: number[], success: number, online?: EvalPoint["online"]): EvalPoint => ({
  step,
  updates: step,
  return: returns.reduce((a, b) => a + b, 0) / returns.length,
  success,
  returns,
  wallSeconds: 0,
  ...(online && { online }),
});

describe("zoomRows", () => {
  it("draws success rates with Wilson's interval, both weights where the online ones were evaluated", () => {
    const wins = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
    const { metric, rows } = zoomRows(
      [point(4000, wins, 0.6), point(4100, wins, 0.6, { return: 1, success: 1, returns: wins.map(() => 1) })],
      true,
    );
    expect(metric).toBe("success");
    expect(rows.map((r) => [r.step, r.weights, r.value])).toEqual([
      [4000, "averaged weights", 0.6],
      [4100, "averaged weights", 0.6],
      [4100, "online weights", 1],
    ]);
    expect(rows[0]!.lo).toBeCloseTo(0.3127, 4);
    expect(rows[0]!.hi).toBeCloseTo(0.8318, 4);
    expect(rows[2]!.lo).toBeCloseTo(0.7225, 4);
  });

  it("draws mean returns with Student's t interval where nothing ever succeeded (Breakout)", () => {
    const { metric, rows } = zoomRows([point(1000, [2, 4, 6], 0)], false);
    expect(metric).toBe("return");
    // mean 4, sd 2, t(2) = 4.303: 4 +- 4.303 * 2 / sqrt(3)
    const half = (4.303 * 2) / Math.sqrt(3);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ step: 1000, weights: "evaluation", value: 4 });
    expect(rows[0]!.lo).toBeCloseTo(4 - half, 6);
    expect(rows[0]!.hi).toBeCloseTo(4 + half, 6);
  });
});
