import { describe, expect, it } from "vitest";
import { Breakout, Catch, PointMass } from "../index.ts";

describe("Catch", () => {
  it("a paddle that follows the ball catches it (+1); one that runs away misses (-1)", () => {
    const play = (follow: boolean) => {
      const env = new Catch();
      env.reset({ seed: 3 });
      let out: ReturnType<Catch["step"]>;
      do {
        const dx = Math.sign(env.ballX - env.paddleX);
        out = env.step(follow ? dx + 1 : env.ballX >= 2 ? 0 : 2);
      } while (!out[2]);
      return out[1];
    };
    expect(play(true)).toBe(1);
    expect(play(false)).toBe(-1);
  });
  it("episodes last rows - 1 steps", () => {
    const env = new Catch({ rows: 6 });
    env.reset({ seed: 0 });
    let steps = 0;
    while (!env.step(1)[2]) steps++;
    expect(steps + 1).toBe(5);
  });
  it("the observation has exactly the ball and the paddle set", () => {
    const env = new Catch();
    const [obs] = env.reset({ seed: 1 });
    expect(Array.from(obs).reduce((a, b) => a + b, 0)).toBe(2);
    expect(obs[45 + env.paddleX]).toBe(1);
    expect(obs[env.ballX]).toBe(1);
  });
});

describe("Breakout", () => {
  it("starts with 30 bricks, the ball at row 3 and the paddle at column 4", () => {
    const env = new Breakout();
    const [obs] = env.reset({ seed: 0 });
    const channel = (c: number) => Array.from({ length: 100 }, (_, i) => obs[i * 4 + c]);
    expect(channel(3).reduce((a, b) => a! + b!, 0)).toBe(30);
    expect(env.ballY).toBe(3);
    expect(channel(0).indexOf(1)).toBe(94);
  });
  it("a tracking paddle breaks bricks and earns reward before the ball is lost", () => {
    const env = new Breakout();
    env.reset({ seed: 0 });
    let total = 0;
    for (let t = 0; t < 400; t++) {
      const a = env.ballX < env.paddleX ? 1 : env.ballX > env.paddleX ? 2 : 0;
      const [, r, term] = env.step(a);
      total += r;
      if (term) break;
    }
    expect(total).toBeGreaterThan(3);
  });
  it("an idle paddle loses the ball and terminates", () => {
    const env = new Breakout();
    env.reset({ seed: 1 });
    let t = 0;
    while (!env.step(0)[2]) expect(++t).toBeLessThan(200);
  });
  it("sticky actions repeat the previous action with the given probability", () => {
    const moves = (p: number) => {
      const env = new Breakout({ stickyActions: p });
      env.reset({ seed: 0 });
      env.step(2); // paddle 4 -> 5
      let left = 0;
      for (let t = 0; t < 5; t++) {
        const before = env.paddleX;
        env.step(1);
        left += +(env.paddleX < before);
        if (env.terminated) break;
      }
      return left;
    };
    expect(moves(0)).toBeGreaterThan(0);
    expect(moves(1)).toBe(0);
  });
});

describe("PointMass", () => {
  it("pushing towards the target raises the reward to 1", () => {
    const env = new PointMass({ observation: "state" });
    env.reset({ seed: 2 });
    let r = 0;
    for (let t = 0; t < 100; t++) {
      const dx = env.target[0]! - env.pos[0]! - 3 * env.vel[0]!;
      const dy = env.target[1]! - env.pos[1]! - 3 * env.vel[1]!;
      const clip = (v: number) => Math.max(-1, Math.min(1, 5 * v));
      r = env.step([clip(dx), clip(dy)])[1];
    }
    expect(r).toBe(1);
  });
  it("walls stop the point inside [-1, 1]^2", () => {
    const env = new PointMass({ observation: "state" });
    env.reset({ seed: 0 });
    for (let t = 0; t < 50; t++) env.step([1, -1]);
    expect([env.pos[0], env.pos[1]]).toEqual([1, -1]);
  });
  it("pixel observations show the point and the target as discs of coverage", () => {
    const env = new PointMass({ imageSize: 32 });
    const [obs] = env.reset({ seed: 0 });
    const mass = (c: number) =>
      Array.from({ length: 1024 }, (_, i) => obs[i * 2 + c]!).reduce((a, b) => a + b, 0) / 255;
    // Disc area in pixels: pi (r * 16)^2.
    expect(mass(0)).toBeCloseTo(Math.PI * (0.08 * 16) ** 2, 0);
    expect(mass(1)).toBeCloseTo(Math.PI * (0.15 * 16) ** 2, 0);
  });
  it("refuses actions outside [-1, 1] instead of clamping them", () => {
    const env = new PointMass();
    env.reset({ seed: 0 });
    expect(() => env.step([1.5, 0])).toThrow(
      /PointMass-v0\.step: invalid action \[1\.5, 0\]: value 0: expected a number in \[-1, 1\], got 1\.5/,
    );
  });
});
