import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { Rng } from "../common/rng.ts";
import { collect } from "../data/collector.ts";
import { makeBare } from "../envs/index.ts";
import { parseWorldModelConfig } from "./config.ts";
import { loadWeightsInto, saveWorldModel } from "./checkpoint.ts";
import { FrozenCodes } from "./frozenCodes.ts";
import { WorldModel, envShapeOf } from "./model.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const catchBuffer = () => collect({ envId: "Catch-v0", steps: 200, numEnvs: 2, seed: 1 });

/** A Catch model (statistics fitted) whose encoder counts the observations it encodes, its buffer and a cache. */
function setup() {
  const model = new WorldModel(
    parseWorldModelConfig({ latents: 4, encoder: { hidden: [32] } }),
    envShapeOf(makeBare("Catch-v0")),
    3,
  );
  const encode = model.encode.bind(model);
  const seen = { rows: 0 };
  model.encode = (x: tf.Tensor) => {
    seen.rows += x.shape[0]!;
    return encode(x);
  };
  const buffer = catchBuffer();
  model.fitNormalization(buffer.observations());
  return { model, seen, buffer, cache: new FrozenCodes(model) };
}

const direct = (model: WorldModel, obs: ArrayLike<number>, n: number) =>
  Array.from(tf.tidy(() => model.encode(model.preprocess(obs, n)).dataSync()));

describe("FrozenCodes", () => {
  it("gives each observation's code, encoding every stored observation once", () => {
    const { model, seen, buffer, cache } = setup();
    const a = buffer.sample(32, 3, new Rng(2));
    const slots = new Set(a.source!.slots);
    const n = a.batch * (a.horizon + 1);
    expect(Array.from(cache.of(a)!)).toEqual(direct(model, a.obs, n));
    expect(seen.rows).toBe(slots.size + n); // once per distinct slot, then the direct check's n
    expect(Array.from(cache.of(a)!)).toEqual(direct(model, a.obs, n));
    expect(seen.rows).toBe(slots.size + 2 * n); // nothing new for the cache
    const b = buffer.sample(32, 3, new Rng(5));
    const fresh = new Set([...b.source!.slots].filter((s) => !slots.has(s)));
    const before = seen.rows;
    cache.of(b);
    expect(seen.rows - before).toBe(fresh.size);
    model.dispose();
  });

  it("starts again for new statistics or weights, and for another buffer; a batch without its source has none", async () => {
    const { model, seen, buffer, cache } = setup();
    const a = buffer.sample(8, 2, new Rng(2));
    const n = a.batch * (a.horizon + 1);
    cache.of(a);
    const distinct = new Set(a.source!.slots).size;
    model.fitNormalization(buffer.observations().subarray(0, 40 * model.obsSize));
    expect(Array.from(cache.of(a)!)).toEqual(direct(model, a.obs, n));
    expect(seen.rows).toBe(2 * distinct + n);
    const b = catchBuffer().sample(8, 2, new Rng(2)); // the same slots of an equal buffer: still encoded anew
    cache.of(b);
    expect(seen.rows).toBe(3 * distinct + n);
    const dir = mkdtempSync(join(tmpdir(), "gw-codes-"));
    try {
      await saveWorldModel(model, dir);
      loadWeightsInto(model, dir); // the same weights, loaded: the cache cannot know, so it starts again
      cache.of(b);
      expect(seen.rows).toBe(4 * distinct + n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(cache.of({ ...a, source: undefined })).toBeUndefined();
    model.dispose();
  });
});
