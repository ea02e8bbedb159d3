// Shared pieces of the estimators: argument checks, one-hot samples, the softmax Jacobian, and
// defineEstimator, which turns an estimator's forward and backward halves into the tape form.
import * as tf from "@tensorflow/tfjs";
import type { Estimator, EstimatorParts } from "./types.ts";

export class EstimatorError extends Error {
  override name = "EstimatorError";
}

/** Throws unless tau is a finite number > 0 (and >= min when the estimator needs it). */
export function checkTau(where: string, tau: number, min = 0): void {
  if (typeof tau !== "number" || !Number.isFinite(tau) || tau <= 0)
    throw new EstimatorError(`${where}: 'tau' must be > 0, got ${tau}`);
  if (tau < min) throw new EstimatorError(`${where}: 'tau' must be >= ${min}, got ${tau}`);
}

/** Throws if logits hold NaN or +-Infinity (one reduction; the full scan only runs on failure). */
export function checkLogits(where: string, logits: tf.Tensor): void {
  if (logits.rank < 1 || logits.shape[logits.rank - 1]! < 2) {
    throw new EstimatorError(`${where}: logits must have shape [..., K] with K >= 2, got [${logits.shape.join(", ")}]`);
  }
  const total = tf.tidy(() => tf.sum(logits).dataSync()[0]!);
  if (Number.isFinite(total)) return;
  const values = logits.dataSync();
  const i = values.findIndex((v) => !Number.isFinite(v));
  if (i >= 0)
    throw new EstimatorError(
      `${where}: logits must be finite, got ${values[i]} at flat index ${i} of shape [${logits.shape.join(", ")}]`,
    );
}

/** One-hot float32 rows of the argmax over the last axis (built as int32 then cast: tf.oneHot float32 is wrong on WASM). */
export function oneHotArgmax(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.argMax(x, -1), x.shape[x.rank - 1]!, 1, 0, "int32"), "float32"));
}

/** z ~ softmax(logits) as one-hot rows, by the Gumbel-max trick: onehot(argmax(logits + g)). */
export function sampleOneHot(logits: tf.Tensor, gumbel: tf.Tensor): tf.Tensor {
  return tf.tidy(() => oneHotArgmax(tf.add(logits, gumbel)));
}

/** x / tau, skipping the op at tau = 1. */
export function divTau(x: tf.Tensor, tau: number): tf.Tensor {
  return tau === 1 ? x : tf.div(x, tau);
}

/**
 * The tape form of an estimator from its halves: argument checks (the logits' finiteness too: one
 * reduction read back, so the fused update skips it and checks its gradient norm instead), then
 * the forward value with the backward attached through tf.customGrad.
 */
export function defineEstimator(name: string, parts: EstimatorParts): Estimator {
  const estimator = (logits: tf.Tensor, ctx: Parameters<EstimatorParts["check"]>[0]) => {
    parts.check(ctx);
    checkLogits(name, logits);
    return {
      value: tf.tidy(() =>
        withGradient(
          logits,
          (l) => parts.forward(l, ctx),
          (dy, saved) => parts.backward(dy, saved, ctx) ?? tf.zerosLike(dy),
        ),
      ),
    };
  };
  return Object.assign(estimator, { parts });
}

/** J(q) g = q * g - q (q . g): the vector-Jacobian product of softmax at output q. */
export function softmaxVjp(q: tf.Tensor, g: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(q, tf.sub(g, tf.sum(tf.mul(q, g), -1, true))));
}

/**
 * Forward: `hard` (computed from the logits by `forward`); backward: dL/dlogits = `backward(dy)`.
 * The estimators' straight-through plumbing: tf.customGrad with the gradient written out.
 */
export function withGradient(
  logits: tf.Tensor,
  forward: (logits: tf.Tensor) => { value: tf.Tensor; saved: tf.Tensor[] },
  backward: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor,
): tf.Tensor {
  const op = tf.customGrad(((l: tf.Tensor, save: tf.GradSaveFunc) => {
    const { value, saved } = forward(l);
    save(saved);
    return { value, gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => backward(dy, s) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Tensor;
}

/** sg(x): the same values with no gradient (no device sync, unlike re-creating the tensor from data). */
export function stopGradient(x: tf.Tensor): tf.Tensor {
  return withGradient(
    x,
    (v) => ({ value: tf.clone(v), saved: [] }),
    (dy) => tf.zerosLike(dy),
  );
}
