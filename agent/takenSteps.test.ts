import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { ReplayBuffer } from "../data/replayBuffer.ts";
import { makeBare } from "../envs/index.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { CellActionSet, CellOutcomes } from "../worldmodel/nn/localStep.ts";
import { searchCodes } from "./codeSearch.ts";
import { TakenSteps } from "./takenSteps.ts";
import { ImaginationAgent } from "./agent.ts";
import { parseAgentConfig } from "./config.ts";
import { Rng } from "../common/rng.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const ENV = "GridDoorKey-v0";
const SIZE = 5;
const ACTIONS = 6;
/**
 * The cells model with presence (held codes in the keys: their numbering must hold across steppers).
 * At radius 2 the sets' keys are text and each stepper numbers its own.
 */
const cellsModel = (radius?: number) =>
  new WorldModel(
    parseWorldModelConfig({
      encoder: { type: "cells", presence: true, radius },
      latents: SIZE * SIZE,
      levels: [2, 2, 2, 2],
      dynamicsHidden: [32],
      inverseDynamicsWeight: 0,
    }),
    envShapeOf(makeBare(ENV, { size: SIZE })),
    1,
  );

/** Episodes of the given actions from seeds 0, 1, ... in a buffer. */
function played(episodes: number[][]): ReplayBuffer {
  const env = makeBare(ENV, { size: SIZE });
  const buffer = new ReplayBuffer({ obsShape: [SIZE, SIZE, 3], obsDtype: "uint8", actionSize: 1, capacity: 200 });
  episodes.forEach((actions, seed) => {
    let [obs] = env.reset({ seed });
    buffer.addFirst(obs as Uint8Array);
    for (const a of actions) {
      const [next, reward, terminated] = env.step(a);
      buffer.addStep(a, reward, terminated, next as Uint8Array);
      obs = next;
    }
    buffer.endEpisode();
  });
  return buffer;
}

const idsOf = (model: WorldModel, obs: ArrayLike<number>) =>
  tf.tidy(() => model.indices(model.encode(model.preprocess(obs, 1))).dataSync() as Int32Array);

describe("TakenSteps", () => {
  it.each([1, 2])("knows every step taken in the env, and none of an action never taken (radius %i)", (radius) => {
    const model = cellsModel(radius);
    // Turns and moves only: no pickup (3), drop (4), toggle (5).
    const buffer = played([
      [2, 1, 2, 2, 0],
      [1, 1, 2, 0, 2],
    ]);
    const taken = new TakenSteps(model, ACTIONS);
    taken.read(buffer);
    expect(taken.seen.size).toBeGreaterThan(0);
    const obs = buffer.observations();
    const size = buffer.obsSize;
    for (let slot = 0; slot < buffer.size; slot++) {
      const action = buffer.actionAt(slot)?.[0];
      if (action === undefined) continue;
      // A fresh stepper (one per search): the same keys.
      const { novel } = model
        .indexStepper()!
        .step(idsOf(model, obs.subarray(slot * size, (slot + 1) * size)), ACTIONS, taken.seen);
      expect(novel![action]).toBe(0);
      for (const never of [3, 4, 5]) expect(novel![never]).toBe(1);
    }
    model.dispose();
  });

  it("reads only what is new, and a fresh reader of the same buffer (a resumed run) knows the same", () => {
    const model = cellsModel();
    const buffer = played([[2, 1, 2]]);
    const taken = new TakenSteps(model, ACTIONS);
    taken.read(buffer);
    const early = taken.seen.size;
    // The buffer grows: a second episode with the toggle.
    const env = makeBare(ENV, { size: SIZE });
    const [obs] = env.reset({ seed: 7 });
    buffer.addFirst(obs as Uint8Array);
    for (const a of [5, 0, 5]) {
      const [next, reward, terminated] = env.step(a);
      buffer.addStep(a, reward, terminated, next as Uint8Array);
    }
    taken.read(buffer);
    expect(taken.seen.size).toBeGreaterThan(early);
    const fresh = new TakenSteps(model, ACTIONS);
    fresh.read(buffer);
    const pairs = (t: TakenSteps) => [...t.seen.entries()].map(String).sort();
    expect(pairs(fresh)).toEqual(pairs(taken));
    expect(fresh.seen.size).toBe(pairs(taken).length);
    model.dispose();
  });
});

/**
 * A start grid, the model's guesses from it, and a hand-built outcome shown for action 2: every cell
 * becomes a code the model does not predict there.
 */
