// REINFORCE, the score function (Williams 1992), with a leave-one-out baseline (Kool et al. 2019):
//   z ~ softmax(l) (one-hot, no gradient through it);  log p(z) = sum(z * logsoftmax(l))
//   gradient of E[f] estimated as (f(z_b) - b_b) dlog p(z_b)/dl,  b_b = mean_{j != b} f(z_j)
//   = (f - b)(z - p) per variable. The sample carries logProb; add scoreFunctionLoss(logProb, f) to the loss.
import * as tf from "@tensorflow/tfjs";
import { EstimatorError, checkLogits, sampleWithoutGradient, stopGradient } from "./categorical.ts";
import type { Estimator } from "./types.ts";

export const reinforce: Estimator = (logits, { noise }) => {
  checkLogits("reinforce", logits);
  const g = noise.gumbel(logits.shape);
  const z = sampleWithoutGradient(logits, g);
  g.dispose();
  const logProb = tf.tidy(() => tf.sum(tf.mul(z, tf.logSoftmax(logits)), -1));
  return { value: z, logProb };
};

/**
 * The surrogate whose gradient is the REINFORCE estimate with a leave-one-out baseline.
 * logProb [B, ...] (summed over the trailing axes per sample), f [B]: the per-sample loss (its
 * gradient is stopped here). Returns mean_b (f_b - b_b) * logProb_b; its value is not a loss to report.
 */
export function scoreFunctionLoss(logProb: tf.Tensor, f: tf.Tensor): tf.Tensor {
  const batch = f.shape[0]!;
  if (f.rank !== 1 || logProb.shape[0] !== batch) {
    throw new EstimatorError(`scoreFunctionLoss: f must be [B] and logProb [B, ...], got [${f.shape.join(", ")}] and [${logProb.shape.join(", ")}]`);
  }
  if (batch < 2) throw new EstimatorError(`scoreFunctionLoss: the leave-one-out baseline needs a batch of >= 2 samples, got ${batch}`);
  return tf.tidy(() => {
    const fs = stopGradient(f); // f is a constant here
    const baseline = tf.div(tf.sub(tf.sum(fs), fs), batch - 1);
    const lp = logProb.rank > 1 ? tf.sum(logProb, logProb.shape.slice(1).map((_, i) => i + 1)) : logProb;
    return tf.mean(tf.mul(tf.sub(fs, baseline), lp));
  });
}
