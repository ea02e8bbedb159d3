import { describe, expect, it } from "vitest";
import type { EvalPoint } from "../agent/train.ts";
import { layoutRows, layoutSpec, zoomRows } from "./zoomPlot.ts";

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

describe("layoutRows", () => {
  it("gives every episode of every evaluation its own cell, by weights, in the episodes' order", () => {
    const online = { return: 0.5, success: 0.5, returns: [0, 1] };
    const rows = layoutRows([point(100, [1, 0], 0.5), point(200, [0.5, 0.25], 1, online)], true);
    expect(rows.map((r) => [r.step, r.weights, r.layout, r.value])).toEqual([
      [100, "averaged weights", "episode 0", 1],
      [100, "averaged weights", "episode 1", 0],
      [200, "averaged weights", "episode 0", 0.5],
      [200, "averaged weights", "episode 1", 0.25],
      [200, "online weights", "episode 0", 0],
      [200, "online weights", "episode 1", 1],
    ]);
    expect(layoutRows([point(100, [2], 0)], false)[0]!.weights).toBe("evaluation");
  });

  it("names the layouts' env seeds and marks the episodes that returned nothing", () => {
    const spec = layoutSpec([point(100, [1, 0, 0.5], 2 / 3)], {
      env: "GridDoorKey-v0",
      envOptions: { size: 8 },
      seed: 3,
      averaged: false,
      fromStep: 100,
    }) as unknown as { title: { text: string; subtitle: string[] }; spec: { layer: { transform?: unknown }[] } };
    expect(spec.title.text).toBe("GridDoorKey-v0 (size 8), seed 3: each evaluation episode's return from step 100");
    expect(spec.title.subtitle[0]).toContain("env seeds 1000000-1000002");
    expect(spec.spec.layer[1]!.transform).toEqual([{ filter: "datum.value <= 0" }]);
  });
});
