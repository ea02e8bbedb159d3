// Scoring action sequences inside a learned latent model, all N sequences in one batch per step:
//   score = sum_t gamma^t alive_t r_hat_t + gamma^H alive_H V(z_H),   alive_{t+1} = alive_t (1 - d_hat_t)
// with d_hat the termination head's probability; with an episodic novelty bonus (agent/novelty.ts)
// the score adds sum_t gamma^t alive_{t+1} w (1 - P(z_{t+1} met this episode)).
// How the next code is formed is the propagation mode:
//   expected  z' = sum_i p_i c^(i)                 (deterministic: one sequence, one score)
//   sample    z' = c^(argmax(l + g)), g ~ Gumbel   (a draw from the model, as in ST training)
//   mode      z' = c^(argmax l)                     (the most likely code)
//   average   the mean score of N `sample` rollouts of the sequence (N = `samples`): a Monte Carlo
//             estimate of the expected return under the model, where `expected` averages codes
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../common/rng.ts";
import { oneHotArgmax, sampleOneHot } from "../worldmodel/estimators/categorical.ts";
import type { Heads } from "../worldmodel/model.ts";
import { seenProbability } from "./novelty.ts";

export const PROPAGATION_MODES = ["expected", "sample", "mode", "average"] as const;
export type PropagationMode = (typeof PROPAGATION_MODES)[number];

/** What planning needs of a world model (WorldModel implements it; tests build small ones by hand). */
export interface LatentModel {
  /** (codes [N, L, d], action features [N, A]) -> next-code logits [N, L, |C|], reward [N], termination logit [N]. */
  heads(codes: tf.Tensor, action: tf.Tensor2D): Heads;
  /**
   * Optional: the expected next codes, reward and termination logit of heads() without a gradient,
   * from codebook entries only (not expected codes), where a model computes them faster (else undefined).
   */
  expectedStepNoGrad?(
    codes: tf.Tensor,
    action: tf.Tensor2D,
  ): { next: tf.Tensor; reward: tf.Tensor1D; terminated: tf.Tensor1D } | undefined;
  /** Weights over the codebook [N, L, |C|] -> codes [N, L, d]: sum_i w_i c^(i). */
  weightsToCodes(weights: tf.Tensor): tf.Tensor;
  /** Actions (an index per row for Discrete, `A` values for Box) -> features [N, A]. */
  actionFeatures(actions: ArrayLike<number>, n: number): tf.Tensor2D;
}

export interface ImagineOptions {
  mode: PropagationMode;
  gamma: number;
  /** V(z_H) [N] for the terminal codes; none means 0. */
  value?: (codes: tf.Tensor) => tf.Tensor1D;
  /** Gumbel noise for `sample` and `average` modes. */
  rng?: Rng;
  /** Sampled rollouts per sequence in `average` mode (default 8). */
  samples?: number;
  /** Episodic novelty bonus: its weight and the episode's codes (EpisodeCodes.tensor()). */
  novelty?: { weight: number; visited: tf.Tensor1D };
}

/** One imagined step: the next codes under `mode`, reward, termination logit and continuation probability. */
export function imagineStep(
  model: LatentModel,
  codes: tf.Tensor,
  action: tf.Tensor2D,
  mode: Exclude<PropagationMode, "average">,
  rng?: Rng,
): { next: tf.Tensor; reward: tf.Tensor1D; terminated: tf.Tensor1D; alive: tf.Tensor1D; logits: tf.Tensor } {
  return tf.tidy(() => {
    const h = model.heads(codes, action);
    let weights: tf.Tensor;
    if (mode === "expected") weights = tf.softmax(h.logits);
    else if (mode === "mode") weights = oneHotArgmax(h.logits);
    else {
      if (!rng) throw new Error("imagineStep: 'sample' mode needs an rng for its Gumbel noise");
      const size = h.logits.size;
      const g = new Float32Array(size);
      for (let i = 0; i < size; i++) g[i] = rng.gumbel();
      weights = sampleOneHot(h.logits, tf.tensor(g, h.logits.shape));
    }
    return {
      next: model.weightsToCodes(weights),
      reward: h.reward,
      terminated: h.terminated,
      alive: tf.sub(1, tf.sigmoid(h.terminated)) as tf.Tensor1D,
      logits: h.logits,
    };
  });
}

/**
 * Scores n action sequences [n, H, width] from one start code z0 [1, L, d] (or n start codes
 * [n, L, d]); returns the n scores.
 */
export function scoreSequences(
  model: LatentModel,
  z0: tf.Tensor,
  actions: Float32Array,
  n: number,
  horizon: number,
  opts: ImagineOptions,
): Float32Array {
  const width = actions.length / (n * horizon);
  if (!Number.isInteger(width) || width < 1)
    throw new RangeError(
      `scoreSequences: ${actions.length} action values do not fit ${n} sequences of ${horizon} steps`,
    );
  if (opts.mode === "average") return averageOfSamples(model, z0, actions, n, horizon, opts);
  const mode = opts.mode;
  return tf.tidy(() => {
    // n copies of one start code by a broadcasting add (WASM's tile kernel is ~10x slower).
    let z: tf.Tensor = z0.shape[0] === n ? z0 : tf.add(tf.zeros([n, ...z0.shape.slice(1)]), z0);
    let score: tf.Tensor = tf.zeros([n]);
    let alive: tf.Tensor = tf.ones([n]);
    const column = new Float32Array(n * width);
    for (let t = 0; t < horizon; t++) {
      for (let i = 0; i < n; i++)
        column.set(actions.subarray((i * horizon + t) * width, (i * horizon + t + 1) * width), i * width);
      const step = imagineStep(model, z, model.actionFeatures(column, n), mode, opts.rng);
      score = tf.add(score, tf.mul(opts.gamma ** t, tf.mul(alive, step.reward)));
      alive = tf.mul(alive, step.alive);
      if (opts.novelty) {
        const novel = tf.sub(1, seenProbability(step.logits, opts.novelty.visited));
        score = tf.add(score, tf.mul(opts.gamma ** t * opts.novelty.weight, tf.mul(alive, novel)));
      }
      z = step.next;
    }
    if (opts.value) score = tf.add(score, tf.mul(opts.gamma ** horizon, tf.mul(alive, opts.value(z))));
    return Float32Array.from(score.dataSync());
  });
}

/** `average` mode: every sequence rolled out `samples` times in `sample` mode (one batch), scores averaged. */
function averageOfSamples(
  model: LatentModel,
  z0: tf.Tensor,
  actions: Float32Array,
  n: number,
  horizon: number,
  opts: ImagineOptions,
): Float32Array {
  const k = opts.samples ?? 8;
  if (!Number.isInteger(k) || k < 1)
    throw new RangeError(`scoreSequences: 'samples' must be an integer >= 1, got ${k}`);
  const repeated = new Float32Array(actions.length * k);
  for (let j = 0; j < k; j++) repeated.set(actions, j * actions.length);
  const starts =
    z0.shape[0] === n
      ? tf.tidy(() =>
          tf.concat(
            Array.from({ length: k }, () => z0),
            0,
          ),
        )
      : z0;
  try {
    const scores = scoreSequences(model, starts, repeated, n * k, horizon, { ...opts, mode: "sample" });
    return Float32Array.from({ length: n }, (_, i) => {
      let total = 0;
      for (let j = 0; j < k; j++) total += scores[j * n + i]!;
      return total / k;
    });
  } finally {
    if (starts !== z0) starts.dispose();
  }
}
