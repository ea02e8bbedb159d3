// E1, gradient quality: on an enumerable problem (D categorical variables of K classes, fixed
// non-linear f), compare each estimator's gradient of E[f] with the exact one:
//   relative bias  ||E[g_hat] - g|| / ||g||       (its Monte Carlo floor sqrt(tr Cov / N) / ||g|| is reported too)
//   relative variance  tr Cov[g_hat] / ||g||^2    (of a single-sample estimate)
//   cosine of one sample's estimate with g (mean over samples), and of the mean estimate with g.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";
import { Noise, type EstimatorName } from "../../worldmodel/estimators/index.ts";
import { cosine, estimateGradient, exactGradient, type Objective } from "../../worldmodel/exactGradient.ts";

/** The fixed objective's weights come from this seed; only theta and the noise vary with the run's seed. */
const OBJECTIVE_SEED = 12345;

/** f(z) = sin(sum_d z_d . w_d) + (z_0 . w_0)(z_1 . w_1)^2 + sum_d (z_d . u_d)^2 / D: non-linear, with interactions. */
const objectives = new Map<string, Objective>();

export function makeObjective(d: number, k: number): Objective {
  const key = `${d}x${k}`;
  const cached = objectives.get(key);
  if (cached) return cached;
  const rng = new Rng(OBJECTIVE_SEED);
  const w = tf.keep(
    tf.tensor2d(
      Float32Array.from({ length: d * k }, () => rng.normal()),
      [d, k],
    ),
  );
  const u = tf.keep(
    tf.tensor2d(
      Float32Array.from({ length: d * k }, () => rng.normal()),
      [d, k],
    ),
  );
  const f: Objective = (z) =>
    tf.tidy(() => {
      const s = tf.sum(tf.mul(z, w), 2); // [N, D]
      const t = tf.sum(tf.mul(z, u), 2);
      const cols = tf.split(s, d, 1);
      const pair = tf.squeeze(tf.mul(cols[0]!, tf.square(cols[1]!)), [1]);
      return tf.add(tf.add(tf.sin(tf.sum(s, 1)), pair), tf.div(tf.sum(tf.square(t), 1), d));
    });
  objectives.set(key, f);
  return f;
}

export interface QualityConfig {
  estimator: EstimatorName;
  tau: number;
  seed: number;
  dims: number;
  classes: number;
  samples: number;
  draws: number;
}

export interface QualityMetrics {
  relBias: number;
  relBiasFloor: number;
  relVariance: number;
  cosineSingle: number;
  cosineMean: number;
}

export function gradientQuality(cfg: QualityConfig): QualityMetrics {
  const rng = new Rng(cfg.seed);
  const f = makeObjective(cfg.dims, cfg.classes);
  const theta = tf.tensor2d(
    Float32Array.from({ length: cfg.dims * cfg.classes }, () => rng.normal()),
    [cfg.dims, cfg.classes],
  );
  const exact = exactGradient(theta, f).grad;
  const est = estimateGradient(cfg.estimator, theta, f, {
    samples: cfg.samples,
    tau: cfg.tau,
    noise: new Noise(rng.childSeed()),
    draws: cfg.draws,
  });
  theta.dispose();
  const norm2 = exact.reduce((a, b) => a + b * b, 0);
  const biasSq = est.mean.reduce((a, m, i) => a + (m - exact[i]!) ** 2, 0);
  const trace = est.variance.reduce((a, b) => a + b, 0);
  const size = exact.length;
  let cosSum = 0;
  for (let s = 0; s < cfg.samples; s++) {
    const c = cosine(est.perSample.subarray(s * size, (s + 1) * size), exact);
    cosSum += Number.isFinite(c) ? c : 0; // an all-zero sample (hard-no-grad) has cosine 0
  }
  const cosMean = cosine(est.mean, exact);
  return {
    relBias: Math.sqrt(biasSq / norm2),
    relBiasFloor: Math.sqrt(trace / cfg.samples / norm2),
    relVariance: trace / norm2,
    cosineSingle: cosSum / cfg.samples,
    cosineMean: Number.isFinite(cosMean) ? cosMean : 0,
  };
}
