// Episodic novelty for planning: how likely an imagined next code is one this episode has not seen.
//   P(z' seen) = sum_m prod_l p_l(c_{m,l}),   novelty = 1 - P(z' seen)
// over the episode's distinct codes c_1..c_M, with p_l = softmax(logits_l) the model's factorised
// next-code distribution (the whole codes are distinct, so their probabilities add). A bonus
// weight * alive * novelty per imagined step (agent config `novelty`) makes the plan head for
// states it has not met this episode: a directed search where revisit memory only reacts to being
// back. It enters the plan's score only, never the value's targets.
import * as tf from "@tensorflow/tfjs";

/** The distinct codes met this episode, as flat indices l * |C| + c (one row of L per code). */
export class EpisodeCodes {
  private readonly seen = new Set<string>();
  private readonly flat: number[] = [];

  constructor(readonly codebookSize: number) {}

  /** Adds one code's indices [L] (no-op when already met). */
  add(indices: ArrayLike<number>): void {
    const key = Array.from(indices).join(",");
    if (this.seen.has(key)) return;
    this.seen.add(key);
    for (let l = 0; l < indices.length; l++) this.flat.push(l * this.codebookSize + indices[l]!);
  }

  get size(): number {
    return this.seen.size;
  }

  /** The codes met, in the order met (each its indices joined by commas), for checkpoints. */
  keys(): string[] {
    return [...this.seen];
  }

  /** The flat indices [M * L] (int32), for `seenProbability`. */
  tensor(): tf.Tensor1D {
    return tf.tensor1d(this.flat, "int32");
  }
}

/** P(next whole code is one of the visited) [N] from next-code logits [N, L, |C|] and visited flat indices [M * L]. */
export function seenProbability(logits: tf.Tensor, visited: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, latents, size] = logits.shape as [number, number, number];
    const m = visited.shape[0] / latents;
    if (m === 0) return tf.zeros([n]) as tf.Tensor1D;
    const logp = tf.reshape(tf.logSoftmax(logits), [n, latents * size]);
    const perCode = tf.reshape(tf.gather(logp, visited, 1), [n, m, latents]);
    return tf.sum(tf.exp(tf.sum(perCode, 2)), 1) as tf.Tensor1D;
  });
}
