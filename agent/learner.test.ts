import { describe, expect, it } from "vitest";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { nStepReturns } from "./learner.ts";

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
