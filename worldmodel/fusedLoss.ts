// The world-model loss of loss.ts and its gradient in one pass with the backward written out, no
// gradient tape: the update is bound by per-op overhead (5-10 us per op on WASM), and the tape adds
// a node and a saved copy per op. The same loss (worldModelLoss is the reference the tests hold
// this to); what changes is how it is computed:
//   - the encoder runs once on o_0 and o_1 (the codes that carry gradient) and once on o_2..o_H
//     (targets only), instead of per use;
//   - d CE / d logits = w (softmax - onehot) / L directly; the sampled code's gradient goes through
//     the estimator's own backward (EstimatorParts), the dense layers' through Mlp.backward;
//   - weights are transposed once per update, and each layer's weight gradient is one matmul over
//     the H steps stacked;
//   - the loss parts come back in one read.
// Backward through time: g_{code_{t+1}} -> estimator backward -> d logits_t, plus the CE, reward and
// termination terms of step t -> dynamics and heads -> g_{code_t} -> ... -> g_{code_0} -> FSQ -> encoder.
import * as tf from "@tensorflow/tfjs";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import type { TypedArray } from "../envs/index.ts";
import { getEstimator, type Noise } from "./estimators/index.ts";
import type { LossStats } from "./loss.ts";
import type { WorldModel } from "./model.ts";
import { Mlp, type MlpTrace } from "./nn/mlp.ts";
import { matMul } from "./nn/ops.ts";

export interface FusedGradients {
  /** d total loss / d variable, aligned with model.variables. */
  grads: tf.Tensor[];
  /** The loss and its parts, as worldModelLoss reports them, and the target codes' usage. */
  stats: LossStats & CodeUsage;
}

/** How the batch's target codes use the codebook, per latent, averaged over latents. */
export interface CodeUsage {
  /** Distinct codes. */
  codesUsed: number;
  /** exp(entropy) of the codes' frequencies (|C| when uniform, 1 when collapsed). */
  perplexity: number;
}

/** Code usage of `idx` ([rows, L] code indices, row-major). */
export function codeUsage(idx: ArrayLike<number>, latents: number, codes: number): CodeUsage {
  const rows = idx.length / latents;
  let used = 0;
  let perplexity = 0;
  const counts = new Float64Array(codes);
  for (let l = 0; l < latents; l++) {
    counts.fill(0);
    for (let r = 0; r < rows; r++) counts[idx[r * latents + l]!]!++;
    let entropy = 0;
    for (const c of counts) {
      if (c === 0) continue;
      used++;
      entropy -= (c / rows) * Math.log(c / rows);
    }
    perplexity += Math.exp(entropy);
  }
  return { codesUsed: used / latents, perplexity: perplexity / latents };
}

/** Per-step JS inputs of a batch, time-major: column t of the [B, H] arrays. */
interface Columns {
  actions: Float32Array[];
  rewards: Float32Array[];
  terminated: Float32Array[];
  mask: Float32Array[];
}

/**
 * Rows [B, H+1, width] (observations, or their codes) time-major: o_0 of every sequence then o_1
 * ([2B, width]), and o_2..o_H ([(H-1)B, width]).
 */
function splitSteps(src: TypedArray, n: number, h: number, width: number): [Float32Array, Float32Array] {
  const steps = h + 1;
  const first = new Float32Array(2 * n * width);
  const later = new Float32Array(Math.max(0, h - 1) * n * width);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t <= h; t++) {
      const row = src.subarray((i * steps + t) * width, (i * steps + t + 1) * width);
      if (t < 2) first.set(row, (t * n + i) * width);
      else later.set(row, ((t - 2) * n + i) * width);
    }
  }
  return [first, later];
}

function columns(b: SequenceBatch, actionValues: number): Columns {
  const { batch: n, horizon: h } = b;
  const column = (src: ArrayLike<number>, t: number, width: number) => {
    const out = new Float32Array(n * width);
    for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) out[i * width + k] = src[(i * h + t) * width + k]!;
    return out;
  };
  const each = (src: ArrayLike<number>, width: number) => Array.from({ length: h }, (_, t) => column(src, t, width));
  return {
    actions: each(b.actions, actionValues),
    rewards: each(b.rewards, 1),
    terminated: each(b.terminated, 1),
    mask: each(b.mask, 1),
  };
}

