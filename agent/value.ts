// The planner's value function: an ensemble of Q heads on codes (DC-MPC), trained by n-step TD on
// real transitions with no gradient into the world model unless encoderLr is set (R = sum_{t<k} gamma^t r_t, z' = codes of o_k),
// and on the model's imagined one-step backups for every action (agent/imaginedTargets.ts).
// With returnBound, y >= the return its episode got from o_t; with returnCap, every y <= the best
// return any replayed step got. With terminalZero, Q(z_T, a) = 0 at the codes of real terminal observations (nothing else trains Q there).
// The heads are one MlpEnsemble (all members in a few batched ops, backward written out) and one
// flat AdamW:
//   Discrete:  y = R + gamma^k (1 - d) min_{j in 2 random heads} Q'_j(z', argmax_a mean_e Q_e(z', a))
//   Box (TD3): y = R + gamma^k (1 - d) min_{j in 2 random heads} Q'_j(z', clip(pi'(z') + eps)),
//              and the actor pi maximises mean_e Q_e(z, pi(z)).
// With targetHeads "mean", mean_e Q'_e replaces the minimum over two heads in both.
// Q' and pi' are target copies updated by Polyak averaging. The planner's terminal value is
// V(z) = max_a mean_e Q_e(z, a) (Discrete) or mean_e Q_e(z, pi(z)) (Box): deterministic.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { Rng } from "../common/rng.ts";
import { oneHotArgmax } from "../worldmodel/estimators/categorical.ts";
import { MlpEnsemble } from "../worldmodel/nn/ensemble.ts";
import { FlatAdam, type NamedTensor } from "../worldmodel/nn/flatAdam.ts";
import { Mlp } from "../worldmodel/nn/mlp.ts";
import { copyOf, polyak } from "./targetNetwork.ts";
import type { ActionSpec } from "./planner.ts";

