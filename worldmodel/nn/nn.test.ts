// The manual backward passes and the flat optimiser against TensorFlow.js's own autodiff and Adam.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../common/rng.ts";
import { initBackend } from "../../backend/init.ts";
import { MlpEnsemble } from "./ensemble.ts";
import { FlatAdam } from "./flatAdam.ts";
import { Mlp } from "./mlp.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const rng = new Rng(5);
const randn = (shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );
const values = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));
function expectClose(got: number[][], want: number[][], tol = 1e-5) {
  want.forEach((w, i) => {
    const scale = Math.max(1, ...w.map(Math.abs));
    w.forEach((v, j) => expect(Math.abs(got[i]![j]! - v), `tensor ${i} element ${j}`).toBeLessThanOrEqual(tol * scale));
  });
}

describe("Mlp initialisation", () => {
  it("'he': weights of standard deviation sqrt(2 / fan_in) and zero biases; 'torch': U(-1/sqrt(fan_in), 1/sqrt(fan_in))", () => {
    const std = (v: tf.Variable) => {
      const x = Array.from(v.dataSync());
      const m = x.reduce((a, b) => a + b, 0) / x.length;
      return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
    };
    const he = new Mlp([200, 300, 10], 1, "relu", "he", "he");
    expect(std(he.weights[0]!)).toBeCloseTo(Math.sqrt(2 / 200), 2);
    expect(std(he.weights[1]!)).toBeCloseTo(Math.sqrt(2 / 300), 2);
    for (const b of he.biases) expect(Array.from(b.dataSync()).every((v) => v === 0)).toBe(true);
    const torch = new Mlp([200, 300, 10], 1, "relu");
    expect(std(torch.weights[0]!)).toBeCloseTo(1 / Math.sqrt(3 * 200), 2);
    expect(Math.max(...Array.from(torch.biases[0]!.dataSync()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(200));
    he.dispose();
    torch.dispose();
  });
});

describe("Mlp.backward and gradients()", () => {
  it.each(["elu", "relu"] as const)("match autodiff over two calls summed (%s)", (activation) => {
    const mlp = new Mlp([5, 7, 6, 3], 1, activation);
    tf.tidy(() => {
      const [x1, x2, w1, w2] = [randn([4, 5]), randn([6, 5]), randn([4, 3]), randn([6, 3])];
      const loss = () =>
        tf.add(
          tf.sum(tf.mul(mlp.apply(x1 as tf.Tensor2D), w1)),
          tf.sum(tf.mul(mlp.apply(x2 as tf.Tensor2D), w2)),
        ) as tf.Scalar;
      const { grads } = tf.variableGrads(loss, mlp.variables);
      const a = mlp.applyTraced(x1 as tf.Tensor2D);
      const b = mlp.applyTraced(x2 as tf.Tensor2D);
      const wT = mlp.transposedWeights();
      const back1 = mlp.backward(a.trace, w1 as tf.Tensor2D, wT);
      const back2 = mlp.backward(b.trace, w2 as tf.Tensor2D, wT);
      expectClose(
        values(mlp.gradients([a.trace, b.trace], [back1.dPre, back2.dPre])),
        values(mlp.variables.map((v) => grads[v.name]!)),
      );
      const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(mlp.apply(x as tf.Tensor2D), w1)))(x1);
      expectClose(values([back1.dx!]), values([dx]));
    });
    mlp.dispose();
  });
});

describe("MlpEnsemble", () => {
  it("member e computes what Mlp(sizes, seeds[e]) computes, and its backward matches autodiff", () => {
    const seeds = [3, 9, 4];
    const ens = new MlpEnsemble([6, 8, 8, 2], seeds, "elu");
    const mlps = seeds.map((s) => new Mlp([6, 8, 8, 2], s, "elu"));
    tf.tidy(() => {
      const x = randn([5, 6]) as tf.Tensor2D;
      const out = ens.apply(x);
      expect(out.shape).toEqual([3, 5, 2]);
      expectClose(values(tf.unstack(out)), values(mlps.map((m) => m.apply(x))));
      const w = randn([3, 5, 2]);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(ens.apply(x), w)) as tf.Scalar, ens.variables);
      const { trace } = ens.applyTraced(x);
      const back = ens.backward(trace, w as tf.Tensor3D, true);
      expectClose(values(back.grads), values(ens.variables.map((v) => grads[v.name]!)));
      expectClose(
        values([back.dx!]),
        values([tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(ens.apply(xx as tf.Tensor2D), w)))(x)]),
      );
    });
    ens.dispose();
    mlps.forEach((m) => m.dispose());
  });
  it("copies are independent of later changes to the original", () => {
    const ens = new MlpEnsemble([3, 4, 1], [1, 2], "elu");
    const twin = ens.copy("twin");
    const before = values(twin.variables);
    ens.variables.forEach((v) => v.assign(tf.zerosLike(v)));
    expect(values(twin.variables)).toEqual(before);
    ens.dispose();
    twin.dispose();
  });
});

