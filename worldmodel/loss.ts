// The world-model loss over a sampled sequence o_0..o_H (DC-MPC's, with a termination head):
//   sum_t rho^t mean_b mask_t [ CE(logits_t, idx(sg(quantize(enc(o_{t+1}))))) + w_r (r_hat_t - r_t)^2
//                               + w_d BCE(d_hat_t, d_t) ]
// The rollout starts at quantize(enc(o_0)) and feeds each step's sampled code to the next:
//   code_{t+1} = estimator(logits_t) @ C   (ST Gumbel-softmax by default; any estimator by name).
// Score-function estimators (REINFORCE) add (f_b - baseline) * sum_t log p(z_t) with f_b the
// sequence's own loss. An enabled decoder adds w_rec ||decode(code_0) - o_0||^2 (codes stopped unless
// config.decoder.shapeCodes). Inverse dynamics adds w_inv CE(inverse(code_0, quantize(enc(o_1))), a_0),
// which keeps the codes informative about what the agent controls (against codebook collapse).
import * as tf from "@tensorflow/tfjs";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { getEstimator, scoreFunctionLoss, type Noise } from "./estimators/index.ts";
import { stopGradient } from "./estimators/categorical.ts";
import type { WorldModel } from "./model.ts";

/** A sequence batch as tensors; targets computed without gradient. */
export interface TensorBatch {
  batch: number;
  horizon: number;
  /** [B, ...obsShape]: o_0, preprocessed. */
  obs0: tf.Tensor;
  /** [B, L, d]: o_0's codes when they are known (an encoder that does not learn); else encoded from obs0. */
  codes0?: tf.Tensor;
  /** o_1, preprocessed: only for the inverse-dynamics loss. */
  obs1?: tf.Tensor;
  /** H x [B, L] int32: code indices of o_1..o_H. */
  targets: tf.Tensor2D[];
  /** H x [B, A]. */
  actions: tf.Tensor2D[];
  /** H x [B]. */
  rewards: tf.Tensor1D[];
  terminated: tf.Tensor1D[];
  mask: tf.Tensor1D[];
}

/**
 * Uploads a sampled batch; encodes o_1..o_H into target indices (no gradient). `codes`: the batch's
 * codes [B * (H+1) * L * d] when known (WorldModelTrainer.codesOf), which then need no encoding.
 */
export function toTensorBatch(model: WorldModel, b: SequenceBatch, codes?: Float32Array): TensorBatch {
  const { batch: n, horizon: h } = b;
  const size = model.obsSize;
  const steps = h + 1;
  const actionValues = model.shape.action.kind === "discrete" ? 1 : model.actionSize;
  const column = (src: ArrayLike<number>, t: number, width: number) => {
    const out = new Float32Array(n * width);
    for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) out[i * width + k] = src[(i * h + t) * width + k]!;
    return out;
  };
  const [first, later] = splitFirst(b.obs, n, steps, size);
  return tf.tidy(() => {
    const obs0 = model.preprocess(first, n);
    const { latents } = model.config;
    const dim = model.fsq.dim;
    const known = codes && splitFirst(codes, n, steps, model.codeSize);
    const codes0 = known && tf.tensor3d(known[0], [n, latents, dim]);
    const laterCodes = known
      ? tf.tensor3d(known[1], [n * h, latents, dim])
      : model.encode(model.preprocess(later, n * h));
    const idx = tf.reshape(model.indices(laterCodes), [n, h, latents]);
    const flat = idx.arraySync() as number[][][];
    const targets = Array.from({ length: h }, (_, t) =>
      tf.tensor2d(
        flat.map((row) => row[t]!),
        [n, model.config.latents],
        "int32",
      ),
    );
    const result: TensorBatch = {
      batch: n,
      horizon: h,
      obs0,
      codes0,
      obs1: model.inverseDynamics ? model.preprocess(firstOfEach(later, n, h * size, size), n) : undefined,
      targets,
      actions: Array.from({ length: h }, (_, t) => model.actionFeatures(column(b.actions, t, actionValues), n)),
      rewards: Array.from({ length: h }, (_, t) => tf.tensor1d(column(b.rewards, t, 1))),
      terminated: Array.from({ length: h }, (_, t) => tf.tensor1d(column(b.terminated, t, 1))),
      mask: Array.from({ length: h }, (_, t) => tf.tensor1d(column(b.mask, t, 1))),
    };
    return result as unknown as tf.TensorContainer;
  }) as unknown as TensorBatch;
}

