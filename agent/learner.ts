// What the training loop, checkpoints and evaluation need of an agent (the imagination agent and
// DQN alike), and the helpers both use: the action spec of an env, the first and last observation
// and the first action of replayed sequences, and their n-step returns.
import type * as tf from "@tensorflow/tfjs";
import type { Rng } from "../common/rng.ts";
import type { Stepwise } from "../common/stepwise.ts";
import type { ReplayBuffer, SequenceBatch } from "../data/replayBuffer.ts";
import { Box, Discrete, type Env } from "../envs/index.ts";
import type { WorldModel } from "../worldmodel/model.ts";
import type { NamedTensor } from "../worldmodel/train.ts";
import type { Policy } from "./evaluate.ts";
import type { ActionSpec } from "./planner.ts";

export function actionSpecOf(env: Env<unknown, unknown>): ActionSpec {
  const a = env.actionSpace;
  if (a instanceof Discrete) return { kind: "discrete", n: a.n };
  if (a instanceof Box) return { kind: "box", size: a.size, low: Array.from(a.low), high: Array.from(a.high) };
  throw new Error(`actionSpecOf: ${env.label} needs a Discrete or Box action space, got ${a}`);
}

/** What the training loop and checkpoints need of an agent (the planner agent and DQN). */
export interface Learner extends Policy {
  readonly spec: ActionSpec;
  /** The world model (DQN uses only its encoder and observation normalisation). */
  readonly model: WorldModel;
  /** Exploration while training; the deterministic policy when false (evaluation). */
  explore: boolean;
  /** Learns from replay: one update of every part. */
  update(buffer: ReplayBuffer, rng: Rng): object | void;
  /** One update of the world model alone (agents that plan in it; config.modelPretrainUpdates). */
  updateModel?(buffer: ReplayBuffer, rng: Rng): object;
  /**
   * Runs an evaluation (steps, which pause between env steps) with the weights the agent evaluates
   * with, when they are not its online ones (`online`: with the online weights all the same),
   * leaving training as it found it, also when it is ended part-way.
   */
  evaluation?<T>(steps: () => Stepwise<T>, online?: boolean): Stepwise<T>;
  /**
   * What a checkpoint keeps of the agent beyond its weights (random streams, the episode's
   * memories), as JSON; resumed() puts it back (undefined: a checkpoint without it) and reads what
   * the agent derives from the loaded buffer before its first act, so a resumed run goes on as an
   * uninterrupted one. Absent: the agent keeps nothing beyond its weights.
   */
  runState?(): unknown;
  resumed?(state: unknown, buffer: ReplayBuffer): void;
  /** Variables beside the world model's, saved in checkpoints. */
  extraVariables(): [string, tf.Variable][];
  /** Optimiser slots per optimiser, saved in checkpoints. */
  optimizerWeights(): Promise<Record<string, NamedTensor[]>>;
  setOptimizerWeights(groups: Record<string, NamedTensor[]>): Promise<void>;
  dispose(): void;
}

/** o_0 and o_H of every sequence of a batch, as floats [B * obsSize] each. */
export function firstAndLastObs(b: SequenceBatch, size: number): [Float32Array, Float32Array] {
  const first = new Float32Array(b.batch * size);
  const last = new Float32Array(b.batch * size);
  for (let i = 0; i < b.batch; i++) {
    const base = i * (b.horizon + 1) * size;
    first.set(b.obs.subarray(base, base + size), i * size);
    last.set(b.obs.subarray(base + b.horizon * size, base + (b.horizon + 1) * size), i * size);
  }
  return [first, last];
}

/** a_0 of every sequence of a batch, [B * width] (Discrete: width 1, the action's index). */
export function firstActions(b: SequenceBatch, width: number): Float32Array {
  if (b.horizon === 1) return b.actions;
  const out = new Float32Array(b.batch * width);
  for (let i = 0; i < b.batch; i++)
    out.set(b.actions.subarray(i * b.horizon * width, i * b.horizon * width + width), i * width);
  return out;
}

/**
 * n-step TD terms of every sequence of a batch: R = sum_{t<k} gamma^t r_t over its k live steps
 * (it stops at the episode's end), whether the episode terminated within them, and gamma^k, the
 * discount of the value at o_k (the buffer repeats the last observation after an episode's end).
 */
export function nStepReturns(
  b: SequenceBatch,
  gamma: number,
): { returns: Float32Array; terminated: Float32Array; discount: Float32Array } {
  const { batch: n, horizon: h } = b;
  const returns = new Float32Array(n);
  const terminated = new Float32Array(n);
  const discount = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let t = 0; t < h && b.mask[i * h + t]! > 0; t++, k++) {
      returns[i]! += gamma ** t * b.rewards[i * h + t]!;
      if (b.terminated[i * h + t]) terminated[i] = 1;
    }
    discount[i] = gamma ** k;
  }
  return { returns, terminated, discount };
}
