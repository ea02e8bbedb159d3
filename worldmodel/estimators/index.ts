// The estimators by name: training code picks one with getEstimator(name).
import { EstimatorError } from "./categorical.ts";
import { expected } from "./expected.ts";
import { gumbelRao } from "./gumbelRao.ts";
import { gumbelSoftmax } from "./gumbelSoftmax.ts";
import { hardNoGrad } from "./hardNoGrad.ts";
import { reinforce } from "./reinforce.ts";
import { reinmax } from "./reinmax.ts";
import { stGumbelSoftmax } from "./stGumbelSoftmax.ts";
import { straightThrough } from "./straightThrough.ts";
import type { Estimator } from "./types.ts";

export const ESTIMATORS = {
  "st-gumbel-softmax": stGumbelSoftmax,
  "gumbel-softmax": gumbelSoftmax,
  "straight-through": straightThrough,
  reinmax,
  "gumbel-rao": gumbelRao,
  reinforce,
  expected,
  "hard-no-grad": hardNoGrad,
} as const satisfies Record<string, Estimator>;

export type EstimatorName = keyof typeof ESTIMATORS;
export const ESTIMATOR_NAMES = Object.keys(ESTIMATORS) as EstimatorName[];

/** Estimators whose forward value is exactly one-hot. */
export const HARD_ESTIMATORS: readonly EstimatorName[] = [
  "st-gumbel-softmax",
  "straight-through",
  "reinmax",
  "gumbel-rao",
  "reinforce",
  "hard-no-grad",
];
/** Estimators whose result depends on tau. */
export const TAU_ESTIMATORS: readonly EstimatorName[] = [
  "st-gumbel-softmax",
  "gumbel-softmax",
  "straight-through",
  "reinmax",
  "gumbel-rao",
];

export function getEstimator(name: string): Estimator {
  if (!(name in ESTIMATORS))
    throw new EstimatorError(`getEstimator: unknown estimator '${name}' (known: ${ESTIMATOR_NAMES.join(", ")})`);
  return ESTIMATORS[name as EstimatorName];
}

export { Noise } from "./noise.ts";
export { scoreFunctionLoss } from "./reinforce.ts";
export { EstimatorError } from "./categorical.ts";
export type { Estimator, Sample, SampleContext } from "./types.ts";
