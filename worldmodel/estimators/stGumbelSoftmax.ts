// Straight-through Gumbel-softmax (Jang et al. 2017), the world model's default:
//   y_hard = onehot(argmax(l + g)),  y = softmax((l + g) / tau),  g = -log(-log u)
//   output y_st = y_hard + y - sg(y): forward exactly y_hard, backward dL/dl = (1/tau) J(y) g.
import * as tf from "@tensorflow/tfjs";
import { checkTau, defineEstimator, divTau, oneHotArgmax, softmaxVjp } from "./categorical.ts";

export const stGumbelSoftmax = defineEstimator("stGumbelSoftmax", {
  check: ({ tau }) => checkTau("stGumbelSoftmax", tau),
  forward: (l, { tau, noise }) => {
    const perturbed = tf.add(l, noise.gumbel(l.shape));
    return { value: oneHotArgmax(perturbed), saved: [tf.softmax(divTau(perturbed, tau))] };
  },
  backward: (dy, [y], { tau }) => divTau(softmaxVjp(y!, dy), tau),
});
