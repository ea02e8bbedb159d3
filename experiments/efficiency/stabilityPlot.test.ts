// Each evaluation read against its run's threshold and stability floor, as the stability picture colours it.
import { describe, expect, it } from "vitest";
import { STATES, evaluationStates, stabilitySpec } from "./stabilityPlot.ts";

describe("efficiency stability picture", () => {
  it("names each evaluation: not reached yet, at or above, below since but above the floor, a fall", () => {
    const [before, at, since, fall] = STATES;
    expect(evaluationStates([0.1, 0.95, 0.85, 0.5, 0.9, 0.72], 0.9, 0.72)).toEqual([
      before,
      at,
      since,
      fall,
      at,
      since,
    ]);
    expect(evaluationStates([0.5, 0.6], 0.9, 0.72)).toEqual([before, before]);
    // Returns below zero (a floor under a negative target lies further down).
    expect(evaluationStates([-20, -8, -12, -13], -10, -12.5)).toEqual([before, at, since, fall]);
  });

  it("draws a panel per task, a row per run in its order, the four states in fixed colours", () => {
    const rows = [
      { task: "A", run: "DQN seed 0", order: 1000, step: 1000, state: STATES[0] },
      { task: "A", run: "agent seed 0", order: 0, step: 1000, state: STATES[3] },
    ];
    const spec = stabilitySpec(rows, { subtitle: "s" }) as unknown as {
      facet: { field: string };
      spec: { encoding: { y: { sort: { field: string } }; color: { scale: { domain: string[]; range: string[] } } } };
    };
    expect(spec.facet.field).toBe("task");
    expect(spec.spec.encoding.y.sort.field).toBe("order");
    expect(spec.spec.encoding.color.scale.domain).toEqual([...STATES]);
    expect(new Set(spec.spec.encoding.color.scale.range).size).toBe(4);
  });
});
