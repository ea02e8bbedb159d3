import { describe, expect, it } from "vitest";
import { pairedWith, separatedFrom, type CiCell, type SeedCell } from "./whatThisShows.ts";

const cell = (group: string, method: string, mean: number, lo: number, hi: number): CiCell => ({
  group,
  method,
  metric: "acc@1",
  mean,
  lo,
  hi,
});

describe("separatedFrom", () => {
  it("sorts methods into higher, lower and undecided against the reference, per group", () => {
    const text = separatedFrom(
      [
        cell("Catch", "ref", 0.5, 0.45, 0.55),
        cell("Catch", "a", 0.7, 0.6, 0.8), // wholly above
        cell("Catch", "b", 0.3, 0.2, 0.44), // wholly below
        cell("Catch", "c", 0.52, 0.5, 0.6), // overlaps
        cell("Grid", "a", 0.9, 0.8, 1), // no reference in this group: left out
        cell("Catch", "d", Number.NaN, Number.NaN, Number.NaN), // no interval: left out
      ],
      "ref",
      "400 updates",
    ).join("\n");
    expect(text).toMatch(/At 400 updates, against ref/);
    expect(text).toMatch(
      /Higher than ref:\n {2}- Catch acc@1: a 0\.7000 \[0\.6000, 0\.8000\] vs 0\.5000 \[0\.4500, 0\.5500\] \(difference \+0\.2000\)\n-/,
    );
    expect(text).toMatch(/Lower than ref:\n {2}- Catch acc@1: b 0\.3000 .*\(difference -0\.2000\)\n-/);
    expect(text).toMatch(/Undecided \(intervals overlap\):\n {2}- Catch acc@1: c\n$/);
    expect(text).not.toMatch(/Grid|: d/);
  });
});

describe("pairedWith", () => {
  const runs = (method: string, values: number[], group = "Grid"): SeedCell[] =>
    values.map((value, seed) => ({ group, method, metric: "return", seed, value }));
  it("reads per-seed differences: a shift every seed shares is decided where the means' intervals overlap", () => {
    // The seeds differ by far more than the methods do; b beats ref by 0.10-0.12 on every seed (the
    // differences' sd 0.00837, t(4) 2.776: half-width 0.0104).
    const ref = [0.2, 0.5, 0.9, 0.3, 0.7];
    const text = pairedWith(
      [
        ...runs("ref", ref),
        ...runs("b", [0.3, 0.62, 1.0, 0.41, 0.81]),
        ...runs("c", [0.25, 0.4, 0.95, 0.25, 0.72]), // mixed signs
        ...runs("d", [0.1, 0.4, Number.NaN, 0.2, 0.6]), // 0.1 lower on the 4 seeds it has
        ...runs("e", [0.5], "Catch"), // no reference in this group: left out
      ],
      "ref",
      "3000 env steps",
    ).join("\n");
    expect(text).toMatch(/At 3000 env steps, against ref, paired by seed/);
    expect(text).toMatch(
      /Higher than ref:\n {2}- Grid return: b minus ref \+0\.1080 \[0\.09761, 0\.1184\] over 5 seeds\n-/,
    );
    expect(text).toMatch(
      /Lower than ref:\n {2}- Grid return: d minus ref -0\.1000 \[-0\.1000, -0\.1000\] over 4 seeds\n-/,
    );
    expect(text).toMatch(
      /Undecided \(the interval holds 0\):\n {2}- Grid return: c minus ref -0\.006000 \[-0\.08863, 0\.07663\]/,
    );
    expect(text).not.toMatch(/Catch|: e/);
  });
});
