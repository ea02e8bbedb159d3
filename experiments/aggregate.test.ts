import { describe, expect, it } from "vitest";
import {
  aggregateIqm,
  aggregateMean,
  aggregateMedian,
  aggregates,
  normalizeScore,
  optimalityGap,
  performanceProfile,
  probabilityOfImprovement,
  probabilityOfImprovementCi,
  stratifiedBootstrap,
} from "./aggregate.ts";

describe("aggregate statistics (hand-computed cases)", () => {
  it("normalises random to 0 and the oracle to 1, and refuses a task without scale", () => {
    expect(normalizeScore(5, 1, 9)).toBe(0.5);
    expect(normalizeScore(-1, -1, 3)).toBe(0);
    expect(() => normalizeScore(1, 2, 2)).toThrow(/equals the random policy's/);
  });

  it("IQM, mean, median and optimality gap", () => {
    const s = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ];
    expect(aggregateIqm(s)).toBe(4.5); // the middle four of 1..8
    expect(aggregateIqm([[0, 0, 0, 100, 1, 1, 1, 1]])).toBe(0.75); // 0, 1, 1, 1: the outlier is cut
    expect(aggregateMean(s)).toBe(4.5);
    expect(aggregateMedian([[0], [1, 3], [10]])).toBe(2);
    expect(aggregateMedian([[0], [1], [3], [10]])).toBe(2);
    expect(
      optimalityGap([
        [0.5, 1.5],
        [0, 1],
      ]),
    ).toBeCloseTo(0.375, 12);
  });

  it("probability of improvement counts ties as half and averages over tasks", () => {
    expect(probabilityOfImprovement([[1, 2]], [[1, 0]])).toBe(3.5 / 4);
    expect(probabilityOfImprovement([[1, 2], [0]], [[1, 0], [1]])).toBe(3.5 / 8);
    expect(probabilityOfImprovement([[3, 3]], [[3, 3]])).toBe(0.5);
    expect(() => probabilityOfImprovement([[1]], [[1], [2]])).toThrow(/1 tasks vs 2/);
  });

  it("the performance profile is the fraction of runs x tasks above each tau", () => {
    expect(performanceProfile([[0, 0.5], [1]], [-1, 0, 0.5, 1])).toEqual([1, 2 / 3, 1 / 3, 0]);
  });
});

describe("stratified bootstrap", () => {
  it("resamples runs within each task only: one run per task leaves nothing to vary", () => {
    // An unstratified bootstrap over the pooled scores would draw [0, 0] or [10, 10] here.
    const [ci] = stratifiedBootstrap([[0], [10]], (s) => [aggregateMean(s)]);
    expect(ci).toEqual({ point: 5, lo: 5, hi: 5 });
  });

  it("gives the percentile interval of the resampled statistic", () => {
    // Mean of two runs {0, 1}: resampled means are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4.
    const [ci] = stratifiedBootstrap([[0, 1]], (s) => [aggregateMean(s)], { seed: 3, reps: 4000 });
    expect(ci).toEqual({ point: 0.5, lo: 0, hi: 1 });
    const [narrow] = stratifiedBootstrap([[0, 1]], (s) => [aggregateMean(s)], { seed: 3, reps: 4000, size: 0.4 });
    expect(narrow).toEqual({ point: 0.5, lo: 0.5, hi: 0.5 });
  });

  it("is reproducible from its seed and brackets the point estimate", () => {
    const s = [
      [0.1, 0.4, 0.35, 0.8, 0.6],
      [0.9, 0.2, 0.5, 0.45, 0.7],
    ];
    const a = aggregates(s, { seed: 1 });
    expect(aggregates(s, { seed: 1 })).toEqual(a);
    expect(aggregates(s, { seed: 2 }).iqm).not.toEqual(a.iqm);
    for (const v of Object.values(a)) {
      expect(v.lo).toBeLessThanOrEqual(v.point);
      expect(v.hi).toBeGreaterThanOrEqual(v.point);
      expect(v.hi).toBeGreaterThan(v.lo);
    }
  });

  it("P(X > Y) is certain when every run of X beats every run of Y, and 1/2 against itself", () => {
    expect(probabilityOfImprovementCi([[2, 3], [1]], [[0, 1], [0]])).toEqual({ point: 1, lo: 1, hi: 1 });
    const self = probabilityOfImprovementCi([[0, 1, 2]], [[0, 1, 2]], { seed: 4 });
    expect(self.point).toBe(0.5);
    expect(self.lo).toBeLessThan(0.5);
    expect(self.hi).toBeGreaterThan(0.5);
  });

  it("names an empty task or a non-finite score", () => {
    expect(() => aggregates([[1], []])).toThrow(/task 1 has no runs/);
    expect(() => aggregates([[1, Number.NaN]])).toThrow(/task 0 has a score that is not finite/);
  });
});
