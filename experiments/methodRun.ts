// One learning curve of one method on one env, in the record format the agent experiments share:
// the imagination agent or DQN trained by the same loop, or a policy that does not learn (uniform
// random, or the oracle MPC planning in the true simulator), evaluated once and drawn flat.
import { make } from "../envs/index.ts";
import { actionSpecOf } from "../agent/learner.ts";
import { OraclePlanner, RandomPolicy } from "../agent/baselines.ts";
import { evaluatePolicy } from "../agent/evaluate.ts";
import type { EvalPoint } from "../agent/train.ts";
import { trainForRecord, type RunFiles } from "./runFiles.ts";

export const METHODS = ["agent", "dqn", "random", "oracle"] as const;
export type Method = (typeof METHODS)[number];

export interface MethodRun {
  env: string;
  method: Method;
  seed: number;
  /** Agent settings (agent/config.ts); env and seed are the run's own. */
  agent: Record<string, unknown>;
  /** Oracle MPC settings (agent/planner.ts). */
  oracle: Record<string, unknown>;
}

export interface CurveMetrics {
  evals: EvalPoint[];
  envSteps: number;
  updates: number;
  /** The env step the run went on from, when it continued from its checkpoint (the evaluations' wallSeconds count the whole run; the record's, this part). */
  resumedFrom?: number;
}

export async function runMethod(c: MethodRun, files: RunFiles = {}): Promise<CurveMetrics> {
  const agentCfg = c.agent as {
    steps?: number;
    evalEvery?: number;
    evalEpisodes?: number;
    envOptions?: Record<string, unknown>;
  };
  if (c.method === "random" || c.method === "oracle") {
    const spec = actionSpecOf(make(c.env, agentCfg.envOptions ?? {}));
    const policy =
      c.method === "random"
        ? new RandomPolicy(spec, c.seed)
        : new OraclePlanner(c.env, spec, 0.99, c.seed, c.oracle, agentCfg.envOptions ?? {});
    const t0 = performance.now();
    const e = evaluatePolicy(c.env, policy, agentCfg.evalEpisodes ?? 10, { envOptions: agentCfg.envOptions });
    const steps = agentCfg.steps ?? 3000;
    const point = (step: number): EvalPoint => ({
      step,
      updates: 0,
      return: e.return,
      success: e.success,
      returns: e.returns,
      wallSeconds: (performance.now() - t0) / 1000,
    });
    return { evals: [point(agentCfg.evalEvery ?? steps), point(steps)], envSteps: 0, updates: 0 };
  }
  const input = { ...c.agent, env: c.env, seed: c.seed, algorithm: c.method === "dqn" ? "dqn" : "planner" };
  const { agent, result } = await trainForRecord(input, files);
  agent.dispose();
  const { evals, envSteps, updates, resumedFrom } = result;
  return { evals, envSteps, updates, ...(resumedFrom !== undefined ? { resumedFrom } : {}) };
}
