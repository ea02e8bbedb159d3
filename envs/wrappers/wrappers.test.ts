import { describe, expect, it } from "vitest";
import {
  ActionRepeat,
  BoxActionGrid,
  Catch,
  Egocentric,
  type Env,
  type TypedArray,
  FlattenObservation,
  FrameStack,
  GridEmpty,
  OrderEnforcing,
  PassiveEnvChecker,
  PixelObservation,
  RecordEpisodeStatistics,
  TimeLimit,
  make,
  makeBare,
  registeredIds,
  resizeFrame,
} from "../index.ts";

describe("make()", () => {
  it("wraps as Gymnasium: env -> PassiveEnvChecker -> OrderEnforcing -> TimeLimit", () => {
    const env = make("GridEmpty-v0");
    expect(env).toBeInstanceOf(TimeLimit);
    expect((env as TimeLimit<unknown, unknown>).env).toBeInstanceOf(OrderEnforcing);
    expect(((env as TimeLimit<unknown, unknown>).env as OrderEnforcing<unknown, unknown>).env).toBeInstanceOf(
      PassiveEnvChecker,
    );
    expect(env.unwrapped).toBeInstanceOf(GridEmpty);
    expect(env.spec?.maxEpisodeSteps).toBe(256);
  });
  it("unknown ids list the registered ones", () => {
    expect(() => make("GridEmpty-v9")).toThrow(
      new RegExp(`unknown env id 'GridEmpty-v9'. Registered ids: ${registeredIds().join(", ")}`),
    );
  });
  it("maxEpisodeSteps: null removes the time limit; a number overrides it", () => {
    expect(make("GridEmpty-v0", { maxEpisodeSteps: null })).toBeInstanceOf(OrderEnforcing);
    expect((make("Catch-v0", { maxEpisodeSteps: 3 }) as TimeLimit<unknown, unknown>).maxEpisodeSteps).toBe(3);
  });
  it("OrderEnforcing refuses render before reset", () => {
    expect(() => make("Catch-v0").render()).toThrow(/Catch-v0\.render: call reset\(\) before render\(\)/);
  });
});

