// E4 end to end on its quick preset: the agent, DQN, random and oracle in one record format.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadAgent } from "../../agent/load.ts";
import { ESTIMATOR_NAMES } from "../../worldmodel/estimators/index.ts";
import { expandSpecs } from "../sweep/jobs.ts";
import { runInProcess } from "../sweep/localPool.ts";
import { E4Config, e4Paths, planE4, summariseE4 } from "./e4.ts";

const dir = mkdtempSync(join(tmpdir(), "e4-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("E4: agent learning curves", () => {
  it("plans DQN only for discrete actions", () => {
    const runs = planE4(
      E4Config.parse({ envs: ["Catch-v0", "PointMass-v0"], estimators: ["st-gumbel-softmax"], seeds: 1 }),
    ).map((r) => r.run);
    expect(runs).toEqual([
      "Catch-v0-st-gumbel-softmax-seed0",
      "Catch-v0-dqn-seed0",
      "Catch-v0-random-seed0",
      "Catch-v0-oracle-seed0",
      "PointMass-v0-st-gumbel-softmax-seed0",
      "PointMass-v0-random-seed0",
      "PointMass-v0-oracle-seed0",
    ]);
    expect(() => planE4(E4Config.parse({ envs: ["Nope-v0"] }))).toThrow(/unknown env/);
  });

  it("the preset: every estimator next to DQN, random and the oracle, on Catch and its drifting variant, 5 seeds", () => {
    const runs = planE4(E4Config.parse({}));
    const methods = new Set(runs.map((r) => r.config.method));
    expect([...methods].sort()).toEqual([...ESTIMATOR_NAMES, "dqn", "random", "oracle"].sort());
    expect(runs).toHaveLength(2 * 5 * (ESTIMATOR_NAMES.length + 3));
    // The stochastic variant's oracle averages fresh rollouts instead of replaying the env's own draws;
    // only the oracle's runs carry its settings.
    const oracleOf = (env: string, method: string) =>
      runs.find((r) => r.config.env === env && r.config.method === method)!.config.oracle;
    expect(oracleOf("CatchDrift-v0", "oracle")).toEqual({ rollouts: 8 });
    expect(oracleOf("CatchDrift-v0", "st-gumbel-softmax")).toEqual({});
    expect(oracleOf("Catch-v0", "oracle")).toEqual({});
  });

  it("runs the quick preset and writes the table and the curves", async () => {
    const { recordsDir, outPrefix } = e4Paths(dir);
    const report = await runInProcess(
      expandSpecs([{ experiment: "e4", config: {}, quick: true, grid: {}, results: dir }])[0]!.jobs,
      "wasm",
    );
    expect(report.failed).toEqual([]);
    const read = (m: string) => JSON.parse(readFileSync(join(recordsDir, `Catch-v0-${m}-seed0.json`), "utf8"));
    expect(read("st-gumbel-softmax").metrics.evals.map((e: { step: number }) => e.step)).toEqual([100, 200]);
    expect(read("dqn").metrics.updates).toBeGreaterThan(0);
    expect(read("oracle").metrics.evals[0].success).toBe(1);
    // Each agent run leaves its training log and its last checkpoint, which loads in one call.
    const log = readFileSync(join(dir, "e4-logs", "Catch-v0-st-gumbel-softmax-seed0.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(log.filter((l) => l.includes('"type":"eval"'))).toHaveLength(2);
    const { agent, step, config } = await loadAgent(join(dir, "e4-checkpoints", "Catch-v0-dqn-seed0"));
    expect([step, config.algorithm]).toEqual([200, "dqn"]);
    agent.dispose();
    await summariseE4(recordsDir, outPrefix);
    expect(existsSync(`${outPrefix}-curves.png`)).toBe(true);
    expect(readFileSync(`${outPrefix}.md`, "utf8")).toMatch(/\| Catch-v0 \| oracle \| 1 \| 1 \|/);
  });

  it("reads its findings off each env's final return when no random and oracle runs normalise the scores", async () => {
    const { recordsDir } = e4Paths(dir);
    const only = join(dir, "learners-only");
    cpSync(recordsDir, only, { recursive: true });
    for (const m of ["random", "oracle"]) rmSync(join(only, `Catch-v0-${m}-seed0.json`));
    await summariseE4(only, join(dir, "learners"));
    const page = readFileSync(join(dir, "learners.md"), "utf8");
    expect(page).not.toContain("probability of improvement");
    expect(page).toMatch(/## What this shows\n\nAt these budgets .*, against st-gumbel-softmax/);
    expect(page).toMatch(/ {2}- Catch-v0 final return: .*dqn/);
  });
});