/** The encoder's continuous latents [n, codeSize] of preprocessed observations, with an MLP trace when asked. */
function embedFlat(model: WorldModel, x: tf.Tensor, traced: boolean): { z: tf.Tensor2D; trace?: MlpTrace } {
  const n = x.shape[0]!;
  if (model.encoder instanceof Mlp) {
    const flat = tf.reshape(x, [n, model.obsSize]) as tf.Tensor2D;
    if (!traced) return { z: model.encoder.apply(flat) };
    const { out, trace } = model.encoder.applyTraced(flat);
    return { z: out, trace };
  }
  return { z: tf.reshape(model.embed(x), [n, model.codeSize]) as tf.Tensor2D };
}

/**
 * Computes the loss of `b` and every variable's gradient (call inside tf.tidy). `encoder: false`
 * (a frozen encoder) skips the encoder's backward and gives its variables zero gradients: on an
 * image encoder that backward is most of the step, and every other gradient is the same. `codes`
 * (a frozen encoder only): the batch's codes [B * (H+1) * codeSize] already known (FrozenCodes), so
 * the encoder does not run at all.
 */
export function fusedWorldModelGrads(
  model: WorldModel,
  b: SequenceBatch,
  noise: Noise,
  { encoder = true, codes }: { encoder?: boolean; codes?: Float32Array } = {},
): FusedGradients {
  const { rewardHead, terminationHead } = model;
  if (!rewardHead || !terminationHead)
    throw new Error("fusedWorldModelGrads: the local heads of encoder 'cells' train through the tape (loss.ts)");
  const cfg = model.config;
  const { batch: n, horizon: h } = b;
  const { latents: L } = cfg;
  const C = model.fsq.size;
  const K = model.codeSize;
  const discrete = model.shape.action.kind === "discrete";
  const estimator = getEstimator(cfg.estimator).parts;
  const ctx = { tau: cfg.tau, noise, draws: cfg.draws };
  estimator.check(ctx);
  const cols = columns(b, discrete ? 1 : model.actionSize);

  if (codes && encoder) throw new Error("fusedWorldModelGrads: known codes are for a frozen encoder (encoder: false)");
  if (codes && codes.length !== n * (h + 1) * K)
    throw new Error(`fusedWorldModelGrads: 'codes' holds ${codes.length} values, the batch needs ${n * (h + 1) * K}`);
  // Encoder: o_0, o_1 with gradient; o_2..o_H for targets only. The decoder's target is o_0.
  // The observations split only where something reads them: with known codes, the decoder alone.
  const [obs01, obsLater] = codes && !model.decoder ? [] : splitSteps(b.obs, n, h, model.obsSize);
  const x01 = obs01 && model.preprocess(obs01, 2 * n);
  let codes01: tf.Tensor2D;
  let codesLater: tf.Tensor2D | undefined;
  let encoded: TracedCodes | undefined;
  if (codes) {
    const [first, later] = splitSteps(codes, n, h, K);
    codes01 = tf.tensor2d(first, [2 * n, K]);
    if (h > 1) codesLater = tf.tensor2d(later, [(h - 1) * n, K]);
  } else {
    encoded = tracedCodes(model, x01!, encoder);
    codes01 = encoded.codes;
    if (h > 1)
      codesLater = tf.reshape(model.encode(model.preprocess(obsLater!, (h - 1) * n)), [(h - 1) * n, K]) as tf.Tensor2D;
  }
  const targetCodes = [tf.slice(codes01, [n, 0], [n, K]), ...(codesLater ? [codesLater] : [])];
  const targetIdx = model.fsq
    .codesToIndices(
      tf.reshape(targetCodes.length === 1 ? targetCodes[0]! : tf.concat(targetCodes, 0), [h * n, L, model.fsq.dim]),
    )
    .dataSync();

  // Targets as one-hot rows and the per-sample weights of each step's loss, built in JS (no ops).
  const onehot = new Float32Array(h * n * L * C);
  for (let r = 0; r < h * n * L; r++) onehot[r * C + targetIdx[r]!] = 1;
  const onehots = Array.from({ length: h }, (_, t) =>
    tf.tensor3d(onehot.subarray(t * n * L * C, (t + 1) * n * L * C), [n, L, C]),
  );
  const weight = cols.mask.map((m, t) => Float32Array.from(m, (v) => (v * cfg.rho ** t) / n)); // d mean_b f_b / d perSample
  const valid = Math.max(
    1,
    cols.mask.reduce((s, m) => s + m.reduce((a, v) => a + v, 0), 0),
  );
  const actions = cols.actions.map((a) => model.actionFeatures(a, n));

  // Forward rollout.
  const code0 = tf.slice(codes01, [0, 0], [n, K]) as tf.Tensor2D;
  const code1 = tf.slice(codes01, [n, 0], [n, K]) as tf.Tensor2D;
  const xs: tf.Tensor2D[] = [];
  const traces = { dynamics: [] as MlpTrace[], reward: [] as MlpTrace[], terminated: [] as MlpTrace[] };
  const probs: tf.Tensor[] = [];
  const logitsAll: tf.Tensor[] = [];
  const rewardOut: tf.Tensor2D[] = [];
  const termOut: tf.Tensor2D[] = [];
  const samples: { saved: tf.Tensor[]; logProb?: tf.Tensor }[] = [];
  let code: tf.Tensor2D = code0;
  for (let t = 0; t < h; t++) {
    const x = tf.concat([code, actions[t]!], 1) as tf.Tensor2D;
    xs.push(x);
    const dyn = model.dynamics.applyTraced(x);
    const rew = rewardHead.applyTraced(x);
    const term = terminationHead.applyTraced(x);
    traces.dynamics.push(dyn.trace);
    traces.reward.push(rew.trace);
    traces.terminated.push(term.trace);
    rewardOut.push(rew.out);
    termOut.push(term.out);
    const logits = tf.reshape(dyn.out, [n, L, C]);
    logitsAll.push(logits);
    probs.push(tf.softmax(logits));
    if (t + 1 < h) {
      const s = estimator.forward(logits, ctx);
      samples.push({ saved: s.saved, logProb: s.logProb });
      code = tf.reshape(matMul(tf.reshape(s.value, [n * L, C]), model.fsq.codebook), [n, K]) as tf.Tensor2D;
    }
  }

  // Loss parts over all steps at once: rows of [H*B] vectors.
  const stack = (xs: tf.Tensor[]) => (xs.length === 1 ? xs[0]! : tf.concat(xs, 0));
  // CE from the target's probability: a log of [H*B, L] values instead of a log-softmax (exp) of all |C|.
  const targetProb = tf.sum(tf.mul(stack(probs), stack(onehots)), 2);
  const ce = tf.mul(tf.sum(tf.log(tf.maximum(targetProb, 1e-30)), 1), -1 / L);
  const rewardPred = tf.reshape(stack(rewardOut), [h * n]);
  const termLogit = tf.reshape(stack(termOut), [h * n]);
  const rewardTarget = tf.tensor1d(concatArrays(cols.rewards));
  const termTarget = tf.tensor1d(concatArrays(cols.terminated));
  const mse = tf.squaredDifference(rewardPred, rewardTarget);
  const bce = tf.add(
    tf.sub(tf.relu(termLogit), tf.mul(termLogit, termTarget)),
    tf.log1p(tf.exp(tf.neg(tf.abs(termLogit)))),
  );
  const column = (x: tf.Tensor) => tf.reshape(x, [h * n, 1]);
  const parts = tf.concat([column(ce), column(mse), column(bce)], 1); // [H*B, 3] (WASM's stack is slow)
  // Row 0: masked means; row 1: the rho-weighted batch mean of each part.
  const statWeights = new Float32Array(2 * h * n);
  for (let t = 0; t < h; t++) {
    for (let i = 0; i < n; i++) {
      statWeights[t * n + i] = cols.mask[t]![i]! / valid;
      statWeights[h * n + t * n + i] = weight[t]![i]!;
    }
  }
  const partStats = matMul(tf.tensor2d(statWeights, [2, h * n]), parts); // [2, 3]

  // Score-function estimators: each sequence's own loss f_b and its leave-one-out advantage.
  let advantage: tf.Tensor | undefined;
  if (estimator.logProbBackward) {
    const perStep = tf.reshape(matMul(parts, tf.tensor2d([1, cfg.rewardWeight, cfg.terminationWeight], [3, 1])), [
      h,
      n,
    ]);
    const f = tf.sum(tf.mul(perStep, tf.tensor2d(concatArrays(weight), [h, n])), 0); // already divided by B
    advantage = tf.mul(tf.sub(f, tf.div(tf.sub(tf.sum(f), f), n - 1)), n); // f_b - b_b, undoing the 1/B
  }

  // Backward through time.
  const wT = {
    dynamics: model.dynamics.transposedWeights(),
    reward: rewardHead.transposedWeights(),
    terminated: terminationHead.transposedWeights(),
  };
  const firstT = tf.concat([wT.dynamics[0]!, wT.reward[0]!, wT.terminated[0]!], 0) as tf.Tensor2D; // [hidden sum, K + A]
  const codebookT = tf.transpose(model.fsq.codebook);
  const dPres = { dynamics: [] as tf.Tensor2D[][], reward: [] as tf.Tensor2D[][], terminated: [] as tf.Tensor2D[][] };
  let dCode: tf.Tensor2D | undefined; // dL / d code_{t+1}
  for (let t = h - 1; t >= 0; t--) {
    let dLogits: tf.Tensor = tf.mul(
      tf.sub(probs[t]!, onehots[t]!),
      tf.tensor3d(
        weight[t]!.map((w) => w / L),
        [n, 1, 1],
      ),
    );
    if (t + 1 < h) {
      const s = samples[t]!;
      if (dCode) {
        const dValue = tf.reshape(matMul(tf.reshape(dCode, [n * L, model.fsq.dim]), codebookT), [n, L, C]);
        const g = estimator.backward(dValue, s.saved, ctx);
        if (g) dLogits = tf.add(dLogits, g);
      }
      if (advantage) {
        const coef = tf.mul(advantage, tf.tensor1d(cols.mask[t]!.map((m) => m / n))); // (f_b - b_b) m_t / B
        dLogits = tf.add(dLogits, estimator.logProbBackward!(tf.reshape(coef, [n, 1]), s.saved));
      }
    }
    const w = tf.tensor2d(weight[t]!, [n, 1]);
    const dReward = tf.mul(
      tf.sub(rewardOut[t]!, tf.tensor2d(cols.rewards[t]!, [n, 1])),
      tf.mul(w, 2 * cfg.rewardWeight),
    );
    const dTerm = tf.mul(
      tf.sub(tf.sigmoid(termOut[t]!), tf.tensor2d(cols.terminated[t]!, [n, 1])),
      tf.mul(w, cfg.terminationWeight),
    );
    const dyn = model.dynamics.backward(
      traces.dynamics[t]!,
      tf.reshape(dLogits, [n, L * C]) as tf.Tensor2D,
      wT.dynamics,
      false,
    );
    const rew = rewardHead.backward(traces.reward[t]!, dReward as tf.Tensor2D, wT.reward, false);
    const term = terminationHead.backward(traces.terminated[t]!, dTerm as tf.Tensor2D, wT.terminated, false);
    dPres.dynamics[t] = dyn.dPre;
    dPres.reward[t] = rew.dPre;
    dPres.terminated[t] = term.dPre;
    dCode = tf.slice(
      matMul(tf.concat([dyn.dPre[0]!, rew.dPre[0]!, term.dPre[0]!], 1), firstT),
      [0, 0],
      [n, K],
    ) as tf.Tensor2D;
  }
  const xsAll = tf.concat(xs, 0) as tf.Tensor2D;
  const grads = new Map<tf.Variable, tf.Tensor>();
  const put = (m: Mlp, g: tf.Tensor[]) => m.variables.forEach((v, i) => grads.set(v, g[i]!));
  put(model.dynamics, model.dynamics.gradients(traces.dynamics, dPres.dynamics, xsAll));
  put(rewardHead, rewardHead.gradients(traces.reward, dPres.reward, xsAll));
  put(terminationHead, terminationHead.gradients(traces.terminated, dPres.terminated, xsAll));

  // Auxiliary losses on code_0 (and code_1), and the gradient into the encoder.
  let dCode0: tf.Tensor = cfg.detachEncoder ? tf.zerosLike(code0) : dCode!;
  let dCode1: tf.Tensor | undefined;
  let reconstruction: tf.Tensor = tf.scalar(0);
  let inverse: tf.Tensor = tf.scalar(0);
  if (model.decoder) {
    const { out, trace } = model.decoder.applyTraced(code0);
    const target = tf.slice(tf.reshape(x01!, [2 * n, model.obsSize]), [0, 0], [n, model.obsSize]);
    const diff = tf.sub(out, target);
    reconstruction = tf.mean(tf.square(diff));
    const back = model.decoder.backward(
      trace,
      tf.mul(diff, (2 * cfg.decoder.weight) / (n * model.obsSize)) as tf.Tensor2D,
      model.decoder.transposedWeights(),
      cfg.decoder.shapeCodes,
    );
    put(model.decoder, model.decoder.gradients([trace], [back.dPre]));
    if (back.dx) dCode0 = tf.add(dCode0, back.dx);
  }
  if (model.inverseDynamics) {
    const { out, trace } = model.inverseDynamics.applyTraced(tf.concat([code0, code1], 1) as tf.Tensor2D);
    const valid0 = Math.max(
      1,
      cols.mask[0]!.reduce((a, v) => a + v, 0),
    );
    const m0 = tf.tensor2d(cols.mask[0]!, [n, 1]);
    let dOut: tf.Tensor;
    if (discrete) {
      inverse = tf.div(tf.sum(tf.mul(m0, tf.neg(tf.sum(tf.mul(actions[0]!, tf.logSoftmax(out)), 1, true)))), valid0);
      dOut = tf.mul(tf.sub(tf.softmax(out), actions[0]!), tf.mul(m0, cfg.inverseDynamicsWeight / valid0));
    } else {
      const diff = tf.sub(out, actions[0]!);
      inverse = tf.div(tf.sum(tf.mul(m0, tf.mean(tf.square(diff), 1, true))), valid0);
      dOut = tf.mul(diff, tf.mul(m0, (2 * cfg.inverseDynamicsWeight) / (valid0 * model.actionSize)));
    }
    const back = model.inverseDynamics.backward(trace, dOut as tf.Tensor2D, model.inverseDynamics.transposedWeights());
    put(model.inverseDynamics, model.inverseDynamics.gradients([trace], [back.dPre]));
    dCode0 = tf.add(dCode0, tf.slice(back.dx!, [0, 0], [n, K]));
    dCode1 = tf.slice(back.dx!, [0, K], [n, K]);
  }
  const encoderGrads =
    encoder && encoded
      ? encoded.encoderGrads(tf.concat([dCode0, dCode1 ?? tf.zerosLike(code1)], 0) as tf.Tensor2D)
      : model.encoder.variables.map((v) => tf.zerosLike(v));
  model.encoder.variables.forEach((v, i) => grads.set(v, encoderGrads[i]!));

  // One read for every statistic.
  const accuracy1 = tf.mean(
    tf.cast(
      tf.equal(tf.argMax(logitsAll[0]!, 2), tf.tensor2d(targetIdx.subarray(0, n * L), [n, L], "int32")),
      "float32",
    ),
  );
  const read = tf.concat([partStats, reconstruction, inverse, accuracy1].map((x) => tf.reshape(x, [-1]))).dataSync();
  const [ceMean, mseMean, bceMean, ceW, mseW, bceW, rec, inv, acc] = Array.from(read);
  const stats: LossStats & CodeUsage = {
    ...codeUsage(targetIdx, L, C),
    loss: ceW! + cfg.rewardWeight * mseW! + cfg.terminationWeight * bceW!,
    ce: ceMean!,
    rewardMse: mseMean!,
    terminationBce: bceMean!,
    reconstruction: rec!,
    inverse: inv!,
    accuracy1: acc!,
  };
  return { grads: model.variables.map((v) => grads.get(v)!), stats };
}

