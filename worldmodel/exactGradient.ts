// Exact gradients and estimator statistics on problems small enough to enumerate (K^D configurations):
//   E[f] = sum_z p(z) f(z),  p(z) = prod_d softmax(theta_d)[z_d];  exact gradient by autodiff of that sum.
// Used by the estimator tests and by experiment E1 (bias, variance, cosine to the exact gradient).
import * as tf from "@tensorflow/tfjs";
import { getEstimator, scoreFunctionLoss, type EstimatorName } from "./estimators/index.ts";
import type { Noise } from "./estimators/noise.ts";

/** f maps samples [N, D, K] to values [N]. */
export type Objective = (z: tf.Tensor) => tf.Tensor;

/** Every one-hot configuration of D variables with K classes: [K^D, D, K]. */
export function allConfigurations(d: number, k: number): tf.Tensor {
  const m = k ** d;
  const data = new Float32Array(m * d * k);
  for (let i = 0; i < m; i++) {
    let rest = i;
    for (let v = d - 1; v >= 0; v--) {
      data[(i * d + v) * k + (rest % k)] = 1;
      rest = Math.floor(rest / k);
    }
  }
  return tf.tensor3d(data, [m, d, k]);
}

/** E[f] under softmax(theta) and its exact gradient wrt theta [D, K]. */
export function exactGradient(theta: tf.Tensor, f: Objective): { value: number; grad: Float32Array } {
  const [d, k] = theta.shape as [number, number];
  return tf.tidy(() => {
    const configs = allConfigurations(d, k);
    const fz = f(configs);
    const expectation = (t: tf.Tensor) => {
      const logp = tf.sum(tf.mul(configs, tf.logSoftmax(t)), [1, 2]);
      return tf.sum(tf.mul(tf.exp(logp), fz));
    };
    const { value, grad } = tf.valueAndGrad(expectation)(theta);
    return { value: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
  });
}

export interface GradientEstimate {
  /** Mean of the per-sample gradient estimates, [D*K] flat. */
  mean: Float64Array;
  /** Per-coordinate variance of one sample's estimate. */
  variance: Float64Array;
  /** Every sample's estimate, [N, D*K] flat. */
  perSample: Float32Array;
  samples: number;
}

/**
 * N independent single-sample gradient estimates of E[f] wrt theta [D, K] by one estimator.
 * Each sample gets its own copy of theta, so the gradient wrt the copies is per sample. REINFORCE's
 * leave-one-out baseline couples the N samples (as it does in training).
 */
export function estimateGradient(
  name: EstimatorName,
  theta: tf.Tensor,
  f: Objective,
  opts: { samples: number; tau: number; noise: Noise; draws?: number },
): GradientEstimate {
  const [d, k] = theta.shape as [number, number];
  const n = opts.samples;
  const estimator = getEstimator(name);
  const perSample = tf.tidy(() => {
    const tiled = tf.tile(tf.expandDims(theta, 0), [n, 1, 1]);
    const total = (t: tf.Tensor) => {
      const { value, logProb } = estimator(t, { tau: opts.tau, noise: opts.noise, draws: opts.draws });
      const fz = f(value);
      let loss = tf.sum(fz);
      if (logProb) loss = tf.add(loss, tf.mul(scoreFunctionLoss(logProb, fz), n));
      return loss;
    };
    return tf.grad(total)(tiled).dataSync();
  });
  const size = d * k;
  const mean = new Float64Array(size);
  const variance = new Float64Array(size);
  for (let s = 0; s < n; s++) for (let i = 0; i < size; i++) mean[i]! += perSample[s * size + i]! / n;
  for (let s = 0; s < n; s++)
    for (let i = 0; i < size; i++) variance[i]! += (perSample[s * size + i]! - mean[i]!) ** 2 / (n - 1);
  return { mean, variance, perSample: perSample as Float32Array, samples: n };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
