// The efficiency experiment: its plan, how a curve is read against a threshold, and the summary
// (CSV columns, medians counting never as the budget, oracle thresholds) on hand-built records.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ImaginationAgent } from "../../agent/agent.ts";
import { DqnAgent } from "../../agent/dqn.ts";
import { parseAgentConfig } from "../../agent/config.ts";
import { buildAgent } from "../../agent/load.ts";
import type { EvalPoint } from "../../agent/train.ts";
import { writeRecord, type RunRecord } from "../records.ts";
import { median } from "../stats.ts";
import {
  EFFICIENCY_QUICK,
  EfficiencyConfig,
  DQN_PER_TASK,
  DQN_SHARED,
  PER_TASK,
  type EfficiencyRunConfig,
  bothWays,
  efficiencyPaths,
  efficiencyProgress,
  fellBack,
  outcomeOf,
  planEfficiency,
  perTaskVerdict,
  runTimes,
  summariseEfficiency,
  thresholdProgress,
} from "./efficiency.ts";

const dir = mkdtempSync(join(tmpdir(), "efficiency-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const point = (step: number, ret: number, success: number): EvalPoint => ({
  step,
  updates: step / 2,
  return: ret,
  success,
  returns: [ret],
  wallSeconds: step / 100,
});

describe("efficiency: plan", () => {
  it("runs agent and DQN (on Box actions through its actionGrid) and the references per task and seed, with the task's budget and options", () => {
    const cfg = EfficiencyConfig.parse({ seeds: 1 });
    const runs = planEfficiency(cfg);
    const names = runs.map((r) => r.run);
    expect(names).toContain("GridDoorKey-v0-5x5-agent-seed0");
    expect(names).toContain("GridDoorKey-v0-8x8-dqn-seed0");
    expect(names).toContain("PointMass-v0-oracle-seed0");
    expect(runs).toHaveLength(8 * 4);
    const pointMassDqn = runs.find((r) => r.run === "PointMass-v0-dqn-seed0")!.config;
    expect(pointMassDqn.perTask).toEqual(DQN_PER_TASK["PointMass-v0"]);
    expect(pointMassDqn.agent).toMatchObject({ actionGrid: 3, steps: 50000 });
    // Without an actionGrid DQN cannot act on Box actions, so it is not planned there.
    const noGrid = planEfficiency(EfficiencyConfig.parse({ seeds: 1, dqnPerTask: {} })).map((r) => r.run);
    expect(noGrid).not.toContain("PointMass-v0-dqn-seed0");
    expect(noGrid).toHaveLength(8 * 4 - 1);
    const doorKey = runs.find((r) => r.run === "GridDoorKey-v0-8x8-agent-seed0")!.config;
    expect(doorKey.agent).toMatchObject({ steps: 50000, envOptions: { size: 8 }, evalEvery: 1000 });
    expect(runs.find((r) => r.run === "Catch-v0-agent-seed0")!.config.budget).toBe(20000);
  });

  it("gives every DQN run the shared DQN settings (3-step targets) and no other run, under DQN's per-task ones", () => {
    const runs = planEfficiency(EfficiencyConfig.parse({ seeds: 1 }));
    const own = (task: string) => "dqn" in (DQN_PER_TASK[task] ?? {});
    for (const { run, config } of runs)
      expect(config.agent.dqn, run).toEqual(config.method === "dqn" && !own(config.task) ? DQN_SHARED.dqn : undefined);
    // PointMass's DQN keeps its one-step default, and its record's config holds no `dqn` at all.
    const pointMassDqn = runs.find((r) => r.run === "PointMass-v0-dqn-seed0")!.config;
    expect(own("PointMass-v0")).toBe(true);
    expect(JSON.parse(JSON.stringify(pointMassDqn.agent))).not.toHaveProperty("dqn");
    expect(parseAgentConfig(pointMassDqn.agent).dqn.nStep).toBeUndefined();
    // A config's own dqnShared replaces the table: {} leaves DQN at its one-step default.
    const oneStep = planEfficiency(EfficiencyConfig.parse({ seeds: 1, dqnShared: {} }));
    expect(oneStep.find((r) => r.run === "Catch-v0-dqn-seed0")!.config.agent.dqn).toBeUndefined();
    expect(parseAgentConfig(runs.find((r) => r.run === "Catch-v0-dqn-seed0")!.config.agent).dqn.nStep).toBe(3);
  });

  it("every per-task setting is a valid agent config whose agent (or DQN) builds on its task's env", () => {
    for (const { run, config } of planEfficiency(EfficiencyConfig.parse({ seeds: 1, references: [] })))
      if (config.perTask) {
        const agent = buildAgent(
          parseAgentConfig({
            ...config.agent,
            env: config.env,
            algorithm: config.method === "dqn" ? "dqn" : "planner",
          }),
        );
        expect(agent, run).toBeInstanceOf(config.method === "dqn" ? DqnAgent : ImaginationAgent);
        agent.dispose();
      }
  });

  it("applies the per-task settings table to its tasks only, and a config's perTask replaces it", () => {
    const agentOf = (runs: ReturnType<typeof planEfficiency>, name: string) => runs.find((r) => r.run === name)!.config;
    const runs = planEfficiency(EfficiencyConfig.parse({ seeds: 1 }));
    const lava = agentOf(runs, "GridLavaGap-v0-agent-seed0");
    expect(lava.perTask).toEqual(PER_TASK["GridLavaGap-v0"]);
    expect(lava.agent).toMatchObject({ ...PER_TASK["GridLavaGap-v0"], evalEvery: 1000 });
    // DQN and the references run the shared settings (their records stay valid).
    expect(agentOf(runs, "GridLavaGap-v0-dqn-seed0").perTask).toBeUndefined();
    expect(agentOf(runs, "GridLavaGap-v0-dqn-seed0").agent).not.toHaveProperty("worldModel");
    const catchRun = agentOf(runs, "Catch-v0-agent-seed0");
    expect(catchRun.perTask).toBeUndefined();
    expect(catchRun.agent).not.toHaveProperty("worldModel");
    // A config without LavaGap plans without complaint; one with its own perTask uses that instead.
    expect(() => planEfficiency(EfficiencyConfig.parse(EFFICIENCY_QUICK))).not.toThrow();
    const own = planEfficiency(EfficiencyConfig.parse({ seeds: 1, perTask: { "Catch-v0": { loopBreak: 3 } } }));
    expect(agentOf(own, "Catch-v0-agent-seed0").agent).toMatchObject({ loopBreak: 3 });
    expect(agentOf(own, "GridLavaGap-v0-agent-seed0").perTask).toBeUndefined();
  });

  it("refuses unknown envs, perTask entries of no task and hostile task names", () => {
    const task = { env: "Pong-v0", budget: 10, threshold: { metric: "success", value: 0.9 } };
    expect(() => planEfficiency(EfficiencyConfig.parse({ tasks: { pong: task } }))).toThrow(/unknown env 'Pong-v0'/);
    expect(() => planEfficiency(EfficiencyConfig.parse({ perTask: { nope: {} } }))).toThrow(/unknown task 'nope'/);
    expect(() => EfficiencyConfig.parse({ tasks: { "../x": { ...task, env: "Catch-v0" } } })).toThrow(/plain names/);
  });
});