/** Codes that can carry a gradient back into the encoder (tracedCodes). */
export interface TracedCodes {
  /** The codes [n, K] of the observations, as model.encode gives them. */
  codes: tf.Tensor2D;
  /** The encoder's gradients (aligned with model.encoder.variables) from dL/dcodes [n, K], through FSQ's rounding (straight through). */
  encoderGrads(dCodes: tf.Tensor2D): tf.Tensor[];
}

/**
 * Encodes preprocessed observations `x` keeping what the encoder's backward needs (call inside
 * tf.tidy). `traced: false` (a frozen encoder) keeps no MLP trace: encoderGrads is then not for use.
 */
export function tracedCodes(model: WorldModel, x: tf.Tensor, traced = true): TracedCodes {
  const n = x.shape[0]!;
  const K = model.codeSize;
  const { latents: L } = model.config;
  const enc = embedFlat(model, x, traced);
  const q = model.fsq.quantizeTraced(tf.reshape(enc.z, [n, L, model.fsq.dim]));
  return {
    codes: tf.reshape(q.codes, [n, K]) as tf.Tensor2D,
    encoderGrads(dCodes) {
      const dz = tf.reshape(model.fsq.quantizeBackward(tf.reshape(dCodes, [n, L, model.fsq.dim]), q.sigmoid), [
        n,
        K,
      ]) as tf.Tensor2D;
      if (model.encoder instanceof Mlp) {
        const back = model.encoder.backward(enc.trace!, dz, model.encoder.transposedWeights(), false);
        return model.encoder.gradients([enc.trace!], [back.dPre]);
      }
      // Image encoders (CNN, keypoints) keep the tape: their gradient is the VJP of embed at dz.
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(tf.reshape(model.embed(x), [n, K]), dz)) as tf.Scalar,
        model.encoder.variables,
      );
      return model.encoder.variables.map((v) => grads[v.name]!);
    },
  };
}

function concatArrays(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}
