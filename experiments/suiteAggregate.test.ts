import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  aggregatePlots,
  aggregateSection,
  normaliseRuns,
  onCommonTasks,
  profileTaus,
  whatThisShows,
  type SuiteRun,
} from "./suiteAggregate.ts";

const run = (task: string, method: string, ...returns: number[]): SuiteRun => ({
  task,
  method,
  evals: returns.map((r) => ({ return: r })),
});

describe("suite aggregate", () => {
  const runs = [
    run("a", "random", 0, 0),
    run("a", "oracle", 2, 2),
    run("a", "agent", 0, 2), // final 1, area 0.5
    run("a", "agent", 1, 1), // final 0.5, area 0.5
    run("a", "dqn", 0, 0),
    run("b", "random", -1, -1),
    run("b", "oracle", 1, 3), // oracle mean of its runs' last evaluations: 3 (with the next)
    run("b", "oracle", 3, 3),
    run("b", "agent", 1, 1), // (1 - -1) / 4 = 0.5
    run("b", "dqn", -1, -1),
    run("flat", "random", 1, 1),
    run("flat", "oracle", 1, 1),
    run("flat", "agent", 5, 5),
  ];

  it("normalises final and area scores per task by the reference runs, skipping tasks without scale", () => {
    const s = normaliseRuns(runs);
    expect([...s.keys()].sort()).toEqual(["agent", "dqn"]);
    const agent = s.get("agent")!;
    expect([...agent.final.keys()]).toEqual(["a", "b"]);
    expect(agent.final.get("a")).toEqual([1, 0.5]);
    expect(agent.area.get("a")).toEqual([0.5, 0.5]);
    expect(agent.final.get("b")).toEqual([0.5]);
    expect(s.get("dqn")!.final.get("b")).toEqual([0]);
  });

  it("reads the intervals into 'What this shows'", () => {
    const s = normaliseRuns(runs);
    const text = whatThisShows(s, "dqn", "the test budget").join("\n");
    // Every agent run beats every DQN run on final scores; on area, task a's agent runs (0.5, 0.5) vs 0.
    expect(text).toMatch(
      /Better than dqn:\n {2}- agent \(final: P = 1\.00 \[1\.00, 1\.00\], 2 tasks\)\n {2}- agent \(area/,
    );
    expect(text).toMatch(/Worse than dqn:\n {2}- none/);
    expect(text).toMatch(/Undecided at this budget:\n {2}- none/);
    expect(whatThisShows(s, "missing", "x")).toEqual([]);
    const table = aggregateSection(s, "dqn").join("\n");
    expect(table).toMatch(/\| agent \| 2 \|/);
    expect(table).toMatch(/P\(> dqn\) final/);
    expect(table).toMatch(/Over the 2 tasks every method ran\./);
  });

  it("aggregates every method over the tasks all of them ran", () => {
    // DQN also ran task c, where it scores 1 (its oracle's level); the agent did not run c.
    const s = normaliseRuns([...runs, run("c", "random", 0), run("c", "oracle", 1), run("c", "dqn", 1, 1)]);
    expect([...s.get("dqn")!.final.keys()].sort()).toEqual(["a", "b", "c"]);
    const { scores, tasks, leftOut } = onCommonTasks(s);
    expect([tasks, leftOut]).toEqual([["a", "b"], ["c"]]);
    expect([...scores.get("dqn")!.final.keys()]).toEqual(["a", "b"]);
    const table = aggregateSection(s, "dqn").join("\n");
    expect(table).toMatch(/Over the 2 tasks every method ran \(left out: c, which not every method ran\)\./);
    // With no task in common each method keeps its own, and the page says so.
    const apart = onCommonTasks(
      normaliseRuns(
        runs.filter((r) => !(r.method === "dqn" && r.task === "a") && !(r.method === "agent" && r.task === "b")),
      ),
    );
    expect([apart.tasks, apart.leftOut, apart.span]).toEqual([
      ["a", "b"],
      [],
      "each method's own tasks (no task did every method run)",
    ]);
    // DQN's row spans a and b only: mean final 0, not (0 + 0 + 1) / 3.
    expect(table).toMatch(/\| dqn \| 2 \| 0\.00 \[0\.00, 0\.00\] \| 0\.00 \[0\.00, 0\.00\] \|/);
  });

  it("ends the profile's axis at the highest score, or at the 90th percentile when that is less than half of it", () => {
    // 20 scores: 0.0, 0.1, ..., 1.7 and two far above the oracle: the axis ends at sorted[floor(0.9 * 19)].
    const scores = [...Array.from({ length: 18 }, (_, i) => i / 10), 12, 13];
    const { taus, beyond, max } = profileTaus(scores);
    expect(taus).toHaveLength(41);
    expect(taus[0]).toBe(0);
    expect(taus[40]).toBeCloseTo(1.7);
    expect([beyond, max]).toEqual([2, 13]);
    // Nothing far beyond: the axis ends at the highest score (at least 1); a negative score opens it below.
    expect(profileTaus([...scores.slice(0, 18), 2, 3])).toMatchObject({ beyond: 0, max: 3 });
    expect(profileTaus([...scores.slice(0, 18), 2, 3]).taus[40]).toBe(3);
    expect(profileTaus([0.2, 0.5, 0.9]).taus[40]).toBe(1);
    expect(profileTaus([-0.5, 0.5]).taus[0]).toBe(-0.5);
  });

  it("plots both probabilities of improvement, final and area", async () => {
    const dir = mkdtempSync(join(tmpdir(), "suite-aggregate-"));
    try {
      await aggregatePlots(normaliseRuns(runs), join(dir, "x"), "Test", "dqn");
      const svg = readFileSync(join(dir, "x-aggregate.svg"), "utf8");
      for (const facet of ["IQM final", "IQM area", "P(&gt; dqn) final", "P(&gt; dqn) area"])
        expect(svg).toContain(facet);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
