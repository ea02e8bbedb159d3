// Expected code, no sampling: the probabilities themselves, p = softmax(l) (tau is not used).
// Multiplied by the codebook this is the expected code sum_i p_i c^(i); deterministic, plain autodiff.
import * as tf from "@tensorflow/tfjs";
import { checkLogits } from "./categorical.ts";
import type { Estimator } from "./types.ts";

export const expected: Estimator = (logits) => {
  checkLogits("expected", logits);
  return { value: tf.softmax(logits) };
};
