import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { initBackend } from "../backend/init.ts";
import { collect } from "../data/collector.ts";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { makeBare } from "../envs/index.ts";
import { parseWorldModelConfig } from "./config.ts";
import { WorldModel, envShapeOf } from "./model.ts";
import { rolloutCodes, visitationGap } from "./visitation.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const envOptions = { size: 5, slip: 0.3 };
const newModel = () =>
  new WorldModel(
    parseWorldModelConfig({
      latents: 3,
      levels: [3],
      encoder: { hidden: [16] },
      dynamicsHidden: [16],
      headHidden: [8],
    }),
    envShapeOf(makeBare("GridEmpty-v0", envOptions)),
    0,
  );
const buffer = collect({ envId: "GridEmpty-v0", envOptions, steps: 600, numEnvs: 2, seed: 1 });

/** n copies of the buffer's first sampled sequence of length h (one start, one action sequence). */
function copies(n: number, h: number): SequenceBatch {
  const one = buffer.sample(1, h, new Rng(3));
  const tile = <T extends Float32Array | Uint8Array>(a: T, make: (k: number) => T) => {
    const out = make(a.length * n);
    for (let i = 0; i < n; i++) out.set(a, i * a.length);
    return out;
  };
  const obs = new (one.obs.constructor as new (k: number) => typeof one.obs)(one.obs.length * n);
  for (let i = 0; i < n; i++) obs.set(one.obs, i * one.obs.length);
  return {
    batch: n,
    horizon: h,
    obs,
    actions: tile(one.actions, (k) => new Float32Array(k)),
    rewards: tile(one.rewards, (k) => new Float32Array(k)),
    terminated: tile(one.terminated, (k) => new Uint8Array(k)),
    mask: tile(new Float32Array(h).fill(1), (k) => new Float32Array(k)),
  };
}

describe("open-loop rollouts of the model: sampled and argmax codes", () => {
  it("sampled codes follow the model's predicted distribution; argmax codes are its mode; seeded", () => {
    const model = newModel();
    model.fitNormalization(buffer.observations());
    const batch = copies(3000, 2);
    const probs = tf.tidy(() => {
      const start = copies(1, 2);
      const code = model.encode(model.preprocess(start.obs.subarray(0, model.obsSize), 1));
      const action = model.actionFeatures(new Float32Array([start.actions[0]!]), 1);
      return tf.softmax(model.heads(code, action).logits).arraySync() as number[][][];
    })[0]!;
    const before = tf.memory().numTensors;
    const sampled = rolloutCodes(model, batch, "sample", 5);
    expect(tf.memory().numTensors).toBe(before);
    for (let l = 0; l < 3; l++)
      for (let c = 0; c < 3; c++) {
        const share = sampled[0]!.filter((x) => x[l] === c).length / 3000;
        const p = probs[l]![c]!;
        expect(Math.abs(share - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 3000) + 1e-9);
      }
    const mode = rolloutCodes(model, batch, "mode");
    const argmax = probs.map((ps) => ps.indexOf(Math.max(...ps)));
    expect(mode[0]!.every((x) => x.join() === argmax.join())).toBe(true);
    expect(rolloutCodes(model, batch, "sample", 5)).toEqual(sampled);
    expect(rolloutCodes(model, batch, "sample", 6)).not.toEqual(sampled);
    model.dispose();
  });

  it("visitation TV: one real branch gives floor 0, and the sampled TV is the share of samples off it", () => {
    const model = newModel();
    model.fitNormalization(buffer.observations());
    const batch = copies(400, 2);
    const gap = visitationGap(model, batch, 7);
    const real = tf.tidy(() => {
      const o = copies(1, 1).obs;
      return model
        .indices(model.encode(model.preprocess(o.subarray(model.obsSize, 2 * model.obsSize), 1)))
        .arraySync() as number[][];
    })[0]!;
    const sampled = rolloutCodes(model, batch, "sample", 7)[0]!.slice(0, 200);
    expect(gap.floor).toEqual([0, 0]);
    expect(gap.sampled[0]).toBeCloseTo(sampled.filter((x) => x.join() !== real.join()).length / 200, 12);
    expect([0, 1]).toContain(gap.mode[0]);
    expect(gap.live).toEqual([400, 400]);
    model.dispose();
  });

  it("counts only live starts at each step; on real data the sampled TV is between 0 and 1", () => {
    const model = newModel();
    model.fitNormalization(buffer.observations());
    const batch = copies(10, 3);
    for (const i of [0, 1, 7]) batch.mask[i * 3 + 2] = 0; // three starts end after two steps
    batch.mask[5 * 3 + 1] = 0; // one after the first (its later steps stay out too)
    expect(visitationGap(model, batch).live).toEqual([10, 9, 6]);
    const gap = visitationGap(model, buffer.sample(512, 3, new Rng(4)), 1);
    for (const tv of [...gap.sampled, ...gap.mode, ...gap.floor]) expect(tv >= 0 && tv <= 1).toBe(true);
    model.dispose();
  });
});
