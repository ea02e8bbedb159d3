import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../backend/init.ts";
import { exactGradient, estimateGradient, type Objective } from "../exactGradient.ts";
import { ESTIMATOR_NAMES, HARD_ESTIMATORS, Noise, getEstimator, type EstimatorName } from "./index.ts";
import { sampleOneHot } from "./categorical.ts";
import { polynomialToy } from "../../experiments/e1/polynomialToy.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const THETA = [
  [0.5, -0.3, 0.1, 0.9],
  [-0.7, 0.2, 0.4, 0.0],
  [0.3, 0.3, -1.0, 0.6],
];
const W = [
  [1.0, -2.0, 0.5, 3.0],
  [0.3, 1.5, -1.0, 0.0],
  [-0.5, 0.8, 2.0, -1.2],
];
/** A linear f: sum_d z_d . w_d. */
const linear: Objective = (z) => tf.sum(tf.mul(z, tf.tensor(W)), [1, 2]);
/** A non-linear f with interactions: sin(z . w) + (z_0 . w_0)(z_1 . w_1)^2. */
const nonlinear: Objective = (z) => {
  const s = tf.sum(tf.mul(z, tf.tensor(W)), 2); // [N, D]
  const [a, b] = tf.split(s, [1, 1, 1], 1);
  return tf.add(tf.sin(tf.sum(s, 1)), tf.squeeze(tf.mul(a!, tf.square(b!)), [1]));
};
/** Quadratic in each variable: sum_d (z_d . w_d)^2 + (z_0 . w_0)(z_2 . w_2). */
const quadratic: Objective = (z) => {
  const s = tf.sum(tf.mul(z, tf.tensor(W)), 2);
  const [a, , c] = tf.split(s, [1, 1, 1], 1);
  return tf.add(tf.sum(tf.square(s), 1), tf.squeeze(tf.mul(a!, c!), [1]));
};

/** Asserts |mean - exact| < z * SE (+ a tiny absolute slack) on every coordinate. */
function expectUnbiased(name: EstimatorName, f: Objective, tau: number, samples = 20000, z = 5) {
  const theta = tf.tensor(THETA);
  const exact = exactGradient(theta, f).grad;
  const est = estimateGradient(name, theta, f, { samples, tau, noise: new Noise(1) });
  theta.dispose();
  est.mean.forEach((m, i) => {
    const se = Math.sqrt(est.variance[i]! / samples);
    expect(Math.abs(m - exact[i]!), `${name} coordinate ${i}: estimate ${m}, exact ${exact[i]}, SE ${se}`).toBeLessThan(
      z * se + 1e-4,
    );
  });
}

describe("forward values", () => {
  it("hard estimators return exact one-hot rows", () => {
    const logits = tf.randomNormal([64, 5, 7], 0, 2, "float32", 3);
    for (const name of HARD_ESTIMATORS) {
      const { value } = getEstimator(name)(logits, { tau: 1, noise: new Noise(0) });
      const v = value.dataSync();
      expect(
        v.every((x) => x === 0 || x === 1),
        name,
      ).toBe(true);
      const rows = tf.sum(value, -1).dataSync();
      expect(
        rows.every((x) => x === 1),
        name,
      ).toBe(true);
    }
  });
  it("soft outputs lie on the simplex (sum to 1)", () => {
    const logits = tf.randomNormal([32, 6], 0, 3, "float32", 4);
    for (const name of ["gumbel-softmax", "expected"] as const) {
      for (const tau of [0.1, 1, 5]) {
        const sums = tf.sum(getEstimator(name)(logits, { tau, noise: new Noise(0) }).value, -1).dataSync();
        sums.forEach((s) => expect(Math.abs(s - 1)).toBeLessThan(1e-5));
      }
    }
  });
  it("argmax(l + g) samples with frequencies softmax(l) (chi-square, 4 dof, p = 0.001)", () => {
    const probs = [0.05, 0.1, 0.15, 0.3, 0.4];
    const n = 20000;
    const logits = tf.tile(tf.log(tf.tensor2d([probs])), [n, 1]);
    const counts = tf.sum(sampleOneHot(logits, new Noise(11).gumbel([n, 5])), 0).dataSync();
    const chi2 = probs.reduce((acc, p, i) => acc + (counts[i]! - n * p) ** 2 / (n * p), 0);
    expect(chi2).toBeLessThan(18.47);
  });
  it("the same seed gives the same sample; another seed another", () => {
    const logits = tf.zeros([16, 8]);
    const draw = (seed: number) =>
      Array.from(getEstimator("st-gumbel-softmax")(logits, { tau: 1, noise: new Noise(seed) }).value.dataSync());
    expect(draw(0)).toEqual(draw(0));
    expect(draw(0)).not.toEqual(draw(1));
  });
});