/** Each of n sequences' first step and the rest, from [n, steps, size] values (in JS: a strided tf.slice is slow on WASM). */
function splitFirst(
  values: { subarray(begin: number, end: number): ArrayLike<number> },
  n: number,
  steps: number,
  size: number,
): [Float32Array, Float32Array] {
  const first = new Float32Array(n * size);
  const rest = new Float32Array(n * (steps - 1) * size);
  for (let i = 0; i < n; i++) {
    first.set(values.subarray(i * steps * size, i * steps * size + size), i * size);
    rest.set(values.subarray(i * steps * size + size, (i + 1) * steps * size), i * (steps - 1) * size);
  }
  return [first, rest];
}

/** The first `size` values of each of n blocks of `stride` values. */
function firstOfEach(values: Float32Array, n: number, stride: number, size: number): Float32Array {
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) out.set(values.subarray(i * stride, i * stride + size), i * size);
  return out;
}

export function disposeBatch(b: TensorBatch): void {
  tf.dispose([
    b.obs0,
    ...(b.codes0 ? [b.codes0] : []),
    ...(b.obs1 ? [b.obs1] : []),
    ...b.targets,
    ...b.actions,
    ...b.rewards,
    ...b.terminated,
    ...b.mask,
  ]);
}

/** Named statistics of one loss evaluation (scalars; CE etc. averaged over valid steps). */
export interface LossStats {
  loss: number;
  ce: number;
  rewardMse: number;
  terminationBce: number;
  reconstruction: number;
  /** Inverse-dynamics loss (CE for Discrete actions, MSE for Box). */
  inverse: number;
  /** 1-step code accuracy of the first transition. */
  accuracy1: number;
}

