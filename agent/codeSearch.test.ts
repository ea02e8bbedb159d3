import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { initBackend } from "../backend/init.ts";
import { make, makeBare } from "../envs/index.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { WorldModel, envShapeOf, type Heads } from "../worldmodel/model.ts";
import type { Discrete } from "../envs/core/spaces.ts";
import { type IndexStepper, SearchMemo, searchCodes, type SearchModel } from "./codeSearch.ts";
import { CellActionSet } from "../worldmodel/nn/localStep.ts";
import { corridor } from "./corridor.fixture.ts";
import { ImaginationAgent } from "./agent.ts";
import { parseAgentConfig } from "./config.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const gamma = 0.95;

/** The model with its heads' outputs changed by `change` (inside the heads' tidy). */
const withHeads = (model: SearchModel, change: (h: Heads) => Heads): SearchModel => ({
  ...model,
  heads: (codes, action) => tf.tidy(() => ({ ...change(model.heads(codes, action)) })),
});

describe("searchCodes", () => {
  // A 12-cell corridor from cell 1: left pays 0.2 at once and ends; right pays 1 on entering cell
  // 11, ten steps on (Q = gamma^9 = 0.63), far past what sampled 3-step sequences see.
  it("finds a reward `depth` steps away, each code once, and backs it up to the first action", () => {
    const model = corridor(12);
    const before = tf.memory().numTensors;
    const found = searchCodes(model, model.start, 2, { depth: 10, maxNodes: 100, gamma });
    expect(found.q[0]).toBeCloseTo(0.2, 5);
    expect(found.q[1]).toBeCloseTo(gamma ** 9, 4);
    // Every cell once, although 2^10 action sequences lead there.
    expect(found.nodes).toBe(12);
    expect(found.levels).toBe(10);
    // One step short of the far reward: right is worth only its way back to the near one (right,
    // left, left), so left wins.
    const short = searchCodes(model, model.start, 2, { depth: 9, maxNodes: 100, gamma });
    expect(short.q[1]).toBeCloseTo(gamma ** 2 * 0.2, 5);
    expect(short.q[0]).toBeCloseTo(0.2, 5);
    expect(short.nodes).toBe(11);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("weights each step by the model's probability of the code it follows", () => {
    const sure = corridor(12);
    // The same corridor, but every next code has probability 0.6 (the rest spread over the others).
    const unsure = withHeads(sure, (h) => {
      const p = tf.add(tf.mul(0.6 - 0.4 / 11, tf.exp(h.logits)), 0.4 / 11);
      return { ...h, logits: tf.log(p) as tf.Tensor3D };
    });
    const { q } = searchCodes(unsure, sure.start, 2, { depth: 10, maxNodes: 100, gamma });
    // Nine uncertain steps before the far reward (gamma^9 0.6^9 = 0.006): right is now worth most
    // as the way back to the near one, two uncertain steps (gamma^2 0.6^2 0.2 = 0.065).
    expect(q[1]).toBeCloseTo(gamma ** 2 * 0.6 ** 2 * 0.2, 5);
    expect(q[0]).toBeCloseTo(0.2, 5);
  });

  it("rewardOnEnding: a reward predicted on steps that go on is not collected (around cycles, 1 / (1 - gamma) times)", () => {
    const sure = corridor(12);
    // Every step pays 0.05 more: the ones that go on too.
    const noisy = withHeads(sure, (h) => ({ ...h, reward: tf.add(h.reward, 0.05) as tf.Tensor1D }));
    const opts = { depth: 10, maxNodes: 100, gamma };
    const counted = searchCodes(noisy, sure.start, 2, { ...opts, rewardOnEnding: true }).q;
    expect(counted[0]).toBeCloseTo(0.25, 5);
    expect(counted[1]).toBeCloseTo(gamma ** 9 * 1.05, 4);
    // Without it, going back and forth collects 0.05 a step: right is worth more than the far goal pays.
    const cycling = searchCodes(noisy, sure.start, 2, opts).q;
    expect(cycling[1]).toBeGreaterThan(counted[1]! + 0.2);
  });

  it("stops before a level would expand more than maxNodes codes", () => {
    const model = corridor(12);
    // Levels expand 1, 1, 1 codes (cells 1, 2, 3); a fourth would make 4.
    const capped = searchCodes(model, model.start, 2, { depth: 10, maxNodes: 3, gamma });
    expect(capped.levels).toBe(3);
    expect(capped.nodes).toBe(5);
  });

  it("bootstraps from the value at the frontier, through the merged graph", () => {
    const model = corridor(12);
    const value = (codes: tf.Tensor) => tf.fill([codes.shape[0]!], 0.5) as tf.Tensor1D;
    const { q } = searchCodes(model, model.start, 2, { depth: 2, maxNodes: 100, gamma, value });
    // Two sweeps: V(3) = 0.5 at the frontier, V(2) = gamma 0.5 (either way), Q(1, right) = gamma^2 0.5.
    expect(q[1]).toBeCloseTo(gamma * gamma * 0.5, 5);
    // Left ends the episode: its value is the reward alone.
    expect(q[0]).toBeCloseTo(0.2, 5);
  });
});

/**
 * An index stepper for a corridor of S cells (code = cell; entering 0 pays 0.2, entering S - 1 pays
 * 1, both end) whose model is unsure of one step: right from cell 3 goes, by its most likely code,
 * to a dead end D = S (every action stays there) with probability 1 - p, and by its second guess
 * to cell 4 with p.
 */
const unsureCorridor = (S: number, p: number): IndexStepper => ({
  codes: S + 1,
  size: 0,
  step(ids, actions) {
    const rows = ids.length * actions;
    const out = {
      ids: new Int32Array(rows),
      likely: new Float64Array(rows).fill(1),
      reward: new Float64Array(rows),
      alive: new Float64Array(rows).fill(1),
      second: { cell: new Int32Array(rows), code: new Int32Array(rows), likely: new Float64Array(rows) },
    };
    ids.forEach((c, g) => {
      for (let a = 0; a < actions; a++) {
        const r = g * actions + a;
        const next = c === S ? S : Math.min(S - 1, Math.max(0, c + (a === 0 ? -1 : 1)));
        out.ids[r] = c === 3 && a === 1 ? S : next;
        if (c === 3 && a === 1) [out.likely[r], out.second.code[r], out.second.likely[r]] = [1 - p, 4, p];
        if (c !== S && (next === 0 || next === S - 1)) [out.reward[r], out.alive[r]] = [next === 0 ? 0.2 : 1, 0];
      }
    });
    return out;
  },
});

describe("searchCodes following the model's second guesses (branch)", () => {
  it("reaches a goal behind a step the model is unsure of, weighed by its second guess's probability", () => {
    const model = corridor(8);
    const opts = { depth: 10, maxNodes: 100, gamma };
    const stepper = unsureCorridor(7, 0.4);
    // Most likely codes only: right leads to the dead end, so it is worth only the way back left.
    const mode = searchCodes(model, model.start, 2, { ...opts, stepper });
    expect(mode.q[1]).toBeCloseTo(gamma ** 2 * 0.2, 5);
    // With the second guess (p 0.4 >= 0.1): right, right, right to cell 4 (p 0.4), then on to the goal.
    const both = searchCodes(model, model.start, 2, { ...opts, stepper, branch: 0.1 });
    expect(both.q[1]).toBeCloseTo(gamma ** 4 * 0.4, 5);
    expect(both.q[0]).toBeCloseTo(0.2, 5);
    expect(both.nodes).toBe(mode.nodes + 3); // cells 4, 5 and 6
    // A second guess less likely than `branch` is left out; a memo finds the same.
    expect(searchCodes(model, model.start, 2, { ...opts, stepper, branch: 0.5 }).q).toEqual(mode.q);
    const memo = new SearchMemo();
    expect(searchCodes(model, model.start, 2, { ...opts, stepper, branch: 0.1, memo }).q).toEqual(both.q);
    expect(() => searchCodes(model, model.start, 2, { ...opts, branch: 0.1 })).toThrow(/code indices/);
  });
});

/** FourRooms-7 and a model of it with local heads (encoder "cells"), stepped on code indices. */
const fourRoomsCells = () => {
  const env = makeBare("GridFourRooms-v0", { size: 7 });
  const config = parseWorldModelConfig({
    encoder: { type: "cells" },
    latents: 49,
    levels: [2, 2, 2, 2],
    dynamicsHidden: [32],
    inverseDynamicsWeight: 0,
  });
  return { env, model: new WorldModel(config, envShapeOf(env), 4) };
};

describe("searchCodes on a world model with local heads (encoder 'cells')", () => {
  it("finds the same values stepping code indices (each neighbourhood once) as through its heads", () => {
    const { env, model } = fourRoomsCells();
    const [obs] = env.reset({ seed: 2 });
    const z0 = tf.tidy(() => model.encode(model.preprocess(obs, 1)));
    const value = (codes: tf.Tensor) =>
      tf.tidy(() => tf.mean(tf.reshape(codes, [codes.shape[0]!, -1]), 1)) as tf.Tensor1D;
    const opts = { depth: 4, maxNodes: 200, gamma, value };
    const before = tf.memory().numTensors;
    const viaIndices = searchCodes(model, z0, 3, opts);
    // The same model without its index stepper: every grid through heads() on code tensors.
    const viaHeads = searchCodes(Object.assign(Object.create(model), { indexStepper: undefined }), z0, 3, opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(viaIndices.nodes).toBe(viaHeads.nodes);
    expect(viaIndices.levels).toBe(viaHeads.levels);
    viaIndices.q.forEach((q, a) => expect(q).toBeCloseTo(viaHeads.q[a]!, 4));
    z0.dispose();
    model.dispose();
  });
});

describe("searchCodes with a stepper kept across searches", () => {
  it("finds the same Q as with a new stepper each, computing fewer neighbourhoods", () => {
    const { env, model } = fourRoomsCells();
    const opts = { depth: 6, maxNodes: 300, gamma };
    const kept = model.indexStepper()!;
    let fresh = 0;
    for (const seed of [0, 1, 2]) {
      const [obs] = env.reset({ seed });
      const z0 = tf.tidy(() => model.encode(model.preprocess(obs, 1)));
      const own = model.indexStepper()!;
      const alone = searchCodes(model, z0, 3, { ...opts, stepper: own });
      fresh += own.size;
      expect(searchCodes(model, z0, 3, { ...opts, stepper: kept }).q).toEqual(alone.q);
      z0.dispose();
    }
    expect(kept.size).toBeLessThan(fresh);
    model.dispose();
  });

  it("with a search memo: the same Q, nodes and levels, bit for bit, each code stepped and valued once", () => {
    const { env, model } = fourRoomsCells();
    let calls = 0;
    const value = (codes: tf.Tensor) => {
      calls += codes.shape[0]!;
      return tf.tidy(() => tf.mean(tf.reshape(codes, [codes.shape[0]!, -1]), 1)) as tf.Tensor1D;
    };
    const opts = { depth: 6, maxNodes: 300, gamma, value };
    const [memo, stepper] = [new SearchMemo(), model.indexStepper()!];
    // An episode's consecutive starts (their graphs overlap), then the first start again.
    const [obs] = env.reset({ seed: 0 });
    const starts = [obs];
    for (const a of [2, 0, 2]) starts.push(env.step(a)[0]);
    starts.push(obs);
    const before = tf.memory().numTensors;
    let [alone, shared, last] = [0, 0, 0];
    starts.forEach((o) => {
      const z0 = tf.tidy(() => model.encode(model.preprocess(o, 1)));
      calls = 0;
      const fresh = searchCodes(model, z0, 3, { ...opts, stepper });
      alone += calls;
      calls = 0;
      const memoed = searchCodes(model, z0, 3, { ...opts, stepper, memo });
      shared += calls;
      last = calls;
      expect([memoed.nodes, memoed.levels]).toEqual([fresh.nodes, fresh.levels]);
      expect(memoed.q).toEqual(fresh.q);
      z0.dispose();
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(shared).toBeLessThan(alone); // the memo's codes are valued once
    expect(last).toBe(1); // the first start again: only its root (the encoder's code) is valued
    const z0 = tf.tidy(() => model.encode(model.preprocess(obs, 1)));
    const untried = { seen: new CellActionSet(3), bonus: 1 };
    expect(() => searchCodes(model, z0, 3, { ...opts, stepper, memo, untried })).toThrow(/memo/);
    z0.dispose();
    model.dispose();
  });
});

describe("searchCodes valuing a wide graph's codes", () => {
  it("values them in batches after the expansion: the same Q bit for bit as level by level (with a memo)", () => {
    const { env, model } = fourRoomsCells();
    const batches: number[] = [];
    const value = (codes: tf.Tensor) => {
      batches.push(codes.shape[0]!);
      return tf.tidy(() => tf.mean(tf.reshape(codes, [codes.shape[0]!, -1]), 1)) as tf.Tensor1D;
    };
    // At its initial weights the model's graph branches wide: some 3000 codes in a few levels.
    const opts = { depth: 30, maxNodes: 3000, gamma, value };
    const [obs] = env.reset({ seed: 0 });
    const z0 = tf.tidy(() => model.encode(model.preprocess(obs, 1)));
    const before = tf.memory().numTensors;
    const batched = searchCodes(model, z0, 3, opts);
    const fresh = batches.slice(1); // the root's value comes first
    batches.length = 0;
    const perLevel = searchCodes(model, z0, 3, { ...opts, memo: new SearchMemo() });
    expect(tf.memory().numTensors).toBe(before);
    expect(fresh.reduce((a, b) => a + b, 0)).toBe(batched.nodes - 1);
    expect(fresh.length).toBeGreaterThan(1); // more codes than one batch takes
    expect(batches.length - 1).toBe(perLevel.levels); // the memo values level by level
    expect([perLevel.nodes, perLevel.levels]).toEqual([batched.nodes, batched.levels]);
    expect(perLevel.q).toEqual(batched.q);
    z0.dispose();
    model.dispose();
  });
});

describe("ImaginationAgent with planner.search", () => {
  /** A 7x7 FourRooms with grid cells as codes and a short search. */
  const searchingFourRooms = () => ({
    env: make("GridFourRooms-v0", { size: 7 }),
    cfg: parseAgentConfig({
      env: "GridFourRooms-v0",
      envOptions: { size: 7 },
      worldModel: { encoder: { type: "cells" }, latents: 49, levels: [2, 2, 2, 2], dynamicsHidden: [32] },
      planner: { search: { depth: 8, maxNodes: 300 } },
    }),
  });

  it("shares one index stepper among an evaluation's searches: the same actions, each neighbourhood computed once", () => {
    const { env, cfg } = searchingFourRooms();
    // An episode's first 6 acts from one seed, each search with a new stepper or all inside evaluating().
    const episode = (shared: boolean) => {
      const agent = new ImaginationAgent(cfg, env, 5);
      const made = vi.spyOn(agent.model, "indexStepper");
      let [obs] = env.reset({ seed: 1 });
      const before = tf.memory().numTensors;
      const acts = () =>
        [0, 1, 2, 3, 4, 5].map(() => {
          const [a] = agent.act(obs);
          [obs] = env.step(a!);
          return a!;
        });
      const taken = shared ? agent.evaluating(acts) : acts();
      expect(tf.memory().numTensors).toBe(before);
      const steppers = made.mock.calls.length;
      agent.dispose();
      return { taken, steppers };
    };
    const alone = episode(false);
    const together = episode(true);
    expect(together.taken).toEqual(alone.taken);
    expect(alone.steppers).toBe(6);
    expect(together.steppers).toBe(1);
    // Past its bound a stepper starts afresh: more steppers, the same actions.
    const bound = ImaginationAgent.evalStepperPairs;
    ImaginationAgent.evalStepperPairs = 100;
    try {
      const bounded = episode(true);
      expect(bounded.taken).toEqual(alone.taken);
      expect(bounded.steppers).toBeGreaterThan(1);
    } finally {
      ImaginationAgent.evalStepperPairs = bound;
    }
  });

  it("answers an evaluation's repeated start codes without searching: an episode played twice takes the same actions", () => {
    const { env, cfg } = searchingFourRooms();
    const agent = new ImaginationAgent(cfg, env, 5);
    // Weights that tell actions apart (at initialisation every Q is about 0: ties, drawn at random).
    const weights = [...agent.model.variables, ...agent.value.critics.variables];
    for (const [i, v] of weights.entries()) v.assign(tf.randomNormal(v.shape, 0, 0.5, "float32", i));
    const made = vi.spyOn(agent.model, "indexStepper");
    const seen = new Set<string>();
    const play = () => {
      let [obs] = env.reset({ seed: 1 });
      agent.reset();
      return [0, 1, 2, 3, 4, 5].map(() => {
        seen.add(obs.join(","));
        const [a] = agent.act(obs);
        [obs] = env.step(a!);
        return a!;
      });
    };
    const alone = play(); // outside an evaluation: every act searches
    expect(agent.searchesReused).toBe(0);
    const before = tf.memory().numTensors;
    const [first, again] = agent.evaluating(() => [play(), play()]);
    expect(tf.memory().numTensors).toBe(before);
    expect(first).toEqual(alone);
    expect(again).toEqual(alone);
    // One search per distinct observation (this one turns on the spot, so the first episode repeats
    // some already), every other act answered from what the evaluation searched.
    expect(seen.size).toBeLessThan(6);
    expect(agent.searchesReused).toBe(12 - seen.size);
    // The next evaluation (new weights, perhaps) searches afresh.
    agent.evaluating(play);
    expect(agent.searchesReused).toBe(2 * (12 - seen.size) - 6);
    expect(made).toHaveBeenCalledTimes(6 + 2); // a stepper per search outside, one per evaluation
    agent.dispose();
  });

  it("acts by search without leaking tensors, the same way from the same seed; Box actions are refused", () => {
    const env = make("GridEmpty-v0", { size: 6 });
    const cfg = parseAgentConfig({ env: "GridEmpty-v0", planner: { search: { depth: 6, maxNodes: 200 } } });
    const [obs] = env.reset({ seed: 0 });
    const actions = (seed: number) => {
      const agent = new ImaginationAgent(cfg, env, seed);
      const before = tf.memory().numTensors;
      const taken = [0, 1, 2].map(() => agent.act(obs)[0]!);
      expect(tf.memory().numTensors).toBe(before);
      agent.dispose();
      return taken;
    };
    const first = actions(3);
    for (const a of first) expect(a >= 0 && a < (env.actionSpace as Discrete).n).toBe(true);
    expect(actions(3)).toEqual(first);
    const box = parseAgentConfig({ env: "PointMass-v0", planner: { search: { depth: 3 } } });
    expect(() => new ImaginationAgent(box, make("PointMass-v0"), 0)).toThrow(/planner\.search needs Discrete actions/);
    const novel = parseAgentConfig({ env: "GridEmpty-v0", novelty: 0.05, planner: { search: { depth: 3 } } });
    expect(() => new ImaginationAgent(novel, env, 0)).toThrow(/planner\.search and novelty/);
    const guessing = parseAgentConfig({ env: "GridEmpty-v0", planner: { search: { depth: 3, branch: 0.1 } } });
    expect(() => new ImaginationAgent(guessing, env, 0)).toThrow(/planner\.search\.branch needs encoder 'cells'/);
    expect(() => parseAgentConfig({ planner: { search: { depth: 3, branch: 0 } } })).toThrow(/planner\.search\.branch/);
    expect(() => parseAgentConfig({ planner: { search: { depth: 0 } } })).toThrow(/planner\.search\.depth/);
  });
});
