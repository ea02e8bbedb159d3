import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend } from "../backend/init.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { scoreSequences, type LatentModel } from "./imagination.ts";
import { Planner, PlannerConfig, topK } from "./planner.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

/**
 * A hand-built latent model with known dynamics: a corridor of 5 cells, one latent whose code is the
 * one-hot cell. Action 0 moves left, 1 right. Entering cell 0 pays 0.2, entering cell 4 pays 1; both
 * end the episode. From cell 1 the best first action is right (1 after three steps) although left
 * pays at once.
 */
function corridor(): LatentModel & { start: tf.Tensor } {
  const S = 5;
  const move = (d: number) =>
    tf.tensor2d(
      Array.from({ length: S * S }, (_, k) => (Math.min(S - 1, Math.max(0, Math.floor(k / S) + d)) === k % S ? 1 : 0)),
      [S, S],
    );
  const [left, right] = [move(-1), move(1)].map((t) => tf.keep(t));
  const entryReward = tf.keep(tf.tensor1d([0.2, 0, 0, 0, 1]));
  const terminal = tf.keep(tf.tensor1d([1, 0, 0, 0, 1]));
  return {
    start: tf.keep(tf.tensor3d([0, 1, 0, 0, 0], [1, 1, S])),
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
    actionFeatures: (a) =>
      tf.tidy(
        () => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(a), "int32"), 2, 1, 0, "int32"), "float32") as tf.Tensor2D,
      ),
  };
}

const plannerConfig = (extra: Record<string, unknown> = {}) =>
  PlannerConfig.parse({ horizon: 3, iterations: 4, samples: 64, elites: 8, policySamples: 0, ...extra });

describe("Planner", () => {
  it("finds the optimal first action on a hand-built model with known dynamics", () => {
    const model = corridor();
    for (const seed of [0, 1, 2]) {
      const planner = new Planner({ kind: "discrete", n: 2 }, plannerConfig(), seed);
      const plan = planner.plan((actions, n) =>
        scoreSequences(model, model.start, actions, n, 3, { mode: "expected", gamma: 0.99 }),
      );
      expect(plan.action).toEqual([1]);
      expect(plan.bestScore).toBeCloseTo(0.99 ** 2, 4);
    }
    // The test discriminates: looking one step ahead, left (0.2 now) is better.
    const myopic = new Planner({ kind: "discrete", n: 2 }, plannerConfig({ horizon: 1 }), 0);
    expect(
      myopic.plan((actions, n) => scoreSequences(model, model.start, actions, n, 1, { mode: "expected", gamma: 0.99 }))
        .action,
    ).toEqual([0]);
  });

  it("counts nothing after termination (alive weighting)", () => {
    const model = corridor();
    // left then right: 0.2 at once, then the episode is over (the corridor would otherwise pay nothing more anyway);
    // right x3 reaches the goal; left x3 stays terminated.
    const seqs = Float32Array.from([0, 1, 1, 1, 1, 1, 0, 0, 0]);
    const s = scoreSequences(model, model.start, seqs, 3, 3, { mode: "expected", gamma: 0.5 });
    expect(s[0]).toBeCloseTo(0.2, 5);
    expect(s[1]).toBeCloseTo(0.25, 5);
    expect(s[2]).toBeCloseTo(0.2, 5);
  });

  it("refits a Gaussian for Box actions to the best region (MPPI)", () => {
    const planner = new Planner(
      { kind: "box", size: 1, low: [-1], high: [1] },
      plannerConfig({ iterations: 6, samples: 256, elites: 32 }),
      3,
    );
    const score = (actions: Float32Array, n: number) =>
      Float64Array.from({ length: n }, (_, i) => -((actions[i * 3]! - 0.3) ** 2) - (actions[i * 3 + 1]! + 0.5) ** 2);
    const plan = planner.plan(score);
    expect(plan.action[0]).toBeCloseTo(0.3, 1);
    expect(plan.elites.length).toBe(32 * 3);
  });

  it("warm-starts from the previous plan and rejects bad input", () => {
    const planner = new Planner({ kind: "discrete", n: 3 }, plannerConfig({ iterations: 2 }), 0);
    expect(() => planner.plan(() => [1, 2])).toThrow(/returned 2 scores for 64/);
    expect(() => planner.plan((_a, n) => new Float64Array(n).fill(NaN))).toThrow(/NaN/);
    expect(() => PlannerConfig.parse({ samples: 8, elites: 16 })).toThrow(/elites/);
    expect(topK([3, 1, 3, 7], 3)).toEqual([3, 0, 2]);
  });
});

describe("propagation modes", () => {
  it("expected mode scores one sequence identically twice; sample mode does not", () => {
    const model = new WorldModel(
      parseWorldModelConfig({ latents: 4, encoder: { hidden: [16] }, dynamicsHidden: [16], headHidden: [8] }),
      envShapeOf(makeBare("Catch-v0")),
      0,
    );
    const z0 = tf.tidy(() => model.encode(model.preprocess(new Float32Array(model.obsSize).fill(0.5), 1)));
    const seqs = Float32Array.from({ length: 8 * 4 }, (_, i) => i % 3);
    const value = (z: tf.Tensor) => tf.sum(tf.reshape(z, [z.shape[0]!, -1]), 1) as tf.Tensor1D;
    const expected = [0, 1].map(() => scoreSequences(model, z0, seqs, 8, 4, { mode: "expected", gamma: 0.9, value }));
    expect(Array.from(expected[0]!)).toEqual(Array.from(expected[1]!));
    const rng = new Rng(5);
    const sampled = [0, 1].map(() => scoreSequences(model, z0, seqs, 8, 4, { mode: "sample", gamma: 0.9, value, rng }));
    expect(Array.from(sampled[0]!)).not.toEqual(Array.from(sampled[1]!));
    const before = tf.memory().numTensors;
    scoreSequences(model, z0, seqs, 8, 4, { mode: "mode", gamma: 0.9, value });
    expect(tf.memory().numTensors).toBe(before);
    z0.dispose();
    model.dispose();
  });
});
