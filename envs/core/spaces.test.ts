import { describe, expect, it } from "vitest";
import { Box, Dict, Discrete, MultiDiscrete, Tuple, spaceFromJSON } from "./spaces.ts";

describe("Discrete", () => {
  it("samples every value in [start, start + n) and nothing else", () => {
    const s = new Discrete(4, 2, 0);
    const seen = new Set(Array.from({ length: 400 }, () => s.sample()));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });
  it("explains non-members with the expected range", () => {
    const s = new Discrete(3);
    expect(s.contains(2)).toBe(true);
    expect(s.explain(3)).toMatch(/in \[0, 2\], got 3/);
    expect(s.explain(1.5)).toMatch(/integer/);
    expect(s.explain(NaN)).toMatch(/integer/);
    expect(s.explain("1")).toMatch(/integer/);
  });
  it("seed 0 is deterministic and differs from seed 1", () => {
    const draw = (seed: number) => {
      const s = new Discrete(1000, 0, seed);
      return [s.sample(), s.sample(), s.sample()];
    };
    expect(draw(0)).toEqual(draw(0));
    expect(draw(0)).not.toEqual(draw(1));
  });
  it("rejects n < 1", () => {
    expect(() => new Discrete(0)).toThrow(/'n' must be a positive integer, got 0/);
  });
});

describe("Box", () => {
  it("bounded float samples lie within bounds", () => {
    const b = new Box(-1, 1, [3, 2], "float32", 0);
    for (let i = 0; i < 200; i++) expect(b.contains(b.sample())).toBe(true);
  });
  it("integer boxes sample both end points", () => {
    const b = new Box(0, 2, [1], "uint8", 0);
    const seen = new Set(Array.from({ length: 300 }, () => b.sample()[0]));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
  it("unbounded boxes sample finite values", () => {
    const b = new Box(-Infinity, Infinity, [5], "float64", 1);
    expect(b.sample().every(Number.isFinite)).toBe(true);
    expect(b.isBounded()).toBe(false);
  });
  it("explains wrong length, NaN, bounds and non-integers", () => {
    const b = new Box(0, 1, [2], "float32");
    expect(b.explain([0.5])).toMatch(/expected 2 values/);
    expect(b.explain([0.5, NaN])).toMatch(/value 1: expected a number in \[0, 1\], got NaN/);
    expect(b.explain([0.5, 2])).toMatch(/value 1: expected a number in \[0, 1\], got 2/);
    expect(new Box(0, 5, [1], "uint8").explain([1.5])).toMatch(/integer/);
    expect(b.explain(3)).toMatch(/expected an array/);
  });
  it("refuses low > high and bounds outside the dtype", () => {
    expect(() => new Box(1, 0, [1])).toThrow(/'low' must be <= 'high'/);
    expect(() => new Box(0, 300, [1], "uint8")).toThrow(/do not fit dtype uint8/);
  });
});

describe("composite spaces and JSON", () => {
  it("MultiDiscrete, Tuple and Dict sample members", () => {
    const md = new MultiDiscrete([2, 3], 0);
    const t = new Tuple([new Discrete(2), new Box(0, 1, [2])], 0);
    const d = new Dict({ a: new Discrete(3), b: md }, 0);
    for (const s of [md, t, d]) expect(s.contains(s.sample())).toBe(true);
    expect(d.explain({ a: 1 })).toMatch(/missing key 'b'/);
    expect(t.explain([0, [2, 0]])).toMatch(/element 1: value 0: expected a number in \[0, 1\], got 2/);
  });
  it("round-trips through JSON", () => {
    const spaces = [
      new Discrete(5, 1),
      new Box([0, -1], [1, 1], [2], "float64"),
      new MultiDiscrete([4, 2]),
      new Tuple([new Discrete(2)]),
      new Dict({ x: new Box(0, 255, [2, 2, 3], "uint8") }),
    ];
    for (const s of spaces) expect(spaceFromJSON(s.toJSON()).toJSON()).toEqual(s.toJSON());
  });
});
