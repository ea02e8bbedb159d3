import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { cells } from "./corridor.fixture.ts";
import { ValueConfig, ValueLearner, type TdBatch } from "./value.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("ValueLearner's bootstrap over the target heads (value.targetHeads)", () => {
  // One live transition, cell 1 --action 0--> cell 2, reward 0, discount 0.9, and target heads frozen
  // at their random initialisation (polyak 0): Q(cell 1, 0) settles at 0.9 times what the bootstrap
  // reads from the heads at cell 2, which disagree there as untrained heads do.
  const train = (targetHeads: "minPair" | "mean") => {
    const config = ValueConfig.parse({ ensemble: 5, hidden: [16], lr: 1e-2, polyak: 0, targetHeads });
    const learner = new ValueLearner(5, { kind: "discrete", n: 2 }, config, 11);
    const counts: number[] = [];
    for (let u = 0; u < 500; u++) {
      const b: TdBatch = tf.tidy(() => ({
        codes: cells(1),
        nextCodes: cells(2),
        actions: tf.tensor2d([[1, 0]]),
        returns: tf.tensor1d([0]),
        terminated: tf.tensor1d([0]),
        discount: tf.tensor1d([0.9]),
      }));
      learner.update(b);
      tf.dispose(b as unknown as tf.TensorContainer);
      if (u >= 490) counts.push(tf.memory().numTensors);
    }
    const [q, heads] = tf.tidy(() => {
      const best = tf.argMax(tf.mean(learner.critics.apply(cells(2)), 0), 1).dataSync()[0]!;
      const atNext = tf.squeeze(tf.slice(learner.targets.apply(cells(2)), [0, 0, best], [-1, 1, 1])); // [E]
      return [tf.mean(learner.critics.apply(cells(1)), 0).dataSync()[0]!, Array.from(atNext.dataSync())];
    });
    learner.dispose();
    return { q, heads: heads as number[], counts };
  };

  it("mean: Q settles at gamma times the heads' mean; minPair: below it, at the mean of pairwise minima", () => {
    const mean = train("mean");
    const minPair = train("minPair");
    const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const pairMinima = (h: number[]) => h.flatMap((x, i) => h.filter((_, j) => j !== i).map((y) => Math.min(x, y)));
    for (const { heads } of [mean, minPair]) expect(Math.max(...heads) - Math.min(...heads)).toBeGreaterThan(0.1);
    expect(Math.abs(mean.q - 0.9 * average(mean.heads))).toBeLessThan(0.02);
    expect(Math.abs(minPair.q - 0.9 * average(pairMinima(minPair.heads)))).toBeLessThan(0.04);
    // Each rule read the other's way is off by more than that.
    expect(Math.abs(mean.q - 0.9 * average(pairMinima(mean.heads)))).toBeGreaterThan(0.04);
    expect(Math.abs(minPair.q - 0.9 * average(minPair.heads))).toBeGreaterThan(0.04);
    expect(new Set(mean.counts).size).toBe(1);
  });

  it("refuses an unknown rule by name", () => {
    expect(() => ValueConfig.parse({ targetHeads: "max" })).toThrow(/targetHeads/);
  });
});

describe("ValueLearner's gradient into the codes (value.encoderLr)", () => {
  it("hands codeGrad d TD loss / d codes of the real rows, as the tape computes it", () => {
    const config = ValueConfig.parse({ ensemble: 3, hidden: [8], targetHeads: "mean" });
    const learner = new ValueLearner(5, { kind: "discrete", n: 2 }, config, 3);
    const b: TdBatch = tf.tidy(() => ({
      codes: tf.concat([cells(1), cells(3)]) as tf.Tensor2D,
      nextCodes: tf.concat([cells(2), cells(4)]) as tf.Tensor2D,
      actions: tf.tensor2d([
        [1, 0],
        [0, 1],
      ]),
      returns: tf.tensor1d([0.5, 0]),
      terminated: tf.tensor1d([0, 1]),
      discount: tf.tensor1d([0.9, 0.81]),
    }));
    // Before the step: y = R + discount (1 - d) mean_e Q'_e(z', argmax_a mean_e Q_e(z', a)) (Q' = Q
    // at the start), loss = sum_e mean_b (Q_e(z_b, a_b) - y_b)^2.
    const expected = tf.tidy(() => {
      const qNext = learner.critics.apply(b.nextCodes); // [E, N, n]
      const best = tf.oneHot(tf.argMax(tf.mean(qNext, 0), 1), 2);
      const y = tf.add(
        b.returns,
        tf.mul(b.discount, tf.mul(tf.sub(1, b.terminated), tf.mean(tf.sum(tf.mul(qNext, best), 2), 0))),
      );
      const loss = (c: tf.Tensor) =>
        tf.sum(tf.mean(tf.square(tf.sub(tf.sum(tf.mul(learner.critics.apply(c as tf.Tensor2D), b.actions), 2), y)), 1));
      return Array.from(tf.grad(loss)(b.codes).dataSync());
    });
    let got: number[] = [];
    learner.update(b, undefined, (d) => {
      got = Array.from(d.dataSync());
    });
    expect(got).toHaveLength(10);
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e-3);
    got.forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 5));
    tf.dispose(b as unknown as tf.TensorContainer);
    learner.dispose();
  });
});
