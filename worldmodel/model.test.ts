import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend } from "../backend/init.ts";
import { parseWorldModelConfig } from "./config.ts";
import { collect } from "../data/collector.ts";
import { Noise } from "./estimators/index.ts";
import { toTensorBatch, worldModelLoss, disposeBatch } from "./loss.ts";
import { WorldModel, envShapeOf } from "./model.ts";
import { WorldModelTrainer } from "./train.ts";
import { evaluate } from "./eval.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const small = (extra: Record<string, unknown> = {}) =>
  parseWorldModelConfig({
    latents: 4,
    encoder: { hidden: [32] },
    dynamicsHidden: [32],
    headHidden: [16],
    batch: 16,
    horizon: 3,
    ...extra,
  });

describe("WorldModel", () => {
  it("has the documented shapes: codes [N, L, d], logits [N, L, |C|], reward and termination [N]", () => {
    const model = new WorldModel(small(), envShapeOf(makeBare("GridEmpty-v0")), 0);
    const obs = model.preprocess(new Uint8Array(2 * 192), 2);
    expect(obs.shape).toEqual([2, 8, 8, 3]);
    const codes = model.encode(obs);
    expect(codes.shape).toEqual([2, 4, 2]);
    const heads = model.heads(codes, model.actionFeatures([0, 2], 2));
    expect(heads.logits.shape).toEqual([2, 4, 15]);
    expect(heads.reward.shape).toEqual([2]);
    expect(heads.terminated.shape).toEqual([2]);
    expect(model.expectedNext(codes, model.actionFeatures([1, 1], 2)).shape).toEqual([2, 4, 2]);
  });
  it("uses a CNN encoder for pixel observations and an MLP otherwise", () => {
    expect(new WorldModel(small(), envShapeOf(makeBare("PointMass-v0")), 0).encoder.constructor.name).toBe("Cnn");
    expect(new WorldModel(small(), envShapeOf(makeBare("Catch-v0")), 0).encoder.constructor.name).toBe("Mlp");
    // Stacked frames [k, H, W, C] go to an MLP; a CNN asked for them is refused by name.
    const stacked = { ...envShapeOf(makeBare("PointMass-v0")), obsShape: [2, 32, 32, 2] };
    expect(new WorldModel(small(), stacked, 0).encoder.constructor.name).toBe("Mlp");
    expect(() => new WorldModel(small({ encoder: { type: "cnn" } }), stacked, 0)).toThrow(
      /encoder type 'cnn' needs \[H, W, C\] observations, got shape \[2, 32, 32, 2\]/,
    );
  });
  it("rejects bad configs, naming the field", () => {
    expect(() => parseWorldModelConfig({ levels: [1] })).toThrow(/levels\.0: Too small/);
    expect(() => parseWorldModelConfig({ estimator: "gumbel" })).toThrow(/estimator: Invalid option/);
    expect(() => parseWorldModelConfig({ latent: 4 })).toThrow(/Unrecognized key/);
  });
});

describe("gradients through the rollout", () => {
  /**
   * Norm of the gradient that the loss of step H alone sends to the encoder, which only reaches
   * step H through the chain code_0 -> sample -> code_1 -> ... -> logits_H.
   */
  function encoderGradFromLastStep(estimator: string, extra: Record<string, unknown> = {}): number {
    const model = new WorldModel(
      small({ estimator, rho: 1, horizon: 3, rewardWeight: 0, terminationWeight: 0, ...extra }),
      envShapeOf(makeBare("GridEmpty-v0")),
      1,
    );
    const buf = collect({ envId: "GridEmpty-v0", steps: 200, numEnvs: 2, seed: 0 });
    const batch = toTensorBatch(model, buf.sample(16, 3, new Rng(0)));
    batch.mask = batch.mask.map((m, t) => (t === 2 ? m : tf.zerosLike(m))) as tf.Tensor1D[];
    const w0 = model.encoder.variables[0]!;
    const g = tf.tidy(() => {
      try {
        const { grads } = tf.variableGrads(() => worldModelLoss(model, batch, new Noise(0)), [w0]);
        return tf.norm(grads[w0.name]!).dataSync()[0]!;
      } catch (err) {
        // tfjs refuses to differentiate a loss that does not depend on the variable at all.
        if (/Cannot find a connection between any variable and the result/.test(String(err))) return 0;
        throw err;
      }
    });
    disposeBatch(batch);
    model.dispose();
    return g;
  }
  it("ST Gumbel-softmax carries the gradient of step H's loss back to the first code; hard-no-grad does not", () => {
    expect(encoderGradFromLastStep("st-gumbel-softmax")).toBeGreaterThan(1e-6);
    expect(encoderGradFromLastStep("hard-no-grad")).toBe(0);
  });
  it("detachEncoder keeps the dynamics loss out of the encoder", () => {
    expect(encoderGradFromLastStep("st-gumbel-softmax", { detachEncoder: true })).toBe(0);
  });
});

