import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend } from "../backend/init.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { scoreSequences, type LatentModel } from "./imagination.ts";
import { corridor } from "./corridor.fixture.ts";
import { Planner, PlannerConfig, topK, type ActionSpec } from "./planner.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

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

  it("goes on after its JSON (warm start and random stream) as it would have, for Box and Discrete actions", () => {
    const score = (actions: Float32Array, n: number) =>
      Float64Array.from({ length: n }, (_, i) => -((actions[i * 3]! - 0.3) ** 2) + (actions[i * 3 + 2]! > 0.5 ? 1 : 0));
    const specs: ActionSpec[] = [
      { kind: "box", size: 1, low: [-1], high: [1] },
      { kind: "discrete", n: 3 },
    ];
    for (const spec of specs) {
      const live = new Planner(spec, plannerConfig(), 5);
      live.plan(score);
      const copy = new Planner(spec, plannerConfig(), 6); // another seed: only the JSON can make it agree
      copy.restoreJson(JSON.parse(JSON.stringify(live.toJson())));
      expect(copy.plan(score)).toEqual(live.plan(score));
    }
    // A warm start of another horizon is refused.
    const other = new Planner({ kind: "discrete", n: 3 }, plannerConfig({ horizon: 2 }), 0);
    expect(() => other.restoreJson(new Planner({ kind: "discrete", n: 3 }, plannerConfig(), 0).toJson())).toThrow(
      /another horizon/,
    );
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

  it("never starts with a forbidden first action, even where it scores best; forbidding every action is ignored", () => {
    // Scores favour sequences starting with action 0, then 1; the prior proposes [0, 0, 0].
    const score = (actions: Float32Array, n: number) => Float64Array.from({ length: n }, (_, i) => -actions[i * 3]!);
    const prior = Float32Array.from([0, 0, 0]);
    for (const seed of [0, 1, 2]) {
      const planner = new Planner({ kind: "discrete", n: 3 }, plannerConfig(), seed);
      expect(planner.plan(score, { explore: false, prior }).action).toEqual([0]);
      const barred = planner.plan(score, { explore: false, prior, forbidFirst: new Set([0]) });
      expect(barred.action).toEqual([1]);
      for (let e = 0; e < barred.elites.length / 3; e++) expect(barred.elites[e * 3]).not.toBe(0);
      // Exploring draws among elites, none of which starts with a forbidden action.
      for (let k = 0; k < 20; k++)
        expect(planner.plan(score, { explore: true, prior, forbidFirst: new Set([0, 1]) }).action).toEqual([2]);
      expect(planner.plan(score, { explore: false, forbidFirst: new Set([0, 1, 2]) }).action).toEqual([0]);
    }
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

  /**
   * A coin flip: one latent, codes A = [1, 0] and B = [0, 1]. From A every action leads to A or B with
   * probability 1/2 and pays nothing; from B it pays 1. The reward head is nonlinear in the code (it
   * pays only for a code near B), so the blended expected code 0.5 A + 0.5 B earns nothing at step 2,
   * while the true expected return over two steps is gamma * 0.5.
   */
  const coin: LatentModel = {
    heads: (codes, action) =>
      tf.tidy(() => {
        const n = codes.shape[0]!;
        const b = tf.reshape(tf.slice(tf.reshape(codes, [n, 2]), [0, 1], [n, 1]), [n]);
        return {
          logits: tf.reshape(tf.add(tf.zeros([n, 2]), tf.sum(action, 1, true)), [n, 1, 2]) as tf.Tensor3D,
          reward: tf.cast(tf.greater(b, 0.9), "float32") as tf.Tensor1D,
          terminated: tf.fill([n], -30) as tf.Tensor1D,
        };
      }),
    weightsToCodes: (w) => tf.clone(w),
    actionFeatures: (a, n) => tf.ones([n, 1]).mul(tf.tensor2d(Float32Array.from(a), [n, 1])) as tf.Tensor2D,
  };

  it("average mode estimates the expected return where expected codes blend it away", () => {
    const z0 = tf.tensor3d([1, 0], [1, 1, 2]);
    const seqs = new Float32Array([0, 0, 0, 0]); // two sequences of two steps
    const opts = { gamma: 0.9, rng: new Rng(2) };
    const expected = scoreSequences(coin, z0, seqs, 2, 2, { ...opts, mode: "expected" });
    expect(Array.from(expected)).toEqual([0, 0]);
    const average = scoreSequences(coin, z0, seqs, 2, 2, { ...opts, mode: "average", samples: 4000 });
    for (const s of average) expect(s).toBeCloseTo(0.45, 1); // 0.9 * 0.5, Monte Carlo sd 0.007
    const before = tf.memory().numTensors;
    const few = [0, 1].map(() => scoreSequences(coin, z0, seqs, 2, 2, { ...opts, mode: "average", samples: 4 }));
    expect(Array.from(few[0]!)).not.toEqual(Array.from(few[1]!)); // 4 samples: a noisy estimate
    expect(tf.memory().numTensors).toBe(before);
    expect(() => scoreSequences(coin, z0, seqs, 2, 2, { ...opts, mode: "average", samples: 0 })).toThrow(
      /'samples' must be an integer >= 1/,
    );
    z0.dispose();
  });
});
