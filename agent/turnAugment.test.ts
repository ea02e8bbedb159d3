// turnAugment: each sequence of a world-model batch turned by one random number of quarter turns,
// refused with one line where an env's observations cannot be turned.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { Rng } from "../common/rng.ts";
import { collect } from "../data/collector.ts";
import { turnGrid } from "../envs/grid/turn.ts";
import { ImaginationAgent } from "./agent.ts";
import { makeAgentEnv } from "./agentEnv.ts";
import { parseAgentConfig } from "./config.ts";
import { turnableSide, turnedSample } from "./turnAugment.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const EMPTY6 = { env: "GridEmpty-v0", envOptions: { size: 6 } };

describe("turnAugment", () => {
  it("names why an env's observations cannot be turned", () => {
    const side = (spec: Record<string, unknown>) => () => turnableSide(makeAgentEnv(spec as never), spec);
    expect(side(EMPTY6)()).toBe(6);
    expect(side({ env: "Catch-v0" })).toThrow(/turnAugment needs a grid env/);
    expect(side({ ...EMPTY6, envOptions: { size: 6, view: "partial" } })).toThrow(/turnAugment needs the full view/);
    expect(side({ ...EMPTY6, frameStack: 2 })).toThrow(/no egocentric, no frameStack/);
    expect(
      () =>
        new ImaginationAgent(
          parseAgentConfig({ env: "Catch-v0", turnAugment: true }),
          makeAgentEnv({ env: "Catch-v0" }),
          0,
        ),
    ).toThrow(/turnAugment/);
  });

  it("turns every observation of a sequence by that sequence's turn, and keeps its actions and rewards", () => {
    const buffer = collect({ envId: "GridEmpty-v0", envOptions: { size: 6 }, steps: 300, numEnvs: 1, seed: 2 });
    const plain = buffer.sample(64, 2, new Rng(5), 0.25);
    const turned = turnedSample(buffer, 6, new Rng(5), 64, 2, 0.25);
    expect(turned.source).toBeUndefined(); // its codes are not the buffer's
    expect(turned.actions).toEqual(plain.actions);
    expect(turned.rewards).toEqual(plain.rewards);
    const cells = 6 * 6 * 3;
    const seen = new Set<number>();
    for (let b = 0; b < 64; b++) {
      const k = [0, 1, 2, 3].find((k) => {
        for (let t = 0; t <= 2; t++) {
          const at = (b * 3 + t) * cells;
          const want = new Array<number>(cells);
          turnGrid(plain.obs, 6, k, want, at, 0);
          if (want.some((v, i) => v !== turned.obs[at + i])) return false;
        }
        return true;
      });
      expect(k).toBeDefined();
      seen.add(k!);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it("trains the agent's world model on turned batches without leaking tensors", () => {
    const config = parseAgentConfig({
      ...EMPTY6,
      turnAugment: true,
      worldModel: { encoder: { type: "cells" }, latents: 36, batch: 8 },
    });
    const agent = new ImaginationAgent(config, makeAgentEnv(config), 1);
    const buffer = collect({ envId: "GridEmpty-v0", envOptions: { size: 6 }, steps: 200, numEnvs: 1, seed: 3 });
    const rng = new Rng(4);
    agent.updateModel(buffer, rng);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) expect(Number.isFinite(agent.updateModel(buffer, rng).worldModel.loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
  });
});
