import { describe, expect, it } from "vitest";
import { make, registeredIds } from "../envs/index.ts";
import { OraclePlanner } from "./baselines.ts";
import { actionArg, evaluatePolicy } from "./evaluate.ts";
import { actionSpecOf } from "./learner.ts";

const small = { horizon: 4, samples: 16, iterations: 2, elites: 4 };
const STOCHASTIC = ["CatchDrift-v0", "GridEmptySlippery-v0", "BreakoutSticky-v0", "PointMassNoisy-v0"];

describe("OraclePlanner", () => {
  it.each(registeredIds().filter((id) => !STOCHASTIC.includes(id)))(
    "%s: fresh random streams plan exactly as the clairvoyant oracle (deterministic dynamics)",
    (id) => {
      const plans = (planner: Record<string, unknown>) => {
        const env = make(id);
        const oracle = new OraclePlanner(id, actionSpecOf(env), 0.99, 3, planner);
        env.reset({ seed: 5 });
        const actions: number[][] = [];
        for (let t = 0; t < 4; t++) {
          const a = oracle.act(new Uint8Array(0), env);
          actions.push(a);
          const [, , terminated, truncated] = env.step(actionArg(env.actionSpace, a));
          if (terminated || truncated) break;
        }
        return actions;
      };
      expect(plans({ ...small, rollouts: 1 })).toEqual(plans(small));
    },
  );

  it("on a stochastic env the default oracle is clairvoyant and `rollouts` is not", () => {
    // CatchDrift with drift 0.5: knowing the ball's future draws, the oracle catches every ball; planning
    // over fresh draws it cannot react to a drift in the last row and misses some.
    const envOptions = { drift: 0.5 };
    const spec = actionSpecOf(make("CatchDrift-v0", envOptions));
    const planner = { horizon: 10, samples: 32, iterations: 2, elites: 4 };
    const success = (extra: Record<string, unknown>) =>
      evaluatePolicy(
        "CatchDrift-v0",
        new OraclePlanner("CatchDrift-v0", spec, 0.99, 0, { ...planner, ...extra }, envOptions),
        12,
        {
          envOptions,
        },
      ).success;
    expect(success({})).toBe(1);
    expect(success({ rollouts: 4 })).toBeLessThan(1);
  });

  it("refuses a bad rollout count", () => {
    expect(() => new OraclePlanner("Catch-v0", { kind: "discrete", n: 3 }, 0.99, 0, { rollouts: 0 })).toThrow(
      /'rollouts' must be an integer >= 1, got 0/,
    );
  });
});
