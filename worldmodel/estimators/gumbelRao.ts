// Gumbel-Rao (Paulus, Maddison & Krause, ICLR 2021): ST-GS's gradient Rao-Blackwellised over the
// Gumbel noise given the sampled class D.
//   D ~ softmax(l) (one-hot, forward exactly);  for k = 1..K draw Gumbels conditioned on argmax = D:
//     E ~ Exp(1) per class, log Z = logsumexp(l)
//     perturbed_D = log Z - log E_D;  perturbed_i = -logaddexp(log E_i - l_i, log E_D - log Z)  (i != D)
//   backward dL/dl = (1/tau) (1/K) sum_k J(y_k) g,  y_k = softmax(perturbed_k / tau),
//   the conditional perturbations held constant. Same mean as ST-GS, lower variance.
import * as tf from "@tensorflow/tfjs";
import { EstimatorError, checkTau, defineEstimator, divTau, sampleOneHot, softmaxVjp } from "./categorical.ts";

export const DEFAULT_DRAWS = 10;

export const gumbelRao = defineEstimator("gumbelRao", {
  check: ({ tau, draws = DEFAULT_DRAWS }) => {
    checkTau("gumbelRao", tau);
    if (!Number.isInteger(draws) || draws < 2)
      throw new EstimatorError(`gumbelRao: 'draws' (K) must be an integer >= 2, got ${draws}`);
  },
  forward: (l, { tau, noise, draws = DEFAULT_DRAWS }) => {
    const d = sampleOneHot(l, noise.gumbel(l.shape));
    const logE = tf.log(noise.exponential([draws, ...l.shape]));
    const logZ = tf.logSumExp(l, -1, true);
    const logED = tf.sum(tf.mul(logE, d), -1, true); // log E_D, [K, ..., 1]
    const top = tf.sub(logZ, logED);
    // -logaddexp(a, b) = -(a + softplus(b - a)), stable for any a, b.
    const a = tf.sub(logE, l);
    const others = tf.neg(tf.add(a, tf.softplus(tf.sub(tf.sub(logED, logZ), a))));
    const perturbed = tf.add(tf.mul(d, top), tf.mul(tf.sub(1, d), others));
    return { value: d, saved: [tf.softmax(divTau(perturbed, tau))] };
  },
  backward: (dy, [ys], { tau }) => divTau(tf.mean(softmaxVjp(ys!, dy), 0), tau),
});
