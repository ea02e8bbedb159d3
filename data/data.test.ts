import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { collect } from "./collector.ts";
import { ReplayBuffer, type SequenceBatch } from "./replayBuffer.ts";

function tinyBuffer(): ReplayBuffer {
  const buf = new ReplayBuffer({ obsShape: [2], obsDtype: "float32", actionSize: 1, capacity: 20 });
  buf.addFirst([0, 0]);
  buf.addStep(1, 0.5, false, [1, 1]);
  buf.addStep(2, 1, true, [2, 2]); // episode 1 terminates after 2 transitions
  buf.addFirst([10, 10]);
  buf.addStep(0, 0, false, [11, 11]);
  buf.endEpisode(); // episode 2 cut by a time limit
  return buf;
}

function tinyBufferWithoutEvents(): ReplayBuffer {
  const buf = new ReplayBuffer({ obsShape: [1], obsDtype: "float32", actionSize: 1, capacity: 8 });
  buf.addFirst([0]);
  buf.addStep(0, 0, false, [1]);
  buf.addStep(0, 0, false, [2]);
  return buf;
}

/** A batch without its buffer's id (equal buffers give equal contents and slots). */
const contents = ({ source, ...rest }: SequenceBatch) => ({ ...rest, slots: source?.slots });

describe("ReplayBuffer", () => {
  it("samples sequences inside one episode and masks what lies past its end", () => {
    const buf = tinyBuffer();
    expect([buf.size, buf.transitions, buf.episodes]).toEqual([5, 3, 2]);
    const batch = buf.sample(64, 3, new Rng(0));
    for (let b = 0; b < 64; b++) {
      const first = batch.obs[b * 4 * 2]!;
      const mask = Array.from(batch.mask.subarray(b * 3, b * 3 + 3));
      const expected = first === 0 ? [1, 1, 0] : first === 1 ? [1, 0, 0] : [1, 0, 0];
      expect(mask).toEqual(expected);
      // Observations never cross into the other episode.
      const obs = Array.from(batch.obs.subarray(b * 8, b * 8 + 8)).filter((_, i) => i % 2 === 0);
      expect(obs.every((o) => (first >= 10 ? o >= 10 : o < 10))).toBe(true);
      // Each observation names the slot it was copied from.
      const slots = batch.source!.slots.subarray(b * 4, b * 4 + 4);
      const stored = Array.from(slots, (i) => Array.from(buf.observations().subarray(i * 2, i * 2 + 2)));
      expect(stored.flat()).toEqual(Array.from(batch.obs.subarray(b * 8, b * 8 + 8)));
      if (first === 1) expect(batch.terminated[b * 3]).toBe(1);
    }
  });
  it("gives each step of a terminated episode its discounted return, nothing to cut or open ones", () => {
    const buf = tinyBuffer();
    buf.addFirst([20, 20]);
    buf.addStep(0, 2, false, [21, 21]); // episode 3 still going
    const g = buf.discountedReturns(0.5);
    // Episode 1: G_0 = 0.5 + 0.5 * 1, G_1 = 1; slot 2 is its last observation; episode 2 was cut.
    expect(Array.from(g.subarray(0, 7))).toEqual([1, 1, NaN, NaN, NaN, NaN, NaN]);
    buf.addStep(0, 4, true, [22, 22]); // episode 3 ends: filled now, the rest kept
    expect(Array.from(buf.discountedReturns(0.5).subarray(0, 8))).toEqual([1, 1, NaN, NaN, NaN, 4, 4, NaN]);
    expect(buf.discountedReturns(0.9)[0]).toBeCloseTo(0.5 + 0.9, 6); // another gamma: computed afresh
  });

  it("episodeOf gives the first and last slot of a slot's episode, the open one's so far", () => {
    const buf = tinyBuffer();
    expect([0, 1, 2, 3, 4].map((slot) => buf.episodeOf(slot))).toEqual([
      [0, 2],
      [0, 2],
      [0, 2],
      [3, 4],
      [3, 4],
    ]);
    buf.addFirst([20, 20]);
    buf.addStep(0, 0, false, [21, 21]);
    expect(buf.episodeOf(6)).toEqual([5, 6]);
    expect(() => buf.episodeOf(7)).toThrow(/slot 7/);
  });
  it("saves and loads exactly (versioned binary file)", () => {
    const dir = mkdtempSync(join(tmpdir(), "buf-"));
    try {
      const buf = tinyBuffer();
      buf.save(join(dir, "b.gwrb"));
      const back = ReplayBuffer.load(join(dir, "b.gwrb"));
      expect([back.size, back.episodes, back.spec.obsShape]).toEqual([5, 2, [2]]);
      expect(contents(back.sample(16, 2, new Rng(3)))).toEqual(contents(buf.sample(16, 2, new Rng(3))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("continueEpisode reopens a loaded buffer's last episode (a resumed run's), unless it terminated", () => {
    const dir = mkdtempSync(join(tmpdir(), "buf-"));
    try {
      const open = tinyBufferWithoutEvents();
      open.save(join(dir, "open.gwrb"));
      const back = ReplayBuffer.load(join(dir, "open.gwrb"), 8);
      expect(() => back.addStep(1, 0, false, [3])).toThrow(/addFirst/);
      expect(back.continueEpisode()).toBe(true);
      expect(back.openEpisodeActions().map((a) => Array.from(a))).toEqual([[0], [0]]);
      back.addStep(1, 0, false, [3]);
      expect(back.episodeOf(3)).toEqual([0, 3]);
      const ended = new ReplayBuffer({ obsShape: [1], obsDtype: "float32", actionSize: 1, capacity: 8 });
      ended.addFirst([0]);
      ended.addStep(0, 1, true, [1]);
      expect(ended.continueEpisode()).toBe(false);
      expect(ended.openEpisodeActions()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("eventFraction draws that share of sequences from those meeting a reward or termination", () => {
    // One long episode of 100 zero-reward steps, then a rewarded terminal step.
    const buf = new ReplayBuffer({ obsShape: [1], obsDtype: "float32", actionSize: 1, capacity: 200 });
    buf.addFirst([0]);
    for (let t = 1; t <= 100; t++) buf.addStep(0, 0, false, [t]);
    buf.addStep(0, 1, true, [101]);
    const hits = (f: number) => {
      const b = buf.sample(100, 3, new Rng(1), f);
      return Array.from({ length: 100 }, (_, i) => b.rewards.subarray(i * 3, i * 3 + 3).some((r) => r > 0)).filter(
        Boolean,
      ).length;
    };
    expect(hits(0)).toBeLessThan(10); // 3 of 101 starts reach the reward
    expect(hits(0.25)).toBeGreaterThanOrEqual(25);
    expect(hits(1)).toBe(100);
    // With no event stored, it samples uniformly rather than failing.
    expect(tinyBufferWithoutEvents().sample(8, 2, new Rng(0), 0.5).batch).toBe(8);
    expect(() => buf.sample(4, 2, new Rng(0), 1.5)).toThrow(/eventFraction' must be in \[0, 1\], got 1.5/);
  });
  it("rejects wrong shapes, NaN rewards and steps outside an episode", () => {
    const buf = new ReplayBuffer({ obsShape: [2], obsDtype: "float32", actionSize: 1, capacity: 4 });
    expect(() => buf.addStep(0, 0, false, [0, 0])).toThrow(/call addFirst\(\)/);
    expect(() => buf.addFirst([0])).toThrow(/must have 2 values \(shape \[2\]\), got 1/);
    buf.addFirst([0, 0]);
    expect(() => buf.addStep(0, NaN, false, [0, 0])).toThrow(/reward must be finite, got NaN/);
    expect(() => buf.addStep([0, 1], 0, false, [0, 0])).toThrow(/expected 1 action values, got 2/);
  });
});

describe("collect", () => {
  it("stores whole episodes from a vector env: a Catch episode is 9 transitions ending in +-1", () => {
    const buf = collect({ envId: "Catch-v0", steps: 300, numEnvs: 4, seed: 1 });
    expect(buf.transitions).toBe(300);
    const batch = buf.sample(200, 9, new Rng(0));
    let complete = 0;
    for (let b = 0; b < 200; b++) {
      // A sequence starting on the ball's top row (ball in row 0) spans a whole episode.
      const first = Array.from(batch.obs.subarray(b * 10 * 50, b * 10 * 50 + 5));
      const len = batch.mask.subarray(b * 9, b * 9 + 9).reduce((a, m) => a + m, 0);
      if (first.reduce((a, v) => a + v, 0) !== 1) continue;
      if (len < 9) {
        expect(batch.terminated.subarray(b * 9, b * 9 + 9).every((d) => d === 0)).toBe(true); // cut at the budget
        continue;
      }
      complete++;
      expect(batch.terminated[b * 9 + 8]).toBe(1);
      expect(Math.abs(batch.rewards[b * 9 + 8]!)).toBe(1);
    }
    expect(complete).toBeGreaterThan(5);
  });
  it("the same seed collects the same data", () => {
    const a = collect({ envId: "GridEmpty-v0", steps: 200, numEnvs: 2, seed: 5 }).sample(8, 3, new Rng(1));
    const b = collect({ envId: "GridEmpty-v0", steps: 200, numEnvs: 2, seed: 5 }).sample(8, 3, new Rng(1));
    expect(contents(a)).toEqual(contents(b));
  });
  it("the explorer covers more of GridFourRooms than uniform random actions", () => {
    const cells = (policy: "random" | "explorer") => {
      const buf = collect({ envId: "GridFourRooms-v0", steps: 2000, numEnvs: 4, seed: 0, policy });
      const obs = buf.observations();
      const seen = new Set<number>();
      for (let i = 0; i < buf.size; i++) {
        const o = obs.subarray(i * 1083, (i + 1) * 1083);
        for (let c = 0; c < 361; c++) if (o[c * 3] === 10) seen.add(c);
      }
      return seen.size;
    };
    expect(cells("explorer")).toBeGreaterThan(cells("random"));
  });
});