describe("wrappers", () => {
  it("RecordEpisodeStatistics puts {r, l, t} in the info of the last step", () => {
    const env = new RecordEpisodeStatistics(make("Catch-v0"));
    env.reset({ seed: 0 });
    let out: ReturnType<typeof env.step>;
    do out = env.step(1);
    while (!out[2]);
    const ep = out[4].episode as { r: number; l: number; t: number };
    expect(ep.l).toBe(9);
    expect(Math.abs(ep.r)).toBe(1);
    expect(ep.t).toBeGreaterThanOrEqual(0);
    expect(env.history).toHaveLength(1);
  });
  it("ActionRepeat sums rewards and stops at the end of an episode", () => {
    const env = new ActionRepeat(make("Catch-v0"), 4);
    env.reset({ seed: 0 });
    const lens = [];
    let out: ReturnType<typeof env.step>;
    do {
      out = env.step(1);
      lens.push(1);
    } while (!out[2]);
    expect(lens).toHaveLength(3); // 9 steps in repeats of 4: 4 + 4 + 1
    expect(Math.abs(out[1])).toBe(1);
  });
  it("BoxActionGrid names a grid of Box actions, bounds included, row-major, and steps with it", () => {
    const env = new BoxActionGrid(make("PointMass-v0") as Env<TypedArray, TypedArray>, 3);
    expect(env.actionSpace.n).toBe(9);
    expect(Array.from(env.boxAction(0))).toEqual([-1, -1]);
    expect(Array.from(env.boxAction(5))).toEqual([0, 1]);
    expect(Array.from(env.boxAction(7))).toEqual([1, 0]);
    expect(Array.from(env.boxAction(8))).toEqual([1, 1]);
    expect(Array.from(new BoxActionGrid(make("PointMass-v0") as Env<TypedArray, TypedArray>, 5).boxAction(1))).toEqual([
      -1, -0.5,
    ]);
    const raw = make("PointMass-v0") as Env<TypedArray, TypedArray>;
    env.reset({ seed: 4 });
    raw.reset({ seed: 4 });
    for (const k of [2, 2, 6, 4]) expect(env.step(k)).toEqual(raw.step(env.boxAction(k)));
    expect(() => env.step(9)).toThrow(/invalid action 9: expected an integer in \[0, 8\]/);
    expect(() => new BoxActionGrid(make("Catch-v0") as never, 3)).toThrow(/bounded Box action space/);
    expect(() => new BoxActionGrid(make("PointMass-v0") as Env<TypedArray, TypedArray>, 1)).toThrow(/'values'/);
    expect(() => new BoxActionGrid(make("PointMass-v0") as Env<TypedArray, TypedArray>, 65)).toThrow(/4225 actions/);
  });
  it("FrameStack keeps the last k observations, oldest first, padded with the first", () => {
    const env = new FrameStack(make("Catch-v0"), 3);
    const [o0] = env.reset({ seed: 0 });
    expect(env.observationSpace.shape).toEqual([3, 10, 5, 1]);
    expect(Array.from(o0.subarray(0, 50))).toEqual(Array.from(o0.subarray(100, 150)));
    const [o1] = env.step(1);
    expect(Array.from(o1.subarray(50, 100))).toEqual(Array.from(o0.subarray(100, 150)));
    expect(env.observationSpace.contains(o1)).toBe(true);
  });
  it("Egocentric redraws the full view around the agent: centre, facing up, walls beyond the grid", () => {
    // GridEmpty 5x5: the agent starts at (1, 1) facing east, the goal at (3, 3).
    const env = new Egocentric(make("GridEmpty-v0", { size: 5 }));
    expect(env.observationSpace.shape).toEqual([9, 9, 3]);
    expect(Array.from(env.observationSpace.high.subarray(0, 3))).toEqual([10, 5, 3]); // the grid's own bounds
    const at = (o: TypedArray, fwd: number, right: number) => {
      const k = ((4 - fwd) * 9 + 4 + right) * 3;
      return Array.from(o.subarray(k, k + 3));
    };
    const [o0] = env.reset({ seed: 0 });
    expect(env.observationSpace.contains(o0)).toBe(true);
    expect(at(o0, 0, 0)).toEqual([10, 0, 0]); // the agent, facing up
    expect(at(o0, 2, 2)[0]).toBe(8); // the goal: 2 ahead (east), 2 to the right (south)
    expect(at(o0, 0, -1)[0]).toBe(2); // the border wall on its left (north)
    expect(at(o0, 4, 4)).toEqual([2, 5, 0]); // beyond the grid: grey wall
    const [o1] = env.step(2); // forward: the goal comes one cell nearer
    expect(at(o1, 1, 2)[0]).toBe(8);
    const [o2] = env.step(1); // turn right (now facing south): the goal 2 ahead, 1 to the left
    expect(at(o2, 2, -1)[0]).toBe(8);
    expect(at(o2, 0, 0)).toEqual([10, 0, 0]);
    expect(() => new Egocentric(make("Catch-v0"))).toThrow(/grid's full view/);
    // A partial view has the grid's shape but no agent cell to stand in.
    const partial = new Egocentric(make("GridEmpty-v0", { size: 5, view: "partial" }));
    expect(() => partial.reset({ seed: 0 })).toThrow(/shows no agent cell/);
  });
  it("FlattenObservation presents [size] observations", () => {
    const env = new FlattenObservation(make("Breakout-v0"));
    const [obs] = env.reset({ seed: 0 });
    expect(env.observationSpace.shape).toEqual([400]);
    expect(env.observationSpace.contains(obs)).toBe(true);
  });
  it("PixelObservation returns the rendered frame, resized and in grayscale on request", () => {
    const env = new PixelObservation(make("GridEmpty-v0"), { resize: [16, 16], grayscale: true });
    const [obs] = env.reset({ seed: 0 });
    expect(env.observationSpace.shape).toEqual([16, 16, 1]);
    expect(env.observationSpace.contains(obs)).toBe(true);
    const full = new PixelObservation(make("Catch-v0"));
    expect(full.observationSpace.shape).toEqual([80, 40, 3]);
    expect(Array.from(full.reset({ seed: 0 })[0])).toEqual(Array.from(full.render()!.data));
  });
  it("resizeFrame averages boxes of pixels", () => {
    const frame = { width: 2, height: 2, data: new Uint8Array([0, 0, 0, 100, 100, 100, 200, 200, 200, 100, 100, 100]) };
    expect(Array.from(resizeFrame(frame, 1, 1, 3))).toEqual([100, 100, 100]);
  });
  it("wrapper state round-trips through getState/setState", () => {
    const env = new FrameStack(new TimeLimit(new Catch(), 5), 2);
    env.reset({ seed: 0 });
    env.step(0);
    const saved = structuredClone(env.getState());
    const a = [env.step(2), env.step(2)].map((o) => [Array.from(o[0]), o[3]]);
    env.setState(saved);
    const b = [env.step(2), env.step(2)].map((o) => [Array.from(o[0]), o[3]]);
    expect(b).toEqual(a);
  });
  it("TimeLimit refuses to step past the limit", () => {
    const env = new TimeLimit(makeBare("GridEmpty-v0"), 2);
    env.reset({ seed: 0 });
    env.step(0);
    expect(env.step(0)[3]).toBe(true);
    expect(() => env.step(0)).toThrow(/truncated at 2 steps; call reset\(\)/);
  });
});
