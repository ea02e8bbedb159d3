// Reference policies that do not learn, evaluated like the agents:
// - random: uniform actions (the floor);
// - oracle MPC: the same MPPI/CEM planner, scoring each sequence in the true simulator (the env's
//   state saved and restored per sequence): the upper bound of planning at that horizon and budget.
//   Restoring the state restores the env's random stream too, so on a stochastic env the oracle sees
//   the very draws the real env will make (clairvoyant). With `rollouts: k` each sequence is scored
//   by k rollouts from the state under fresh random streams instead (mean score): an oracle of the
//   true dynamics, not of the future. On deterministic envs the two coincide.
import { Rng } from "../common/rng.ts";
import { makeBare, withRandomStream, type Env, type TypedArray } from "../envs/index.ts";
import type { Policy } from "./evaluate.ts";
import { actionArg } from "./evaluate.ts";
import { Planner, PlannerConfig, type ActionSpec } from "./planner.ts";

export class RandomPolicy implements Policy {
  private readonly rng: Rng;
  constructor(
    readonly spec: ActionSpec,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }
  act(): number[] {
    const s = this.spec;
    return s.kind === "discrete" ? [this.rng.int(s.n)] : s.low.map((lo, j) => this.rng.uniform(lo, s.high[j]!));
  }
}

/** Oracle settings: a long horizon (no value function to bootstrap from) and a larger sample budget. */
export const ORACLE_PLANNER = { horizon: 20, iterations: 4, samples: 256, elites: 16, policySamples: 0 };

export class OraclePlanner implements Policy {
  private readonly sim: Env<TypedArray, unknown>;
  readonly planner: Planner;
  readonly horizon: number;
  /** Rollouts per sequence under fresh random streams; undefined: one, clairvoyant. */
  readonly rollouts: number | undefined;
  /** Seeds of the fresh random streams (apart from the planner's, whose plans stay as they were). */
  private readonly streams: Rng;

  constructor(
    readonly envId: string,
    readonly spec: ActionSpec,
    readonly gamma: number,
    seed: number,
    planner: Partial<PlannerConfig> & { rollouts?: number } = {},
    envOptions: Record<string, unknown> = {},
  ) {
    this.sim = makeBare(envId, envOptions);
    const { rollouts, ...plannerSettings } = planner;
    if (rollouts !== undefined && !(Number.isInteger(rollouts) && rollouts >= 1))
      throw new RangeError(`OraclePlanner: 'rollouts' must be an integer >= 1, got ${rollouts}`);
    this.rollouts = rollouts;
    const cfg = PlannerConfig.parse({ ...ORACLE_PLANNER, ...plannerSettings });
    this.horizon = cfg.horizon;
    this.planner = new Planner(spec, cfg, seed);
    this.streams = new Rng(seed + 1);
  }

  reset(): void {
    this.planner.reset();
  }

  act(_obs: TypedArray, env: Env<TypedArray, unknown>): number[] {
    const start = env.unwrapped.getState();
    const h = this.horizon;
    const width = this.spec.kind === "discrete" ? 1 : this.spec.size;
    const k = this.rollouts ?? 1;
    const score = (actions: Float32Array, n: number) => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) {
          this.sim.setState(this.rollouts ? withRandomStream(start, this.streams.childSeed()) : start);
          let total = 0;
          for (let t = 0; t < h; t++) {
            const a = Array.from(actions.subarray((i * h + t) * width, (i * h + t + 1) * width));
            const [, reward, terminated] = this.sim.step(actionArg(this.sim.actionSpace, a));
            total += this.gamma ** t * reward;
            if (terminated) break;
          }
          out[i]! += total / k;
        }
      }
      return out;
    };
    return this.planner.plan(score).action;
  }
}
