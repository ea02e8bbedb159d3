// The world model with encoder "cells": one fixed code per grid cell, heads local to each cell.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { Rng } from "../common/rng.ts";
import { collect } from "../data/collector.ts";
import type { ReplayBuffer } from "../data/replayBuffer.ts";
import { makeBare } from "../envs/index.ts";
import { loadWorldModel, saveWorldModel } from "./checkpoint.ts";
import { parseWorldModelConfig } from "./config.ts";
import { WorldModel, envShapeOf } from "./model.ts";
import { CellActionSet } from "./nn/localStep.ts";
import { Noise } from "./estimators/index.ts";
import { tapeWorldModelGrads } from "./loss.ts";
import { WorldModelTrainer } from "./train.ts";

const dir = mkdtempSync(join(tmpdir(), "cells-"));
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENV = "GridFourRooms-v0";
const SIZE = 7;
const cells = (extra: Record<string, unknown> = {}) =>
  parseWorldModelConfig({
    encoder: { type: "cells" },
    latents: SIZE * SIZE,
    levels: [2, 2, 2, 2],
    dynamicsHidden: [64, 64],
    inverseDynamicsWeight: 0,
    horizon: 2,
    batch: 32,
    lr: 3e-3,
    rho: 0.3,
    rewardWeight: 0.1,
    ...extra,
  });
const shape = () => envShapeOf(makeBare(ENV, { size: SIZE }));

/** Whole-code 1-step accuracy (every cell's most likely next code right) on non-terminal transitions. */
function wholeAccuracy(model: WorldModel, data: ReplayBuffer, n: number): number {
  const s = data.sample(n, 1, new Rng(9));
  return tf.tidy(() => {
    const codes = model.encode(model.preprocess(s.obs, 2 * n));
    const [, L, d] = codes.shape;
    const pairs = tf.reshape(codes, [n, 2, L, d]);
    const now = tf.reshape(tf.slice(pairs, [0, 0, 0, 0], [n, 1, L, d]), [n, L, d]);
    const next = tf.reshape(tf.slice(pairs, [0, 1, 0, 0], [n, 1, L, d]), [n, L, d]);
    const logits = model.heads(now, model.actionFeatures(s.actions, n)).logits;
    const right = tf.all(tf.equal(tf.argMax(logits, 2), model.indices(next)), 1).dataSync();
    let [hit, count] = [0, 0];
    for (let i = 0; i < n; i++)
      if (s.mask[i] && !s.terminated[i]) {
        count++;
        hit += right[i]!;
      }
    return hit / count;
  });
}