describe("efficiency: reading a curve", () => {
  const curve = [
    point(1000, 0, 0),
    point(2000, 0.5, 0.6),
    point(3000, 0.9, 0.9),
    point(4000, 0.7, 0.7),
    point(5000, 1, 1),
  ];

  it("finds the first evaluation at the threshold, the lowest return after it, and whether it held", () => {
    expect(outcomeOf(curve, "success", 0.9, 0.8)).toEqual({
      stepsToThreshold: 3000,
      finalReturn: 1,
      minReturnAfter: 0.7,
      stable: false, // 0.7 < 0.8 x 0.9
    });
    expect(outcomeOf(curve, "success", 0.9, 0.75).stable).toBe(true); // 0.7 >= 0.675
    expect(outcomeOf(curve, "oracle", 0.8, 0.8).stepsToThreshold).toBe(3000); // a return target
    expect(outcomeOf(curve, "success", 1.1, 0.8)).toEqual({
      stepsToThreshold: undefined,
      finalReturn: 1,
      minReturnAfter: undefined,
      stable: undefined,
    });
  });

  it("says where a run first reached its threshold and whether it held since (a sweep's --status)", () => {
    const text = "success >= 0.9";
    expect(thresholdProgress(curve, "success", 0.9, text)).toBe(
      "success >= 0.9 first at step 3000; lowest since 0.7 (floor 0.72): fell below",
    );
    expect(thresholdProgress(curve.slice(0, 3), "success", 0.9, text)).toBe(
      "success >= 0.9 first at step 3000; lowest since 0.9 (floor 0.72): stable so far",
    );
    expect(thresholdProgress(curve.slice(0, 2), "success", 0.9, text)).toBe(
      "success >= 0.9: not reached yet (best 0.6)",
    );
    expect(thresholdProgress([], "success", 0.9, text)).toBe("success >= 0.9: not reached yet");
  });

  it("marks the evaluation where a run falls back below the floor after reaching its threshold (checkpoints kept there)", () => {
    const at = (n: number) => fellBack(curve.slice(0, n), "success", 0.9);
    // 0.6 at 2000 is below the floor but before the first crossing; 0.7 at 4000 falls back; 1 at 5000 does not.
    expect([1, 2, 3, 4, 5].map(at)).toEqual([false, false, false, true, false]);
    expect(fellBack([], "success", 0.9)).toBe(false);
    expect(fellBack(curve.slice(0, 4), "success", 0.9, 0.7)).toBe(false); // floor 0.63
    // A return target reads the returns: 0.7 is above 0.8 x 0.8 = 0.64, below 0.8 x 0.9 = 0.72.
    expect(fellBack(curve.slice(0, 4), "oracle", 0.8)).toBe(false);
    expect(fellBack(curve.slice(0, 4), "oracle", 0.9)).toBe(true);
  });

  it("median of odd and even counts", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("efficiency: summary", () => {
  it("writes the CSV columns of the issue, medians with never = budget, and oracle thresholds from the oracle's records", async () => {
    const { recordsDir, outPrefix } = efficiencyPaths(join(dir, "results"));
    const record = (
      task: string,
      method: EfficiencyRunConfig["method"],
      seed: number,
      evals: EvalPoint[],
      oracle = false,
    ) =>
      writeRecord(recordsDir, {
        experiment: "efficiency",
        run: `${task}-${method}-seed${seed}`,
        config: {
          task,
          env: task === "Catch" ? "Catch-v0" : "PointMass-v0",
          method,
          seed,
          budget: 5000,
          threshold: oracle ? { metric: "oracle", value: 0.8 } : { metric: "success", value: 0.9 },
          agent: {},
          oracle: {},
        },
        seed,
        backend: { kind: "wasm", name: "wasm" },
        versions: { node: "v20", tfjs: "4.22.0", project: "test" },
        commit: "test",
        startedAt: "2026-12-01T00:00:00.000Z",
        wallSeconds: 1,
        metrics: { evals, envSteps: 5000, updates: 2500 },
      } satisfies RunRecord<EfficiencyRunConfig, unknown>);
    // Catch: agent seeds reach 0.9 at 1000, 2000 and never (-> 5000); DQN at 3000, 4000, 4000.
    const reachAt = (step: number | undefined) =>
      [1000, 2000, 3000, 4000, 5000].map((s) =>
        point(s, step !== undefined && s >= step ? 1 : -1, step !== undefined && s >= step ? 1 : 0),
      );
    [1000, 2000, undefined].forEach((s, seed) => record("Catch", "agent", seed, reachAt(s)));
    [3000, 4000, 4000].forEach((s, seed) => record("Catch", "dqn", seed, reachAt(s)));
    record("Catch", "oracle", 0, [point(5000, 1, 1)]);
    // PointMass: oracle 100 and 90 -> threshold 0.8 x 95 = 76; the agent gets 80 at 4000.
    record("PM", "oracle", 0, [point(5000, 100, 1)], true);
    record("PM", "oracle", 1, [point(5000, 90, 1)], true);
    record("PM", "agent", 0, [point(2000, 50, 0), point(4000, 80, 0), point(5000, 79, 0)], true);
    await summariseEfficiency(recordsDir, outPrefix);
    // A run under way, read against the oracle's records in its results folder.
    const pm: EfficiencyRunConfig = {
      task: "PM",
      env: "PointMass-v0",
      method: "agent",
      seed: 1,
      budget: 5000,
      threshold: { metric: "oracle", value: 0.8 },
      agent: {},
      oracle: {},
    };
    const soFar = [point(2000, 50, 0), point(4000, 80, 0)];
    expect(efficiencyProgress(pm, soFar, join(dir, "results"))).toBe(
      "return >= 0.8 x oracle = 76 first at step 4000; lowest since 80 (floor 60.8): stable so far",
    );
    expect(efficiencyProgress({ ...pm, task: "Other" }, soFar, join(dir, "results"))).toBe(
      "threshold 0.8 x the oracle's return: no oracle record in this results folder",
    );
    expect(efficiencyProgress({ ...pm, method: "oracle" }, soFar, join(dir, "results"))).toBeUndefined();
    const lines = readFileSync(`${outPrefix}.csv`, "utf8").trim().split("\n");
    expect(lines[0]).toBe(
      "env,method,seed,budget,threshold,steps_to_threshold,final_return,min_return_after_threshold",
    );
    expect(lines).toContain("Catch,agent,2,5000,0.9,,-1,");
    expect(lines).toContain("Catch,agent,0,5000,0.9,1000,1,1");
    expect(lines).toContain("PM,agent,0,5000,76,4000,79,79");
    const md = readFileSync(`${outPrefix}.md`, "utf8");
    // Agent median 2000 (1000, 2000, 5000), DQN 4000: ratio 0.5.
    expect(md).toContain(
      "| Catch | 5000 | success >= 0.9 | 2000 (1000, 2000, 5000) | 4000 (3000, 4000, 4000) | 0.50 | 2/3 | 3/3 | 2/2 | 3/3 |",
    );
    expect(md).toContain("return >= 0.8 x oracle = 76.000");
    expect(md).toContain("Agent median <= 0.5x DQN's on 1 of 1 tasks");
    expect(md).not.toContain("Evaluated both ways"); // no run here evaluated with its online weights too
    // Areas: agent 1, 0.6, -1 against DQN 0.2, -0.2, -0.2: the agent wins 6 of 9 pairs.
    expect(md).toMatch(/\| 0\.67 \[0\.\d\d, 1\.00\] \|/);
    // The stability picture: a row per learning run, a cell per evaluation (oracle runs left out).
    expect(md).toContain("`efficiency-stability.png`");
    expect(readFileSync(`${outPrefix}-stability.png`).subarray(1, 4).toString()).toBe("PNG");
    const svg = readFileSync(`${outPrefix}-stability.svg`, "utf8");
    for (const text of ["agent seed 2", "DQN seed 0", "below the floor (a fall)", "each run's evaluations"])
      expect(svg).toContain(text);
    expect(svg).not.toContain("oracle seed");
  });

  it("reads runs evaluated both ways (evalOnline) with the averaged and the online weights", () => {
    // Seed 0: averaged 0.9 from 2000 on; online 0.9 at 1000, then 0.6 (below 0.72). Seed 1: both
    // reach at 3000 and hold. A DQN run and an agent run without online evaluations are left out.
    const both = (steps: [number, number, number][]) =>
      steps.map(([step, averaged, online]) => ({
        ...point(step, averaged, averaged),
        online: { return: online, success: online, returns: [online] },
      }));
    const run = (method: EfficiencyRunConfig["method"], seed: number, evals: EvalPoint[]) => ({
      config: {
        task: "FR",
        env: "GridFourRooms-v0",
        method,
        seed,
        budget: 4000,
        threshold: { metric: "success" as const, value: 0.9 },
        agent: {},
        oracle: {},
      },
      metrics: { evals, envSteps: 4000, updates: 4000 },
    });
    const group = [
      run(
        "agent",
        0,
        both([
          [1000, 0.5, 0.9],
          [2000, 0.9, 0.6],
          [3000, 1, 1],
          [4000, 1, 1],
        ]),
      ),
      run(
        "agent",
        1,
        both([
          [1000, 0, 0],
          [2000, 0.3, 0.5],
          [3000, 0.9, 1],
          [4000, 1, 0.9],
        ]),
      ),
      run("agent", 2, [point(1000, 1, 1)]),
      run("dqn", 0, both([[1000, 1, 1]])),
    ];
    expect(bothWays("FR", group, "success", 0.9, 0.8, 4000)).toEqual({
      task: "FR",
      "averaged: median steps (per seed)": "2500 (2000, 3000)",
      "averaged: reached": "2/2",
      "averaged: stable": "2/2",
      "online: median steps (per seed)": "2000 (1000, 3000)",
      "online: reached": "2/2",
      "online: stable": "1/2",
    });
    expect(bothWays("FR", group.slice(2), "success", 0.9, 0.8, 4000)).toBeUndefined();
  });

  it("sums each task's and method's wall time, a continued run counted whole", () => {
    const run = (task: string, method: EfficiencyRunConfig["method"], wallSeconds: number, lastEval?: number) => ({
      config: { task, method } as EfficiencyRunConfig,
      wallSeconds,
      metrics: {
        evals: lastEval === undefined ? [] : [{ ...point(1000, 0, 0), wallSeconds: lastEval }],
        envSteps: 0,
        updates: 0,
      },
    });
    const { rows, hours } = runTimes([
      run("Catch", "agent", 3600),
      // Continued from a checkpoint: the record timed its last 20 minutes, its evaluations 2 hours.
      run("Catch", "agent", 1200, 7200),
      run("Catch", "dqn", 600, 590),
      run("PM", "random", 6),
    ]);
    expect(hours).toBeCloseTo(3 + 1 / 6 + 6 / 3600, 10);
    expect(rows).toEqual([
      { task: "Catch", agent: "3.00 h (60-120 min each)", dqn: "0.17 h (10 min each)", random: "-", oracle: "-" },
      { task: "PM", agent: "-", dqn: "-", random: "0.00 h (0.1 min each)", oracle: "-" },
    ]);
  });

  it("says per task whether the agent's learning curves beat DQN's, even when neither reaches the threshold", () => {
    const p = (point: number, lo: number, hi: number) => ({ point, lo, hi });
    const text = perTaskVerdict([
      { task: "A", p: p(0.9, 0.6, 1) },
      { task: "B", p: p(0, 0, 0) },
      { task: "C", p: p(0.6, 0.3, 0.9) },
      { task: "D", p: p(0.5, 0.5, 0.7) },
    ]);
    expect(text).toContain(
      "agent better on A 0.90 [0.60, 1.00]; worse on B 0.00 [0.00, 0.00]; undecided on C 0.60 [0.30, 0.90], D 0.50 [0.50, 0.70].",
    );
    expect(perTaskVerdict([{ task: "A", p: p(0.2, 0.1, 0.4) }])).toContain("better on none; worse on A");
  });
});
