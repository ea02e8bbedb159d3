// ReinMax (Liu et al., NeurIPS 2023, "Bridging Discrete and Backpropagation"), second-order accurate:
//   z ~ p = softmax(l) (one-hot; tau does not enter the sample),  pi_bar = (softmax(l / tau) + z) / 2
//   forward exactly z; backward dL/dl = 2 J(pi_bar) g - 1/2 J(p) g  (J(q) g = q*g - q (q.g)),
//   no 1/tau factor, as the official code. Unbiased at tau = 1 for f at most quadratic per variable.
//   tau < 1 is refused (the authors' constraint).
import * as tf from "@tensorflow/tfjs";
import { checkTau, defineEstimator, divTau, sampleOneHot, softmaxVjp } from "./categorical.ts";

export const reinmax = defineEstimator("reinmax", {
  check: ({ tau }) => checkTau("reinmax", tau, 1),
  forward: (l, { tau, noise }) => {
    const z = sampleOneHot(l, noise.gumbel(l.shape));
    const p = tf.softmax(l);
    const piBar = tf.div(tf.add(tau === 1 ? p : tf.softmax(divTau(l, tau)), z), 2);
    return { value: z, saved: [p, piBar] };
  },
  backward: (dy, [p, piBar]) => tf.sub(tf.mul(softmaxVjp(piBar!, dy), 2), tf.mul(softmaxVjp(p!, dy), 0.5)),
});
