// "What this shows" across a sweep's grid points, on a hand-made comparison table.
import { describe, expect, it } from "vitest";
import { comparisonPlot, gridFindings, metricOfCi, plotTable } from "./compare.ts";

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

  it("reads a CI column after a metric that ends with its stem (E4's final return)", () => {
    const e4 = (horizon: number, method: string, ret: number, ci: string) => ({
      "agent.worldModel.horizon": horizon,
      env: "CatchDrift-v0",
      method,
      seeds: 3,
      "final return": ret,
      "return CI": ci,
      "IQM return": 1,
    });
    const lines = gridFindings(
      [
        e4(5, "expected", 0.8, "[0.60, 1.00]"),
        e4(5, "st-gumbel-softmax", 0.2, "[0.10, 0.30]"),
        e4(1, "expected", 0.7, "[0.60, 0.80]"),
        e4(1, "st-gumbel-softmax", 0.7, "[0.60, 0.80]"),
      ],
      ["agent.worldModel.horizon"],
    ).join("\n");
    expect(lines).toMatch(/Higher than 5:\n {2}- CatchDrift-v0 st-gumbel-softmax final return: 1 0.7000/);
    expect(lines).toContain("CatchDrift-v0 expected final return: 1");
    expect(lines).not.toContain("IQM return");
  });

  it("pairs a CI column with the nearest metric to its left that it names", () => {
    const columns = ["return", "return CI", "final return", "IQM return", "loss", "final return CI", "x CI"];
    const numeric = ["return", "final return", "IQM return", "loss"];
    expect(metricOfCi(columns, numeric, "return CI")).toBe("return");
    expect(metricOfCi(columns, numeric, "final return CI")).toBe("final return");
    expect(metricOfCi(columns, numeric, "x CI")).toBeUndefined();
  });

  it("says nothing where the tables carry no intervals", () => {
    expect(gridFindings([{ k: 1, env: "Catch-v0", loss: 0.5 }], ["k"])).toEqual([]);
  });
});

describe("the comparison plot", () => {
  const keys = ["agent.worldModel.codebook"];
  const rows = [
    row("fsq", "Catch-v0", "expected", 0.8, "[0.70, 0.90]", 0.5, "[0.20, 0.80]"),
    row("permuted", "Catch-v0", "expected", 0.3, "[0.20, 0.40]", 0.6, "[0.30, 0.90]"),
  ];
  const tables = new Map([["", rows]]);
  const plotted = (metric?: string) => {
    const spec = comparisonPlot(plotTable(tables, keys, metric)[1], keys, "t", metric) as unknown as {
      data: { values: { point: string; value: number }[] };
    };
    return spec.data.values.map((v) => `${v.point}=${v.value}`);
  };

  it("plots the first metric that changes with the swept values unless the spec names one", () => {
    expect(plotted()).toEqual(["fsq=0.8", "permuted=0.3"]);
    expect(plotted("return")).toEqual(["fsq=0.5", "permuted=0.6"]);
  });

  it("names the columns there are when the spec's plot is none of them", () => {
    expect(() => plotTable(tables, keys, "Spearman")).toThrow(
      "sweep: the spec's plot 'Spearman' is no numeric column of the grid points' tables (seeds, Spearman vs oracle, Spearman seeds, return)",
    );
  });
});
