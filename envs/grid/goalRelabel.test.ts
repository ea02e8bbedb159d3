import { describe, expect, it } from "vitest";
import { ACTION, COLOR, GridEmpty, GridFourRooms, OBJECT, make } from "../index.ts";
import { Egocentric } from "../wrappers/egocentric.ts";
import { FrameStack } from "../wrappers/frameStack.ts";
import { goalRelabelerOf } from "./goalRelabel.ts";

const { forward, right } = ACTION;

describe("goal relabelling (grids, full view)", () => {
  it("draws the observation an env with its goal on that cell shows, and pays what that env pays there", () => {
    const env = new GridEmpty({ size: 5 }); // agent (1,1) facing right, goal (3,3)
    const relabeler = goalRelabelerOf(env);
    const [obs0] = env.reset({ seed: 0 });
    const cell = 1 * 5 + 3; // (3, 1): two steps ahead
    expect(relabeler.agentCell(obs0, 0)).toBe(1 * 5 + 1);
    const out = new Uint8Array(obs0.length);
    relabeler.withGoalAt(obs0, 0, cell, out, 0);

    // The same layout with the goal moved there by hand.
    const moved = new GridEmpty({ size: 5 });
    moved.reset({ seed: 0 });
    moved.put(3, 3, OBJECT.empty);
    moved.put(3, 1, OBJECT.goal, COLOR.green);
    expect(Array.from(out)).toEqual(Array.from(moved.observe()));

    const [, r1, d1] = moved.step(forward);
    const [obs2, r2, d2] = moved.step(forward);
    expect([r1, d1, d2]).toEqual([0, false, true]);
    expect(relabeler.reward(2)).toBeCloseTo(r2, 12);
    // Standing on the relabelled goal, the agent is drawn and no goal shows.
    expect(relabeler.agentCell(obs2, 0)).toBe(cell);
    const under = new Uint8Array(obs2.length);
    relabeler.withGoalAt(obs2, 0, cell, under, 0);
    expect(Array.from(under).filter((_, i) => i % 3 === 0 && under[i] === OBJECT.goal)).toEqual([]);
  });

  it("clears the old goal wherever it was (FourRooms, random goals), leaving walls and gaps alone", () => {
    const env = new GridFourRooms({ size: 11 });
    const relabeler = goalRelabelerOf(env);
    const [obs] = env.reset({ seed: 3 });
    env.step(right);
    const cell = relabeler.agentCell(obs, 0);
    const out = new Uint8Array(obs.length);
    relabeler.withGoalAt(obs, 0, cell === 12 ? 13 : 12, out, 0);
    const goals = [...Array(121).keys()].filter((c) => out[c * 3] === OBJECT.goal);
    expect(goals).toEqual([cell === 12 ? 13 : 12]);
    const changed = [...Array(121).keys()].filter((c) => out[c * 3] !== obs[c * 3]);
    expect(changed.length).toBeLessThanOrEqual(2);
    expect(changed.every((c) => obs[c * 3] === OBJECT.goal || out[c * 3] === OBJECT.goal)).toBe(true);
  });

  it("refuses views and envs it cannot redraw, saying why", () => {
    expect(() => goalRelabelerOf(new GridEmpty({ size: 5, view: "partial" }))).toThrow(/full view/);
    expect(() => goalRelabelerOf(make("Catch-v0"))).toThrow(/grid env/);
    for (const wrapped of [new FrameStack(make("GridEmpty-v0", { size: 5 }), 2), new Egocentric(make("GridEmpty-v0"))])
      expect(() => goalRelabelerOf(wrapped)).toThrow(/egocentric or frameStack/);
  });
});
