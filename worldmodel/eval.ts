// World-model metrics on held-out sequences:
//   k-step code accuracy: open-loop rollout from quantize(enc(o_0)) with the real actions, argmax of
//     the predicted logits vs the target index of o_k, over latents and valid sequences; and
//     whole-code accuracy: the share of sequences with every latent right (a state predicted exactly);
//   k-step cross-entropy; reward MSE and termination accuracy of the first step;
//   code usage (distinct codes per latent) and perplexity exp(H(p)) of the encoder's codes (collapse:
//     perplexity 1, every observation mapped to one code);
//   the frequency baseline: always predicting each latent's most frequent next code.
import * as tf from "@tensorflow/tfjs";
import pixelmatch from "pixelmatch";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { disposeBatch, toTensorBatch } from "./loss.ts";
import type { WorldModel } from "./model.ts";
import { tidyRead } from "../backend/tidyRead.ts";

export type Propagation = "expected" | "mode";

export interface EvalMetrics {
  /** accuracy[k-1]: k-step code accuracy, k = 1..K (NaN where no sequence lasts k steps), per latent. */
  accuracy: number[];
  /** wholeAccuracy[k-1]: the share of live sequences whose k-step prediction gets every latent right. */
  wholeAccuracy: number[];
  crossEntropy: number[];
  /** 1-step accuracy of predicting each latent's most frequent target code. */
  frequencyBaseline: number;
  rewardMse: number;
  terminationAccuracy: number;
  /** Mean over latents of distinct codes used. */
  codeUsage: number;
  /** Mean over latents of exp(entropy of code frequencies). */
  perplexity: number;
}

export function evaluate(model: WorldModel, sample: SequenceBatch, propagation: Propagation = "expected"): EvalMetrics {
  const b = toTensorBatch(model, sample);
  const n = b.batch;
  const L = model.config.latents;
  const out = tf.tidy(() => {
    let code: tf.Tensor = model.encode(b.obs0);
    const accuracy: number[] = [];
    const wholeAccuracy: number[] = [];
    const crossEntropy: number[] = [];
    let rewardMse = 0;
    let terminationAccuracy = 0;
    let alive = tf.onesLike(b.mask[0]!);
    for (let t = 0; t < b.horizon; t++) {
      const { logits, reward, terminated } = model.heads(code, b.actions[t]!);
      alive = tf.mul(alive, b.mask[t]!);
      // No live sequence this far (e.g. Catch episodes last 9 steps): the metric is undefined, NaN.
      const live = tf.sum(alive).dataSync()[0]!;
      const valid = live > 0 ? live : NaN;
      const hit = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 2), b.targets[t]!), "float32"), 1);
      accuracy.push(tf.sum(tf.mul(alive, hit)).dataSync()[0]! / valid);
      wholeAccuracy.push(tf.sum(tf.mul(alive, tf.cast(tf.equal(hit, 1), "float32"))).dataSync()[0]! / valid);
      const target = tf.cast(tf.oneHot(b.targets[t]!, model.fsq.size, 1, 0, "int32"), "float32");
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 2), 1));
      crossEntropy.push(tf.sum(tf.mul(alive, ce)).dataSync()[0]! / valid);
      if (t === 0) {
        rewardMse = tf.sum(tf.mul(alive, tf.square(tf.sub(reward, b.rewards[0]!)))).dataSync()[0]! / valid;
        const predicted = tf.cast(tf.greater(terminated, 0), "float32");
        terminationAccuracy =
          tf.sum(tf.mul(alive, tf.cast(tf.equal(predicted, b.terminated[0]!), "float32"))).dataSync()[0]! / valid;
      }
      const probs =
        propagation === "expected"
          ? tf.softmax(logits)
          : tf.cast(tf.oneHot(tf.argMax(logits, 2), model.fsq.size, 1, 0, "int32"), "float32");
      code = model.fsq.weightsToCodes(probs);
    }
    // Code statistics of the first step's targets (the encoder's codes of real observations).
    const idx = b.targets[0]!.arraySync() as number[][];
    let usage = 0;
    let perplexity = 0;
    let baselineHits = 0;
    for (let l = 0; l < L; l++) {
      const counts = new Map<number, number>();
      for (let i = 0; i < n; i++) counts.set(idx[i]![l]!, (counts.get(idx[i]![l]!) ?? 0) + 1);
      usage += counts.size;
      let h = 0;
      for (const c of counts.values()) h -= (c / n) * Math.log(c / n);
      perplexity += Math.exp(h);
      baselineHits += Math.max(...counts.values());
    }
    return {
      accuracy,
      wholeAccuracy,
      crossEntropy,
      frequencyBaseline: baselineHits / (n * L),
      rewardMse,
      terminationAccuracy,
      codeUsage: usage / L,
      perplexity: perplexity / L,
    };
  });
  disposeBatch(b);
  return out;
}

/**
 * An observation [H, W, C] in raw units as an RGBA grayscale image: each pixel is the largest of its
 * channels, each scaled to [0, 255] by the space's bounds (lo, hi per element, flat).
 */
