// Expected code, no sampling: the probabilities themselves, p = softmax(l) (tau is not used).
// Multiplied by the codebook this is the expected code sum_i p_i c^(i); deterministic, dL/dl = J(p) g.
import * as tf from "@tensorflow/tfjs";
import { defineEstimator, softmaxVjp } from "./categorical.ts";

export const expected = defineEstimator("expected", {
  check: () => {},
  forward: (l) => {
    const p = tf.softmax(l);
    return { value: p, saved: [p] };
  },
  backward: (dy, [p]) => softmaxVjp(p!, dy),
});
