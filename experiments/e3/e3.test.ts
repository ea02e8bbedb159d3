// E3 end to end on a tiny config (records, table, plots), and its rank statistic.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expandSpecs } from "../sweep/jobs.ts";
import { runInProcess } from "../sweep/localPool.ts";
import { E3Config, E3_QUICK, e3Paths, planE3, spearman, summariseE3 } from "./e3.ts";

const dir = mkdtempSync(join(tmpdir(), "e3-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("E3: planning modes", () => {
  it("computes Spearman's rank correlation with ties", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 2], [5, 5, 6])).toBeCloseTo(1, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it("keeps simulatorRollouts out of the run config at 1 (records made before the option stay valid)", () => {
    const one = planE3(E3Config.parse({ envs: ["Catch-v0"], seeds: 1, simulatorRollouts: 1 }))[0]!.config;
    expect(one).not.toHaveProperty("simulatorRollouts");
    expect(planE3(E3Config.parse({ envs: ["CatchDrift-v0"], seeds: 1 }))[0]!.config.simulatorRollouts).toBe(8);
  });

  it("refuses, by name, agent options that reshape observations or actions (E3 reads the plain env)", () => {
    const plan = (extra: Record<string, unknown>) => () =>
      planE3(E3Config.parse({ envs: ["Catch-v0"], seeds: 1, ...extra }));
    expect(plan({ agent: { frameStack: 2 } })).toThrow(/Catch-v0: agent option frameStack reshapes/);
    expect(plan({ perEnv: { "Catch-v0": { egocentric: true } } })).toThrow(/agent option egocentric reshapes/);
    expect(plan({ agent: { actionGrid: 3, frameStack: 4 } })).toThrow(/agent option frameStack, actionGrid reshapes/);
    expect(plan({ agent: { frameStack: 1, egocentric: false } })).not.toThrow();
  });

  it("runs the quick preset: expected codes score every sequence with zero spread, sampled codes do not", async () => {
    const cfg = E3Config.parse(E3_QUICK);
    expect(planE3(cfg).map((r) => r.run)).toEqual(["Catch-v0-seed0"]);
    const { recordsDir, outPrefix } = e3Paths(dir);
    const report = await runInProcess(
      expandSpecs([{ experiment: "e3", config: {}, quick: true, grid: {}, results: dir }])[0]!.jobs,
      "wasm",
    );
    expect(report.failed).toEqual([]);
    const record = JSON.parse(readFileSync(join(recordsDir, "Catch-v0-seed0.json"), "utf8"));
    expect(record.metrics.modes.expected.scoreStd).toBe(0);
    expect(record.metrics.modes.mode.scoreStd).toBe(0);
    expect(record.metrics.modes.sample.scoreStd).toBeGreaterThan(0);
    const files = await summariseE3(recordsDir, outPrefix);
    expect(files).toContain(`${outPrefix}.md`);
    expect(existsSync(`${outPrefix}-spearman.png`)).toBe(true);
    expect(readFileSync(`${outPrefix}.md`, "utf8")).toMatch(/\| Catch-v0 \| expected \| 1 \| 0 \|/);
  });
});
