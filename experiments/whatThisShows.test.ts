import { describe, expect, it } from "vitest";
import { separatedFrom, type CiCell } from "./whatThisShows.ts";

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
