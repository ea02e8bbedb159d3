import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { make } from "../envs/index.ts";
import { initBackend } from "../backend/init.ts";
import { ImaginationAgent } from "./agent.ts";
import { parseAgentConfig } from "./config.ts";
import { scoreSequences, type LatentModel } from "./imagination.ts";
import { EpisodeCodes, seenProbability } from "./novelty.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("episodic novelty", () => {
  it("gives the probability that the next whole code is one already met", () => {
    // Two latents of 3 codes: p_0 = (0.5, 0.25, 0.25), p_1 = (0.8, 0.2, 0).
    const logits = tf.log(tf.tensor3d([0.5, 0.25, 0.25, 0.8, 0.2, 1e-9], [1, 2, 3]));
    const met = new EpisodeCodes(3);
    met.add([0, 0]);
    met.add([1, 1]);
    met.add([0, 0]); // met twice, counted once
    expect(met.size).toBe(2);
    const visited = met.tensor();
    expect(Array.from(visited.dataSync())).toEqual([0, 3, 1, 4]); // l * |C| + c
    expect(seenProbability(logits, visited).dataSync()[0]).toBeCloseTo(0.5 * 0.8 + 0.25 * 0.2, 5);
    const none = new EpisodeCodes(3).tensor(); // nothing met yet
    expect(Array.from(seenProbability(logits, none).dataSync())).toEqual([0]);
    tf.dispose([logits, visited, none]);
  });

  // One latent of 3 codes; action a moves to code a; action 2 ends the episode; no reward, no value.
  const line: LatentModel = {
    heads: (codes, action) =>
      tf.tidy(() => {
        const n = codes.shape[0]!;
        const a = tf.cast(tf.reshape(action, [n]), "int32");
        return {
          logits: tf.reshape(tf.mul(30, tf.oneHot(a, 3)), [n, 1, 3]) as tf.Tensor3D,
          reward: tf.zeros([n]) as tf.Tensor1D,
          terminated: tf.sub(tf.mul(60, tf.cast(tf.equal(a, 2), "float32")), 30) as tf.Tensor1D,
        };
      }),
    weightsToCodes: (w) => tf.clone(w),
    actionFeatures: (a, n) => tf.tensor2d(Float32Array.from(a), [n, 1]),
  };

  it("adds the bonus for imagined steps to codes not met, discounted, and none for an ending", () => {
    const met = new EpisodeCodes(3);
    met.add([0]);
    const visited = met.tensor();
    const z0 = tf.tensor3d([1, 0, 0], [1, 1, 3]);
    const opts = { mode: "expected" as const, gamma: 0.9, novelty: { weight: 0.1, visited } };
    const one = scoreSequences(line, z0, new Float32Array([0, 1, 2]), 3, 1, opts);
    expect(one[0]).toBeCloseTo(0, 5); // back to the code met
    expect(one[1]).toBeCloseTo(0.1, 5); // a new code
    expect(one[2]).toBeCloseTo(0, 5); // a new code, but the step ends the episode
    const two = scoreSequences(line, z0, new Float32Array([1, 1, 1, 0]), 2, 2, opts);
    expect(two[0]).toBeCloseTo(0.1 + 0.9 * 0.1, 5);
    expect(two[1]).toBeCloseTo(0.1, 5);
    const without = scoreSequences(line, z0, new Float32Array([0, 1, 2]), 3, 1, { mode: "expected", gamma: 0.9 });
    expect(Array.from(without)).toEqual([0, 0, 0]);
    tf.dispose([visited, z0]);
  });

  it("the agent keeps its episode's codes, forgets them on reset, and leaks no tensors", () => {
    const env = make("GridEmpty-v0", { size: 5 });
    const agent = new ImaginationAgent(parseAgentConfig({ env: "GridEmpty-v0", novelty: 0.05 }), env, 0);
    const met = () => (agent as unknown as { episode: { codes: EpisodeCodes } }).episode.codes;
    let [obs] = env.reset({ seed: 0 });
    agent.reset();
    const before = tf.memory().numTensors;
    for (let t = 0; t < 5; t++) [obs] = env.step(agent.act(obs)[0]!);
    expect(tf.memory().numTensors).toBe(before);
    expect(met().size).toBeGreaterThan(0);
    agent.reset();
    expect(met().size).toBe(0);
    agent.dispose();
  });
});
