// The trace splits the evaluation into its episodes and counts what each visited: here a policy that
// only turns left on GridEmpty-5x5 spins on its cell (4 observations, one per direction) to the time limit.
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { parseAgentConfig } from "./config.ts";
import { traceEvaluation } from "./evaluationTrace.ts";
import { buildAgent } from "./load.ts";
import { evaluateAgent } from "./train.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("traceEvaluation", () => {
  const config = parseAgentConfig({ env: "GridEmpty-v0", envOptions: { size: 5 }, evalEpisodes: 3 });

  it("gives each episode its seed, outcome, length and visits", () => {
    const agent = buildAgent(config);
    agent.act = () => [0]; // turn left, forever
    try {
      const trace = traceEvaluation(agent, config);
      expect(trace.map((t) => t.seed)).toEqual([1_000_000, 1_000_001, 1_000_002]);
      for (const t of trace) {
        expect(t).toMatchObject({ success: false, return: 0, distinct: 4 });
        expect(t.mostVisits).toBe(Math.ceil(t.length / 4));
        expect(t.length).toBeGreaterThan(20);
      }
    } finally {
      agent.dispose();
    }
  });

  it("agrees with the evaluation it traces", () => {
    const agent = buildAgent(config);
    try {
      const trace = traceEvaluation(agent, config);
      const { offline } = evaluateAgent(agent, config);
      expect(trace.map((t) => t.return)).toEqual(offline.returns);
      expect(trace.map((t) => t.length)).toEqual(offline.lengths);
      expect(trace.map((t) => t.success)).toEqual(offline.successes);
      for (const t of trace) expect(t.distinct).toBeLessThanOrEqual(t.length);
    } finally {
      agent.dispose();
    }
  });
});
