// A hand-built latent model for tests of planning and imagined value targets.
import * as tf from "@tensorflow/tfjs";
import type { SearchModel } from "./codeSearch.ts";

/** The corridor's length in cells (its code size) by default. */
const S = 5;

/** The corridor's codes of the given cells, one-hot rows [n, S]. */
export const cells = (...c: number[]): tf.Tensor2D =>
  tf.tensor2d(
    c.flatMap((k) => Array.from({ length: S }, (_, j) => (j === k ? 1 : 0))),
    [c.length, S],
  );

/**
 * A hand-built latent model with known dynamics: a corridor of `S` cells (5 unless given), one latent
 * whose code is the one-hot cell. Action 0 moves left, 1 right. Entering cell 0 pays 0.2, entering
 * the last cell pays 1; both end the episode. From cell 1 the best first action is right (1 after
 * S - 2 steps) although left pays at once. `start`: the code of cell 1.
 */
export function corridor(S = 5): SearchModel & { start: tf.Tensor } {
  const move = (d: number) =>
    tf.tensor2d(
      Array.from({ length: S * S }, (_, k) => (Math.min(S - 1, Math.max(0, Math.floor(k / S) + d)) === k % S ? 1 : 0)),
      [S, S],
    );
  const [left, right] = [move(-1), move(1)].map((t) => tf.keep(t));
  const ends = (first: number, last: number) =>
    tf.keep(tf.tensor1d(Array.from({ length: S }, (_, k) => (k === 0 ? first : k === S - 1 ? last : 0))));
  const entryReward = ends(0.2, 1);
  const terminal = ends(1, 1);
  return {
    start: tf.keep(
      tf.tensor3d(
        Array.from({ length: S }, (_, k) => (k === 1 ? 1 : 0)),
        [1, 1, S],
      ),
    ),
    heads(codes, action) {
      return tf.tidy(() => {
        const n = codes.shape[0]!;
        const c = tf.reshape(codes, [n, S]) as tf.Tensor2D;
        const [aLeft, aRight] = tf.split(action, 2, 1);
        const next = tf.add(tf.mul(aLeft!, tf.matMul(c, left!)), tf.mul(aRight!, tf.matMul(c, right!)));
        const pTerm = tf.clipByValue(tf.sum(tf.mul(next, terminal), 1), 1e-6, 1 - 1e-6);
        return {
          logits: tf.reshape(tf.log(tf.add(next, 1e-9)), [n, 1, S]) as tf.Tensor3D,
          reward: tf.sum(tf.mul(next, entryReward), 1) as tf.Tensor1D,
          terminated: tf.log(tf.div(pTerm, tf.sub(1, pTerm))) as tf.Tensor1D,
        };
      });
    },
    weightsToCodes: (w) => tf.clone(w),
    indices: (codes) =>
      tf.tidy(() => tf.argMax(tf.reshape(codes, [codes.shape[0]!, S]), 1).reshape([-1, 1]) as tf.Tensor2D),
    actionFeatures: (a) =>
      tf.tidy(
        () => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(a), "int32"), 2, 1, 0, "int32"), "float32") as tf.Tensor2D,
      ),
  };
}
