// "What this shows" across a sweep's grid points, on a hand-made comparison table.
import { describe, expect, it } from "vitest";
import { gridFindings } from "./compare.ts";

const row = (
  codebook: string,
  env: string,
  mode: string,
  spearman: number,
  ci: string,
  ret: number,
  retCi: string,
) => ({
  "agent.worldModel.codebook": codebook,
  env,
  mode,
  seeds: 3,
  "Spearman vs oracle": spearman,
  "Spearman seeds": 3,
  "Spearman CI": ci,
  return: ret,
  "return CI": retCi,
  "codes / states": codebook === "fsq" ? "12 / 14" : "13 / 14", // text after the metrics: not a series label
});

describe("gridFindings", () => {
  it("compares every grid point with the first, per series and metric with a CI column", () => {
    const lines = gridFindings(
      [
        row("fsq", "Catch-v0", "expected", 0.8, "[0.70, 0.90]", 0.5, "[0.20, 0.80]"),
        row("fsq", "Catch-v0", "sample", 0.6, "[0.50, 0.70]", 0.4, "[0.10, 0.70]"),
        row("permuted", "Catch-v0", "expected", 0.3, "[0.20, 0.40]", 0.6, "[0.30, 0.90]"),
        row("permuted", "Catch-v0", "sample", 0.65, "[0.55, 0.75]", 0.95, "[0.90, 1.00]"),
      ],
      ["agent.worldModel.codebook"],
    ).join("\n");
    expect(lines).toContain("## What this shows");
    expect(lines).toContain("the grid point agent.worldModel.codebook = fsq");
    // Separated: expected's Spearman drops, sample's return rises; the rest overlap.
    expect(lines).toMatch(
      /Lower than fsq:\n {2}- Catch-v0 expected Spearman vs oracle: permuted 0.3000 \[0.2000, 0.4000\] vs 0.8000 \[0.7000, 0.9000\] \(difference -0.5000\)/,
    );
    expect(lines).toMatch(/Higher than fsq:\n {2}- Catch-v0 sample return: permuted 0.9500/);
    expect(lines).toContain("Catch-v0 expected return: permuted");
    expect(lines).toContain("Catch-v0 sample Spearman vs oracle: permuted");
  });

  it("says nothing where the tables carry no intervals", () => {
    expect(gridFindings([{ k: 1, env: "Catch-v0", loss: 0.5 }], ["k"])).toEqual([]);
  });
});
