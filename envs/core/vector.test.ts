import { describe, expect, it } from "vitest";
import { RecordEpisodeStatistics, SyncVectorEnv, make, makeBare, makeVec } from "../index.ts";
import type { Env, TypedArray } from "../index.ts";

describe("SyncVectorEnv", () => {
  it("batches observations as [n, ...shape] and matches single envs step for step", () => {
    const vec = makeVec("Catch-v0", 3);
    const singles = [0, 1, 2].map(() => makeBare("Catch-v0"));
    const [obs] = vec.reset({ seed: 10 });
    expect(vec.observationSpace.shape).toEqual([3, 10, 5, 1]);
    singles.forEach((e, i) =>
      expect(Array.from(obs.subarray(i * 50, (i + 1) * 50))).toEqual(Array.from(e.reset({ seed: 10 + i })[0])),
    );
    const [o2, r2] = vec.step([0, 1, 2]);
    singles.forEach((e, i) => {
      const [o, r] = e.step(i);
      expect(Array.from(o2.subarray(i * 50, (i + 1) * 50))).toEqual(Array.from(o));
      expect(r2[i]).toBe(r);
    });
  });

  it("next-step autoreset: the call after the end resets, reward 0, flags false", () => {
    const vec = makeVec("Catch-v0", 2);
    vec.reset({ seed: 0 });
    let out = vec.step([1, 1]);
    for (let t = 1; t < 9; t++) out = vec.step([1, 1]);
    expect(Array.from(out[2])).toEqual([1, 1]);
    const after = vec.step([0, 0]);
    expect(Array.from(after[1])).toEqual([0, 0]);
    expect(Array.from(after[2])).toEqual([0, 0]);
    // The reset observation: the ball back on the top row.
    expect(Array.from(after[0].subarray(0, 5)).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("same-step autoreset: final_obs and final_info hold the last step; obs is the new episode", () => {
    const vec = new SyncVectorEnv([() => make("Catch-v0"), () => make("Catch-v0")], { autoresetMode: "same-step" });
    vec.reset({ seed: 0 });
    let out = vec.step([1, 1]);
    for (let t = 1; t < 9; t++) out = vec.step([1, 1]);
    const info = out[4] as { final_obs: TypedArray[]; _final_obs: boolean[]; final_info: unknown[] };
    expect(info._final_obs).toEqual([true, true]);
    expect(Array.from(info.final_obs[0]!.subarray(45, 50)).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(Array.from(out[0].subarray(0, 5)).reduce((a, b) => a + b, 0)).toBe(1);
    expect(() => vec.step([1, 1])).not.toThrow();
  });

  it("disabled autoreset: envs stay ended until reset({resetMask})", () => {
    const vec = makeVec("Catch-v0", 2, {}, { autoresetMode: "disabled" });
    vec.reset({ seed: 0 });
    for (let t = 0; t < 9; t++) vec.step([1, 1]);
    expect(() => vec.step([1, 1])).toThrow(
      /env 0 ended \(terminated or truncated\) and autoresetMode is "disabled": reset it/,
    );
    vec.reset({ resetMask: [true, true] });
    expect(() => vec.step([1, 1])).not.toThrow();
  });

  // Gymnasium's TimeLimit sets truncated = elapsed >= max_episode_steps whatever terminated says.
  it("reports terminated and truncated together when the episode ends on the limit step, as Gymnasium (bare and make() paths)", () => {
    const bare = makeVec("Catch-v0", 1, {}, { maxEpisodeSteps: 9 });
    const made = new SyncVectorEnv([() => make("Catch-v0", { maxEpisodeSteps: 9 })]);
    for (const vec of [bare, made]) {
      vec.reset({ seed: 0 });
      let out = vec.step([1]);
      for (let t = 1; t < 9; t++) out = vec.step([1]);
      expect([out[2][0], out[3][0]]).toEqual([1, 1]);
    }
  });

  // Gymnasium asserts that no ended sub-env is stepped in "disabled" mode; a vector limit ends one too.
  it("disabled autoreset refuses to step an env cut by the vector env's step limit, as Gymnasium", () => {
    const vec = makeVec("PointMass-v0", 2, {}, { autoresetMode: "disabled", maxEpisodeSteps: 3 });
    vec.reset({ seed: 0 });
    let trunc: Uint8Array = new Uint8Array(2);
    for (let t = 0; t < 3; t++) [, , , trunc] = vec.step(new Float32Array(4));
    expect(Array.from(trunc)).toEqual([1, 1]);
    expect(() => vec.step(new Float32Array(4))).toThrow(/env 0 ended/);
    vec.reset({ resetMask: [1, 1] });
    expect(() => vec.step(new Float32Array(4))).not.toThrow();
  });

  // Gymnasium 1.x: infos["final_info"] is itself a dict of arrays with `_key` masks.
  it("same-step final_info is a dict of arrays with _key masks, as Gymnasium 1.x", () => {
    // Only env 0 reports episode statistics: final_info.episode is set for it and null (mask false) for env 1.
    const vec = new SyncVectorEnv([() => new RecordEpisodeStatistics(make("Catch-v0")), () => make("Catch-v0")], {
      autoresetMode: "same-step",
    });
    vec.reset({ seed: 0 });
    let info: Record<string, unknown> = {};
    for (let t = 0; t < 9; t++) info = vec.step([1, 1])[4];
    expect(info._final_obs).toEqual([true, true]);
    expect(info._final_info).toEqual([true, true]);
    const final = info.final_info as { episode: ({ l: number } | null)[]; _episode: boolean[] };
    expect(final._episode).toEqual([true, false]);
    expect(final.episode[0]!.l).toBe(9);
    expect(final.episode[1]).toBeNull();
  });

  it("truncates bare envs at the registered limit", () => {
    const vec = makeVec("PointMass-v0", 2);
    vec.reset({ seed: 0 });
    let trunc: Uint8Array = new Uint8Array(2);
    for (let t = 0; t < 100; t++) [, , , trunc] = vec.step(new Float32Array(4));
    expect(Array.from(trunc)).toEqual([1, 1]);
  });

  it("accepts Box actions flat or per env, and refuses the wrong count", () => {
    const vec = makeVec("PointMass-v0", 2, { observation: "state" });
    vec.reset({ seed: 0 });
    expect(() =>
      vec.step([
        [1, 0],
        [0, 1],
      ]),
    ).not.toThrow();
    expect(() => vec.step([1, 0, 0, 1])).not.toThrow();
    expect(() => vec.step([1, 0, 0])).toThrow(/SyncVectorEnv\.step: expected 2 actions or 4 values, got 3/);
    expect(() =>
      vec.step([
        [5, 0],
        [0, 1],
      ]),
    ).toThrow(/invalid action for env \d: \[5, 0\]/);
  });

  it("copy: false returns the live buffers (no allocation); copy: true returns copies", () => {
    const live = makeVec("Catch-v0", 2, {}, { copy: false });
    const a = live.reset({ seed: 0 })[0];
    expect(live.step([1, 1])[0]).toBe(a);
    const copied = makeVec("Catch-v0", 2);
    const b = copied.reset({ seed: 0 })[0];
    expect(copied.step([1, 1])[0]).not.toBe(b);
  });

  it("refuses envs with different spaces", () => {
    const fns = [() => makeBare("Catch-v0"), () => makeBare("Catch-v0", { rows: 8 })] as (() => Env<
      TypedArray,
      number
    >)[];
    expect(() => new SyncVectorEnv(fns)).toThrow(/all envs must share spaces/);
  });
});