export function obsToRgba(
  obs: ArrayLike<number>,
  shape: readonly number[],
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
): Uint8Array {
  const [h, w, c] = shape as [number, number, number];
  const out = new Uint8Array(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    let v = 0;
    for (let k = 0; k < c; k++) {
      const i = p * c + k;
      v = Math.max(v, (obs[i]! - lo[i]!) / (hi[i]! - lo[i]! || 1));
    }
    const g = Math.round(255 * Math.min(1, Math.max(0, v)));
    out.set([g, g, g, 255], p * 4);
  }
  return out;
}

/**
 * Decoded open-loop predictions vs the real observations: for k = 1..H, the fraction of pixels that
 * pixelmatch (threshold 0.1) finds different between decode(code_k) and o_k, over live sequences.
 * Needs an image observation [H, W, C] and an enabled decoder.
 */
export function pixelMismatch(
  model: WorldModel,
  sample: SequenceBatch,
  propagation: Propagation = "expected",
): number[] {
  if (!model.decoder) throw new Error("pixelMismatch: the model has no decoder (config.decoder.enabled)");
  const shape = model.shape.obsShape;
  if (shape.length !== 3)
    throw new Error(`pixelMismatch: observations must be images [H, W, C], got [${shape.join(", ")}]`);
  const size = model.obsSize;
  const { lo, hi } = model.obsBounds();
  const b = toTensorBatch(model, sample);
  const n = b.batch;
  const pixels = shape[0]! * shape[1]!;
  const result: number[] = [];
  tf.tidy(() => {
    let code: tf.Tensor = model.encode(b.obs0);
    const alive = new Float32Array(n).fill(1);
    for (let t = 0; t < b.horizon; t++) {
      const logits = model.next(code, b.actions[t]!);
      const probs =
        propagation === "expected"
          ? tf.softmax(logits)
          : tf.cast(tf.oneHot(tf.argMax(logits, 2), model.fsq.size, 1, 0, "int32"), "float32");
      code = model.fsq.weightsToCodes(probs);
      const decoded = model.denormalize(model.decode(code)).dataSync();
      const mask = b.mask[t]!.dataSync();
      let total = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        alive[i] = alive[i]! * mask[i]!;
        if (!alive[i]) continue;
        const real = sample.obs.subarray(
          (i * (sample.horizon + 1) + t + 1) * size,
          (i * (sample.horizon + 1) + t + 2) * size,
        );
        const a = obsToRgba(decoded.subarray(i * size, (i + 1) * size), shape, lo, hi);
        const r = obsToRgba(real, shape, lo, hi);
        total += pixelmatch(a, r, undefined, shape[1]!, shape[0]!, { threshold: 0.1 }) / pixels;
        count++;
      }
      result.push(count ? total / count : NaN);
    }
  });
  disposeBatch(b);
  return result;
}

export interface CodeInjectivity {
  /** Distinct observations o_0 in the sample. */
  observations: number;
  /** Distinct whole codes the encoder gives them (fewer than observations: states merged). */
  codes: number;
  /**
   * The best 1-step whole-code accuracy any dynamics on these codes can reach on this sample: the
   * share of transitions whose next code is the most common one for their (code, action). Below 1
   * where merged states lead to different next codes.
   */
  ceiling: number;
  /**
   * The share of latents whose code is the same in o_0's and o_1's codes (live transitions): the
   * per-latent 1-step accuracy of predicting that nothing changes, the bar a dynamics model's
   * per-latent accuracy has to clear to have learned anything about the moves.
   */
  unchanged: number;
}

/** How well the encoder's codes separate the states of 1-step transitions (live ones). */
export function codeInjectivity(model: WorldModel, sample: SequenceBatch): CodeInjectivity {
  const { batch: n, horizon: h } = sample;
  const size = model.obsSize;
  const width = sample.actions.length / (n * h);
  const first = new Float32Array(n * size);
  const second = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    first.set(sample.obs.subarray(i * (h + 1) * size, (i * (h + 1) + 1) * size), i * size);
    second.set(sample.obs.subarray((i * (h + 1) + 1) * size, (i * (h + 1) + 2) * size), i * size);
  }
  const indices = (obs: Float32Array) =>
    tidyRead(
      () => model.indices(model.encode(model.preprocess(obs, n))),
      (t) => t.arraySync() as number[][],
    );
  const [i0, i1] = [indices(first), indices(second)];
  const [c0, c1] = [i0, i1].map((codes) => codes.map((r) => r.join(",")));
  const observations = new Set<string>();
  const groups = new Map<string, Map<string, number>>();
  let same = 0;
  let latents = 0;
  for (let i = 0; i < n; i++) {
    observations.add(first.subarray(i * size, (i + 1) * size).join(","));
    if (!sample.mask[i * h]) continue;
    i0[i]!.forEach((c, l) => (same += c === i1[i]![l] ? 1 : 0));
    latents += i0[i]!.length;
    const key = `${c0[i]}|${Array.from(sample.actions.subarray(i * h * width, (i * h + 1) * width)).join(",")}`;
    const next = groups.get(key) ?? new Map<string, number>();
    next.set(c1[i]!, (next.get(c1[i]!) ?? 0) + 1);
    groups.set(key, next);
  }
  let best = 0;
  let total = 0;
  for (const next of groups.values()) {
    best += Math.max(...next.values());
    for (const c of next.values()) total += c;
  }
  return {
    observations: observations.size,
    codes: new Set(c0).size,
    ceiling: total ? best / total : NaN,
    unchanged: latents ? same / latents : NaN,
  };
}
