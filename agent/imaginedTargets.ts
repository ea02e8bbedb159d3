// Imagined one-step backups (Dyna-style, full width): from every replayed code z and every action a
// (Discrete: all n actions; Box: m uniform draws), the world model's reward, continuation and
// expected next code give a TD row
//   y(z, a) = r_hat(z, a) + gamma (1 - d_hat(z, a)) min_{j in 2 heads} Q'_j(z_hat', a*(z_hat')),
//   z_hat' = sum_i p_i c^(i)   (the expected code, as the planner propagates it)
// so the value learns about actions the agent never took, at the model's pace rather than the
// data's (the real n-step TD still anchors it). Built as a TdBatch: returns = r_hat,
// terminated = d_hat (a probability), discount = gamma.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../common/rng.ts";
import { imagineStep, type LatentModel } from "./imagination.ts";
import type { ActionSpec } from "./planner.ts";
import type { TdBatch } from "./value.ts";

/** The actions imagined from each start code: every index (Discrete) or `boxActions` uniform draws (Box). */
export function imaginedActions(spec: ActionSpec, boxActions: number, rng: Rng): number[][] {
  if (spec.kind === "discrete") return Array.from({ length: spec.n }, (_, a) => [a]);
  return Array.from({ length: boxActions }, () => spec.low.map((lo, j) => rng.uniform(lo, spec.high[j]!)));
}

/**
 * One imagined TD row per (start code, action), rows ordered action-major within each start code:
 * codes [B, codeSize] -> a TdBatch of B * m rows.
 */
export function imaginedBatch(
  model: LatentModel,
  codes: tf.Tensor2D,
  latents: number,
  actions: number[][],
  gamma: number,
): TdBatch {
  const b = codes.shape[0];
  const m = actions.length;
  const width = actions[0]!.length;
  const flatActions = new Float32Array(b * m * width);
  for (let i = 0; i < b; i++) for (let a = 0; a < m; a++) flatActions.set(actions[a]!, (i * m + a) * width);
  return tf.tidy(() => {
    // Each start code repeated m times by a broadcasting add (WASM's tile kernel is slow).
    const repeated = tf.reshape(tf.add(tf.zeros([b, m, codes.shape[1]]), tf.expandDims(codes, 1)), [
      b * m,
      codes.shape[1],
    ]) as tf.Tensor2D;
    const features = model.actionFeatures(flatActions, b * m);
    // Replayed codes are codebook entries, and the targets need no gradient into the model.
    const start = tf.reshape(repeated, [b * m, latents, -1]);
    const h = model.expectedStepNoGrad?.(start, features) ?? imagineStep(model, start, features, "expected");
    return {
      codes: repeated,
      nextCodes: tf.reshape(h.next, [b * m, codes.shape[1]]) as tf.Tensor2D,
      actions: features,
      returns: h.reward,
      terminated: tf.sigmoid(h.terminated) as tf.Tensor1D,
      discount: tf.fill([b * m], gamma) as tf.Tensor1D,
    };
  }) as TdBatch;
}
