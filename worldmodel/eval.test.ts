// Whole-code accuracy and the codes' separation of states, on small models with known answers.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { initBackend } from "../backend/init.ts";
import { collect } from "../data/collector.ts";
import { makeBare } from "../envs/index.ts";
import { parseWorldModelConfig } from "./config.ts";
import { codeInjectivity, evaluate } from "./eval.ts";
import { WorldModel, envShapeOf } from "./model.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const data = collect({ envId: "GridEmpty-v0", steps: 600, numEnvs: 2, seed: 3 });
const model = (latents: number) => {
  const m = new WorldModel(
    parseWorldModelConfig({ latents, encoder: { hidden: [32] }, dynamicsHidden: [32], headHidden: [8] }),
    envShapeOf(makeBare("GridEmpty-v0")),
    1,
  );
  m.fitNormalization(data.observations());
  return m;
};

describe("codeInjectivity", () => {
  const sample = data.sample(256, 1, new Rng(0));
  const size = 8 * 8 * 3;
  const distinct = new Set(
    Array.from({ length: 256 }, (_, i) => sample.obs.subarray(2 * i * size, (2 * i + 1) * size).join(",")),
  ).size;

  it("counts distinct observations and codes; injective codes of a deterministic env have ceiling 1", () => {
    const m = model(8);
    const c = codeInjectivity(m, sample);
    expect(c.observations).toBe(distinct);
    expect(c.codes).toBeLessThanOrEqual(c.observations);
    if (c.codes === c.observations) expect(c.ceiling).toBe(1);
    else expect(c.ceiling).toBeLessThanOrEqual(1);
    // Counted by hand from the codes of both observations of every live transition.
    const codes = (o: number) =>
      tf
        .tidy(() => {
          const obs = Float32Array.from(
            { length: 256 * size },
            (_, k) => sample.obs[(2 * Math.floor(k / size) + o) * size + (k % size)]!,
          );
          return m.indices(m.encode(m.preprocess(obs, 256)));
        })
        .arraySync() as number[][];
    const [a, b] = [codes(0), codes(1)];
    let same = 0;
    let live = 0;
    for (let i = 0; i < 256; i++) {
      if (!sample.mask[i]) continue;
      live += 8;
      for (let l = 0; l < 8; l++) same += a[i]![l] === b[i]![l] ? 1 : 0;
    }
    expect(c.unchanged).toBeCloseTo(same / live, 10);
    expect(c.unchanged).toBeLessThan(1); // some of GridEmpty's moves change a latent
    m.dispose();
  });

  it("a collapsed encoder (zero weights) merges every state into one code", () => {
    const m = model(8);
    for (const v of m.encoder.variables) v.assign(v.mul(0));
    const c = codeInjectivity(m, sample);
    expect(c.codes).toBe(1);
    expect(c.observations).toBe(distinct);
    expect(c.ceiling).toBe(1); // one code leads to one code: trivially predictable, which is why codes are reported
    expect(c.unchanged).toBe(1); // and predicting "nothing changes" is always right
    m.dispose();
  });
});

describe("whole-code accuracy", () => {
  it("is at most the per-latent accuracy, and equals it with one latent", () => {
    const sample = data.sample(128, 3, new Rng(1));
    const eight = model(8);
    const m8 = evaluate(eight, sample);
    m8.wholeAccuracy.forEach((w, k) => expect(w).toBeLessThanOrEqual(m8.accuracy[k]! + 1e-6));
    const one = model(1);
    const m1 = evaluate(one, sample);
    m1.wholeAccuracy.forEach((w, k) => expect(w).toBeCloseTo(m1.accuracy[k]!, 6));
    eight.dispose();
    one.dispose();
  });
});
