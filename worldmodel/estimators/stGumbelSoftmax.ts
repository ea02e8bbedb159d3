// Straight-through Gumbel-softmax (Jang et al. 2017), the world model's default:
//   y_hard = onehot(argmax(l + g)),  y = softmax((l + g) / tau),  g = -log(-log u)
//   output y_st = y_hard + y - sg(y): forward exactly y_hard, backward dL/dl = (1/tau) J(y) g.
import * as tf from "@tensorflow/tfjs";
import { checkLogits, checkTau, oneHotArgmax, softmaxVjp, withGradient } from "./categorical.ts";
import type { Estimator } from "./types.ts";

export const stGumbelSoftmax: Estimator = (logits, { tau, noise }) => {
  checkTau("stGumbelSoftmax", tau);
  checkLogits("stGumbelSoftmax", logits);
  const g = noise.gumbel(logits.shape);
  const value = withGradient(
    logits,
    (l) => {
      const perturbed = tf.add(l, g);
      return { value: oneHotArgmax(perturbed), saved: [tf.softmax(tf.div(perturbed, tau))] };
    },
    (dy, [y]) => tf.div(softmaxVjp(y!, dy), tau),
  );
  g.dispose();
  return { value };
};
