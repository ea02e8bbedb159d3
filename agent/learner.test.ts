import { describe, expect, it } from "vitest";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { firstActions, nStepReturns } from "./learner.ts";

describe("nStepReturns", () => {
  it("sums the discounted rewards of the live steps and stops at an episode's end", () => {
    // Three sequences of 3 steps: all live; terminated at step 1; cut by the time limit after step 0.
    const b: SequenceBatch = {
      batch: 3,
      horizon: 3,
      obs: new Float32Array(3 * 4),
      actions: new Float32Array(9),
      rewards: Float32Array.from([1, 0, 2, 0, 1, 0, 0.5, 0, 0]),
      terminated: Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]),
      mask: Float32Array.from([1, 1, 1, 1, 1, 0, 1, 0, 0]),
    };
    const g = 0.5;
    const { returns, terminated, discount } = nStepReturns(b, g);
    expect(Array.from(returns)).toEqual([1 + g * g * 2, g, 0.5]);
    expect(Array.from(terminated)).toEqual([0, 1, 0]);
    expect(Array.from(discount)).toEqual([g ** 3, g ** 2, g]);
  });
});

describe("firstActions", () => {
  it("takes each sequence's first action, of any width", () => {
    const b = (horizon: number, actions: number[]): SequenceBatch => ({
      batch: 2,
      horizon,
      obs: new Float32Array(0),
      actions: Float32Array.from(actions),
      rewards: new Float32Array(2 * horizon),
      terminated: new Uint8Array(2 * horizon),
      mask: new Float32Array(2 * horizon),
    });
    expect(Array.from(firstActions(b(3, [2, 0, 1, 1, 2, 0]), 1))).toEqual([2, 1]);
    expect(Array.from(firstActions(b(2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]), 2))).toEqual([
      expect.closeTo(0.1),
      expect.closeTo(0.2),
      expect.closeTo(0.5),
      expect.closeTo(0.6),
    ]);
    expect(Array.from(firstActions(b(1, [1, 2]), 1))).toEqual([1, 2]);
  });
});