export const ValueConfig = z
  .object({
    ensemble: z.number().int().min(2).max(10).default(5),
    hidden: z.array(z.number().int().min(1)).default([64, 64]),
    /** DC-MPC: Adam 3e-4, Polyak 0.005 over 500k+ steps; our runs are 100x shorter, so both are faster. */
    lr: z.number().positive().max(1).default(1e-3),
    /**
     * 0.95 (TD-MPC2's heuristic gives 0.95 for short episodes): with 0.99 neighbouring grid states
     * differ by ~1% in value, below the value's noise (measured on GridEmpty 5x5: 0.99 never reached
     * the goal in 1200 steps; 0.95 and 0.9 did by step 900).
     */
    gamma: z.number().min(0).max(1).default(0.95),
    /** n-step TD targets: sparse rewards (grid goals) reach earlier states n times faster than with 1 step. */
    nStep: z.number().int().min(1).max(20).default(3),
    /** Polyak rate of the target networks. */
    polyak: z.number().min(0).max(1).default(0.05),
    batch: z.number().int().min(2).default(128),
    /** TD3 target-policy smoothing (Box actions), in units of half the action range. */
    policyNoise: z.number().min(0).default(0.2),
    noiseClip: z.number().min(0).default(0.5),
    /**
     * Imagined one-step backups from every replayed code (agent/imaginedTargets.ts), weighted
     * against the real TD loss; 0 turns them off. They start after `after` value updates (Dyna
     * with warm-up: 300 is the end of the agent's pretraining burst). Measured with one update per
     * env step (2 seeds each, steps to success >= 0.9): GridEmpty-8x8 3000/4000 with them,
     * 6000/5000 without; Catch 2000/2000 (3000/3000 before).
     */
    imagined: z
      .object({
        weight: z.number().min(0).default(1),
        after: z.number().int().min(0).default(300),
        /** Box actions: uniform action draws per start code (Discrete imagines every action). */
        boxActions: z.number().int().min(1).default(4),
      })
      .strict()
      .default({ weight: 1, after: 300, boxActions: 4 }),
    /**
     * The return an episode actually got from a replayed step bounds that step's TD target from
     * below: y = max(r + gamma^k Q'(z_k), G_t), G_t = sum_i gamma^i r_{t+i} to the episode's
     * termination (episodes cut by the time limit give no bound). On a deterministic env any return
     * reached is one the best policy can reach, so G_t <= Q*(z_t, a_t); a goal reached once lifts
     * every step before it at once instead of n steps per sweep of TD (lower-bound Q-learning,
     * He et al. 2017, Tang 2020). On a stochastic env G_t is one draw and can exceed Q*. Unset (as
     * false): plain n-step TD; optional for the defaults' fingerprint.
     */
    returnBound: z.boolean().optional(),
    /**
     * The largest discounted return any replayed step got (ReplayBuffer.discountedReturns) caps every
     * TD target of an update from above, the imagined rows' included. Where an episode pays once, at
     * its end, no state's value exceeds the best reward; a value that climbs past it has diverged:
     * on DoorKey-8x8 the imagined backups, reading the max over actions at codes no real row
     * teaches (the key dropped in the goal's corridor), lifted V to 6-14 where no step pays but the
     * goal's 0.96, and the search went round the goal to reach them. On tasks that pay along the
     * way or at random the cap is only as good as the best return seen. No return known yet (no
     * episode ended by termination): no cap. Unset (as false): optional for the defaults' fingerprint.
     */
    returnCap: z.boolean().optional(),
    /**
     * Q(z_T, a) = 0 for every action at the codes z_T of a real terminal observation (squared error
     * on the replayed terminal rows, weighted as a TD row). TD stops at termination, so nothing else
     * trains Q there, yet the planner and the imagined backups read V(z') times 1 - d_hat, and d_hat
     * short of 1 lets an untrained terminal value through: on LavaGap a step into lava with d_hat 0.77
     * scored above the turns because V at the lava codes read 0.65-0.71. Unset (as false): optional
     * for the defaults' fingerprint.
     */
    terminalZero: z.boolean().optional(),
    /**
     * How the bootstrap reads the target heads: `minPair` (unset) the lower of two heads drawn per
     * update (REDQ's, against the overestimation of a max over noisy heads), `mean` their average
     * (ensemble DQN's; with Discrete actions the argmax is already taken on the online heads'
     * mean, as double DQN, which curbs that overestimation by itself). The minimum also sits below
     * the mean where the heads agree on the true value, and that bias compounds over bootstraps
     * where returns are long. Unset (as minPair): optional for the defaults' fingerprint.
     */
    targetHeads: z.enum(["minPair", "mean"]).optional(),
    /**
     * Value steps per agent update (each on its own replayed batch; the world model still takes one):
     * the value's targets reach back n steps per sweep of the buffer, so more sweeps per env step
     * carry a reward back sooner. Unset (as 1): optional for the defaults' fingerprint.
     */
    updatesPerStep: z.number().int().min(1).max(8).optional(),
    /**
     * Adam learning rate of the TD loss's gradient into the encoder, through the codes of the real
     * rows' o_t and FSQ's straight-through rounding, while the encoder learns (TD-MPC2's joint
     * embedding: the codes come to carry what the value needs; DC-MPC stops it, as unset does). Its
     * own Adam over the encoder's variables, beside the world model's. Unset: codes stopped;
     * optional for the defaults' fingerprint.
     */
    encoderLr: z.number().positive().max(1).optional(),
    /**
     * Hindsight goals (grid envs with the full view; agent/hindsight.ts): each value step adds this
     * fraction of its batch again as replayed rows whose goal is moved to a cell the agent reached
     * later in the same episode, rewards and endings recomputed for it. Unset (as 0): none; optional
     * for the defaults' fingerprint.
     */
    relabel: z.number().positive().max(4).optional(),
  })
  .strict();
export type ValueConfig = z.infer<typeof ValueConfig>;

/**
 * One TD update's inputs: flat codes of o_t and of the bootstrap observation o_{t+k} [B, codeSize],
 * the first action, the discounted reward sum over the k steps, 1 if the episode terminated within
 * them, and the bootstrap discount gamma^k (k < n when the episode ended earlier).
 */
export interface TdBatch {
  codes: tf.Tensor2D;
  nextCodes: tf.Tensor2D;
  /** Discrete: one-hot [B, n]. Box: the action [B, size]. */
  actions: tf.Tensor2D;
  returns: tf.Tensor1D;
  terminated: tf.Tensor1D;
  discount: tf.Tensor1D;
  /** A lower bound on each row's target (value.returnBound: the episode's return from o_t; NO_BOUND where none). */
  lower?: tf.Tensor1D;
  /** An upper bound on every target of the update, imagined rows included (value.returnCap). */
  upper?: number;
}

