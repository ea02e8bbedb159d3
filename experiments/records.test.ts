import { describe, expect, it } from "vitest";
import { runSeconds } from "./records.ts";

describe("runSeconds", () => {
  it("counts a continued run's whole time from its evaluations, a run in one go from its record", () => {
    // Continued from step 40000: the record timed the last part, the evaluations the whole run.
    const continued = {
      wallSeconds: 3356,
      metrics: { evals: [{ wallSeconds: 100 }, { wallSeconds: 33338 }], resumedFrom: 40000 },
    };
    expect(runSeconds(continued)).toBe(33338);
    // In one go the record ends after its last evaluation.
    expect(runSeconds({ wallSeconds: 1194.3, metrics: { evals: [{ wallSeconds: 1194.1 }] } })).toBe(1194.3);
    // Records without evaluations (references, other experiments) keep their own time.
    expect(runSeconds({ wallSeconds: 12, metrics: { return: 1 } })).toBe(12);
    expect(runSeconds({ wallSeconds: 12, metrics: { evals: [] } })).toBe(12);
  });
});
