import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBare } from "../envs/index.ts";
import { initBackend } from "../backend/init.ts";
import { loadWeightsInto, loadWorldModel, saveWorldModel } from "./checkpoint.ts";
import { parseWorldModelConfig } from "./config.ts";
import { WorldModel, envShapeOf } from "./model.ts";

const dir = mkdtempSync(join(tmpdir(), "ckpt-"));
beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cfg = parseWorldModelConfig({ latents: 4, encoder: { hidden: [16] }, dynamicsHidden: [16], headHidden: [8] });

function predictions(model: WorldModel): number[] {
  return tf.tidy(() => {
    const obs = model.preprocess(
      Uint8Array.from({ length: 3 * 50 }, (_, i) => (i * 7) % 2),
      3,
    );
    const heads = model.heads(model.encode(obs), model.actionFeatures([0, 1, 2], 3));
    return [...heads.logits.dataSync(), ...heads.reward.dataSync(), ...heads.terminated.dataSync()];
  });
}

describe("world-model checkpoints", () => {
  it("save -> load gives identical predictions (weights and normalisation)", async () => {
    const model = new WorldModel(cfg, envShapeOf(makeBare("Catch-v0")), 3);
    model.fitNormalization(Uint8Array.from({ length: 10 * 50 }, (_, i) => (i * 13) % 2));
    await saveWorldModel(model, join(dir, "a"));
    const back = loadWorldModel(join(dir, "a"));
    expect(predictions(back)).toEqual(predictions(model));
    const json = JSON.parse(readFileSync(join(dir, "a", "model.json"), "utf8"));
    expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toContain("dynamics/w0");
    expect(json.versions.tfjs).toBe(tf.version.tfjs);
  });
  it("saving again replaces the weights file and keeps one", async () => {
    const model = new WorldModel(cfg, envShapeOf(makeBare("Catch-v0")), 4);
    await saveWorldModel(model, join(dir, "b"));
    model.dynamics.weights[0]!.assign(tf.zerosLike(model.dynamics.weights[0]!));
    await saveWorldModel(model, join(dir, "b"));
    expect(readdirSync(join(dir, "b")).filter((f) => f.endsWith(".bin"))).toHaveLength(1);
    expect(predictions(loadWorldModel(join(dir, "b")))).toEqual(predictions(model));
  });
  it("loading into a model of another shape or config gives a clear error", async () => {
    const model = new WorldModel(cfg, envShapeOf(makeBare("Catch-v0")), 5);
    await saveWorldModel(model, join(dir, "c"));
    const wider = new WorldModel(
      parseWorldModelConfig({ ...cfg, dynamicsHidden: [32] }),
      envShapeOf(makeBare("Catch-v0")),
      5,
    );
    expect(() => loadWeightsInto(wider, join(dir, "c"))).toThrow(
      /weight 'dynamics\/w0' has shape \[11, 16\] in .*, the model expects \[11, 32\]/,
    );
    const other = new WorldModel(cfg, envShapeOf(makeBare("Breakout-v0")), 5);
    expect(() => loadWeightsInto(other, join(dir, "c"))).toThrow(/was trained on another env shape/);
    writeFileSync(join(dir, "c", "model.json"), JSON.stringify({ format: "something-else" }));
    expect(() => loadWorldModel(join(dir, "c"))).toThrow(/is not a world-model checkpoint/);
    expect(() => loadWorldModel(join(dir, "missing"))).toThrow(/no model.json in/);
  });
});
