// The stochastic variants (Catch `drift`, the grids' `slip`, Breakout's `stickyActions`, PointMass's
// `actionNoise`): they pass the env checker, are deterministic given the seed, differ between seeds,
// leave the deterministic envs' random stream alone, and are random with the documented probability
// (frequencies at a fixed seed, within 4 binomial standard deviations).
import { describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { checkEnv, make } from "./index.ts";
import { GridEmpty } from "./grid/empty.ts";
import { Breakout } from "./pixel/breakout.ts";
import { Catch } from "./pixel/catch.ts";
import { PointMass } from "./pixel/pointMass.ts";

const VARIANTS: [string, Record<string, unknown>][] = [
  ["Catch-v0", { drift: 0.3 }],
  ["GridEmpty-v0", { slip: 0.2 }],
  ["GridDoorKey-v0", { slip: 0.2 }],
  ["Breakout-v0", { stickyActions: 0.1 }],
  ["PointMass-v0", { actionNoise: 0.3, observation: "state" }],
];

/** Observations and rewards of `steps` random actions (action seed 7) after reset({seed}). */
function trajectory(id: string, options: Record<string, unknown>, seed: number, steps = 150): number[] {
  const env = make(id, options);
  env.actionSpace.seed(7);
  const [obs] = env.reset({ seed });
  const out = Array.from(obs as ArrayLike<number>);
  for (let t = 0; t < steps; t++) {
    const [o, r, terminated, truncated] = env.step(env.actionSpace.sample());
    out.push(...Array.from(o as ArrayLike<number>), r);
    if (terminated || truncated) out.push(...Array.from(env.reset()[0] as ArrayLike<number>));
  }
  return out;
}

/** |observed - p n| within 4 standard deviations of a binomial(n, p). */
function expectFrequency(hits: number, n: number, p: number): void {
  expect(n).toBeGreaterThan(300);
  expect(Math.abs(hits - p * n)).toBeLessThan(4 * Math.sqrt(n * p * (1 - p)));
}

describe("stochastic variants", () => {
  for (const [id, options] of VARIANTS) {
    it(`${id} ${JSON.stringify(options)}: passes checkEnv, same seed same run, other seed another`, () => {
      checkEnv(() => make(id, options));
      expect(trajectory(id, options, 3)).toEqual(trajectory(id, options, 3));
      expect(trajectory(id, options, 3)).not.toEqual(trajectory(id, options, 4));
    });
  }

  it("a probability of 0 leaves the deterministic env's random stream untouched (same runs as without the option)", () => {
    for (const [id, options] of VARIANTS) {
      const off = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, typeof v === "number" ? 0 : v]));
      const plain = Object.fromEntries(Object.entries(options).filter(([, v]) => typeof v !== "number"));
      expect(trajectory(id, off, 5)).toEqual(trajectory(id, plain, 5));
    }
  });

  it("Catch drift p: the ball moves sideways in a share p of its steps", () => {
    const env = new Catch({ drift: 0.3 });
    let moves = 0;
    let steps = 0;
    env.reset({ seed: 11 });
    for (let t = 0; t < 3000; t++) {
      const before = env.ballX;
      env.step(1);
      moves += +(env.ballX !== before);
      steps++;
      if (env.terminated) env.reset();
    }
    expectFrequency(moves, steps, 0.3);
  });

  it("grid slip p: away from walls, a forward move goes to a side cell in a share p of the moves, half each side", () => {
    const env = new GridEmpty({ size: 16, randomStart: true, slip: 0.2 });
    const rng = new Rng(5);
    const dx = [1, 0, -1, 0];
    const dy = [0, 1, 0, -1];
    let slips = 0;
    let left = 0;
    let moves = 0;
    env.reset({ seed: 12 });
    for (let t = 0; t < 6000 && moves < 2000; t++) {
      const [x, y, d] = [env.agentX, env.agentY, env.agentDir];
      const interior = x >= 2 && x <= 13 && y >= 2 && y <= 13;
      // Turn at random, otherwise go forward (only interior moves are counted: every side cell is free).
      const action = rng.float() < 0.4 ? rng.int(2) : 2;
      env.step(action);
      if (env.terminated) {
        env.reset();
        continue;
      }
      if (action !== 2 || !interior) continue;
      moves++;
      const [mx, my] = [env.agentX - x, env.agentY - y];
      if (mx === dx[d] && my === dy[d]) continue;
      slips++;
      const l = (d + 3) & 3;
      left += +(mx === dx[l] && my === dy[l]);
      expect(env.agentDir).toBe(d); // a slip keeps the facing
    }
    expectFrequency(slips, moves, 0.2);
    expectFrequency(left, slips, 0.5);
  });

  it("Breakout sticky actions p: the previous action is repeated in a share p of the steps", () => {
    const env = new Breakout({ stickyActions: 0.25 });
    let repeated = 0;
    let counted = 0;
    env.reset({ seed: 13 });
    let previous = 1;
    for (let t = 0; t < 4000; t++) {
      // Alternate left and right: a sticky step moves the paddle the previous way (edges excluded).
      const action = previous === 1 ? 2 : 1;
      const before = env.paddleX;
      env.step(action);
      if (before > 0 && before < 9 && env.paddleX !== before) {
        counted++;
        repeated += +((env.paddleX - before > 0 ? 2 : 1) === previous);
      }
      previous = env.paddleX > before ? 2 : env.paddleX < before ? 1 : action;
      if (env.terminated) env.reset();
    }
    expectFrequency(repeated, counted, 0.25);
  });

  it("PointMass actionNoise s: the force applied differs from the action by N(0, s^2)", () => {
    const s = 0.2;
    const env = new PointMass({ observation: "state", actionNoise: s });
    const { damping, force } = env.options;
    const noise: number[] = [];
    env.reset({ seed: 14 });
    for (let t = 0; t < 1000; t++) {
      const before = [env.vel[0]!, env.vel[1]!];
      env.step([0, 0]);
      for (let i = 0; i < 2; i++)
        if (Math.abs(env.pos[i]!) < 1) noise.push((env.vel[i]! - damping * before[i]!) / force); // walls zero it
      if (t % 100 === 99) env.reset();
    }
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const sd = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / (noise.length - 1));
    expect(Math.abs(mean)).toBeLessThan((4 * s) / Math.sqrt(noise.length));
    expect(sd).toBeGreaterThan(0.9 * s);
    expect(sd).toBeLessThan(1.1 * s);
  });
});
