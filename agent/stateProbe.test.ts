import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { Rng } from "../common/rng.ts";
import { collect } from "../data/collector.ts";
import { ImaginationAgent } from "./agent.ts";
import { makeAgentEnv } from "./agentEnv.ts";
import { parseAgentConfig } from "./config.ts";
import { evaluationSeeds } from "./evaluate.ts";
import { optimalActions, optimalValues, probeAgentStates, reachableStates } from "./stateProbe.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const EMPTY5 = { env: "GridEmpty-v0", envOptions: { size: 5 } };

describe("reachableStates", () => {
  it("finds GridEmpty-5x5's 32 positions and the 5-step way to its goal", () => {
    const r = reachableStates(EMPTY5, evaluationSeeds(3));
    // 3x3 floor without the goal cell, 4 directions; the fixed start makes the 3 resets one.
    expect(r.obs.length).toBe(32);
    expect(r.starts).toBe(1);
    // Start (1, 1) facing east, goal (3, 3): forward, forward, right, forward, forward.
    expect(r.toGoal[0]).toBe(5);
    expect(optimalActions(r, 0)).toEqual([2]);
    // The goal is entered from (3, 2) facing south and from (2, 3) facing east, and pays.
    const endings = r.next.flat().filter((o) => typeof o !== "number");
    expect(endings).toHaveLength(2);
    expect(endings.every((e) => e.reward > 0)).toBe(true);
    expect(r.toGoal.every(Number.isFinite)).toBe(true);
    // The best discounted return: the goal's reward (paid on the 5th step) 4 steps after the start.
    const v = optimalValues(r, 0.9);
    expect(endings[0]!.reward).toBeCloseTo(1 - 0.9 * (5 / 100), 10);
    expect(v[0]).toBeCloseTo(0.9 ** 4 * endings[0]!.reward, 10);
    r.toGoal.forEach((d, s) => expect(v[s]!).toBeLessThanOrEqual(0.9 ** (d - 1) + 1e-12));
  });

  it("tells LavaGap's lava (an ending without reward) from its goal, layout by layout", () => {
    const r = reachableStates({ env: "GridLavaGap-v0" }, evaluationSeeds(10));
    const endings = r.next.flat().filter((o) => typeof o !== "number");
    expect(endings.some((e) => e.reward > 0)).toBe(true);
    expect(endings.some((e) => e.reward === 0)).toBe(true);
    expect(r.starts).toBeGreaterThan(1);
    expect(reachableStates({ env: "GridLavaGap-v0" }, [7, 7]).starts).toBe(1);
    // Every state of these layouts can reach the goal through the gap.
    expect(r.toGoal.every(Number.isFinite)).toBe(true);
  });

  it("refuses an env with more states than allowed, Box actions and stacked frames", () => {
    expect(() => reachableStates(EMPTY5, [0], 10)).toThrow(/more than 10 states/);
    expect(() => reachableStates({ env: "PointMass-v0" }, [0])).toThrow(/Discrete/);
    expect(() => reachableStates({ ...EMPTY5, frameStack: 2 }, [0])).toThrow(/frameStack 2/);
  });
});