/** A lower bound that binds nothing. */
export const NO_BOUND = -1e9;

export class ValueLearner {
  /** The Q heads: [E, N, n] (Discrete) or [E, N, 1] (Box, on codes ++ action). */
  readonly critics: MlpEnsemble;
  readonly targets: MlpEnsemble;
  readonly actor: Mlp | undefined;
  readonly actorTarget: Mlp | undefined;
  private readonly optimizer: FlatAdam;
  private readonly actorOptimizer: tf.Optimizer | undefined;
  private rng: Rng;
  private readonly half: tf.Tensor1D | undefined;
  private readonly mid: tf.Tensor1D | undefined;

  /**
   * Value steps taken: the optimiser's count, which a checkpoint restores (imagined backups start
   * after `imagined.after` of them; a plain counter restarted at 0 turned them off for that many
   * updates after every resume).
   */
  get updates(): number {
    return this.optimizer.iterations;
  }

  constructor(
    readonly codeSize: number,
    readonly spec: ActionSpec,
    readonly config: ValueConfig,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const discrete = spec.kind === "discrete";
    const inSize = discrete ? codeSize : codeSize + spec.size;
    const outSize = discrete ? spec.n : 1;
    this.critics = new MlpEnsemble(
      [inSize, ...config.hidden, outSize],
      Array.from({ length: config.ensemble }, () => rng.childSeed()),
      "elu",
      "q",
    );
    this.targets = this.critics.copy("q_target");
    if (spec.kind === "box") {
      this.actor = new Mlp([codeSize, ...config.hidden, spec.size], rng.childSeed(), "elu", "actor");
      this.actorTarget = copyOf(this.actor, "actor_target");
      this.actorOptimizer = tf.train.adam(config.lr);
      this.half = tf.tensor1d(spec.high.map((h, j) => (h - spec.low[j]!) / 2));
      this.mid = tf.tensor1d(spec.high.map((h, j) => (h + spec.low[j]!) / 2));
    }
    this.optimizer = new FlatAdam(this.critics.variables, { lr: config.lr });
    this.rng = new Rng(rng.childSeed());
  }

  /** The random stream's position (target noise, the heads drawn per update), for checkpoints. */
  get rngState(): number[] {
    return this.rng.getState();
  }

  set rngState(state: readonly number[]) {
    this.rng = Rng.fromState(state);
  }

  /** pi(z) in action units [N, size] (Box only). */
  policy(codes: tf.Tensor, target = false): tf.Tensor2D {
    const actor = target ? this.actorTarget : this.actor;
    if (!actor) throw new Error("ValueLearner.policy: only Box action spaces have an actor");
    return tf.tidy(() => tf.add(this.mid!, tf.mul(this.half!, tf.tanh(actor.apply(flat(codes))))) as tf.Tensor2D);
  }

  /** The heads' input: codes (Discrete) or codes ++ action (Box). */
  private input(codes: tf.Tensor2D, actions?: tf.Tensor2D): tf.Tensor2D {
    return this.spec.kind === "discrete" ? codes : (tf.concat([codes, actions!], 1) as tf.Tensor2D);
  }

  /** Q of every head: Discrete [E, N, n]; Box [E, N] for the given actions. */
  private q(heads: MlpEnsemble, codes: tf.Tensor2D, actions?: tf.Tensor2D): tf.Tensor {
    const out = heads.apply(this.input(codes, actions));
    return this.spec.kind === "discrete" ? out : tf.squeeze(out, [2]);
  }

  /** The planner's terminal value V(z) [N] (codes [N, L, d] or [N, codeSize]). */
  value(codes: tf.Tensor): tf.Tensor1D {
    return tf.tidy(() => {
      const c = flat(codes);
      if (this.spec.kind === "discrete") return tf.max(tf.mean(this.q(this.critics, c), 0), 1) as tf.Tensor1D;
      return tf.mean(this.q(this.critics, c, this.policy(c)), 0) as tf.Tensor1D;
    });
  }

