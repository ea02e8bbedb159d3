// Policy evaluation on fixed seeds, shared by the agent and every baseline so their numbers compare:
// episode i of every evaluation starts from reset({seed: EVAL_SEED_BASE + i}).
import { Discrete, type Env, type TypedArray } from "../envs/index.ts";
import { makeAgentEnv, type AgentEnvSpec } from "./agentEnv.ts";
import { drain, type Stepwise } from "../common/stepwise.ts";

export const EVAL_SEED_BASE = 1_000_000;

/** The reset seeds of an evaluation of `episodes` episodes. */
export function evaluationSeeds(episodes: number): number[] {
  return Array.from({ length: episodes }, (_, e) => EVAL_SEED_BASE + e);
}

/**
 * Acts in one env: called with each observation (and the env, which only the oracle looks into);
 * `reset` at the start of every episode.
 */
export interface Policy {
  reset?(): void;
  act(obs: TypedArray, env: Env<TypedArray, unknown>): number[];
}

export interface EvalResult {
  /** Mean episode return. */
  return: number;
  /** Fraction of episodes that ended in success (see `isSuccess`). */
  success: number;
  returns: number[];
  lengths: number[];
  /** Per episode, whether it ended in success. */
  successes: boolean[];
}

/** An evaluation's two figures, as logs, records and status read them. */
export type EvalScore = Pick<EvalResult, "return" | "success">;

/**
 * Success: the episode terminated on a positive reward (grid goal reached, Catch's ball caught), or,
 * on tasks that never terminate (PointMass), the last reward was the full reward 1 (inside the target).
 */
export function isSuccess(lastReward: number, terminated: boolean): boolean {
  return terminated ? lastReward > 0 : lastReward >= 1;
}

export function evaluatePolicy(
  envId: string,
  policy: Policy,
  episodes: number,
  opts: EvaluationOptions = {},
): EvalResult {
  return drain(policyEvaluation(envId, policy, episodes, opts));
}

export type EvaluationOptions = Omit<AgentEnvSpec, "env"> & {
  onStep?: (obs: TypedArray, action: number[]) => void;
};

/**
 * evaluatePolicy, pausing after every env step: a training loop turns the event loop there, so that
 * Ctrl-C can end a long evaluation (10 episodes of 640 steps on DoorKey-8x8) part-way.
 * `opts`: the env's shaping as the agent's (envOptions, frameStack, actionGrid, egocentric: an agent config carries them).
 */
export function* policyEvaluation(
  envId: string,
  policy: Policy,
  episodes: number,
  opts: EvaluationOptions = {},
): Stepwise<EvalResult> {
  const env = makeAgentEnv({ ...opts, env: envId });
  const returns: number[] = [];
  const lengths: number[] = [];
  const successes: boolean[] = [];
  try {
    for (const seed of evaluationSeeds(episodes)) {
      let [obs] = env.reset({ seed }) as [TypedArray, unknown];
      policy.reset?.();
      let total = 0;
      let length = 0;
      for (;;) {
        const action = policy.act(obs, env);
        opts.onStep?.(obs, action);
        const [next, reward, terminated, truncated] = env.step(actionArg(env.actionSpace, action));
        total += reward;
        length++;
        obs = next as TypedArray;
        yield;
        if (terminated || truncated) {
          successes.push(isSuccess(reward, terminated));
          break;
        }
      }
      returns.push(total);
      lengths.push(length);
    }
  } finally {
    env.close?.();
  }
  const success = successes.filter(Boolean).length / episodes;
  return { return: returns.reduce((a, b) => a + b, 0) / episodes, success, returns, lengths, successes };
}

/** The env's action argument: an index for Discrete spaces, a Float32Array for Box ones. */
export function actionArg(space: unknown, action: number[]): number | Float32Array {
  return space instanceof Discrete ? action[0]! : Float32Array.from(action);
}
