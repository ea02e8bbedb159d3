// Gumbel-softmax, soft (Jang et al. 2017; Maddison et al. 2017, "Concrete"):
//   y = softmax((l + g) / tau),  g = -log(-log u),  u ~ U(0, 1)
//   forward: the relaxed sample y (not one-hot); backward: autodiff, dL/dl = (1/tau) J(y) g.
import * as tf from "@tensorflow/tfjs";
import { checkLogits, checkTau } from "./categorical.ts";
import type { Estimator } from "./types.ts";

export const gumbelSoftmax: Estimator = (logits, { tau, noise }) => {
  checkTau("gumbelSoftmax", tau);
  checkLogits("gumbelSoftmax", logits);
  return { value: tf.tidy(() => tf.softmax(tf.div(tf.add(logits, noise.gumbel(logits.shape)), tau))) };
};