describe("WorldModel with encoder 'cells'", () => {
  it("refuses latents other than one per cell, and observations that are not grids, naming them", () => {
    expect(() => new WorldModel(cells({ latents: 16 }), shape(), 0)).toThrow(
      /encoder type 'cells' needs latents = H x W = 49 \(one per cell\), got 16/,
    );
    expect(() => new WorldModel(cells(), { ...shape(), obsShape: [SIZE * SIZE * 3] }, 0)).toThrow(
      /encoder type 'cells' needs \[H, W, C\] grid observations, got \[147\]/,
    );
  });

  it("learns rules that hold in layouts it never saw, where a model of the whole code does not (400 updates)", () => {
    const train = collect({ envId: ENV, envOptions: { size: SIZE }, steps: 2000, numEnvs: 4, seed: 0 });
    const heldOut = collect({ envId: ENV, envOptions: { size: SIZE }, steps: 600, numEnvs: 4, seed: 1 });
    const accuracyAfter = (config: ReturnType<typeof cells>) => {
      const model = new WorldModel(config, shape(), 0);
      model.fitNormalization(train.observations());
      const trainer = new WorldModelTrainer(model, 1);
      const rng = new Rng(2);
      for (let i = 0; i < 380; i++) trainer.stepOnBuffer(train, rng, 0.1);
      const start = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) trainer.stepOnBuffer(train, rng, 0.1);
      expect(tf.memory().numTensors).toBe(start);
      const accuracy = wholeAccuracy(model, heldOut, 300);
      model.dispose();
      trainer.dispose();
      return accuracy;
    };
    const local = accuracyAfter(cells());
    // The agent's usual world model (8 latents over the whole observation), given the same data and steps.
    const global = accuracyAfter(
      parseWorldModelConfig({
        latents: 8,
        encoder: { hidden: [128] },
        dynamicsHidden: [128, 128],
        headHidden: [64],
        batch: 32,
        horizon: 2,
        lr: 3e-3,
        rho: 0.3,
      }),
    );
    expect(local).toBeGreaterThan(0.3);
    expect(global).toBeLessThan(local / 4);
  }, 180_000);

  it("a checkpoint keeps which code each cell symbol got", async () => {
    const model = new WorldModel(cells(), shape(), 0);
    const env = makeBare(ENV, { size: SIZE });
    const [obs] = env.reset({ seed: 4 });
    const codes = (m: WorldModel) => tf.tidy(() => Array.from(m.indices(m.encode(m.preprocess(obs, 1))).dataSync()));
    const first = codes(model);
    await saveWorldModel(model, join(dir, "cells"));
    const back = loadWorldModel(join(dir, "cells"));
    expect(codes(back)).toEqual(first);
    // Without the table a fresh model numbers the symbols as it meets them: another layout first gives other codes.
    const fresh = new WorldModel(cells(), shape(), 0);
    const [other] = env.reset({ seed: 5 });
    tf.tidy(() => fresh.encode(fresh.preprocess(Uint8Array.from(other).reverse(), 1)));
    expect(codes(fresh)).not.toEqual(first);
    for (const m of [model, back, fresh]) m.dispose();
  });

  /** The stepper's outputs on the grids of env resets, each under every action, against the heads'. */
  const stepsAsHeads = (model: WorldModel, seeds: number[]) => {
    const env = makeBare(ENV, { size: SIZE });
    const actions = 3;
    const obs = seeds.map((seed) => Array.from(env.reset({ seed })[0] as Uint8Array));
    const codes = tf.tidy(() => model.encode(model.preprocess(obs.flat(), seeds.length)));
    const ids = tf.tidy(() => Int32Array.from(model.indices(codes).dataSync()));
    // Row k: grid floor(k / actions) under action k mod actions.
    const n = seeds.length * actions;
    const acts = Array.from({ length: n }, (_, k) => k % actions);
    const want = tf.tidy(() => {
      const rows = tf.gather(
        codes,
        Int32Array.from({ length: n }, (_, k) => Math.floor(k / actions)),
      );
      const h = model.heads(rows, model.actionFeatures(acts, n));
      const p = tf.softmax(h.logits);
      // The second guess: at the cell whose most likely code is least likely, its runner-up.
      const { values: top, indices: topCodes } = tf.topk(p, 2);
      const first = tf.squeeze(tf.slice(top, [0, 0, 0], [-1, -1, 1]), [2]);
      const cell = tf.argMin(first, 1);
      const at = (x: tf.Tensor, j: number) =>
        tf.sum(tf.mul(tf.squeeze(tf.slice(x, [0, 0, j], [-1, -1, 1]), [2]), tf.oneHot(cell, p.shape[1]!)), 1);
      const likely = tf.prod(tf.max(p, 2), 1);
      return {
        ids: Array.from(tf.argMax(h.logits, 2).dataSync()),
        likely: Array.from(likely.dataSync()),
        reward: Array.from(h.reward.dataSync()),
        alive: Array.from(tf.sub(1, tf.sigmoid(h.terminated)).dataSync()),
        second: {
          cell: Array.from(cell.dataSync()),
          code: Array.from(at(tf.cast(topCodes, "float32"), 1).dataSync()),
          likely: Array.from(tf.div(tf.mul(likely, at(top, 1)), at(top, 0)).dataSync()),
        },
      };
    });
    codes.dispose();
    const stepper = model.indexStepper()!;
    const got = stepper.step(ids, actions);
    expect(Array.from(got.ids)).toEqual(want.ids);
    got.likely.forEach((v, i) => expect(v).toBeCloseTo(want.likely[i]!, 5));
    got.reward.forEach((v, i) => expect(v).toBeCloseTo(want.reward[i]!, 4));
    got.alive.forEach((v, i) => expect(v).toBeCloseTo(want.alive[i]!, 5));
    expect(Array.from(got.second.cell)).toEqual(want.second.cell);
    expect(Array.from(got.second.code)).toEqual(want.second.code);
    got.second.likely.forEach((v, i) => expect(v).toBeCloseTo(want.second.likely[i]!, 5));
    // Fewer distinct (neighbourhood, action) keys than rows x cells; a second call adds none.
    const keys = stepper.size;
    expect(keys).toBeLessThan(n * SIZE * SIZE);
    stepper.step(ids, actions);
    expect(stepper.size).toBe(keys);
    // A neighbourhood's outputs are kept for every action: another count is refused, as is a set of
    // steps under another count.
    expect(() => stepper.step(ids, actions + 1)).toThrow(/stepped under 4 actions after 3/);
    expect(() => stepper.step(ids, actions, new CellActionSet(actions + 1))).toThrow(/steps under 4 actions/);
  };

  it("steps code indices as its heads do, each distinct neighbourhood once", () => {
    // Grids from the env (the tokenizer names their cells), each under every action, as a search
    // steps them (the neighbourhoods' part of the keys computed once per grid).
    const seeds = [0, 1, 2, 3, 4, 5];
    const model = new WorldModel(cells(), shape(), 3);
    stepsAsHeads(model, seeds);
    model.dispose();
    // A codebook too large for a numeric key (513^9 > 2^53): text keys, the same outputs.
    const large = new WorldModel(cells({ levels: [8, 8, 8] }), shape(), 3);
    stepsAsHeads(large, seeds);
    large.dispose();
    // With the grid's codes in every input (encoder.presence), in the keys too.
    for (const levels of [
      [2, 2, 2, 2],
      [8, 8, 8],
    ]) {
      const held = new WorldModel(cells({ encoder: { type: "cells", presence: true }, levels }), shape(), 3);
      stepsAsHeads(held, seeds);
      held.dispose();
    }
    // 5x5 neighbourhoods (encoder.radius 2): 17^25 > 2^53, text keys.
    const wide = new WorldModel(cells({ encoder: { type: "cells", presence: true, radius: 2 } }), shape(), 3);
    stepsAsHeads(wide, seeds);
    wide.dispose();
    // The events heads without the flags (encoder.presenceInEvents false): the stepper's rows too.
    const local = new WorldModel(
      cells({ encoder: { type: "cells", presence: true, presenceInEvents: false } }),
      shape(),
      3,
    );
    stepsAsHeads(local, seeds);
    local.dispose();
  });

  it("CellActionSet holds (key, action) pairs, each once, read per key as flags over the actions", () => {
    const set = new CellActionSet(3);
    set.add(7, 2);
    set.add(7, 2);
    set.add(7, 0);
    set.add("1:,2,3", 1);
    expect(set.size).toBe(3);
    expect(Array.from(set.actionsAt(7)!)).toEqual([1, 0, 1]);
    expect(set.actionsAt(8)).toBeUndefined();
    expect([...set.entries()]).toEqual([
      [7, 0],
      [7, 2],
      ["1:,2,3", 1],
    ]);
  });

  /** expectedStepNoGrad against the heads' expected step, on env grids a few random steps in, each row its own action. */
  const noGradAsHeads = (model: WorldModel) => {
    const env = makeBare(ENV, { size: SIZE });
    const rng = new Rng(5);
    const obs: number[][] = [];
    for (const seed of [0, 1, 2]) {
      let [o] = env.reset({ seed });
      for (let t = 0; t < 8; t++) {
        obs.push(Array.from(o as Uint8Array));
        [o] = env.step(rng.int(3));
      }
    }
    const n = obs.length;
    const acts = Array.from({ length: n }, () => rng.int(3));
    const read = (fast: boolean) =>
      tf.tidy(() => {
        const codes = model.encode(model.preprocess(obs.flat(), n));
        const features = model.actionFeatures(acts, n);
        const h = model.heads(codes, features);
        const out = fast
          ? model.expectedStepNoGrad(codes, features)!
          : { next: model.weightsToCodes(tf.softmax(h.logits)), reward: h.reward, terminated: h.terminated };
        return [out.next, out.reward, out.terminated].map((t) => Array.from(t.dataSync()));
      });
    // The same numbers: each distinct row's outputs are what the full batch computes for it.
    expect(read(true)).toEqual(read(false));
  };

  it("expectedStepNoGrad gives the heads' expected step, each distinct neighbourhood and action once", () => {
    const model = new WorldModel(cells(), shape(), 3);
    noGradAsHeads(model);
    model.dispose();
    const large = new WorldModel(cells({ levels: [8, 8, 8] }), shape(), 3);
    noGradAsHeads(large);
    large.dispose();
    const held = new WorldModel(cells({ encoder: { type: "cells", presence: true } }), shape(), 3);
    noGradAsHeads(held);
    held.dispose();
    const wide = new WorldModel(cells({ encoder: { type: "cells", radius: 2 } }), shape(), 3);
    noGradAsHeads(wide);
    wide.dispose();
    const local = new WorldModel(
      cells({ encoder: { type: "cells", presence: true, presenceInEvents: false } }),
      shape(),
      3,
    );
    noGradAsHeads(local);
    local.dispose();
  });

  it("encoder.presence and encoder.radius are refused for another encoder type, with one line", () => {
    expect(() => new WorldModel(cells({ encoder: { type: "mlp", presence: true }, latents: 8 }), shape(), 0)).toThrow(
      /encoder.presence is for encoder type 'cells', not 'mlp'/,
    );
    expect(() => new WorldModel(cells({ encoder: { type: "mlp", radius: 2 }, latents: 8 }), shape(), 0)).toThrow(
      /encoder.radius is for encoder type 'cells', not 'mlp'/,
    );
    expect(() => new WorldModel(cells({ encoder: { type: "cells", presenceInEvents: false } }), shape(), 0)).toThrow(
      /^WorldModel: encoder.presenceInEvents false keeps presence flags out of the events heads: it needs encoder.presence$/,
    );
  });

  it("encoder.eventHeads 'classified': a shut gate with v = 0 still learns from a paid step, the product's does not", () => {
    // Thousands of unpaid updates leave each cell's gate shut and its value 0 (DoorKey-8x8 screen, step
    // 8000: g -7.2, v 0.000 on every cell). The product's gradient on g is then v sigmoid'(g) = 0.
    const data = collect({ envId: ENV, envOptions: { size: SIZE }, steps: 2000, numEnvs: 4, seed: 0 });
    const paid = data.sample(32, 2, new Rng(5), 1);
    expect(paid.rewards.some((r) => r > 0)).toBe(true);
    const gradients = (gate: "product" | "classified") => {
      const model = new WorldModel(cells({ encoder: { type: "cells", eventHeads: gate } }), shape(), 0);
      model.fitNormalization(data.observations());
      const [w, b] = [model.events!.weights.at(-1)!, model.events!.biases.at(-1)!];
      w.assign(tf.mul(w, tf.tensor1d([1, 0, 1]))); // v = 0 everywhere
      b.assign(tf.tensor1d([-8, 0, 0]));
      const noise = new Noise(3);
      const { grads } = tapeWorldModelGrads(model, paid, noise);
      const [gGate, gValue] = Array.from(grads[model.variables.indexOf(b)]!.dataSync());
      tf.dispose(grads);
      model.dispose();
      return { gate: Math.abs(gGate!), value: Math.abs(gValue!) };
    };
    const product = gradients("product");
    const classified = gradients("classified");
    expect(product.gate).toBe(0);
    expect(classified.gate).toBeGreaterThan(0.01);
    // Both pass the same squared error to v, through a gate sigmoid(-8) nearly shut.
    expect(classified.value).toBeCloseTo(product.value, 6);
    expect(product.value).toBeGreaterThan(0);
  });

  it("encoder.eventHeads changes no prediction, only how the gate learns", () => {
    const data = collect({ envId: ENV, envOptions: { size: SIZE }, steps: 300, numEnvs: 2, seed: 1 });
    const s = data.sample(16, 1, new Rng(6), 0.5);
    const read = (gate: "product" | "classified") => {
      const model = new WorldModel(cells({ encoder: { type: "cells", eventHeads: gate } }), shape(), 0);
      model.fitNormalization(data.observations());
      const out = tf.tidy(() => {
        const codes = model.encode(model.preprocess(s.obs, 32));
        const [, L, d] = codes.shape;
        const now = tf.reshape(tf.slice(tf.reshape(codes, [16, 2, L, d]), [0, 0, 0, 0], [16, 1, L, d]), [16, L, d]);
        const h = model.heads(now, model.actionFeatures(s.actions, 16));
        return {
          reward: Array.from(h.reward.dataSync()),
          ending: Array.from(h.terminated.dataSync()),
          rewarded: h.rewarded && Array.from(tf.sigmoid(h.rewarded).dataSync()),
        };
      });
      model.dispose();
      return out;
    };
    const [product, classified] = [read("product"), read("classified")];
    expect(classified.reward).toEqual(product.reward);
    expect(classified.ending).toEqual(product.ending);
    expect(product.rewarded).toBeUndefined();
    expect(classified.rewarded).toHaveLength(16);
    expect(
      () => new WorldModel(cells({ encoder: { type: "mlp", eventHeads: "classified" }, latents: 8 }), shape(), 0),
    ).toThrow(/encoder.eventHeads is for encoder type 'cells', not 'mlp'/);
  });
});