describe("gradients against exact ones (enumerated, 4^3 configurations)", () => {
  it("REINFORCE with a leave-one-out baseline is unbiased on a non-linear f", () =>
    expectUnbiased("reinforce", nonlinear, 1));
  it("plain straight-through at tau = 1 is unbiased on a linear f (J(p) w)", () =>
    expectUnbiased("straight-through", linear, 1));
  it("ReinMax at tau = 1 is unbiased on an f quadratic in each variable", () =>
    expectUnbiased("reinmax", quadratic, 1));
  it("expected is the exact gradient of f(p) on a linear f", () => expectUnbiased("expected", linear, 1, 4));
  it("plain straight-through at tau = 1 is biased on a non-linear f (the test can fail)", () => {
    expect(() => expectUnbiased("straight-through", quadratic, 1)).toThrow();
  });
  it("hard-no-grad gives a zero gradient", () => {
    const est = estimateGradient("hard-no-grad", tf.tensor(THETA), nonlinear, {
      samples: 16,
      tau: 1,
      noise: new Noise(0),
    });
    expect(est.mean.every((v) => v === 0)).toBe(true);
  });
  it("Gumbel-Rao has ST-GS's mean and a lower variance", () => {
    const theta = tf.tensor(THETA);
    const n = 20000;
    const st = estimateGradient("st-gumbel-softmax", theta, nonlinear, { samples: n, tau: 0.5, noise: new Noise(2) });
    const gr = estimateGradient("gumbel-rao", theta, nonlinear, {
      samples: n,
      tau: 0.5,
      noise: new Noise(3),
      draws: 10,
    });
    st.mean.forEach((m, i) => {
      const se = Math.sqrt((st.variance[i]! + gr.variance[i]!) / n);
      expect(Math.abs(m - gr.mean[i]!)).toBeLessThan(5 * se + 1e-4);
    });
    const total = (v: Float64Array) => v.reduce((a, b) => a + b, 0);
    expect(total(gr.variance)).toBeLessThan(0.8 * total(st.variance));
  });
});

describe("bad arguments", () => {
  const zeros = () => tf.zeros([2, 3]);
  it.each(ESTIMATOR_NAMES.filter((n) => !["reinforce", "expected", "hard-no-grad"].includes(n)))(
    "%s refuses tau <= 0",
    (name) => {
      expect(() => getEstimator(name)(zeros(), { tau: 0, noise: new Noise(0) })).toThrow(/'tau' must be > 0, got 0/);
    },
  );
  it.each(ESTIMATOR_NAMES)("%s refuses non-finite logits", (name) => {
    expect(() => getEstimator(name)(tf.tensor2d([[0, NaN, 1]]), { tau: 1, noise: new Noise(0) })).toThrow(
      /logits must be finite, got NaN at flat index 1/,
    );
  });
  it("gumbel-rao refuses K < 2; reinmax refuses tau < 1; unknown names list the known ones", () => {
    expect(() => getEstimator("gumbel-rao")(zeros(), { tau: 1, noise: new Noise(0), draws: 1 })).toThrow(
      /'draws' \(K\) must be an integer >= 2, got 1/,
    );
    expect(() => getEstimator("reinmax")(zeros(), { tau: 0.5, noise: new Noise(0) })).toThrow(
      /reinmax: 'tau' must be >= 1, got 0.5/,
    );
    expect(() => getEstimator("gumbel")).toThrow(/unknown estimator 'gumbel' \(known: st-gumbel-softmax, /);
  });
});

describe("training", () => {
  it("does not grow tf.memory().numTensors across steps", () => {
    const theta = tf.variable(tf.zeros([8, 4]));
    const opt = tf.train.adam(0.01);
    const noise = new Noise(0);
    const step = (name: EstimatorName) =>
      tf.tidy(() => {
        opt.minimize(() => {
          const { value, logProb } = getEstimator(name)(tf.tile(tf.expandDims(theta, 0), [4, 1, 1]), { tau: 1, noise });
          const f = tf.sum(tf.square(value), [1, 2]);
          return logProb ? tf.add(tf.mean(f), tf.mean(logProb)) : tf.mean(f);
        });
      });
    for (const name of ESTIMATOR_NAMES) step(name);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) for (const name of ESTIMATOR_NAMES) step(name);
    expect(tf.memory().numTensors).toBe(before);
  });
  it("plain straight-through on the polynomial toy (p = 2) converges to its fixed point E[x] = 0.45, loss 0.2475", () => {
    const out = polynomialToy({
      estimator: "straight-through",
      p: 2,
      tau: 1,
      dims: 32,
      batch: 64,
      lr: 0.01,
      steps: 1500,
      seed: 0,
    });
    expect(Math.abs(out.meanProbability - 0.45)).toBeLessThan(0.02);
    expect(Math.abs(out.exactLoss - 0.2475)).toBeLessThan(0.002);
  });
});
