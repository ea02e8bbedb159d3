// Gumbel-softmax, soft (Jang et al. 2017; Maddison et al. 2017, "Concrete"):
//   y = softmax((l + g) / tau),  g = -log(-log u),  u ~ U(0, 1)
//   forward: the relaxed sample y (not one-hot); backward: the softmax's own, dL/dl = (1/tau) J(y) g.
import * as tf from "@tensorflow/tfjs";
import { checkTau, defineEstimator, divTau, softmaxVjp } from "./categorical.ts";

export const gumbelSoftmax = defineEstimator("gumbelSoftmax", {
  check: ({ tau }) => checkTau("gumbelSoftmax", tau),
  forward: (l, { tau, noise }) => {
    const y = tf.softmax(divTau(tf.add(l, noise.gumbel(l.shape)), tau));
    return { value: y, saved: [y] };
  },
  backward: (dy, [y], { tau }) => divTau(softmaxVjp(y!, dy), tau),
});
