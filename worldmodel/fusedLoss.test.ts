import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend } from "../backend/init.ts";
import { OTHER_BACKENDS, onBackend } from "../backend/otherBackends.ts";
import { parseWorldModelConfig } from "./config.ts";
import { collect } from "../data/collector.ts";
import { ESTIMATOR_NAMES, Noise } from "./estimators/index.ts";
import { FrozenCodes } from "./frozenCodes.ts";
import { fusedWorldModelGrads } from "./fusedLoss.ts";
import { disposeBatch, toTensorBatch, worldModelLoss, type LossStats } from "./loss.ts";
import { WorldModel, envShapeOf } from "./model.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const config = (extra: Record<string, unknown>) =>
  parseWorldModelConfig({
    latents: 4,
    encoder: { hidden: [32] },
    dynamicsHidden: [32, 32],
    headHidden: [16],
    batch: 16,
    horizon: 4,
    ...extra,
  });

/** Loss parts and gradients of the tape-based reference and of the fused pass, on one batch with one noise seed. */
function both(envId: string, extra: Record<string, unknown>) {
  const model = new WorldModel(config(extra), envShapeOf(makeBare(envId)), 3);
  const buffer = collect({ envId, steps: 300, numEnvs: 2, seed: 1 });
  model.fitNormalization(buffer.observations());
  const sample = buffer.sample(16, model.config.horizon, new Rng(2), 0.25);
  const names = model.namedVariables().map(([n]) => n);
  const batch = toTensorBatch(model, sample);
  const reference = tf.tidy(() => {
    const parts: Partial<Record<keyof LossStats, tf.Scalar>> = {};
    const { grads } = tf.variableGrads(() => worldModelLoss(model, batch, new Noise(7), parts), model.variables);
    const stats = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v!.dataSync()[0]!]));
    tf.dispose(Object.values(parts));
    return { stats, grads: model.variables.map((v) => Array.from(grads[v.name]!.dataSync())) };
  });
  disposeBatch(batch);
  let fused: { stats: LossStats; grads: number[][] } | undefined;
  tf.tidy(() => {
    const { grads, stats } = fusedWorldModelGrads(model, sample, new Noise(7));
    fused = { stats, grads: grads.map((g) => Array.from(g.dataSync())) };
  });
  model.dispose();
  return { names, reference, fused: fused! };
}

/** |a - b| <= 1e-5 + 1e-5 * max |reference| of that tensor, for every element. */
function expectClose(names: string[], ref: number[][], got: number[][]) {
  ref.forEach((r, i) => {
    const scale = Math.max(1, ...r.map(Math.abs));
    const worst = r.reduce((m, v, j) => Math.max(m, Math.abs(v - got[i]![j]!)), 0);
    expect(worst, `${names[i]}: largest difference ${worst} (largest gradient ${scale})`).toBeLessThanOrEqual(
      1e-5 * scale,
    );
  });
}

function expectSame(envId: string, extra: Record<string, unknown>) {
  const { names, reference, fused } = both(envId, extra);
  for (const [k, v] of Object.entries(reference.stats)) expect(fused.stats[k as keyof LossStats], k).toBeCloseTo(v, 5);
  expectClose(names, reference.grads, fused.grads);
}

describe("the fused world-model update computes the reference loss and gradients (to 1e-5)", () => {
  for (const estimator of ESTIMATOR_NAMES) it(`${estimator} on Catch`, () => expectSame("Catch-v0", { estimator }));
  it("with a decoder that shapes the codes, a detached encoder and tau 0.5", () => {
    expectSame("GridEmpty-v0", { decoder: { enabled: true, shapeCodes: true }, detachEncoder: true, tau: 0.5 });
  });
  it("with a CNN encoder and Box actions (PointMass)", () => expectSame("PointMass-v0", { horizon: 2, latents: 2 }));
  it("with a keypoint encoder (PointMass)", () =>
    expectSame("PointMass-v0", { horizon: 2, latents: 2, encoder: { type: "keypoints", hidden: [32], keypoints: 4 } }));
  it("with a permuted codebook (codes carried by a random permutation of the grid)", () =>
    expectSame("Catch-v0", { codebook: "permuted", permutationSeed: 3 }));
});

describe("a frozen encoder (encoder: false)", () => {
  // Every other gradient and the loss stay exactly those of the full pass; the encoder's are zero.
  // With the codes already known (FrozenCodes) the encoder does not run and nothing else changes.
  for (const [envId, extra, kind] of [
    ["GridEmpty-v0", { decoder: { enabled: true, shapeCodes: true } }, "MLP"],
    ["PointMass-v0", { horizon: 2, latents: 2 }, "CNN"],
    ["PointMass-v0", { horizon: 3, latents: 2, encoder: { type: "keypoints", keypoints: 4 } }, "keypoint"],
  ] as const)
    it(`skips only the encoder's gradients, and with known codes the encoder itself (${envId}, ${kind} encoder)`, () => {
      const model = new WorldModel(config(extra), envShapeOf(makeBare(envId)), 3);
      const buffer = collect({ envId, steps: 300, numEnvs: 2, seed: 1 });
      model.fitNormalization(buffer.observations());
      const sample = buffer.sample(16, model.config.horizon, new Rng(2), 0.25);
      const run = (encoder: boolean, codes?: Float32Array) => {
        let out: { stats: LossStats; grads: number[][] } | undefined;
        tf.tidy(() => {
          const { grads, stats } = fusedWorldModelGrads(model, sample, new Noise(7), { encoder, codes });
          out = { stats, grads: grads.map((g) => Array.from(g.dataSync())) };
        });
        return out!;
      };
      const full = run(true);
      const frozen = run(false);
      const codes = new FrozenCodes(model).of(sample)!;
      expect(run(false, codes)).toEqual(frozen);
      expect(() => run(true, codes)).toThrow(/known codes are for a frozen encoder/);
      expect(() => run(false, codes.subarray(1))).toThrow(/'codes' holds/);
      const encoder = new Set(model.encoder.variables);
      expect(frozen.stats).toEqual(full.stats);
      model.variables.forEach((v, i) => {
        if (encoder.has(v)) {
          expect(
            frozen.grads[i]!.every((g) => g === 0),
            v.name,
          ).toBe(true);
          expect(
            full.grads[i]!.some((g) => g !== 0),
            v.name,
          ).toBe(true);
        } else expect(frozen.grads[i], v.name).toEqual(full.grads[i]);
      });
      model.dispose();
    });
});

// The same on the other backends that load here: WASM without the native GEMM (users without a C++
// compiler), the JS cpu backend, and tfjs-node where it is installed.
for (const { name, options } of OTHER_BACKENDS) {
  describe(`on ${name}`, () => {
    const backend = onBackend(options);
    for (const estimator of ["st-gumbel-softmax", "reinforce"]) {
      it(`${estimator} on Catch (skipped where the backend does not load)`, (ctx) => {
        if (!backend.loaded()) ctx.skip();
        expectSame("Catch-v0", { estimator });
      });
    }
  });
}

describe("memory", () => {
  it("keeps no tensor after a step", () => {
    const model = new WorldModel(
      config({ estimator: "reinforce", decoder: { enabled: true } }),
      envShapeOf(makeBare("Catch-v0")),
      3,
    );
    const sample = collect({ envId: "Catch-v0", steps: 300, numEnvs: 2, seed: 1 }).sample(16, 4, new Rng(2));
    const step = () => tf.tidy(() => void fusedWorldModelGrads(model, sample, new Noise(7)));
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
