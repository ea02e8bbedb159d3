// REINFORCE, the score function (Williams 1992), with a leave-one-out baseline (Kool et al. 2019):
//   z ~ softmax(l) (one-hot, no gradient through it);  log p(z) = sum(z * logsoftmax(l))
//   gradient of E[f] estimated as (f(z_b) - b_b) dlog p(z_b)/dl,  b_b = mean_{j != b} f(z_j)
//   = (f - b)(z - p) per variable. The sample carries logProb; add scoreFunctionLoss(logProb, f) to the loss.
import * as tf from "@tensorflow/tfjs";
import { EstimatorError, checkLogits, sampleOneHot, stopGradient, withGradient } from "./categorical.ts";
import type { Estimator, EstimatorParts } from "./types.ts";

const parts: EstimatorParts = {
  check: () => {},
  forward: (l, { noise }) => {
    const z = sampleOneHot(l, noise.gumbel(l.shape));
    const p = tf.softmax(l);
    return { value: z, saved: [z, p], logProb: tf.sum(tf.mul(z, tf.logSoftmax(l)), -1) };
  },
  backward: () => null,
  // d log p(z) / dl = z - p
  logProbBackward: (dLogProb, [z, p]) => tf.mul(tf.expandDims(dLogProb, -1), tf.sub(z!, p!)),
};

export const reinforce: Estimator = Object.assign(
  (logits: tf.Tensor, ctx: Parameters<EstimatorParts["forward"]>[1]) => {
    checkLogits("reinforce", logits);
    return tf.tidy(() => {
      const out = parts.forward(logits, ctx);
      // The tape sees z as a constant and log p(z) through logProbBackward.
      const logProb = withGradient(
        logits,
        () => ({ value: tf.clone(out.logProb!), saved: out.saved }),
        (dy, saved) => parts.logProbBackward!(dy, saved),
      );
      return { value: stopGradient(out.value), logProb };
    });
  },
  { parts },
);

/**
 * The surrogate whose gradient is the REINFORCE estimate with a leave-one-out baseline.
 * logProb [B, ...] (summed over the trailing axes per sample), f [B]: the per-sample loss (its
 * gradient is stopped here). Returns mean_b (f_b - b_b) * logProb_b; its value is not a loss to report.
 */
export function scoreFunctionLoss(logProb: tf.Tensor, f: tf.Tensor): tf.Tensor {
  const batch = f.shape[0]!;
  if (f.rank !== 1 || logProb.shape[0] !== batch) {
    throw new EstimatorError(
      `scoreFunctionLoss: f must be [B] and logProb [B, ...], got [${f.shape.join(", ")}] and [${logProb.shape.join(", ")}]`,
    );
  }
  if (batch < 2)
    throw new EstimatorError(
      `scoreFunctionLoss: the leave-one-out baseline needs a batch of >= 2 samples, got ${batch}`,
    );
  return tf.tidy(() => {
    const fs = stopGradient(f); // f is a constant here
    const baseline = tf.div(tf.sub(tf.sum(fs), fs), batch - 1);
    const lp =
      logProb.rank > 1
        ? tf.sum(
            logProb,
            logProb.shape.slice(1).map((_, i) => i + 1),
          )
        : logProb;
    return tf.mean(tf.mul(tf.sub(fs, baseline), lp));
  });
}