function shownAfterAction2(radius?: number) {
  const model = cellsModel(radius);
  const [obs] = makeBare(ENV, { size: SIZE }).reset({ seed: 3 });
  const ids = idsOf(model, obs);
  const stepper = model.indexStepper()!;
  const guess = stepper.step(ids, ACTIONS);
  const told = Int32Array.from(guess.ids.subarray(2 * ids.length, 3 * ids.length), (c) => (c + 1) % stepper.codes);
  const shown = new CellOutcomes(ACTIONS);
  stepper.markOutcomes(ids, [2], told, shown);
  return { model, obs, ids, stepper, guess, told, shown };
}

/** A value that tells grids apart: the mean of their code vectors. */
const value = (z: tf.Tensor) => tf.tidy(() => tf.mean(tf.reshape(z, [z.shape[0]!, -1]), 1) as tf.Tensor1D);

/** `value` of one grid of code indices. */
const gridValue = (model: WorldModel, ids: Int32Array, codes: number) =>
  tf.tidy(
    () =>
      value(
        model.weightsToCodes(tf.cast(tf.oneHot(tf.tensor2d(ids, [1, ids.length], "int32"), codes), "float32")),
      ).dataSync()[0]!,
  );

describe("observed outcomes", () => {
  it.each([1, 2])(
    "a pair the env always took to one code overrides the model's guess there, with probability 1; two codes shown, none (radius %i)",
    (radius) => {
      const { model, ids, stepper, guess, told, shown } = shownAfterAction2(radius);
      stepper.markOutcomes(ids, [2], told, shown); // shown twice, the same
      const overridden = stepper.step(ids, ACTIONS, undefined, shown);
      expect([...overridden.ids.subarray(2 * ids.length, 3 * ids.length)]).toEqual([...told]);
      expect(overridden.likely[2]).toBe(1);
      expect(overridden.shown![2]).toBe(ids.length);
      // The other actions, and action 2's reward and ending, are the model's.
      for (const a of [0, 1, 3, 4, 5]) {
        expect(overridden.shown![a]).toBe(0);
        expect([...overridden.ids.subarray(a * ids.length, (a + 1) * ids.length)]).toEqual([
          ...guess.ids.subarray(a * ids.length, (a + 1) * ids.length),
        ]);
      }
      expect(overridden.reward[2]).toBeCloseTo(guess.reward[2]!, 12);
      expect(overridden.alive[2]).toBeCloseTo(guess.alive[2]!, 12);
      // Cell 0's pair led once elsewhere: the model's guess again there, and only there.
      const other = Int32Array.from(told);
      other[0] = (told[0]! + 1) % stepper.codes;
      stepper.markOutcomes(ids, [2], other, shown);
      const mixed = stepper.step(ids, ACTIONS, undefined, shown);
      const cells = ids.length;
      // Cells of the same key as cell 0 revert too; every other cell keeps the shown code.
      const sameKey = [...ids.keys()].filter((c) => mixed.ids[2 * cells + c] !== told[c]);
      expect(sameKey).toContain(0);
      for (const c of sameKey) expect(mixed.ids[2 * cells + c]).toBe(guess.ids[2 * cells + c]);
      expect(mixed.shown![2]).toBe(cells - sameKey.length);
      model.dispose();
    },
  );

  it("the search follows them: Q of the overridden action backs up the shown grid's value, the others' are unchanged", () => {
    const { model, obs, stepper, guess, told, shown } = shownAfterAction2();
    const z0 = tf.tidy(() => model.encode(model.preprocess(obs, 1)));
    const opts = { depth: 1, maxNodes: 50, gamma: 0.9, value };
    const plain = searchCodes(model, z0, ACTIONS, opts);
    const withShown = searchCodes(model, z0, ACTIONS, { ...opts, shown });
    const vTold = gridValue(model, told, stepper.codes);
    expect(withShown.q[2]).toBeCloseTo(guess.reward[2]! + 0.9 * guess.alive[2]! * vTold, 5);
    expect(withShown.q[2]).not.toBeCloseTo(plain.q[2]!, 5);
    for (const a of [0, 1, 3, 4, 5]) expect(withShown.q[a]).toBe(plain.q[a]);
    z0.dispose();
    model.dispose();
  });

  it("with quiet, a pair shown only in steps that neither paid nor ended adds no reward and no ending; one shown in an eventful step, the heads'", () => {
    const { model, ids, told } = shownAfterAction2();
    // Events heads that predict a little of both everywhere (at their initial weights the reward is 0).
    const last = model.events!.biases.length - 1;
    tf.tidy(() => model.events!.biases[last]!.assign(tf.tensor1d([-2, 0.5, -4])));
    const stepper = model.indexStepper()!;
    const guess = stepper.step(ids, ACTIONS);
    expect(guess.reward[2]).toBeGreaterThan(0);
    expect(guess.alive[2]).toBeLessThan(1);
    const shown = new CellOutcomes(ACTIONS);
    stepper.markOutcomes(ids, [2], told, shown, [false]);
    const quiet = stepper.step(ids, ACTIONS, undefined, shown, true);
    expect([quiet.reward[2], quiet.alive[2]]).toEqual([0, 1]);
    for (const a of [0, 1, 3, 4, 5]) {
      expect(quiet.reward[a]).toBe(guess.reward[a]);
      expect(quiet.alive[a]).toBe(guess.alive[a]);
    }
    // Without quiet the heads' events stay; once a step of these pairs paid or ended, too.
    const heard = stepper.step(ids, ACTIONS, undefined, shown);
    expect(heard.reward[2]).toBeCloseTo(guess.reward[2]!, 12);
    stepper.markOutcomes(ids, [2], told, shown, [true]);
    const eventful = stepper.step(ids, ACTIONS, undefined, shown, true);
    expect(eventful.reward[2]).toBeCloseTo(guess.reward[2]!, 12);
    expect(eventful.alive[2]).toBeCloseTo(guess.alive[2]!, 12);
    model.dispose();
  });

  it("with quiet, the search backs up the shown grid's value with no reward and no ending", () => {
    const { model, obs, ids, stepper, told } = shownAfterAction2();
    const shown = new CellOutcomes(ACTIONS);
    stepper.markOutcomes(ids, [2], told, shown, [false]);
    const z0 = tf.tidy(() => model.encode(model.preprocess(obs, 1)));
    const opts = { depth: 1, maxNodes: 50, gamma: 0.9, value, shown };
    const vTold = gridValue(model, told, stepper.codes);
    const quiet = searchCodes(model, z0, ACTIONS, { ...opts, quiet: true });
    expect(quiet.q[2]).toBeCloseTo(0.9 * vTold, 6);
    expect(searchCodes(model, z0, ACTIONS, opts).q[2]).not.toBeCloseTo(quiet.q[2]!, 6);
    expect(() => searchCodes(model, z0, ACTIONS, { ...opts, shown: undefined, quiet: true })).toThrow(/quiet/);
    z0.dispose();
    model.dispose();
  });

  it("read from a buffer, a step that ended marks its pairs eventful, the others' stay quiet", () => {
    const model = cellsModel();
    const env = makeBare(ENV, { size: SIZE });
    const buffer = new ReplayBuffer({ obsShape: [SIZE, SIZE, 3], obsDtype: "uint8", actionSize: 1, capacity: 20 });
    const [first] = env.reset({ seed: 0 });
    buffer.addFirst(first as Uint8Array);
    // Actions 2, 1, 0, the last one stored as ending the episode: each action taken once.
    for (const a of [2, 1, 0]) {
      const [next, reward] = env.step(a);
      buffer.addStep(a, reward, a === 0, next as Uint8Array);
    }
    const taken = new TakenSteps(model, ACTIONS, true);
    taken.read(buffer);
    const size = buffer.obsSize;
    const obs = buffer.observations();
    const at = (slot: number) => idsOf(model, obs.subarray(slot * size, (slot + 1) * size));
    const stepper = model.indexStepper()!;
    const [start, last] = [stepper.step(at(0), ACTIONS, undefined, taken.shown, true), stepper.step(at(2), ACTIONS)];
    expect([start.reward[2], start.alive[2]]).toEqual([0, 1]);
    const ending = stepper.step(at(2), ACTIONS, undefined, taken.shown, true);
    expect(ending.reward[0]).toBe(last.reward[0]);
    expect(ending.alive[0]).toBe(last.alive[0]);
    model.dispose();
  });

  it("read from a buffer, they step each taken transition of a deterministic grid to its real next codes", () => {
    const model = cellsModel();
    const buffer = played([
      [2, 1, 2, 2, 0],
      [1, 1, 2, 0, 2],
      [1, 2, 2, 3, 5],
    ]);
    const taken = new TakenSteps(model, ACTIONS, true);
    taken.read(buffer);
    expect(taken.shown!.size).toBeGreaterThan(0);
    const obs = buffer.observations();
    const size = buffer.obsSize;
    let wrongBefore = 0;
    for (let slot = 0; slot < buffer.size; slot++) {
      const action = buffer.actionAt(slot)?.[0];
      if (action === undefined) continue;
      const ids = idsOf(model, obs.subarray(slot * size, (slot + 1) * size));
      const next = idsOf(model, obs.subarray((slot + 1) * size, (slot + 2) * size));
      const stepper = model.indexStepper()!;
      const row = (out: { ids: Int32Array }) => [...out.ids.subarray(action * ids.length, (action + 1) * ids.length)];
      if (row(stepper.step(ids, ACTIONS)).join() !== [...next].join()) wrongBefore++;
      const told = stepper.step(ids, ACTIONS, undefined, taken.shown);
      expect(row(told)).toEqual([...next]);
      expect(told.likely[action]).toBe(1);
    }
    // The untrained model's guesses were wrong there: the override is what made them right.
    expect(wrongBefore).toBeGreaterThan(0);
    model.dispose();
  });
});