describe("probeAgentStates", () => {
  it("counts every step once, agrees with a direct read of the model, and leaves no tensors", () => {
    const config = parseAgentConfig({
      ...EMPTY5,
      worldModel: { latents: 4, dynamicsHidden: [32], headHidden: [16], encoder: { hidden: [32] } },
      planner: { samples: 8, elites: 2, iterations: 1 },
    });
    const agent = new ImaginationAgent(config, makeAgentEnv(config), 3);
    // A model trained a little on random walks, so that its predictions depend on the action.
    const buffer = collect({ envId: "GridEmpty-v0", envOptions: { size: 5 }, steps: 400, numEnvs: 2, seed: 1 });
    agent.model.fitNormalization(buffer.observations());
    const rng = new Rng(4);
    for (let i = 0; i < 150; i++) agent.updateModel(buffer, rng);
    const r = reachableStates(EMPTY5, evaluationSeeds(1));
    const before = tf.memory().numTensors;
    const reported: number[] = [];
    const p = probeAgentStates(agent, r, (done, total) => reported.push(total === 32 ? done : -1));
    expect(reported).toEqual(Array.from({ length: 32 }, (_, i) => i + 1)); // every state once, in order
    expect(tf.memory().numTensors).toBe(before);
    expect(agent.explore).toBe(false);
    expect(p.states).toBe(32);
    expect(p.live + p.rewardedEndings + p.unrewardedEndings).toBe(32 * 3);
    expect(p.rewardedEndings).toBe(2);
    expect(p.unrewardedEndings).toBe(0);
    // The goal corner is entered facing right (from the left) or facing down (from above), once each.
    const byHeading = p.rewardedByHeading!;
    expect(Object.keys(byHeading)).toEqual(["right", "down"]);
    expect(byHeading.right!.endings + byHeading.down!.endings).toBe(2);
    expect((byHeading.right!.called + byHeading.down!.called) / 2).toBeCloseTo(p.rewardedCalled, 10);
    expect((byHeading.right!.predicted + byHeading.down!.predicted) / 2).toBeCloseTo(p.rewardedPredicted, 6);
    expect(r.headings).toHaveLength(32);
    expect(Number.isNaN(p.unrewardedCalled)).toBe(true);
    expect(p.solvable).toBe(32);
    for (const x of [p.wholeCode, p.liveCalledEnding, p.rewardedCalled, p.greedyOptimal, p.planOptimal]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    // The whole-code share, read in one batch straight from the model.
    const live = r.next.flatMap((o, s) => o.flatMap((to, a) => (typeof to === "number" ? [[s, a, to]] : [])));
    const right = tf.tidy(() => {
      const codes = (i: number[]) => tf.concat(i.map((s) => agent.codesOf(r.obs[s]!)));
      const logits = agent.model.heads(
        codes(live.map((t) => t[0]!)),
        agent.model.actionFeatures(
          live.map((t) => t[1]!),
          live.length,
        ),
      ).logits;
      const truth = agent.model.indices(codes(live.map((t) => t[2]!)));
      return tf.sum(tf.cast(tf.all(tf.equal(tf.argMax(logits, 2), truth), 1), "int32")).dataSync()[0]!;
    });
    expect(p.live).toBe(live.length);
    // The reward predicted on the steps that go on: mean and percentiles of a direct read.
    const liveRewards = tf.tidy(() =>
      Array.from(
        agent.model
          .heads(
            tf.concat(live.map((t) => agent.codesOf(r.obs[t[0]!]!))),
            agent.model.actionFeatures(
              live.map((t) => t[1]!),
              live.length,
            ),
          )
          .reward.dataSync(),
      ).sort((x, y) => x - y),
    );
    expect(p.liveReward.mean).toBeCloseTo(liveRewards.reduce((x, y) => x + y, 0) / live.length, 5);
    expect(p.liveReward.p90).toBeCloseTo(liveRewards[Math.floor(0.9 * (live.length - 1))]!, 5);
    expect(p.liveReward.p99).toBeCloseTo(liveRewards[Math.floor(0.99 * (live.length - 1))]!, 5);
    expect(p.liveReward.p99).toBeGreaterThanOrEqual(p.liveReward.p90);
    expect(p.wholeCode).toBeCloseTo(right / live.length, 10);
    expect(p.wholeCode).toBeGreaterThan(0);
    // The reward predicted and paid at the goal steps, and the value, against direct reads.
    const goals = r.next.flatMap((o, s) => o.flatMap((to, a) => (typeof to === "number" ? [] : [[s, a, to.reward]])));
    const direct = tf.tidy(() => {
      const z = tf.concat(goals.map((g) => agent.codesOf(r.obs[g[0]!]!)));
      const reward = agent.model.heads(
        z,
        agent.model.actionFeatures(
          goals.map((g) => g[1]!),
          goals.length,
        ),
      ).reward;
      const all = tf.concat(r.obs.map((o) => agent.codesOf(o)));
      return { reward: tf.mean(reward).dataSync()[0]!, value: tf.mean(agent.value.value(all)).dataSync()[0]! };
    });
    expect(p.rewardedPredicted).toBeCloseTo(direct.reward, 5);
    expect(p.rewardedPaid).toBeCloseTo(goals.reduce((a, g) => a + g[2]!, 0) / goals.length, 10);
    expect(p.value).toBeCloseTo(direct.value, 5);
    const best = optimalValues(r, config.value.gamma);
    expect(p.optimalValue).toBeCloseTo(best.reduce((a, b) => a + b, 0) / best.length, 10);
    agent.dispose();
  });
});