  /** Greedy action features [N, A]: one-hot argmax_a mean_e Q_e (Discrete) or pi(z) (Box). */
  greedy(codes: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      if (this.spec.kind === "box") return this.policy(codes);
      return oneHotArgmax(tf.mean(this.q(this.critics, flat(codes)), 0)) as tf.Tensor2D;
    });
  }

  /**
   * One TD update of the critics (and the actor for Box actions), then the Polyak step. With an
   * imagined batch the loss is mean_real (Q - y)^2 + weight * mean_imagined (Q - y)^2. Returns the
   * real rows' TD loss. `codeGrad` (inside the step's tidy) receives d loss / d real.codes [R, codeSize].
   */
  update(
    real: TdBatch,
    imagined?: { batch: TdBatch; weight: number },
    codeGrad?: (dCodes: tf.Tensor2D) => void,
  ): number {
    const [i, j] = this.pickTwo();
    const r = real.codes.shape[0];
    const b = imagined ? concatBatches(real, imagined.batch) : real;
    const n = b.codes.shape[0];
    const loss = tf.tidy(() => {
      // Per-row weight of the squared residual: 1/R on real rows, weight/M on imagined ones.
      const rowWeight = imagined
        ? tf.concat([tf.fill([r], 1 / r), tf.fill([n - r], imagined.weight / (n - r))])
        : tf.scalar(1 / n);
      let qNext: tf.Tensor;
      if (this.spec.kind === "discrete") {
        const best = oneHotArgmax(tf.mean(this.q(this.critics, b.nextCodes), 0));
        qNext = tf.sum(tf.mul(this.q(this.targets, b.nextCodes), best), 2); // [E, N]
      } else {
        qNext = this.q(this.targets, b.nextCodes, this.smoothedTargetAction(b.nextCodes));
      }
      const next =
        this.config.targetHeads === "mean"
          ? tf.mean(qNext, 0)
          : tf.reshape(tf.minimum(tf.slice(qNext, [i, 0], [1, n]), tf.slice(qNext, [j, 0], [1, n])), [n]); // slices: WASM's gather is slow
      const bootstrapped = tf.add(b.returns, tf.mul(b.discount, tf.mul(tf.sub(1, b.terminated), next)));
      const bounded = b.lower ? tf.maximum(bootstrapped, b.lower) : bootstrapped;
      const target = b.upper === undefined ? bounded : tf.minimum(bounded, b.upper);
      // sum_e sum_b w_b (Q_e(z, a) - y)^2, its gradient written out: 2 w_b (Q_e - y) at the taken action.
      // With terminalZero, the real rows' bootstrap codes ride along in the same pass (after the n rows).
      const anchored = this.config.terminalZero === true;
      const rows = this.input(b.codes, b.actions);
      const { out: all, trace } = this.critics.applyTraced(
        anchored
          ? (tf.concat([rows, this.input(real.nextCodes, this.anchorActions(real.nextCodes))]) as tf.Tensor2D)
          : rows,
      );
      const out = anchored ? tf.slice(all, [0, 0, 0], [-1, n, -1]) : all;
      const discrete = this.spec.kind === "discrete";
      const taken = discrete ? tf.sum(tf.mul(out, b.actions), 2) : tf.squeeze(out, [2]);
      const residual = tf.sub(taken, target); // [E, N]
      const scaled = tf.mul(residual, tf.mul(rowWeight, 2));
      let dOut = discrete ? tf.mul(tf.expandDims(scaled, 2), b.actions) : tf.expandDims(scaled, 2);
      if (anchored) {
        // sum over terminal rows and every output of (Q - 0)^2 / R: gradient 2 Q / R where terminated.
        const atEnd = tf.slice(all, [0, n, 0], [-1, r, -1]);
        const dEnd = tf.mul(atEnd, tf.reshape(tf.mul(real.terminated, 2 / r), [1, r, 1]));
        dOut = tf.concat([dOut, dEnd], 1);
      }
      const back = this.critics.backward(trace, dOut as tf.Tensor3D, codeGrad !== undefined);
      this.optimizer.apply(back.grads);
      codeGrad?.(tf.slice(back.dx!, [0, 0], [r, this.codeSize]));
      if (this.actor) {
        const actorGrads = tf.variableGrads(
          () => tf.neg(tf.mean(this.q(this.critics, b.codes, this.policy(b.codes)))) as tf.Scalar,
          this.actor.variables,
        );
        this.actorOptimizer!.applyGradients(actorGrads.grads);
      }
      const online = [...this.critics.variables, ...(this.actor ? this.actor.variables : [])];
      const trailing = [...this.targets.variables, ...(this.actorTarget ? this.actorTarget.variables : [])];
      polyak(online, trailing, this.config.polyak);
      return tf.sum(tf.square(tf.slice(residual, [0, 0], [-1, r]))).dataSync()[0]! / (r * this.config.ensemble);
    });
    if (imagined) tf.dispose(b as unknown as tf.TensorContainer);
    if (!Number.isFinite(loss))
      throw new Error(`ValueLearner.update: TD loss is ${loss} at update ${this.updates} (diverged; lower value.lr)`);
    return loss;
  }

  /** The actions whose Q terminalZero anchors at terminal codes: none (Discrete: every output) or pi(z) (Box: what V reads). */
  private anchorActions(codes: tf.Tensor2D): tf.Tensor2D | undefined {
    return this.spec.kind === "discrete" ? undefined : this.policy(codes);
  }

  private smoothedTargetAction(codes: tf.Tensor2D): tf.Tensor2D {
    const spec = this.spec as Extract<ActionSpec, { kind: "box" }>;
    const { policyNoise, noiseClip } = this.config;
    const n = codes.shape[0] * spec.size;
    const eps = Float32Array.from({ length: n }, () =>
      Math.max(-noiseClip, Math.min(noiseClip, policyNoise * this.rng.normal())),
    );
    return tf.tidy(
      () =>
        tf.clipByValue(
          tf.add(this.policy(codes, true), tf.mul(this.half!, tf.tensor2d(eps, [codes.shape[0], spec.size]))),
          Math.min(...spec.low),
          Math.max(...spec.high),
        ) as tf.Tensor2D,
    );
  }

  private pickTwo(): [number, number] {
    const e = this.config.ensemble;
    const i = this.rng.int(e);
    const j = (i + 1 + this.rng.int(e - 1)) % e;
    return [i, j];
  }

  namedVariables(): [string, tf.Variable][] {
    return [
      ...this.critics.namedVariables(),
      ...this.targets.namedVariables(),
      ...(this.actor ? [...this.actor.namedVariables(), ...this.actorTarget!.namedVariables()] : []),
    ];
  }

  /** Optimiser slots (Adam's step count and moments) per optimiser, for checkpoints. */
  async optimizerWeights(): Promise<Record<string, NamedTensor[]>> {
    return {
      critic: this.optimizer.getWeights(),
      ...(this.actorOptimizer ? { actor: await this.actorOptimizer.getWeights() } : {}),
    };
  }

  /** Restores what optimizerWeights() saved (same config). */
  async setOptimizerWeights(groups: Record<string, NamedTensor[]>): Promise<void> {
    if (groups.critic?.length) this.optimizer.setWeights(groups.critic);
    if (groups.actor?.length && this.actorOptimizer) await this.actorOptimizer.setWeights(groups.actor);
  }

  dispose(): void {
    this.critics.dispose();
    this.targets.dispose();
    this.actor?.dispose();
    this.actorTarget?.dispose();
    this.optimizer.dispose();
    this.actorOptimizer?.dispose();
    tf.dispose([this.half!, this.mid!].filter(Boolean));
  }
}