describe("searchCodes with untried", () => {
  it("pays the bonus on a step with a cell key not taken, and only there; a model of whole codes is refused", () => {
    const model = cellsModel();
    const env = makeBare(ENV, { size: SIZE });
    const [obs] = env.reset({ seed: 3 });
    const z0 = tf.tidy(() => model.encode(model.preprocess(obs, 1)));
    // Action 1 from here taken, nothing else.
    const seen = new CellActionSet(ACTIONS);
    model.indexStepper()!.markSeen(idsOf(model, obs), [1], seen);
    const opts = { depth: 1, maxNodes: 50, gamma: 0.95 };
    const before = tf.memory().numTensors;
    const plain = searchCodes(model, z0, ACTIONS, opts);
    const optimistic = searchCodes(model, z0, ACTIONS, { ...opts, untried: { seen, bonus: 0.5 } });
    expect(tf.memory().numTensors).toBe(before);
    plain.q.forEach((q, a) => expect(optimistic.q[a]).toBeCloseTo(q + (a === 1 ? 0 : 0.5), 6));
    const whole = Object.assign(Object.create(model), { indexStepper: undefined });
    expect(() => searchCodes(whole, z0, ACTIONS, { ...opts, untried: { seen, bonus: 0.5 } })).toThrow(
      /untried steps are known only to a model stepped on code indices/,
    );
    z0.dispose();
    model.dispose();
  });

  it("a resumed agent knows the steps taken before its first act, as the live one did after its last update", () => {
    const cfg = parseAgentConfig({
      env: ENV,
      envOptions: { size: SIZE },
      worldModel: { encoder: { type: "cells", presence: true }, latents: SIZE * SIZE, levels: [2, 2, 2, 2] },
      planner: { search: { depth: 3, untried: 0.1 } },
    });
    const buffer = played([
      [2, 1, 2, 2, 0],
      [1, 2, 2, 3, 5],
    ]);
    const env = makeBare(ENV, { size: SIZE });
    const taken = (agent: ImaginationAgent) => (agent as unknown as { taken: TakenSteps }).taken.seen.size;
    const live = new ImaginationAgent(cfg, env, 0);
    live.update(buffer, new Rng(0));
    const resumed = new ImaginationAgent(cfg, env, 0);
    expect(taken(resumed)).toBe(0);
    resumed.resumed(undefined, buffer);
    expect(taken(resumed)).toBeGreaterThan(0);
    expect(taken(resumed)).toBe(taken(live));
    live.dispose();
    resumed.dispose();
  });

  it("an agent with observed alone reads the outcomes of its steps, and takes no untried bonus", () => {
    const cfg = parseAgentConfig({
      env: ENV,
      envOptions: { size: SIZE },
      worldModel: { encoder: { type: "cells", presence: true }, latents: SIZE * SIZE, levels: [2, 2, 2, 2] },
      planner: { search: { depth: 3, observed: true } },
    });
    const agent = new ImaginationAgent(cfg, makeBare(ENV, { size: SIZE }), 0);
    agent.update(played([[2, 1, 2, 2, 0]]), new Rng(0));
    expect((agent as unknown as { taken: TakenSteps }).taken.shown!.size).toBeGreaterThan(0);
    expect(agent.untriedNow).toBe(false);
    agent.dispose();
  });

  it("the agent refuses planner.search.untried or observed without a cells model, in one line", () => {
    const cfg = parseAgentConfig({ env: "GridEmpty-v0", planner: { search: { depth: 3, untried: 0.1 } } });
    expect(() => new ImaginationAgent(cfg, makeBare("GridEmpty-v0", {}), 0)).toThrow(
      /planner\.search\.untried needs a model stepped on code indices/,
    );
    expect(() => parseAgentConfig({ planner: { search: { depth: 3, untried: -1 } } })).toThrow(/untried/);
    expect(() => parseAgentConfig({ planner: { search: { depth: 3, quiet: true } } })).toThrow(/quiet needs observed/);
    const observed = parseAgentConfig({ env: "GridEmpty-v0", planner: { search: { depth: 3, observed: true } } });
    expect(() => new ImaginationAgent(observed, makeBare("GridEmpty-v0", {}), 0)).toThrow(
      /planner\.search\.observed needs a model stepped on code indices/,
    );
  });
});
