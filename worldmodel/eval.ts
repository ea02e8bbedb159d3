// World-model metrics on held-out sequences:
//   k-step code accuracy: open-loop rollout from quantize(enc(o_0)) with the real actions, argmax of
//     the predicted logits vs the target index of o_k, over latents and valid sequences;
//   k-step cross-entropy; reward MSE and termination accuracy of the first step;
//   code usage (distinct codes per latent) and perplexity exp(H(p)) of the encoder's codes (collapse:
//     perplexity 1, every observation mapped to one code);
//   the frequency baseline: always predicting each latent's most frequent next code.
import * as tf from "@tensorflow/tfjs";
import type { SequenceBatch } from "./data/replayBuffer.ts";
import { disposeBatch, toTensorBatch } from "./loss.ts";
import type { WorldModel } from "./model.ts";

export type Propagation = "expected" | "mode";

export interface EvalMetrics {
  /** accuracy[k-1]: k-step code accuracy, k = 1..K. */
  accuracy: number[];
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
    const crossEntropy: number[] = [];
    let rewardMse = 0;
    let terminationAccuracy = 0;
    let alive = tf.onesLike(b.mask[0]!);
    for (let t = 0; t < b.horizon; t++) {
      const { logits, reward, terminated } = model.heads(code, b.actions[t]!);
      alive = tf.mul(alive, b.mask[t]!);
      const valid = Math.max(1, tf.sum(alive).dataSync()[0]!);
      const hit = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 2), b.targets[t]!), "float32"), 1);
      accuracy.push(tf.sum(tf.mul(alive, hit)).dataSync()[0]! / valid);
      const target = tf.cast(tf.oneHot(b.targets[t]!, model.fsq.size, 1, 0, "int32"), "float32");
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 2), 1));
      crossEntropy.push(tf.sum(tf.mul(alive, ce)).dataSync()[0]! / valid);
      if (t === 0) {
        rewardMse = tf.sum(tf.mul(alive, tf.square(tf.sub(reward, b.rewards[0]!)))).dataSync()[0]! / valid;
        const predicted = tf.cast(tf.greater(terminated, 0), "float32");
        terminationAccuracy = tf.sum(tf.mul(alive, tf.cast(tf.equal(predicted, b.terminated[0]!), "float32"))).dataSync()[0]! / valid;
      }
      const probs = propagation === "expected" ? tf.softmax(logits) : tf.cast(tf.oneHot(tf.argMax(logits, 2), model.fsq.size, 1, 0, "int32"), "float32");
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
    return { accuracy, crossEntropy, frequencyBaseline: baselineHits / (n * L), rewardMse, terminationAccuracy, codeUsage: usage / L, perplexity: perplexity / L };
  });
  disposeBatch(b);
  return out;
}