/** A batch's lower bounds, NO_BOUND where it has none. */
const boundOf = (b: TdBatch): tf.Tensor1D => b.lower ?? (tf.fill([b.codes.shape[0]], NO_BOUND) as tf.Tensor1D);

/** Two TD batches as one: the rows of `a`, then those of `b`; where only one has lower bounds, the other's rows get NO_BOUND. */
export function concatBatches(a: TdBatch, b: TdBatch): TdBatch {
  return tf.tidy(() => {
    const cat = <T extends tf.Tensor>(x: T, y: T) => tf.concat([x, y], 0) as T;
    return {
      codes: cat(a.codes, b.codes),
      nextCodes: cat(a.nextCodes, b.nextCodes),
      actions: cat(a.actions, b.actions),
      returns: cat(a.returns, b.returns),
      terminated: cat(a.terminated, b.terminated),
      discount: cat(a.discount, b.discount),
      ...(a.lower || b.lower ? { lower: cat(boundOf(a), boundOf(b)) } : {}),
      ...(a.upper !== undefined || b.upper !== undefined
        ? { upper: Math.min(a.upper ?? Number.POSITIVE_INFINITY, b.upper ?? Number.POSITIVE_INFINITY) }
        : {}),
    };
  }) as TdBatch;
}

const flat = (codes: tf.Tensor): tf.Tensor2D => tf.reshape(codes, [codes.shape[0]!, -1]) as tf.Tensor2D;
