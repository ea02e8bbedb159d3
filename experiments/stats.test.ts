import { describe, expect, it } from "vitest";
import { bootstrapCi, ci95, groupBy, iqm, mean, std, wilsonCi } from "./stats.ts";

describe("stats", () => {
  it("mean, sample std and the t-based 95% CI", () => {
    const xs = [1, 2, 3, 4];
    expect(mean(xs)).toBe(2.5);
    expect(std(xs)).toBeCloseTo(1.2909944, 6);
    expect(ci95(xs)).toBeCloseTo((3.182 * 1.2909944) / 2, 5);
    expect(ci95([5])).toBe(0);
  });
  it("IQM is the mean of the middle half, with fractional weights", () => {
    expect(iqm([1, 2, 3, 4, 5, 6, 7, 8])).toBe(4.5);
    expect(iqm([0, 100, 1, 2])).toBe(1.5);
    expect(iqm([0, 1, 2, 3, 4, 5])).toBeCloseTo(2.5, 12);
  });
  it("groupBy keeps insertion order", () => {
    expect([...groupBy([1, 2, 3, 4], (x) => (x % 2 ? "odd" : "even")).keys()]).toEqual(["odd", "even"]);
  });
  it("the bootstrap CI brackets the mean, is reproducible, and shrinks with more data", () => {
    const xs = [0.1, 0.4, 0.35, 0.8, 0.2, 0.55];
    const [lo, hi] = bootstrapCi(xs, 1);
    expect(lo).toBeLessThan(mean(xs));
    expect(hi).toBeGreaterThan(mean(xs));
    expect(bootstrapCi(xs, 1)).toEqual([lo, hi]);
    const many = Array.from({ length: 60 }, (_, i) => xs[i % 6]!);
    const [lo2, hi2] = bootstrapCi(many, 1);
    expect(hi2 - lo2).toBeLessThan(hi - lo);
  });
  it("gives Wilson's 95% interval for a success rate (published values; not empty at 0 or n)", () => {
    const near = ([lo, hi]: [number, number], [a, b]: [number, number]) => {
      expect(lo).toBeCloseTo(a, 4);
      expect(hi).toBeCloseTo(b, 4);
    };
    near(wilsonCi(6, 10), [0.3127, 0.8318]);
    near(wilsonCi(10, 10), [0.7225, 1]);
    near(wilsonCi(0, 10), [0, 0.2775]);
    near(wilsonCi(81, 263), [0.2553, 0.3662]);
  });
});