/** BCE with logits, elementwise: max(x, 0) - x y + log(1 + exp(-|x|)). */
function bceWithLogits(logits: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/**
 * The scalar loss and its parts as tensors (call inside a gradient scope). `parts` receives kept
 * scalars for logging; the caller disposes them.
 */
export function worldModelLoss(
  model: WorldModel,
  b: TensorBatch,
  noise: Noise,
  parts?: Partial<Record<keyof LossStats, tf.Scalar>>,
): tf.Scalar {
  const cfg = model.config;
  const estimator = getEstimator(cfg.estimator);
  const codes0 = b.codes0 ?? model.encode(b.obs0);
  let code: tf.Tensor = cfg.detachEncoder ? stopGradient(codes0) : codes0;
  const perSample: tf.Tensor[] = [];
  const logProbs: tf.Tensor[] = [];
  const sums = { ce: [] as tf.Tensor[], rewardMse: [] as tf.Tensor[], terminationBce: [] as tf.Tensor[] };
  let accuracy1: tf.Tensor | undefined;
  for (let t = 0; t < b.horizon; t++) {
    const { logits, reward, terminated, rewarded } = model.heads(code, b.actions[t]!);
    const target = tf.cast(tf.oneHot(b.targets[t]!, model.fsq.size, 1, 0, "int32"), "float32");
    const ce = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 2), 1)); // [B]
    const mse = tf.square(tf.sub(reward, b.rewards[t]!));
    // The classified gate: "this step pays" joins the reward's loss.
    const pays = rewarded && bceWithLogits(rewarded, tf.cast(tf.notEqual(b.rewards[t]!, 0), "float32"));
    const rewardLoss = pays ? tf.add(mse, pays) : mse;
    const bce = bceWithLogits(terminated, b.terminated[t]!);
    const m = b.mask[t]!;
    perSample.push(
      tf.mul(
        m,
        tf.mul(
          cfg.rho ** t,
          tf.add(ce, tf.add(tf.mul(cfg.rewardWeight, rewardLoss), tf.mul(cfg.terminationWeight, bce))),
        ),
      ),
    );
    sums.ce.push(tf.sum(tf.mul(m, ce)));
    sums.rewardMse.push(tf.sum(tf.mul(m, mse)));
    sums.terminationBce.push(tf.sum(tf.mul(m, bce)));
    if (t === 0) accuracy1 = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 2), b.targets[0]!), "float32"));
    if (t + 1 < b.horizon) {
      const sample = estimator(logits, { tau: cfg.tau, noise, draws: cfg.draws });
      if (sample.logProb) logProbs.push(tf.mul(m, tf.sum(sample.logProb, 1)));
      code = model.fsq.weightsToCodes(sample.value);
    }
  }
  const f = tf.addN(perSample); // [B]: each sequence's own loss
  let total = tf.mean(f);
  let reconstruction: tf.Tensor = tf.scalar(0);
  if (model.decoder) {
    const input = cfg.decoder.shapeCodes ? codes0 : stopGradient(codes0);
    const target = tf.reshape(b.obs0, [b.batch, model.obsSize]);
    reconstruction = tf.mean(tf.square(tf.sub(model.decode(input), target)));
    total = tf.add(total, tf.mul(cfg.decoder.weight, reconstruction));
  }
  let inverse: tf.Tensor = tf.scalar(0);
  if (model.inverseDynamics) {
    const predicted = model.inverse(codes0, model.encode(b.obs1!));
    const perSampleInverse =
      model.shape.action.kind === "discrete"
        ? tf.neg(tf.sum(tf.mul(b.actions[0]!, tf.logSoftmax(predicted)), 1))
        : tf.mean(tf.square(tf.sub(predicted, b.actions[0]!)), 1);
    inverse = tf.div(tf.sum(tf.mul(b.mask[0]!, perSampleInverse)), tf.maximum(tf.sum(b.mask[0]!), 1));
    total = tf.add(total, tf.mul(cfg.inverseDynamicsWeight, inverse));
  }
  if (logProbs.length) total = tf.add(total, scoreFunctionLoss(tf.addN(logProbs), f));
  if (parts) {
    const valid = tf.maximum(tf.addN(b.mask.map((m) => tf.sum(m))), 1);
    const keep = (x: tf.Tensor) => tf.keep(x as tf.Scalar);
    parts.loss = keep(tf.mean(f));
    parts.ce = keep(tf.div(tf.addN(sums.ce), valid));
    parts.rewardMse = keep(tf.div(tf.addN(sums.rewardMse), valid));
    parts.terminationBce = keep(tf.div(tf.addN(sums.terminationBce), valid));
    parts.reconstruction = keep(reconstruction);
    parts.inverse = keep(inverse);
    parts.accuracy1 = keep(accuracy1!);
  }
  return total as tf.Scalar;
}

/**
 * The loss's gradient through tf's tape (aligned with model.variables; zeros for a variable the loss
 * does not reach) and its parts: the training path of models the fused pass does not cover (the
 * local heads of encoder "cells"). Call inside tf.tidy.
 */
export function tapeWorldModelGrads(
  model: WorldModel,
  sample: SequenceBatch,
  noise: Noise,
  codes?: Float32Array,
): { grads: tf.Tensor[]; stats: LossStats } {
  const batch = toTensorBatch(model, sample, codes);
  const parts: Partial<Record<keyof LossStats, tf.Scalar>> = {};
  try {
    const { grads } = tf.variableGrads(() => worldModelLoss(model, batch, noise, parts), model.variables);
    const stats = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v!.dataSync()[0]!])) as unknown;
    return { grads: model.variables.map((v) => grads[v.name] ?? tf.zerosLike(v)), stats: stats as LossStats };
  } finally {
    tf.dispose(Object.values(parts));
    disposeBatch(batch);
  }
}