describe("FlatAdam", () => {
  it("takes tfjs Adam's steps, with per-variable learning rates, clipping scale and weight decay", () => {
    const make = () => [tf.variable(randn([3, 4])), tf.variable(randn([4]))];
    const a = make();
    const b = a.map((v) => tf.variable(v.clone()));
    const flat = new FlatAdam(a, { lr: [0.01, 0.003], weightDecay: 0.1 });
    const reference = [tf.train.adam(0.01), tf.train.adam(0.003)];
    for (let step = 0; step < 4; step++) {
      const grads = [randn([3, 4]), randn([4])];
      flat.apply(grads, 0.5);
      tf.tidy(() => {
        b.forEach((v, i) => {
          reference[i]!.applyGradients([{ name: v.name, tensor: tf.mul(grads[i]!, 0.5) }]);
          v.assign(tf.mul(v, 1 - [0.01, 0.003][i]! * 0.1));
        });
      });
      tf.dispose(grads);
    }
    expectClose(values(a), values(b), 1e-6);
    const restored = new FlatAdam(b, { lr: [0.01, 0.003] });
    restored.setWeights(flat.getWeights());
    expect(restored.iterations).toBe(4);
    expect(() => restored.setWeights(flat.getWeights().slice(1))).toThrow(/expected \[iterations/);
    flat.dispose();
    restored.dispose();
    tf.dispose([...a, ...b]);
  });

  it("updateClip: Adam's step where the second moments keep up; divided by sqrt(mean(g^2 / v_hat)) per variable where a gradient outruns them", () => {
    const b2 = 0.999;
    const lr = [0.01, 0.003];
    const start = [randn([3, 4]), randn([4])];
    const run = (updateClip: boolean) => {
      const vs = start.map((t) => tf.variable(t.clone()));
      return { vs, opt: new FlatAdam(vs, { lr, weightDecay: 0.1, updateClip }) };
    };
    const plain = run(false);
    const clipped = run(true);
    // 200 steps of one tiny gradient: v_hat = g^2 exactly, so the ratio is 1 and nothing is clipped.
    const tiny = [tf.fill([3, 4], 1e-4), tf.fill([4], -2e-4)];
    for (let i = 0; i < 200; i++) for (const r of [plain, clipped]) r.opt.apply(tiny);
    expectClose(values(clipped.vs), values(plain.vs), 1e-6);
    const before = values(plain.vs);
    // Then an error: a gradient 1e4 times as large, against second moments that saw only the tiny ones.
    const big = [randn([3, 4]), randn([4])];
    for (const r of [plain, clipped]) r.opt.apply(big);
    const t = 201;
    big.forEach((g, i) => {
      const c = i === 0 ? 1e-4 : 2e-4;
      const gs = Array.from(g.dataSync());
      const vHat = gs.map((x) => (b2 * (1 - b2 ** 200) * c * c + (1 - b2) * x * x) / (1 - b2 ** t));
      const damp = Math.max(1, Math.sqrt(gs.reduce((sum, x, k) => sum + (x * x) / vHat[k]!, 0) / gs.length));
      expect(damp).toBeGreaterThan(10);
      const p = Array.from(plain.vs[i]!.dataSync());
      const q = Array.from(clipped.vs[i]!.dataSync());
      before[i]!.forEach((x0, k) => {
        const decayed = 1 - lr[i]! * 0.1;
        const plainStep = x0 - p[k]! / decayed; // the plain step, before its decay
        const clippedStep = x0 - q[k]! / (1 - (lr[i]! * 0.1) / damp);
        // float32 weights near 1: a few ulps (1.2e-7 each) of slack
        expect(Math.abs(clippedStep - plainStep / damp)).toBeLessThanOrEqual(1e-3 * Math.abs(plainStep / damp) + 3e-7);
      });
    });
    for (const r of [plain, clipped]) {
      r.opt.dispose();
      tf.dispose(r.vs);
    }
    tf.dispose([...tiny, ...big, ...start]);
  });
});
