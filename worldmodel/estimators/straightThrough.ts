// Straight-through (Bengio et al. 2013; as in DreamerV3 at tau = 1):
//   z ~ softmax(l) (one-hot),  q = softmax(l / tau)
//   output z + q - sg(q): forward exactly z, backward dL/dl = (1/tau) J(q) g.
// Unbiased for linear f at tau = 1; biased otherwise.
import * as tf from "@tensorflow/tfjs";
import { checkLogits, checkTau, sampleOneHot, softmaxVjp, withGradient } from "./categorical.ts";
import type { Estimator } from "./types.ts";

export const straightThrough: Estimator = (logits, { tau, noise }) => {
  checkTau("straightThrough", tau);
  checkLogits("straightThrough", logits);
  const g = noise.gumbel(logits.shape);
  const value = withGradient(
    logits,
    (l) => ({ value: sampleOneHot(l, g), saved: [tf.softmax(tf.div(l, tau))] }),
    (dy, [q]) => tf.div(softmaxVjp(q!, dy), tau),
  );
  g.dispose();
  return { value };
};
