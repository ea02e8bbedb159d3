// Where open-loop rollouts of the model go, against where the env went (stochastic envs): from
// held-out starts o_0 and their real actions a_0..a_{K-1}, the model rolls out K steps feeding its
// own codes back, either sampling each next code from its prediction (Gumbel-max: argmax(l + g),
// g = -log(-log u), seeded) or taking the argmax (mode). At each step t the whole codes of the
// rollouts, pooled over live starts, form a visitation distribution, compared with the encoder's
// codes of the real o_{t+1} by total variation. A deterministic rollout of a stochastic env puts all
// of its mass on one branch; a sampled one can match the spread.
// TV between finite samples is biased upwards, so the starts are split in halves A and B and every
// TV compares A with B at equal sizes: TV(model on A, real on B) beside the noise floor
// TV(real on A, real on B).
import * as tf from "@tensorflow/tfjs";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { Noise } from "./estimators/noise.ts";
import { disposeBatch, toTensorBatch, type TensorBatch } from "./loss.ts";
import type { WorldModel } from "./model.ts";
import { empiricalTv } from "./nextCodeDistribution.ts";

export interface VisitationGap {
  /** Per step t = 1..K: TV of the sampled rollouts' codes at t against the real ones. */
  sampled: number[];
  /** The same for argmax rollouts. */
  mode: number[];
  /** TV between the real codes of the two halves: what finite samples alone give. */
  floor: number[];
  /** Live starts per step (both halves). */
  live: number[];
}

/** Whole-code indices [t][i][latent] of K-step open-loop rollouts from o_0 of every sequence. */
export function rolloutCodes(model: WorldModel, sample: SequenceBatch, how: "sample" | "mode", seed = 0): number[][][] {
  const b = toTensorBatch(model, sample);
  try {
    return rollout(model, b, how, seed);
  } finally {
    disposeBatch(b);
  }
}

/** rolloutCodes on a batch already uploaded. */
function rollout(model: WorldModel, b: TensorBatch, how: "sample" | "mode", seed = 0): number[][][] {
  const noise = new Noise(seed);
  const L = model.config.latents;
  const C = model.fsq.size;
  const out: number[][][] = [];
  let code: tf.Tensor = tf.tidy(() => model.encode(b.obs0));
  for (let t = 0; t < b.horizon; t++) {
    const logits = tf.tidy(() => model.heads(code, b.actions[t]!).logits);
    const idx = tf.tidy(() => {
      if (how === "mode") return tf.argMax(logits, 2);
      const g = noise.gumbel([b.batch, L, C]);
      return tf.argMax(tf.add(logits, g), 2);
    });
    out.push(idx.arraySync() as number[][]);
    const next = tf.tidy(() => model.fsq.weightsToCodes(tf.cast(tf.oneHot(idx, C, 1, 0, "int32"), "float32")));
    tf.dispose([logits, idx, code]);
    code = next;
  }
  code.dispose();
  return out;
}

/** TV per step of sampled and argmax rollouts against the real codes (seeded Gumbel noise). */
export function visitationGap(model: WorldModel, sample: SequenceBatch, seed = 0): VisitationGap {
  const b = toTensorBatch(model, sample);
  let real: number[][][], mask: number[][], sampled: number[][][], mode: number[][][];
  try {
    real = b.targets.map((t) => t.arraySync() as number[][]);
    mask = b.mask.map((m) => m.arraySync() as number[]);
    sampled = rollout(model, b, "sample", seed);
    mode = rollout(model, b, "mode");
  } finally {
    disposeBatch(b);
  }
  const half = sample.batch >> 1;
  const out: VisitationGap = { sampled: [], mode: [], floor: [], live: [] };
  for (let t = 0; t < sample.horizon; t++) {
    // A sequence counts from the start up to its last live step (alive through every step <= t).
    const alive = (i: number) => mask.slice(0, t + 1).every((m) => m[i]! > 0);
    const pick = (codes: number[][][], from: number, to: number) =>
      Array.from({ length: to - from }, (_, j) => from + j)
        .filter(alive)
        .map((i) => codes[t]![i]!);
    const realA = pick(real, 0, half);
    const realB = pick(real, half, 2 * half);
    const tv = (a: number[][]) => (a.length && realB.length ? empiricalTv(a, realB) : NaN);
    out.sampled.push(tv(pick(sampled, 0, half)));
    out.mode.push(tv(pick(mode, 0, half)));
    out.floor.push(tv(realA));
    out.live.push(realA.length + realB.length);
  }
  return out;
}
