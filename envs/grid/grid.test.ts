import { describe, expect, it } from "vitest";
import {
  ACTION,
  COLOR,
  DOOR_STATE,
  GridDoorKey,
  GridEmpty,
  GridFourRooms,
  GridLavaGap,
  OBJECT,
  make,
} from "../index.ts";

const { left, right, forward, pickup, toggle } = ACTION;

describe("GridEmpty", () => {
  it("reaching the goal terminates with reward 1 - 0.9 * steps / maxSteps", () => {
    const env = new GridEmpty({ size: 5 }); // agent (1,1) facing right, goal (3,3)
    env.reset({ seed: 0 });
    const plan = [forward, forward, right, forward];
    const rewards = plan.map((a) => env.step(a)[1]);
    const [, r, terminated] = env.step(forward);
    expect(rewards).toEqual([0, 0, 0, 0]);
    expect(terminated).toBe(true);
    expect(r).toBeCloseTo(1 - (0.9 * 5) / (4 * 5 * 5), 12);
  });
  it("walls block movement", () => {
    const env = new GridEmpty({ size: 4 });
    env.reset({ seed: 0 });
    env.step(left); // now facing up, wall ahead
    env.step(forward);
    expect([env.agentX, env.agentY, env.agentDir]).toEqual([1, 1, 3]);
  });
  it("the full observation marks the agent as (10, red, direction)", () => {
    const env = new GridEmpty({ size: 6 });
    const [obs] = env.reset({ seed: 0 });
    const at = (x: number, y: number) => Array.from(obs.subarray((y * 6 + x) * 3, (y * 6 + x) * 3 + 3));
    expect(at(1, 1)).toEqual([OBJECT.agent, COLOR.red, 0]);
    expect(at(0, 0)).toEqual([OBJECT.wall, COLOR.grey, 0]);
    expect(at(4, 4)).toEqual([OBJECT.goal, COLOR.green, 0]);
    expect(at(2, 2)).toEqual([OBJECT.empty, 0, 0]);
  });
  it("make() truncates at maxSteps = 4 * size^2 by default", () => {
    const env = make("GridEmpty-v0", { size: 4 });
    env.reset({ seed: 0 });
    let truncated = false;
    let t = 0;
    while (!truncated) {
      [, , , truncated] = env.step(left);
      t++;
    }
    expect(t).toBe(64);
  });
  it("rejects bad options, naming the env and the option", () => {
    expect(() => new GridEmpty({ size: 2 })).toThrow(
      /GridEmpty-v0: option 'size' must be an integer in \[4, 64\], got 2/,
    );
    expect(() => new GridEmpty({ view: "egocentric" as never })).toThrow(
      /option 'view' must be one of "full", "partial"/,
    );
    expect(() => make("GridEmpty-v0", { colour: 1 })).toThrow(/GridEmpty-v0: unknown option 'colour'/);
    expect(() => new GridEmpty().reset({ options: { agentPos: 1 } })).toThrow(
      /GridEmpty-v0\.reset: unknown option 'agentPos'/,
    );
  });
});

describe("partial view", () => {
  // MiniGrid's process_vis occlusion, as in FourRooms, DoorKey and LavaGap (see_through_walls=False).
  it("is egocentric: the agent at the bottom centre, the cell ahead above it", () => {
    const env = new GridEmpty({ size: 8, view: "partial", seeThroughWalls: false });
    const [obs] = env.reset({ seed: 0 }); // at (1,1) facing right: ahead is (2,1), empty
    const cell = (i: number, j: number) => Array.from(obs.subarray((j * 7 + i) * 3, (j * 7 + i) * 3 + 3));
    expect(env.observationSpace.shape).toEqual([7, 7, 3]);
    expect(cell(3, 6)).toEqual([OBJECT.empty, 0, 0]); // the agent's cell shows what it carries: nothing
    expect(cell(3, 5)).toEqual([OBJECT.empty, 0, 0]);
    // To the agent's left (up on the screen) is the top wall at y = 0, one cell away.
    expect(cell(2, 6)).toEqual([OBJECT.wall, COLOR.grey, 0]);
    // Behind that wall, outside the world: unseen.
    expect(cell(0, 6)).toEqual([OBJECT.unseen, 0, 0]);
  });
  // MiniGrid's visibility lets light pass diagonally around a lone wall cell, so the test builds a whole wall.
  it("walls hide what lies behind them, open doors do not (see_through_walls=False)", () => {
    const env = new GridEmpty({ size: 8, view: "partial", seeThroughWalls: false });
    env.reset({ seed: 0 }); // at (1,1) facing right
    const ahead = (k: number) => Array.from(env.observe().subarray(((6 - k) * 7 + 3) * 3, ((6 - k) * 7 + 3) * 3 + 3));
    expect(ahead(2)).toEqual([OBJECT.empty, 0, 0]);
    for (let y = 1; y < 7; y++) env.put(2, y, OBJECT.wall, COLOR.grey); // a wall across the room
    expect(ahead(1)).toEqual([OBJECT.wall, COLOR.grey, 0]);
    expect(ahead(2)).toEqual([OBJECT.unseen, 0, 0]);
    env.put(2, 1, OBJECT.door, COLOR.blue, DOOR_STATE.open);
    expect(ahead(2)).toEqual([OBJECT.empty, 0, 0]);
  });
});