describe("training", () => {
  /** 400 random GridEmpty steps (seed 0), and a small model fitted to them (lr 1e-2 unless `extra` says). */
  const randomSteps = () => collect({ envId: "GridEmpty-v0", steps: 400, numEnvs: 2, seed: 0 });
  const fittedModel = (buf: ReturnType<typeof randomSteps>, extra: Record<string, unknown>) => {
    const model = new WorldModel(small({ lr: 1e-2, ...extra }), envShapeOf(makeBare("GridEmpty-v0")), 0);
    model.fitNormalization(buf.observations());
    return model;
  };
  const flatWeights = (m: WorldModel) => m.variables.flatMap((v) => Array.from(v.dataSync()));

  it("does not leak tensors over 50 steps", () => {
    const model = new WorldModel(small(), envShapeOf(makeBare("Catch-v0")), 0);
    const trainer = new WorldModelTrainer(model, 1);
    const buf = collect({ envId: "Catch-v0", steps: 300, numEnvs: 2, seed: 0 });
    const rng = new Rng(0);
    trainer.stepOnBuffer(buf, rng);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) trainer.stepOnBuffer(buf, rng);
    expect(tf.memory().numTensors).toBe(before);
  });
  it("encoderLrScale slows the encoder only, and its optimiser state survives a save and restore", async () => {
    const buf = collect({ envId: "Catch-v0", steps: 300, numEnvs: 2, seed: 0 });
    const firstStep = (scale: number) => {
      const model = new WorldModel(small({ encoderLrScale: scale }), envShapeOf(makeBare("Catch-v0")), 0);
      const before = model.variables.map((v) => Array.from(v.dataSync()));
      const trainer = new WorldModelTrainer(model, 1);
      trainer.stepOnBuffer(buf, new Rng(0));
      const moved = (vs: tf.Variable[]) =>
        vs.reduce(
          (s, v) => s + before[model.variables.indexOf(v)]!.reduce((a, x, i) => a + Math.abs(v.dataSync()[i]! - x), 0),
          0,
        );
      return { trainer, model, encoder: moved(model.encoder.variables), dynamics: moved(model.dynamics.variables) };
    };
    const full = firstStep(1);
    const slow = firstStep(0.1);
    // Adam's first step moves each weight by about lr, whatever the gradient's scale.
    expect(slow.encoder / full.encoder).toBeCloseTo(0.1, 2);
    expect(slow.dynamics / full.dynamics).toBeCloseTo(1, 5);
    const saved = await slow.trainer.optimizerWeights();
    const parameters = slow.model.variables.reduce((s, v) => s + v.size, 0);
    expect(saved.model!.map((w) => w.tensor.size)).toEqual([1, parameters, parameters]); // step count, flat moments
    const copy = new WorldModelTrainer(slow.model, 1);
    await copy.setOptimizerWeights(saved);
    const restored = await copy.optimizerWeights();
    for (const g of ["model"]) {
      expect(restored[g]!.map((w) => w.tensor.shape)).toEqual(saved[g]!.map((w) => w.tensor.shape));
      restored[g]!.forEach((w, i) =>
        expect(Array.from(w.tensor.dataSync())).toEqual(Array.from(saved[g]![i]!.tensor.dataSync())),
      );
    }
    for (const t of [full, slow]) {
      t.trainer.dispose();
      t.model.dispose();
    }
    copy.dispose();
  });
  it("encoderFreezeAfter: the codes stop moving after that many updates, also after a restore, while the dynamics keep learning", async () => {
    const buf = randomSteps();
    const model = fittedModel(buf, { encoderFreezeAfter: 5 });
    const probe = buf.sample(64, 1, new Rng(9)).obs;
    const embedding = () => Array.from(tf.tidy(() => model.embed(model.preprocess(probe, 128))).dataSync());
    const weights = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));
    const trainer = new WorldModelTrainer(model, 1);
    const rng = new Rng(0);
    const start = embedding();
    for (let i = 0; i < 5; i++) trainer.stepOnBuffer(buf, rng);
    expect(embedding()).not.toEqual(start); // learning for the first 5 updates
    expect(trainer.isEncoderFrozen).toBe(false);
    const frozenAt = embedding();
    const dynamics = weights(model.dynamics.variables);
    const encoder = weights(model.encoder.variables);
    for (let i = 0; i < 10; i++) trainer.stepOnBuffer(buf, rng);
    expect(trainer.isEncoderFrozen).toBe(true);
    expect(weights(model.encoder.variables)).toEqual(encoder); // exactly: no step, no decay, no momentum
    expect(embedding()).toEqual(frozenAt);
    expect(weights(model.dynamics.variables)).not.toEqual(dynamics);
    // A trainer restored from the optimiser state knows it is past the freeze.
    const copy = new WorldModelTrainer(model, 2);
    await copy.setOptimizerWeights(await trainer.optimizerWeights());
    copy.stepOnBuffer(buf, rng);
    expect(copy.isEncoderFrozen).toBe(true);
    expect(weights(model.encoder.variables)).toEqual(encoder);
    trainer.dispose();
    copy.dispose();
    model.dispose();
  });
  it("updateClip reaches the optimiser: from the same start the same steps come out otherwise once a gradient outruns the moments", () => {
    const buf = randomSteps();
    const weights = (extra: Record<string, unknown>) => {
      const model = fittedModel(buf, extra);
      const trainer = new WorldModelTrainer(model, 1);
      const rng = new Rng(0);
      const out: number[][] = [];
      for (let i = 0; i < 30; i++) {
        trainer.stepOnBuffer(buf, rng);
        out.push(flatWeights(model));
      }
      trainer.dispose();
      model.dispose();
      return out;
    };
    const plain = weights({});
    const clipped = weights({ updateClip: true });
    expect(clipped[0]).toEqual(plain[0]); // the first step: v_hat = g^2, nothing to clip
    expect(clipped[29]).not.toEqual(plain[29]);
  });
  it("lrDrop: from update `after` on every step is `scale` times as long, also after a restore", async () => {
    const buf = randomSteps();
    const run = (extra: Record<string, unknown>) => {
      const model = fittedModel(buf, { encoderLrScale: 0.3, ...extra });
      const r = { model, trainer: new WorldModelTrainer(model, 1), rng: new Rng(0) };
      for (let i = 0; i < 3; i++) r.trainer.stepOnBuffer(buf, r.rng);
      return r;
    };
    const plain = run({});
    const dropped = run({ lrDrop: { after: 3, scale: 0.25 } });
    const before = flatWeights(plain.model);
    expect(flatWeights(dropped.model)).toEqual(before); // the same three steps
    // The same three steps again, then a new trainer restored from the optimiser state takes the fourth.
    const resumed = run({ lrDrop: { after: 3, scale: 0.25 } });
    const copy = new WorldModelTrainer(resumed.model, 2);
    await copy.setOptimizerWeights(await resumed.trainer.optimizerWeights());
    copy.noiseState = resumed.trainer.noiseState;
    // The fourth step: the same gradient and moments, so the same direction, a quarter as far (encoder included).
    for (const r of [plain, dropped]) r.trainer.stepOnBuffer(buf, r.rng);
    copy.stepOnBuffer(buf, resumed.rng);
    const full = flatWeights(plain.model).map((x, i) => x - before[i]!);
    const quarter = flatWeights(dropped.model).map((x, i) => x - before[i]!);
    expect(full.filter((d) => Math.abs(d) > 1e-3).length).toBeGreaterThan(100);
    full.forEach((d, i) => expect(quarter[i]!).toBeCloseTo(d / 4, 6));
    expect(flatWeights(resumed.model)).toEqual(flatWeights(dropped.model));
    copy.dispose();
    for (const r of [plain, dropped, resumed]) {
      r.trainer.dispose();
      r.model.dispose();
    }
  });
});

