// Every registered env, the stochastic variants (CatchDrift-v0, ...) included: the env checker, a
// golden-frame test, determinism and a fuzz test (envs/stochastic.test.ts has their frequency tests).
// Golden frames: UPDATE_GOLDEN=1 npx vitest run envs/suite.test.ts rewrites envs/__golden__/*.png.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pixelmatch from "pixelmatch";
import { describe, expect, it } from "vitest";
import { decodePng, hstack, writePng } from "../common/png.ts";
import { Rng } from "../common/rng.ts";
import { Box, Discrete, EnvError, make, makeBare, registeredIds, runEnvChecks, type Frame } from "./index.ts";

const GOLDEN_DIR = join(import.meta.dirname, "__golden__");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** The fixed action list of each golden strip. */
function goldenActions(id: string): unknown[] {
  if (id.startsWith("PointMass"))
    return [
      [1, 0],
      [1, 0.5],
      [0, 1],
      [-0.5, 1],
      [0, 0],
      [-1, -1],
    ];
  if (id.startsWith("GridDoorKey")) return [3, 0, 2, 3, 1, 2];
  return [2, 2, 1, 2, 0, 2];
}

function goldenStrip(id: string): Frame {
  const env = make(id);
  env.reset({ seed: 0 });
  const frames = [env.render()!];
  for (const a of goldenActions(id)) {
    const [, , terminated, truncated] = env.step(a);
    frames.push(env.render()!);
    if (terminated || truncated) break;
  }
  return hstack(frames);
}

describe.each(registeredIds())("%s", (id) => {
  it("passes every check of checkEnv", () => {
    const failed = runEnvChecks(() => make(id)).filter((r) => !r.passed);
    expect(failed).toEqual([]);
  });

  it("renders the golden frames after reset({seed: 0}) and a fixed action list (0 differing pixels)", () => {
    const path = join(GOLDEN_DIR, `${id}.png`);
    const strip = goldenStrip(id);
    if (UPDATE) writePng(path, strip);
    expect(existsSync(path), `missing ${path}; run with UPDATE_GOLDEN=1 once and commit it`).toBe(true);
    const golden = decodePng(readFileSync(path));
    expect([strip.width, strip.height]).toEqual([golden.width, golden.height]);
    const rgba = (f: Frame) => {
      const out = new Uint8Array(f.width * f.height * 4).fill(255);
      for (let i = 0; i < f.width * f.height; i++) out.set(f.data.subarray(i * 3, i * 3 + 3), i * 4);
      return out;
    };
    expect(pixelmatch(rgba(strip), rgba(golden), undefined, strip.width, strip.height, { threshold: 0 })).toBe(0);
  });

  it("two runs with one seed are equal, step for step", () => {
    const run = () => {
      const env = make(id);
      env.actionSpace.seed(7);
      const trace: unknown[] = [Array.from(env.reset({ seed: 123 })[0])];
      for (let t = 0; t < 300; t++) {
        const [obs, r, term, trunc] = env.step(env.actionSpace.sample());
        trace.push(Array.from(obs), r, term, trunc);
        if (term || trunc) trace.push(Array.from(env.reset()[0]));
      }
      return trace;
    };
    expect(run()).toEqual(run());
  });

  it("different seeds give different episodes", () => {
    const first = (seed: number) => {
      const env = make(id);
      env.actionSpace.seed(0);
      const obs = [Array.from(env.reset({ seed })[0])];
      for (let t = 0; t < 20; t++) {
        const [o, , term, trunc] = env.step(env.actionSpace.sample());
        obs.push(Array.from(o));
        if (term || trunc) break;
      }
      return JSON.stringify(obs);
    };
    const distinct = new Set([0, 1, 2, 3, 4, 5].map(first));
    // GridEmpty and GridLavaGap's start is fixed, but the action samples differ in effect only through
    // the env's randomness; LavaGap's gap and every other env's layout depend on the seed.
    expect(distinct.size).toBeGreaterThan(id === "GridEmpty-v0" ? 0 : 1);
  });

  it("fuzz: thousands of random and invalid actions give only the documented errors", () => {
    const env = make(id);
    const rng = new Rng(99);
    env.actionSpace.seed(99);
    const invalid = invalidActions(env.actionSpace);
    env.reset({ seed: 5 });
    let episodes = 0;
    for (let t = 0; t < 3000; t++) {
      if (rng.float() < 0.1) {
        const bad = invalid[rng.int(invalid.length)];
        expect(() => env.step(bad)).toThrow(new RegExp(`^${id}\\.step: invalid action .*expected`));
        continue;
      }
      const [obs, reward, term, trunc] = env.step(env.actionSpace.sample());
      expect(env.observationSpace.contains(obs)).toBe(true);
      expect(Number.isFinite(reward)).toBe(true);
      if (term || trunc) {
        expect(() => env.step(env.actionSpace.sample())).toThrow(EnvError);
        env.reset();
        episodes++;
      }
    }
    expect(episodes).toBeGreaterThanOrEqual(0);
  });
});

function invalidActions(space: unknown): unknown[] {
  const common = [NaN, undefined, null, "1", {}, Infinity];
  if (space instanceof Discrete) return [...common, -1, space.n, 1.5, [0]];
  if (space instanceof Box)
    return [...common, [NaN, 0], [0], [0, 0, 0], [2, 0], [0, -1.01], new Float32Array([Infinity, 0])];
  return common;
}

describe("bare envs", () => {
  it("step before reset names the env and the fix", () => {
    expect(() => makeBare("Catch-v0").step(1)).toThrow(/^Catch-v0\.step: call reset\(\) before step\(\)/);
  });
  it("step after termination throws until reset", () => {
    const env = makeBare("Catch-v0");
    env.reset({ seed: 0 });
    for (let t = 0; t < 9; t++) env.step(1);
    expect(() => env.step(1)).toThrow(/Catch-v0\.step: the episode has terminated; call reset\(\)/);
  });
});
