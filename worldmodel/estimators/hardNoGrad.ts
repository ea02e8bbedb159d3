// A sampled one-hot z ~ softmax(l) with the gradient stopped: what training gets "without a
// differentiable trick". Forward exactly z; backward dL/dl = 0.
import { checkLogits, sampleWithoutGradient } from "./categorical.ts";
import type { Estimator } from "./types.ts";

export const hardNoGrad: Estimator = (logits, { noise }) => {
  checkLogits("hardNoGrad", logits);
  const g = noise.gumbel(logits.shape);
  const value = sampleWithoutGradient(logits, g);
  g.dispose();
  return { value };
};
