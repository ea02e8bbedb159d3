// Straight-through (Bengio et al. 2013; as in DreamerV3 at tau = 1):
//   z ~ softmax(l) (one-hot),  q = softmax(l / tau)
//   output z + q - sg(q): forward exactly z, backward dL/dl = (1/tau) J(q) g.
// Unbiased for linear f at tau = 1; biased otherwise.
import * as tf from "@tensorflow/tfjs";
import { checkTau, defineEstimator, divTau, sampleOneHot, softmaxVjp } from "./categorical.ts";

export const straightThrough = defineEstimator("straightThrough", {
  check: ({ tau }) => checkTau("straightThrough", tau),
  forward: (l, { tau, noise }) => ({
    value: sampleOneHot(l, noise.gumbel(l.shape)),
    saved: [tf.softmax(divTau(l, tau))],
  }),
  backward: (dy, [q], { tau }) => divTau(softmaxVjp(q!, dy), tau),
});
