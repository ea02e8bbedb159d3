// Bad input to setState and to the vector env's step is refused with an EnvError that names the
// field or env, the value and what was expected, and nothing changes.
import { describe, expect, it } from "vitest";
import { EnvError, makeBare, makeVec, type ArrayEnv } from "../index.ts";

describe("setState refuses states that are not this env's, naming the field", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["Catch-v0", { ball: [7, 3] }, /'ball' must be 2 integers in \[0, 4\] x \[0, 9\], got \[7, 3\]/],
    ["Catch-v0", { ball: [NaN, 1] }, /'ball' must be 2 integers/],
    ["Catch-v0", { paddleX: "2" }, /'paddleX' must be an integer in \[0, 4\], got "2"/],
    ["Catch-v0", { elapsed: -3 }, /'elapsed' must be an integer in \[0, /],
    ["Catch-v0", { rng: [0, 0, 0, 0] }, /'rng' must not be all zeros/],
    ["Catch-v0", { terminated: true }, /'terminated' \(true\) contradicts 'phase' \("running"\)/],
    [
      "GridEmpty-v0",
      { agent: [50, 50, 0] },
      /'agent' must be 3 integers in \[0, 7\] x \[0, 7\] x \[0, 3\], got \[50, 50, 0\]/,
    ],
    ["PointMass-v0", { pos: [0.1, Infinity] }, /'pos' must be 2 finite numbers in \[-1, 1\]/],
    ["Breakout-v0", { strike: 1 }, /'strike' must be true or false, got 1/],
  ];
  it.each(cases)("%s with %j", (id, change, message) => {
    const env = makeBare(id) as unknown as ArrayEnv;
    env.reset({ seed: 0 });
    const good = env.getState();
    const before = Array.from(env.observe());
    expect(() => env.setState({ ...good, ...change })).toThrow(EnvError);
    expect(() => env.setState({ ...good, ...change })).toThrow(message);
    expect(Array.from(env.observe()), "the env keeps its state").toEqual(before);
    env.setState(good); // and the good state still loads
  });
  it("a Breakout state on Catch names Catch's first missing field", () => {
    const breakout = makeBare("Breakout-v0");
    breakout.reset({ seed: 0 });
    const env = makeBare("Catch-v0");
    env.reset({ seed: 0 });
    expect(() => env.setState(breakout.getState())).toThrow(/Catch-v0.setState: 'ball' must be 2 integers .* got \[/);
    expect(() => env.setState(null as never)).toThrow(/expected a state object from getState\(\), got null/);
  });
});

describe("SyncVectorEnv.step checks every action before stepping any env", () => {
  it("an invalid action for env 3 leaves envs 0-2 unstepped", () => {
    const vec = makeVec("Catch-v0", 4);
    const [obs] = vec.reset({ seed: 0 });
    const states = vec.envs.map((e) => JSON.stringify(e.getState()));
    expect(() => vec.step([1, 1, 1, 5])).toThrow(/invalid action for env 3: 5: .*no env was stepped/);
    expect(vec.envs.map((e) => JSON.stringify(e.getState()))).toEqual(states);
    const [next] = vec.step([1, 1, 1, 1]);
    expect(next.length).toBe(obs.length);
  });
});
