// The contract every gradient estimator follows, so training code can swap them by name.
import type * as tf from "@tensorflow/tfjs";
import type { Noise } from "./noise.ts";

export interface SampleContext {
  /** Temperature, > 0. Which estimators read it: see each file. */
  tau: number;
  /** The seeded noise source of every random draw. */
  noise: Noise;
  /** Gumbel-Rao's number of conditional draws K (>= 2). */
  draws?: number;
}

export interface Sample {
  /** [..., K]: a one-hot sample (hard estimators) or a point of the simplex (soft ones). */
  value: tf.Tensor;
  /**
   * [...]: log p(z) of the drawn class, for score-function estimators (REINFORCE): the caller adds
   * scoreFunctionLoss(logProb, f) to its loss, since their gradient needs f(z), not df/dz.
   */
  logProb?: tf.Tensor;
}

/** logits [..., K] -> a sample [..., K] whose forward value and gradient follow the estimator's definition. */
export type Estimator = ((logits: tf.Tensor, ctx: SampleContext) => Sample) & { readonly parts: EstimatorParts };

/**
 * An estimator as its two halves, the form the fused world-model update calls without a gradient
 * tape (worldmodel/fusedLoss.ts); the tape-based form wraps the same halves in tf.customGrad.
 */
export interface EstimatorParts {
  /** Argument checks that do not look at the logits' values (run once per call of the tape form, once per step of the fused one). */
  check(ctx: SampleContext): void;
  /** Draws the noise and returns the forward value; `saved` is what `backward` needs. */
  forward(logits: tf.Tensor, ctx: SampleContext): { value: tf.Tensor; saved: tf.Tensor[]; logProb?: tf.Tensor };
  /** dL/dlogits from dL/dvalue; null where the value carries no gradient. */
  backward(dy: tf.Tensor, saved: tf.Tensor[], ctx: SampleContext): tf.Tensor | null;
  /** Score-function estimators: dL/dlogits from dL/dlogProb [...]. */
  logProbBackward?(dLogProb: tf.Tensor, saved: tf.Tensor[]): tf.Tensor;
}