describe("see_through_walls per env, as MiniGrid", () => {
  it("GridEmpty sees through walls by default (MiniGrid's Empty: see_through_walls=True): nothing is unseen", () => {
    const env = new GridEmpty({ size: 8, view: "partial" });
    env.reset({ seed: 0 });
    for (let y = 1; y < 7; y++) env.put(2, y, OBJECT.wall, COLOR.grey);
    const obs = env.observe();
    for (let c = 0; c < 49; c++) expect(obs[c * 3], `view cell ${c}`).not.toBe(OBJECT.unseen);
    // Beyond the wall across the room, the room's far cells and the goal's row are in view.
    expect(Array.from(obs.subarray((4 * 7 + 3) * 3, (4 * 7 + 3) * 3 + 3))).toEqual([OBJECT.empty, 0, 0]);
  });
  it("the other grids hide what walls hide (see_through_walls=False), and the option overrides either way", () => {
    for (const env of [
      new GridDoorKey({ view: "partial" }),
      new GridEmpty({ view: "partial", seeThroughWalls: false }),
    ]) {
      env.reset({ seed: 0 });
      expect(Array.from(env.observe()).some((v, i) => i % 3 === 0 && v === OBJECT.unseen)).toBe(true);
    }
    expect(() => new GridEmpty({ seeThroughWalls: "yes" as never })).toThrow(/seeThroughWalls/);
  });
});

describe("GridDoorKey", () => {
  /** Solves the env by breadth-first search over (x, y, dir, carrying, door open) with the true dynamics. */
  function solve(env: GridDoorKey): number[] | undefined {
    const start = env.getState();
    const key = () => JSON.stringify([env.agentX, env.agentY, env.agentDir, env.carrying[0], env.getState().cells]);
    const seen = new Set([key()]);
    let frontier: [unknown, number[]][] = [[start, []]];
    for (let depth = 0; depth < 80 && frontier.length; depth++) {
      const next: [unknown, number[]][] = [];
      for (const [state, path] of frontier) {
        for (let a = 0; a < env.actionSpace.n; a++) {
          env.setState(structuredClone(state) as Record<string, unknown>);
          const [, r, terminated] = env.step(a);
          if (terminated && r > 0) return [...path, a];
          if (terminated) continue;
          const k = key();
          if (!seen.has(k)) {
            seen.add(k);
            next.push([env.getState(), [...path, a]]);
          }
        }
      }
      frontier = next;
    }
    return undefined;
  }

  it("is solvable for several seeds: key, locked door, goal", () => {
    for (const seed of [0, 1, 2, 3]) {
      const env = new GridDoorKey({ size: 6 });
      env.reset({ seed });
      const plan = solve(env);
      expect(plan, `seed ${seed} unsolvable`).toBeDefined();
      expect(plan).toContain(pickup);
      expect(plan).toContain(toggle);
    }
  });
  it("the door stays locked without the key", () => {
    const env = new GridDoorKey({ size: 5 });
    env.reset({ seed: 0 });
    env.put(2, 2, OBJECT.door, COLOR.yellow, DOOR_STATE.locked);
    [env.agentX, env.agentY, env.agentDir] = [1, 2, 0];
    env.step(toggle);
    expect(env.getState().cells).toEqual(expect.arrayContaining([OBJECT.door]));
    expect((env.getState().cells as number[])[(2 * 5 + 2) * 3 + 2]).toBe(DOOR_STATE.locked);
    env.carrying = [OBJECT.key, COLOR.yellow];
    env.step(toggle);
    expect((env.getState().cells as number[])[(2 * 5 + 2) * 3 + 2]).toBe(DOOR_STATE.open);
  });
});

describe("GridLavaGap", () => {
  it("stepping into lava terminates with reward 0; the gap lets the agent through", () => {
    const env = new GridLavaGap();
    env.reset({ seed: 4 });
    const lavaX = [2, 3, 4].find((x) => [1, 2, 3, 4, 5].some((y) => env.objectAt(x, y) === OBJECT.lava))!;
    // Walk right along row 1 until lava or the gap.
    let out = env.step(forward);
    while (!out[2] && env.agentX < lavaX) out = env.step(forward);
    if (env.objectAt(lavaX, 1) === OBJECT.lava) {
      expect(out[2]).toBe(true);
      expect(out[1]).toBe(0);
    } else {
      expect(out[2]).toBe(false);
      expect(env.agentX).toBe(lavaX);
    }
  });
});

describe("action sets", () => {
  it("navigation envs expose 3 actions, DoorKey 6, fullActionSet all 7", () => {
    expect(new GridEmpty().actionSpace.n).toBe(3);
    expect(new GridDoorKey().actionSpace.n).toBe(6);
    expect(new GridFourRooms({ fullActionSet: true }).actionSpace.n).toBe(7);
  });
});
