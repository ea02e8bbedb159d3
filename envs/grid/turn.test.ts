// A grid turned with its agent steps as the grid does: the same actions give the turned observations
// and the same rewards, on DoorKey (keys, doors, walls) as on the empty room.
import { describe, expect, it } from "vitest";
import { Rng } from "../../common/rng.ts";
import { make } from "../index.ts";
import { OBJECT } from "./objects.ts";
import { turnGrid } from "./turn.ts";

const turned = (obs: ArrayLike<number>, n: number, k: number) => {
  const out = new Array<number>(obs.length);
  turnGrid(obs, n, k, out);
  return out;
};

describe("turnGrid", () => {
  it("moves cell (x, y) to (n-1-y, x) and turns the agent's heading with it; four turns give the grid back", () => {
    const env = make("GridDoorKey-v0", { size: 8 });
    const [obs] = env.reset({ seed: 3 }) as [Uint8Array, unknown];
    const agentAt = (o: ArrayLike<number>) => {
      for (let i = 0; i < 64; i++) if (o[i * 3] === OBJECT.agent) return [i % 8, Math.floor(i / 8), o[i * 3 + 2]];
      return [];
    };
    const [x, y, d] = agentAt(obs) as [number, number, number];
    expect(agentAt(turned(obs, 8, 1))).toEqual([7 - y, x, (d + 1) % 4]);
    expect(agentAt(turned(obs, 8, 2))).toEqual([7 - x, 7 - y, (d + 2) % 4]);
    expect(turned(turned(obs, 8, 1), 8, 3)).toEqual(Array.from(obs));
    expect(turned(turned(turned(turned(obs, 8, 1), 8, 1), 8, 1), 8, 1)).toEqual(Array.from(obs));
  });

  it.each([
    ["GridDoorKey-v0", { size: 8 }],
    ["GridEmpty-v0", { size: 6 }],
  ])("a turned %s steps as the grid does, action for action", (id, options) => {
    const n = (options as { size: number }).size;
    const rng = new Rng(7);
    for (const k of [1, 2, 3]) {
      const a = make(id, options);
      const b = make(id, options);
      a.reset({ seed: 11 });
      b.reset({ seed: 11 });
      const s = a.unwrapped.getState() as { cells: number[]; agent: number[]; carrying: number[] };
      const [x, y, d] = s.agent as [number, number, number];
      const to = [
        [x, y],
        [n - 1 - y, x],
        [n - 1 - x, n - 1 - y],
        [y, n - 1 - x],
      ][k]!;
      b.unwrapped.setState({ ...s, cells: turned(s.cells, n, k), agent: [to[0], to[1], (d + k) % 4] } as never);
      let steps = 0;
      for (; steps < 300; steps++) {
        const action = rng.int((a.actionSpace as unknown as { n: number }).n);
        const [nextA, rA, endA, cutA] = a.step(action) as unknown as [Uint8Array, number, boolean, boolean];
        const [nextB, rB, endB] = b.step(action) as unknown as [Uint8Array, number, boolean];
        expect(Array.from(nextB)).toEqual(turned(nextA, n, k));
        expect([rB, endB]).toEqual([rA, endA]);
        if (endA || cutA) break;
      }
      expect(steps).toBeGreaterThan(10);
    }
  });
});
