// ReinMax's polynomial programming toy (Liu et al. 2023, sec. 6): D binary variables x_d = z_d[1]
// of categoricals z_d ~ softmax(theta_d), K = 2, theta ~ U(-0.01, 0.01);
//   minimise E[ mean_d |x_d - 0.45|^p ]  with batch B, Adam.
// The exact expected loss, mean_d [q_d 0.55^p + (1 - q_d) 0.45^p] with q_d = P(x_d = 1), is what
// we report (the optimum is 0.45^p, at q = 0); "exact" trains on its gradient.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";
import { Noise, getEstimator, scoreFunctionLoss, type EstimatorName } from "../../worldmodel/estimators/index.ts";

export const TARGET = 0.45;

export interface ToyConfig {
  estimator: EstimatorName | "exact";
  p: number;
  tau: number;
  dims: number;
  batch: number;
  lr: number;
  steps: number;
  seed: number;
  draws?: number;
  /** Record the exact loss every this many steps (0: only at the end). */
  every?: number;
}

export interface ToyResult {
  exactLoss: number;
  meanProbability: number;
  optimum: number;
  curve: { step: number; exactLoss: number }[];
}

/** mean_d [q_d 0.55^p + (1 - q_d) 0.45^p] for q = softmax(theta)[:, 1]. */
function exactLossOf(theta: tf.Tensor, p: number): tf.Tensor {
  const q = tf.squeeze(tf.slice(tf.softmax(theta), [0, 1], [-1, 1]), [1]);
  const hi = (1 - TARGET) ** p;
  const lo = TARGET ** p;
  return tf.mean(tf.add(tf.mul(q, hi), tf.mul(tf.sub(1, q), lo)));
}

export function polynomialToy(cfg: ToyConfig): ToyResult {
  const rng = new Rng(cfg.seed);
  const init = Float32Array.from({ length: cfg.dims * 2 }, () => rng.uniform(-0.01, 0.01));
  const theta = tf.variable(tf.tensor2d(init, [cfg.dims, 2]));
  const opt = tf.train.adam(cfg.lr);
  const noise = new Noise(rng.childSeed());
  const curve: ToyResult["curve"] = [];
  const record = (step: number) =>
    curve.push({ step, exactLoss: tf.tidy(() => exactLossOf(theta, cfg.p).dataSync()[0]!) });

  const sampledLoss = (): tf.Scalar => {
    if (cfg.estimator === "exact") return exactLossOf(theta, cfg.p) as tf.Scalar;
    // A broadcasting add, not tile/broadcastTo: tfjs differentiates those with one slice + add per copy.
    const logits = tf.add(theta, tf.zeros([cfg.batch, 1, 1]));
    const { value, logProb } = getEstimator(cfg.estimator)(logits, { tau: cfg.tau, noise, draws: cfg.draws });
    const x = tf.sum(tf.mul(value, tf.tensor1d([0, 1])), 2); // x_d = z_d[1], [B, D] (a strided slice is slow on WASM)
    const f = tf.mean(tf.pow(tf.abs(tf.sub(x, TARGET)), cfg.p), 1); // [B]
    const loss = tf.mean(f);
    return (logProb ? tf.add(loss, scoreFunctionLoss(logProb, f)) : loss) as tf.Scalar;
  };

  for (let step = 0; step < cfg.steps; step++) {
    if (cfg.every && step % cfg.every === 0) record(step);
    tf.tidy(() => {
      opt.minimize(sampledLoss);
    });
  }
  record(cfg.steps);
  const meanProbability = tf.tidy(() => tf.mean(tf.slice(tf.softmax(theta), [0, 1], [-1, 1])).dataSync()[0]!);
  theta.dispose();
  opt.dispose();
  return { exactLoss: curve[curve.length - 1]!.exactLoss, meanProbability, optimum: TARGET ** cfg.p, curve };
}