describe("auxiliary losses", () => {
  it("inverse dynamics predicts a_0 from the codes of o_0 and o_1 and reports its loss", () => {
    const model = new WorldModel(small({ inverseDynamicsWeight: 1 }), envShapeOf(makeBare("Catch-v0")), 0);
    const trainer = new WorldModelTrainer(model, 1);
    const buf = collect({ envId: "Catch-v0", steps: 300, numEnvs: 2, seed: 0 });
    const stats = trainer.stepOnBuffer(buf, new Rng(0));
    // Near log(3) for an untrained head over 3 actions.
    expect(stats.inverse).toBeGreaterThan(0.5);
    expect(stats.inverse).toBeLessThan(2);
    trainer.dispose();
    model.dispose();
  });
});

describe("normalisation", () => {
  // A 2x2 image of 2 channels: channel 0 lit at pixel 0 in half the frames, channel 1 always 255 at pixel 3.
  const shape = {
    obsShape: [2, 2, 2],
    obsOffset: [0],
    obsScale: [1 / 255],
    action: { kind: "discrete" as const, n: 2 },
  };
  const frames = Uint8Array.from({ length: 4 * 8 }, (_, k) => {
    const [frame, j] = [Math.floor(k / 8), k % 8];
    return (j === 0 && frame % 2 === 0) || j === 7 ? 255 : 0;
  });
  /** Every element of a frame lit (255), after the normalisation fitted on `frames`. */
  const litFrame = (normalization?: "channel") => {
    const model = new WorldModel(small(normalization ? { normalization } : {}), shape, 0);
    model.fitNormalization(frames);
    const out = tf.tidy(() => Array.from(model.preprocess(new Uint8Array(8).fill(255), 1).dataSync()));
    model.dispose();
    return out;
  };
  it("per element by default: each pixel its own mean and std (a constant one floored at 0.05 of its range)", () => {
    const x = litFrame();
    expect(x[0]).toBeCloseTo(1, 4); // (1 - 0.5) / 0.5
    expect(x[2]).toBeCloseTo(20, 3); // never lit: (1 - 0) / 0.05
    expect(x[7]).toBeCloseTo(0, 4); // always lit
  });
  it("per channel: one mean and std for every pixel of a channel", () => {
    const x = litFrame("channel");
    // Channel 0 is lit in 2 of 16 pixel-frames (mean 1/8), channel 1 in 4 of 16 (mean 1/4).
    for (const j of [0, 2, 4, 6]) expect(x[j]).toBeCloseTo((1 - 1 / 8) / Math.sqrt(1 / 8 - 1 / 64), 4);
    for (const j of [1, 3, 5, 7]) expect(x[j]).toBeCloseTo((1 - 1 / 4) / Math.sqrt(1 / 4 - 1 / 16), 4);
  });
});

describe("learning", () => {
  it("a model trained briefly on GridEmpty beats the frequency baseline on 1-step accuracy, without collapse", () => {
    const model = new WorldModel(
      small({ latents: 8, encoder: { hidden: [64] }, dynamicsHidden: [64, 64], batch: 32, lr: 1e-3 }),
      envShapeOf(makeBare("GridEmpty-v0")),
      0,
    );
    const train = collect({ envId: "GridEmpty-v0", steps: 4000, numEnvs: 4, seed: 0, policy: "explorer" });
    const test = collect({ envId: "GridEmpty-v0", steps: 1000, numEnvs: 4, seed: 1, policy: "explorer" });
    model.fitNormalization(train.observations());
    const trainer = new WorldModelTrainer(model, 1);
    const rng = new Rng(0);
    // 600 steps: the default inverse-dynamics loss (against collapse) makes codes richer and slower to predict.
    for (let i = 0; i < 600; i++) trainer.stepOnBuffer(train, rng);
    const m = evaluate(model, test.sample(256, 5, new Rng(1)));
    expect(m.codeUsage).toBeGreaterThan(3);
    expect(m.accuracy[0]).toBeGreaterThan(m.frequencyBaseline + 0.05);
    model.dispose();
    trainer.dispose();
  });
});
