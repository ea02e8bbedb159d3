import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init.ts";
import { Rng } from "../common/rng.ts";
import { ReplayBuffer } from "../data/replayBuffer.ts";
import { ACTION, COLOR, GridEmpty, OBJECT, make } from "../envs/index.ts";
import { goalRelabelerOf } from "../envs/grid/goalRelabel.ts";
import { ImaginationAgent } from "./agent.ts";
import { parseAgentConfig } from "./config.ts";
import { relabel, withRows } from "./hindsight.ts";
import { NO_BOUND, type TdBatch } from "./value.ts";

const { forward, right } = ACTION;
// GridEmpty 5x5, seed 0: the agent starts at (1,1) facing right; the goal is at (3,3).
const PATH = [forward, forward, right, forward, forward];
const SECOND = [forward, right, forward];

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

/** One scripted episode (to the real goal) and a second one cut by the time limit, in a buffer. */
function scriptedBuffer(): ReplayBuffer {
  const env = new GridEmpty({ size: 5 });
  const buffer = new ReplayBuffer({ obsShape: [5, 5, 3], obsDtype: "uint8", actionSize: 1, capacity: 64 });
  for (const path of [PATH, SECOND]) {
    buffer.addFirst(env.reset({ seed: 0 })[0]);
    for (const a of path) {
      const [obs, r, d] = env.step(a);
      buffer.addStep(a, r, d, obs);
    }
    if (path !== PATH) buffer.endEpisode();
  }
  return buffer;
}

describe("hindsight goals (value.relabel)", () => {
  it("each row is what the env shows and pays with its goal moved to a cell reached later in the episode", () => {
    const buffer = scriptedBuffer();
    const relabeler = goalRelabelerOf(new GridEmpty({ size: 5 }));
    const H = 3;
    const rng = new Rng(1);
    const s = buffer.sample(64, H, rng);
    const starts = Array.from({ length: s.batch }, (_, b) => s.source!.slots[b * (H + 1)]!);
    relabel(buffer, relabeler, s, rng);
    const goals = new Set<number>();
    let ended = 0;
    for (let b = 0; b < s.batch; b++) {
      const o = (t: number) => Array.from(s.obs.subarray((b * (H + 1) + t) * 75, (b * (H + 1) + t + 1) * 75));
      const goal = [...Array(25).keys()].filter((c) => o(0)[c * 3] === OBJECT.goal);
      expect(goal.length).toBe(1);
      goals.add(goal[0]!);
      // The row's episode replayed from its reset in an env whose goal is there.
      const [path, j] = starts[b]! < 6 ? [PATH, starts[b]!] : [SECOND, starts[b]! - 6];
      const moved = new GridEmpty({ size: 5 });
      moved.reset({ seed: 0 });
      moved.put(3, 3, OBJECT.empty);
      moved.put(goal[0]! % 5, Math.floor(goal[0]! / 5), OBJECT.goal, COLOR.green);
      for (const a of path.slice(0, j)) moved.step(a);
      expect(o(0)).toEqual(Array.from(moved.observe()));
      for (let t = 0; t < H; t++) {
        if (s.mask[b * H + t] === 0) {
          expect(o(t + 1)).toEqual(o(t));
          continue;
        }
        const [obs, r, d] = moved.step(path[j + t]!);
        expect(o(t + 1)).toEqual(Array.from(obs));
        expect(s.rewards[b * H + t]).toBeCloseTo(r, 6);
        expect(s.terminated[b * H + t]).toBe(d ? 1 : 0);
        if (d) {
          ended++;
          for (let u = t + 1; u < H; u++) expect(s.mask[b * H + u]).toBe(0);
          break;
        }
      }
    }
    // Goals among the cells the episodes went on to (the real goal, 18, among them); some rows reach theirs.
    expect([...goals].every((c) => [7, 8, 12, 13, 18].includes(c))).toBe(true);
    expect(goals.size).toBeGreaterThan(2);
    expect(ended).toBeGreaterThan(5);
  });

  it("withRows stacks two TD batches, the second without a lower bound, and leaks nothing", () => {
    const td = (n: number, v: number, lower?: number): TdBatch => ({
      codes: tf.fill([n, 4], v) as tf.Tensor2D,
      nextCodes: tf.fill([n, 4], v) as tf.Tensor2D,
      actions: tf.fill([n, 3], v) as tf.Tensor2D,
      returns: tf.fill([n], v) as tf.Tensor1D,
      terminated: tf.fill([n], v) as tf.Tensor1D,
      discount: tf.fill([n], v) as tf.Tensor1D,
      ...(lower !== undefined && { lower: tf.fill([n], lower) as tf.Tensor1D }),
    });
    const before = tf.memory().numTensors;
    const out = withRows(td(2, 1, 0.5), td(3, 2));
    expect(out.codes.shape).toEqual([5, 4]);
    expect(Array.from(out.returns.dataSync())).toEqual([1, 1, 2, 2, 2]);
    expect(Array.from(out.lower!.dataSync())).toEqual([0.5, 0.5, NO_BOUND, NO_BOUND, NO_BOUND]);
    tf.dispose(out as unknown as tf.TensorContainer);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the agent adds the hindsight rows to its value steps without leaking, and refuses envs it cannot relabel", () => {
    const cfg = parseAgentConfig({
      env: "GridEmpty-v0",
      envOptions: { size: 5 },
      value: { relabel: 0.5, batch: 8, imagined: { after: 0 } },
    });
    const agent = new ImaginationAgent(cfg, make("GridEmpty-v0", { size: 5 }), 0);
    const buffer = scriptedBuffer();
    const rng = new Rng(2);
    const update = agent.value.update.bind(agent.value);
    const rows: number[] = [];
    agent.value.update = (batch, ...rest) => {
      rows.push(batch.codes.shape[0]);
      return update(batch, ...rest);
    };
    agent.update(buffer, rng);
    const before = tf.memory().numTensors;
    const td = agent.update(buffer, rng).td;
    expect(rows).toEqual([12, 12]); // 8 replayed rows and 4 with hindsight goals
    expect(Number.isFinite(td)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
    expect(
      () => new ImaginationAgent(parseAgentConfig({ env: "Catch-v0", value: { relabel: 1 } }), make("Catch-v0"), 0),
    ).toThrow(/grid env/);
  });
});
