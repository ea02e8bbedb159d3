import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { make, type Box, type Env, type TypedArray } from "../envs/index.ts";
import type { ImaginationAgent } from "./agent.ts";
import { makeAgentEnv } from "./agentEnv.ts";
import { trainAgent } from "./train.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const shapeOf = (env: Env<TypedArray, unknown>) => (env.observationSpace as Box).shape;

/** A run just long enough to train, act and evaluate once (one evaluation at step 120). */
const TINY_RUN = {
  steps: 120,
  seedSteps: 60,
  pretrainUpdates: 2,
  modelPretrainUpdates: 2,
  evalEvery: 120,
  evalEpisodes: 1,
  worldModel: { batch: 8 },
  value: { batch: 8 },
};

describe("frameStack", () => {
  it("1 (or unset) is the env's own observation; k stacks the last k frames, oldest first", () => {
    const plain = make("PointMass-v0") as Env<TypedArray, unknown>;
    const one = makeAgentEnv({ env: "PointMass-v0", frameStack: 1 });
    expect(shapeOf(one)).toEqual(shapeOf(plain));
    const two = makeAgentEnv({ env: "PointMass-v0", frameStack: 2 });
    expect(shapeOf(two)).toEqual([2, 32, 32, 2]);
    const [first] = two.reset({ seed: 3 }) as [TypedArray, unknown];
    const [frame0] = plain.reset({ seed: 3 }) as [TypedArray, unknown];
    const size = frame0.length;
    expect(Array.from(first.subarray(size))).toEqual(Array.from(frame0));
    const push = [1, -1];
    const [next] = two.step(push) as unknown as [TypedArray];
    const [frame1] = plain.step(push) as unknown as [TypedArray];
    expect(Array.from(next.subarray(0, size))).toEqual(Array.from(frame0));
    expect(Array.from(next.subarray(size))).toEqual(Array.from(frame1));
    expect(Array.from(frame1)).not.toEqual(Array.from(frame0));
  });

  it("the agent trains and is evaluated on stacked frames (its world model sees both)", async () => {
    const { agent, result } = await trainAgent({ ...TINY_RUN, env: "Catch-v0", frameStack: 2 });
    const model = (agent as ImaginationAgent).model;
    expect(model.shape.obsShape).toEqual([2, ...shapeOf(make("Catch-v0"))]);
    expect(result.evals.map((e) => e.step)).toEqual([120]);
    agent.dispose();
  }, 60_000);
});

describe("actionGrid", () => {
  it("makes a Box env's actions Discrete for DQN, which refuses the Box env without it", async () => {
    const short = {
      env: "PointMass-v0",
      algorithm: "dqn",
      steps: 120,
      seedSteps: 60,
      pretrainUpdates: 2,
      evalEvery: 120,
      evalEpisodes: 1,
      worldModel: { batch: 8 },
    };
    await expect(trainAgent(short)).rejects.toThrow(/DQN needs a Discrete action space; .*Box actions/);
    const { agent, result } = await trainAgent({ ...short, actionGrid: 3 });
    expect(agent.spec).toEqual({ kind: "discrete", n: 9 });
    expect(result.evals.map((e) => e.step)).toEqual([120]);
    agent.dispose();
  }, 60_000);
});

describe("egocentric", () => {
  it("redraws a grid around the agent for the agent, its evaluations and DQN, before any stacking", async () => {
    expect(shapeOf(makeAgentEnv({ env: "GridEmpty-v0", envOptions: { size: 5 }, egocentric: true }))).toEqual([
      9, 9, 3,
    ]);
    const stacked = makeAgentEnv({ env: "GridEmpty-v0", envOptions: { size: 5 }, egocentric: true, frameStack: 2 });
    expect(shapeOf(stacked)).toEqual([2, 9, 9, 3]);
    for (const algorithm of ["planner", "dqn"]) {
      const { agent, result } = await trainAgent({
        ...TINY_RUN,
        env: "GridEmpty-v0",
        envOptions: { size: 5 },
        egocentric: true,
        algorithm,
      });
      expect(result.evals.map((e) => e.step)).toEqual([120]);
      if (algorithm === "planner") expect((agent as ImaginationAgent).model.shape.obsShape).toEqual([9, 9, 3]);
      agent.dispose();
    }
  }, 60_000);
});
