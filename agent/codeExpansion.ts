// One level of the code search's breadth-first expansion (agent/codeSearch.ts): every frontier node
// under every action, its most likely next code (mode propagation) and the heads. Through the model's
// heads on code tensors, or, when the model can, on code indices with each distinct cell
// neighbourhood computed once (worldmodel/nn/localStep.ts: the local heads of encoder "cells").
import * as tf from "@tensorflow/tfjs";
import { oneHotArgmax } from "../worldmodel/estimators/categorical.ts";
import type { CellActionSet, CellOutcomes, LocalStepResult } from "../worldmodel/nn/localStep.ts";
import type { LatentModel } from "./imagination.ts";

/** Rows `rows` of code indices [?, latents], in that order, as a new [rows.length, latents] array. */
export function rowsOf(ids: Int32Array, rows: readonly number[], latents: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(rows.length * latents);
  rows.forEach((r, j) => out.set(ids.subarray(r * latents, (r + 1) * latents), j * latents));
  return out;
}

/** A latent model whose codes can be named (WorldModel: its FSQ indices). */
export interface SearchModel extends LatentModel {
  /** Codes [N, L, d] -> code indices [N, L] (int32). */
  indices(codes: tf.Tensor): tf.Tensor2D;
  /**
   * Steps grids of code indices without code tensors, when the model can. It caches what the current
   * weights predict: one per search, or one for as long as the weights stay the same.
   */
  indexStepper?(): IndexStepper | undefined;
}

/** What a search needs of a model stepped on code indices (worldmodel/nn/localStep.ts). */
export interface IndexStepper {
  /** The codebook's size |C|. */
  readonly codes: number;
  /** Distinct (neighbourhood, action) pairs it holds. */
  readonly size: number;
  /**
   * Grids [grids, L] each under every one of `actions` actions -> rows k = grid * actions + action;
   * with `seen`, which rows hold a cell whose (neighbourhood, action) is not in it; with `shown`, a
   * cell takes the next code its (neighbourhood, action) always led to in the env; with `quiet` too,
   * a cell whose pair was only ever part of quiet steps adds no reward and no ending.
   */
  step(ids: Int32Array, actions: number, seen?: CellActionSet, shown?: CellOutcomes, quiet?: boolean): LocalStepResult;
}

/**
 * A level's rows: each one's mode next code indices [rows, L], reward, 1 - d_hat and next-code
 * probability, with `seen` whether a cell's (neighbourhood, action) is not in it, and from index
 * steppers the second guess at each row's least sure cell (LocalStepResult's `second`).
 */
export type Level = {
  ids: Int32Array;
  reward: ArrayLike<number>;
  alive: ArrayLike<number>;
  likely: ArrayLike<number>;
  novel?: ArrayLike<number>;
  second?: { cell: ArrayLike<number>; code: ArrayLike<number>; likely: ArrayLike<number> };
};

/** One level's expansion: each frontier node under each action, its mode next code and heads. */
export interface Expander {
  /** Frontier [f, L] code indices under every action -> rows k = node * actions + action. */
  step(frontierIds: Int32Array, f: number, actions: number): Level;
  /**
   * The last step's rows `fresh` as codes [m, L, d], for `use` (their values); steppers on code
   * tensors only (index steppers name any rows' codes by codesOf).
   */
  keep?(fresh: number[], use: (codes: tf.Tensor) => ArrayLike<number>): ArrayLike<number>;
  /** The next frontier: entries `kept` of the last `keep`'s rows. */
  frontier(kept: number[]): void;
  /** Codes [m, L] of indices as codes [m, L, d], for `use` (index steppers only). */
  codesOf?(ids: Int32Array, m: number, use: (codes: tf.Tensor) => ArrayLike<number>): ArrayLike<number>;
  dispose(): void;
}

/**
 * Steps on code indices when the model can (its local heads: worldmodel/nn/localStep.ts, each
 * distinct neighbourhood computed once); else through its heads on code tensors. `seen`: the
 * (neighbourhood, action) pairs the agent has taken, `shown`: the next codes they led to (index
 * steppers only); `reuse`: a stepper of this model and its current weights, for the model's new one.
 */
export function expander(
  model: SearchModel,
  z0: tf.Tensor,
  seen?: CellActionSet,
  reuse?: IndexStepper,
  shown?: CellOutcomes,
  quiet = false,
): Expander {
  const stepper = reuse ?? model.indexStepper?.();
  if (seen && !stepper)
    throw new Error("code search: untried steps are known only to a model stepped on code indices (encoder 'cells')");
  if (shown && !stepper)
    throw new Error("code search: observed steps are known only to a model stepped on code indices (encoder 'cells')");
  if (stepper) {
    const latents = z0.shape[1]!;
    const codesOf = (ids: Int32Array, m: number, use: (codes: tf.Tensor) => ArrayLike<number>) => {
      const codes = tf.tidy(() =>
        model.weightsToCodes(tf.cast(tf.oneHot(tf.tensor2d(ids, [m, latents], "int32"), stepper.codes), "float32")),
      );
      try {
        return use(codes);
      } finally {
        codes.dispose();
      }
    };
    return {
      step: (frontierIds, _f, actions) => stepper.step(frontierIds, actions, seen, shown, quiet),
      codesOf,
      frontier() {},
      dispose() {},
    };
  }
  let frontier = tf.clone(z0);
  let next: tf.Tensor | undefined;
  let fresh: tf.Tensor | undefined;
  return {
    step(_ids, f, actions) {
      const rows = f * actions;
      const [ids, r, a, nextCodes, p] = tf.tidy(() => {
        const codes = tf.gather(
          frontier,
          tf.tensor1d(
            Int32Array.from({ length: rows }, (_, k) => Math.floor(k / actions)),
            "int32",
          ),
        );
        const acts = Array.from({ length: rows }, (_, k) => k % actions);
        const h = model.heads(codes, model.actionFeatures(acts, rows));
        const nextCodes = model.weightsToCodes(oneHotArgmax(h.logits));
        const likely = tf.exp(tf.sum(tf.log(tf.max(tf.softmax(h.logits), -1)), -1));
        return [model.indices(nextCodes), h.reward, tf.sub(1, tf.sigmoid(h.terminated)), nextCodes, likely] as const;
      });
      next?.dispose();
      next = nextCodes;
      const out = {
        ids: Int32Array.from(ids.dataSync()),
        reward: r.dataSync(),
        alive: a.dataSync(),
        likely: p.dataSync(),
      };
      tf.dispose([ids, r, a, p]);
      return out;
    },
    keep(rows, use) {
      fresh?.dispose();
      fresh = tf.tidy(() => tf.gather(next!, tf.tensor1d(Int32Array.from(rows), "int32")));
      return use(fresh);
    },
    frontier(kept) {
      frontier.dispose();
      frontier = fresh
        ? tf.tidy(() => tf.gather(fresh!, tf.tensor1d(Int32Array.from(kept), "int32")))
        : tf.zeros([0, ...z0.shape.slice(1)]);
    },
    dispose() {
      tf.dispose([frontier, ...(next ? [next] : []), ...(fresh ? [fresh] : [])]);
    },
  };
}
