// Model-free baseline: Double DQN (van Hasselt et al. 2016) with the world model's encoder
// architecture (and observation normalisation) followed by a Q head, trained end to end:
//   y = r + gamma (1 - d) Q'(o', argmax_a Q(o', a)),   loss = Huber(Q(o, a) - y)
// or, with nStep = k (Rainbow's multi-step targets, Hessel et al. 2018),
//   y = sum_{t<k} gamma^t r_t + gamma^k (1 - d) Q'(o_k, argmax_a Q(o_k, a))
// with a Polyak-averaged target network; epsilon-greedy exploration comes from the loop
// (AgentConfig.exploration), as for the planner agent.
// Discrete actions only (a Box env through actionGrid); it runs in the same loop, records and evaluation as the planner agent.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { Rng } from "../common/rng.ts";
import type { Env, TypedArray } from "../envs/index.ts";
import type { WorldModelConfig } from "../worldmodel/config.ts";
import type { ReplayBuffer } from "../data/replayBuffer.ts";
import { Mlp, newVariable } from "../worldmodel/nn/mlp.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import type { NamedTensor } from "../worldmodel/train.ts";
import { oneHotArgmax } from "../worldmodel/estimators/categorical.ts";
import { actionSpecOf, firstActions, firstAndLastObs, nStepReturns, type Learner } from "./learner.ts";
import { copyOf, polyak, swapped } from "./targetNetwork.ts";
import type { ActionSpec } from "./planner.ts";

export const DqnConfig = z
  .object({
    hidden: z.array(z.number().int().min(1)).default([64, 64]),
    lr: z.number().positive().max(1).default(1e-3),
    gamma: z.number().min(0).max(1).default(0.99),
    batch: z.number().int().min(2).default(64),
    polyak: z.number().min(0).max(1).default(0.01),
    /**
     * Multi-step targets over this many steps (cut at the episode's end). Unset (as 1): the one-step
     * target of the yardstick runs; optional so the defaults' fingerprint stays.
     */
    nStep: z.number().int().min(1).max(20).optional(),
  })
  .strict();
export type DqnConfig = z.infer<typeof DqnConfig>;

export class DqnAgent implements Learner {
  readonly spec: ActionSpec;
  /** Encoder and normalisation only; its dynamics and heads are not trained. */
  readonly model: WorldModel;
  readonly head: Mlp;
  private readonly targetEncoderVars: tf.Variable[];
  private readonly targetHead: Mlp;
  private readonly optimizer: tf.Optimizer;
  /** DQN's exploration is the loop's epsilon-greedy; its own action is always greedy. */
  explore = false;

  constructor(
    readonly config: DqnConfig,
    wmConfig: WorldModelConfig,
    env: Env<TypedArray, unknown>,
    seed: number,
  ) {
    const rng = new Rng(seed);
    this.spec = actionSpecOf(env);
    if (this.spec.kind !== "discrete")
      throw new Error(
        `DqnAgent: DQN needs a Discrete action space; ${env.label} has Box actions (set actionGrid, e.g. 3, to make them Discrete)`,
      );
    this.model = new WorldModel(
      { ...wmConfig, inverseDynamicsWeight: 0, decoder: { ...wmConfig.decoder, enabled: false } },
      envShapeOf(env),
      rng.childSeed(),
    );
    this.head = new Mlp([this.model.codeSize, ...config.hidden, this.spec.n], rng.childSeed(), "elu", "dqn");
    this.targetEncoderVars = this.model.encoder.variables.map((v) => newVariable(() => v.clone()));
    this.targetHead = copyOf(this.head, "dqn_target");
    this.optimizer = tf.train.adam(config.lr);
  }

  private q(obs: tf.Tensor, target = false): tf.Tensor2D {
    const n = obs.shape[0]!;
    if (!target) return this.head.apply(tf.reshape(this.model.embed(obs), [n, -1]) as tf.Tensor2D);
    // The target network: the same encoder function evaluated with the target copy of its weights.
    return swapped(this.model.encoder.variables, this.targetEncoderVars, () =>
      this.targetHead.apply(tf.reshape(this.model.embed(obs), [n, -1]) as tf.Tensor2D),
    );
  }

  /** DQN keeps no per-episode state. */
  reset(): void {}

  act(obs: TypedArray): number[] {
    return [tf.tidy(() => tf.argMax(this.q(this.model.preprocess(obs, 1)), 1).dataSync()[0]!)];
  }

  update(buffer: ReplayBuffer, rng: Rng): void {
    const b = buffer.sample(this.config.batch, this.config.nStep ?? 1, rng);
    const n = b.batch;
    const [first, last] = firstAndLastObs(b, this.model.obsSize);
    const { returns, terminated, discount } = nStepReturns(b, this.config.gamma);
    const vars = [...this.model.encoder.variables, ...this.head.variables];
    tf.tidy(() => {
      const o = this.model.preprocess(first, n);
      const ok = this.model.preprocess(last, n);
      const a = this.model.actionFeatures(firstActions(b, 1), n);
      const best = oneHotArgmax(this.q(ok));
      const next = tf.sum(tf.mul(this.q(ok, true), best), 1);
      const y = tf.add(
        tf.tensor1d(returns),
        tf.mul(tf.tensor1d(discount), tf.mul(tf.sub(1, tf.tensor1d(terminated)), next)),
      );
      const { grads } = tf.variableGrads(
        () => tf.losses.huberLoss(y, tf.sum(tf.mul(this.q(o), a), 1)) as tf.Scalar,
        vars,
      );
      this.optimizer.applyGradients(grads);
      polyak(vars, [...this.targetEncoderVars, ...this.targetHead.variables], this.config.polyak);
    });
  }

  extraVariables(): [string, tf.Variable][] {
    return [
      ...this.head.namedVariables(),
      ...this.targetHead.namedVariables(),
      ...this.targetEncoderVars.map((v, i) => [`dqn_target_encoder/${i}`, v] as [string, tf.Variable]),
    ];
  }

  async optimizerWeights(): Promise<Record<string, NamedTensor[]>> {
    return { dqn: await this.optimizer.getWeights() };
  }

  async setOptimizerWeights(groups: Record<string, NamedTensor[]>): Promise<void> {
    if (groups.dqn?.length) await this.optimizer.setWeights(groups.dqn);
  }

  dispose(): void {
    this.model.dispose();
    this.head.dispose();
    this.targetHead.dispose();
    tf.dispose(this.targetEncoderVars);
    this.optimizer.dispose();
  }
}
