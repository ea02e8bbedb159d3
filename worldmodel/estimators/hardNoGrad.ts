// A sampled one-hot z ~ softmax(l) with the gradient stopped: what training gets "without a
// differentiable trick". Forward exactly z; backward dL/dl = 0.
import { defineEstimator, sampleOneHot } from "./categorical.ts";

export const hardNoGrad = defineEstimator("hardNoGrad", {
  check: () => {},
  forward: (l, { noise }) => ({ value: sampleOneHot(l, noise.gumbel(l.shape)), saved: [] }),
  backward: () => null,
});
