// Sweeps on the local process pool: job ids, grids, skipping finished runs, a failing job among
// good ones, Ctrl-C and resume, and kill -9 mid-sweep leaving only whole records.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../../common/canonicalJson.ts";
import { z } from "zod";
import { describeRecords, fingerprint, writeRecord } from "../records.ts";
import { EXPERIMENTS, registerExperiment } from "../registry.ts";
import { executeJob } from "./execute.ts";
import { expandSpecs, jobDone, jobId, jobRecordPath, loadSpecs, SweepSpec, type Job } from "./jobs.ts";
import { runSweep, staleRecords, startedFirst } from "./sweep.ts";
import { runLocal, tsxExecArgv } from "./localPool.ts";
import { comparable, throwingJob, tinyE1Jobs, tinyE1Spec } from "./testSpecs.ts";

const root = mkdtempSync(join(tmpdir(), "sweep-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const MAIN = join(import.meta.dirname, "main.ts");

const readRecord = (path: string) => comparable(JSON.parse(readFileSync(path, "utf8")));
const recordFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : []);

function startSweep(
  specPath: string,
  ...extra: string[]
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [...tsxExecArgv(), MAIN, specPath, "--workers", "2", "--no-summary", "--allow-outside-results", ...extra],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, output: () => out, exited: new Promise((r) => child.on("exit", (code) => r(code))) };
}

/** A spec file for one efficiency agent run on Catch of `budget` steps, evaluated every 100: its results folder and path. */
function catchAgentSpec(name: string, budget: number): { dir: string; specPath: string } {
  const [dir, specPath] = [join(root, name), join(root, `${name}.json`)];
  const task = { env: "Catch-v0", budget, threshold: { metric: "success", value: 0.9 } };
  const config = { tasks: { "Catch-v0": task }, methods: ["agent"], references: [], seeds: 1 };
  const agent = { evalEvery: 100, evalEpisodes: 1, seedSteps: 50 };
  writeFileSync(specPath, JSON.stringify({ experiment: "efficiency", results: dir, config: { ...config, agent } }));
  return { dir, specPath };
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("sweep jobs", () => {
  it("keeps a spec's results folder inside results/ unless the command line allows it, and refuses __proto__ grid paths", () => {
    const spec = join(root, "outside.json");
    writeFileSync(spec, JSON.stringify({ experiment: "e1", results: "../../outside" }));
    expect(() => loadSpecs(spec)).toThrow(
      /results folder '\.\.\/\.\.\/outside' is outside results\/ \(pass --allow-outside-results/,
    );
    expect(loadSpecs(spec, false, true)[0]!.results).toBe("../../outside");
    writeFileSync(spec, JSON.stringify({ experiment: "e1", results: "results/mine" }));
    expect(loadSpecs(spec)[0]!.results).toBe("results/mine");
    writeFileSync(spec, JSON.stringify({ experiment: "e1", quick: true, grid: { "__proto__.polluted": [1] } }));
    expect(() => expandSpecs(loadSpecs(spec))).toThrow(/the key '__proto__' is not allowed/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it("identifies a run by the hash of its config, whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}',
    );
    expect(jobId("e1", { seed: 0, tau: 1 }, "1")).toBe(jobId("e1", { tau: 1, seed: 0 }, "1"));
    expect(jobId("e1", { seed: 0, tau: 1 }, "1")).not.toBe(jobId("e1", { seed: 0, tau: 2 }, "1"));
    expect(jobId("e1", { seed: 0 }, "1")).not.toBe(jobId("e1", { seed: 0 }, "2"));
    expect(jobId("e1", { seed: 0 }, "1")).not.toBe(jobId("e2", { seed: 0 }, "1"));
  });

  it("expands a grid into one results folder per combination and rejects bad specs", () => {
    const spec = SweepSpec.parse({
      ...tinyE1Spec(join(root, "grid")),
      grid: { "quality.samples": [50, 60], "toy.lr": [0.01] },
    });
    const parts = expandSpecs([spec]);
    expect(parts.map((p) => p.resultsDir)).toEqual([
      join(root, "grid", "quality.samples=50,toy.lr=0.01"),
      join(root, "grid", "quality.samples=60,toy.lr=0.01"),
    ]);
    expect(parts[1]!.jobs.find((j) => j.run.startsWith("quality"))!.config.samples).toBe(60);
    // A run the grid value does not enter (the toy ignores quality.samples) is the same job in both folders.
    const ids = (i: number, kind: string) => parts[i]!.jobs.filter((j) => j.run.startsWith(kind)).map((j) => j.id);
    expect(ids(0, "toy")).toEqual(ids(1, "toy"));
    expect(ids(0, "quality").filter((id) => ids(1, "quality").includes(id))).toEqual([]);
    expect(() => expandSpecs([SweepSpec.parse({ experiment: "e1", config: { seeds: 0 } })])).toThrow(
      /e1: invalid config.*\n.*seeds/,
    );
    expect(() => expandSpecs([SweepSpec.parse({ experiment: "e9" })])).toThrow(/unknown experiment 'e9'/);
    expect(() => loadSpecs("no-such-file.json")).toThrow(/neither a preset .* nor a readable JSON spec file/);
    expect(loadSpecs("all", true).map((s) => [s.experiment, s.quick])).toEqual([
      ["e1", true],
      ["e2", true],
      ["e3", true],
      ["e4", true],
      ["efficiency", true],
      ["probe", true],
    ]);
  });

  it("runs on 2 worker processes, reports a failing job with its error, and skips finished runs when run again", async () => {
    const dir = join(root, "local");
    const jobs = [...tinyE1Jobs(dir), throwingJob(dir)];
    const report = await runLocal(jobs, { workers: 2, backend: "cpu" });
    expect(report.done.length).toBe(jobs.length - 1);
    expect(report.failed.map((f) => f.job.run)).toEqual(["quality-no-such-estimator-seed0"]);
    expect(report.failed[0]!.error).toMatch(/unknown estimator 'no-such-estimator'/);
    expect(jobs.filter((j) => jobDone(j)).length).toBe(jobs.length - 1);
    const record = JSON.parse(readFileSync(jobRecordPath(jobs[0]!), "utf8"));
    expect(record.id).toBe(jobs[0]!.id);
    expect(record.backend.kind).toBe("cpu");
    // Same jobs again: nothing left to do but the failing one.
    expect(tinyE1Jobs(dir).every((j) => jobDone(j))).toBe(true);
  }, 60_000);

  it("takes the runs that left a checkpoint first, then the others, each in the sweep's order", () => {
    const { dir, specPath } = catchAgentSpec("started-first", 400);
    const spec = loadSpecs(specPath, false, true)[0]!;
    const jobs = expandSpecs([{ ...spec, config: { ...spec.config, seeds: 4 } }])[0]!.jobs;
    const runs = (js: Job[]) => js.map((j) => j.run.replace("Catch-v0-agent-", ""));
    expect(runs(startedFirst(jobs))).toEqual(["seed0", "seed1", "seed2", "seed3"]);
    for (const seed of [3, 1]) {
      const at = join(dir, "efficiency-checkpoints", `Catch-v0-agent-seed${seed}`);
      mkdirSync(at, { recursive: true });
      writeFileSync(join(at, "latest.json"), JSON.stringify({ checkpoint: "ckpt-100", step: 100 }));
    }
    mkdirSync(join(dir, "efficiency-checkpoints", "Catch-v0-agent-seed2"), { recursive: true }); // no checkpoint in it
    expect(runs(startedFirst(jobs))).toEqual(["seed1", "seed3", "seed0", "seed2"]);
  });

  it("--only runs the named runs and leaves the others waiting; a name the sweep lacks is refused in one line", async () => {
    const dir = join(root, "only");
    const spec = tinyE1Spec(dir);
    const jobs = tinyE1Jobs(dir);
    const named = jobs[1]!.run;
    const lines: string[] = [];
    const opts = { workers: 1, backend: "cpu", summary: false, log: (l: string) => lines.push(l) } as const;
    await expect(runSweep([spec], { ...opts, only: [named, "toy-seed9"] })).rejects.toThrow(
      /^sweep --only: no run named toy-seed9 in this sweep \(its runs: [^\n]+\)$/,
    );
    expect(existsSync(dir)).toBe(false); // refused before anything was written
    // The same from the command line: one line, exit code 1.
    const specPath = join(root, "only.json");
    writeFileSync(specPath, JSON.stringify(spec));
    const cli = startSweep(specPath, "--only", named, "--only", "toy-seed9");
    expect(await cli.exited).toBe(1);
    expect(cli.output().trim()).toMatch(/^error: sweep --only: no run named toy-seed9 in this sweep [^\n]+$/);
    const status = startSweep(specPath, "--status", "--only", named);
    expect(await status.exited).toBe(1);
    expect(status.output().trim()).toBe(
      "error: --only chooses the runs to run and --status runs none: give one of them",
    );
    expect(existsSync(dir)).toBe(false);
    const first = await runSweep([spec], { ...opts, only: [named] });
    expect(first.done.map((j) => j.run)).toEqual([named]);
    expect(jobs.filter((j) => jobDone(j)).map((j) => j.run)).toEqual([named]);
    expect(lines.find((l) => l.includes(" to run "))).toMatch(
      new RegExp(`0 have records, 1 to run on 1 local worker\\(s\\) \\(--only; ${jobs.length - 1} others wait\\)$`),
    );
    // Without it, the same sweep runs the rest.
    const rest = await runSweep([spec], opts);
    expect(rest.skipped).toBe(1);
    expect(rest.done.length).toBe(jobs.length - 1);
  }, 60_000);

  it("Ctrl-C stops the sweep with whole records only; the same command resumes and completes", async () => {
    const dir = join(root, "interrupt");
    const specPath = join(root, "interrupt.json");
    writeFileSync(specPath, JSON.stringify(tinyE1Spec(dir, true)));
    const records = join(dir, "e1-records");
    const first = startSweep(specPath);
    await waitFor(() => recordFiles(records).length >= 2, 60_000, "two records");
    let signalled: NodeJS.Signals | null = null;
    first.child.on("exit", (_code, signal) => (signalled = signal));
    first.child.kill("SIGINT");
    // An impatient second Ctrl-C, once the first is answered, does not lose the tally.
    await waitFor(() => first.output().includes("stopping:"), 60_000, "the first Ctrl-C's answer");
    first.child.kill("SIGINT");
    const code = await first.exited;
    // Exit code 1, or (when the second signal lands in Node's own teardown, after the tally) SIGINT.
    expect(code === 1 || signalled === "SIGINT", `exit ${code}, signal ${signalled}`).toBe(true);
    expect(first.output()).toMatch(/sweep interrupted: \d+ jobs finished and recorded, \d+ left/);
    expect(first.output()).toMatch(/^sweep: \d+ done, 0 failed, 0 skipped \(records existed\), \d+ left$/m);
    const kept = recordFiles(records);
    const total = tinyE1Jobs(dir, true).length;
    expect(kept.length).toBeLessThan(total);
    const second = startSweep(specPath);
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(new RegExp(`${kept.length} have records, ${total - kept.length} to run`));
    expect(recordFiles(records).length).toBe(total);
  }, 240_000);

  it("Ctrl-C ends a running agent run at its next step with a checkpoint; the same command goes on from there", async () => {
    const { dir, specPath } = catchAgentSpec("agent-stop", 400);
    const latest = join(dir, "efficiency-checkpoints", "Catch-v0-agent-seed0", "latest.json");
    const records = join(dir, "efficiency-records");
    const first = startSweep(specPath);
    // The first evaluation (step 100) writes the first checkpoint; stop the run soon after it.
    await waitFor(() => existsSync(latest), 120_000, "the first checkpoint");
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(1);
    const step = Number(/Catch-v0-agent-seed0: stopped at step (\d+), its checkpoint in/.exec(first.output())?.[1]);
    expect(step, first.output()).toBeGreaterThan(100);
    expect(step).toBeLessThan(400);
    // The checkpoint is the stopping step's, not the last evaluation's; the run has no record yet.
    expect(JSON.parse(readFileSync(latest, "utf8")).step).toBe(step);
    expect(recordFiles(records)).toEqual([]);
    const second = startSweep(specPath);
    expect(await second.exited, second.output()).toBe(0);
    const record = JSON.parse(readFileSync(join(records, "Catch-v0-agent-seed0.json"), "utf8"));
    expect(record.metrics.resumedFrom).toBe(step);
    expect(record.metrics.envSteps).toBe(400);
  }, 240_000); // ~30 s on an idle 2-core machine

  it("--all-checkpoints reaches the worker processes: every evaluation's checkpoint is kept", async () => {
    const { dir, specPath } = catchAgentSpec("all-checkpoints", 200);
    const sweep = startSweep(specPath, "--all-checkpoints");
    expect(await sweep.exited, sweep.output()).toBe(0);
    const kept = readdirSync(join(dir, "efficiency-checkpoints", "Catch-v0-agent-seed0")).sort();
    expect(kept).toEqual(["ckpt-100", "ckpt-200", "latest.json"]);
  }, 240_000); // ~20 s on an idle 2-core machine

  it("kill -9 mid-sweep leaves only whole records; resuming gives the records of an uninterrupted sweep", async () => {
    const dir = join(root, "kill");
    const specPath = join(root, "kill.json");
    writeFileSync(specPath, JSON.stringify(tinyE1Spec(dir, true)));
    const records = join(dir, "e1-records");
    const first = startSweep(specPath);
    await waitFor(() => recordFiles(records).length >= 3, 60_000, "three records");
    first.child.kill("SIGKILL");
    await first.exited;
    for (const f of readdirSync(records)) {
      if (f.endsWith(".json")) expect(() => JSON.parse(readFileSync(join(records, f), "utf8")), f).not.toThrow();
    }
    expect(await startSweep(specPath).exited).toBe(0);
    // Reference: the same jobs uninterrupted, in this process's pool.
    const refDir = join(root, "kill-ref");
    expect((await runLocal(tinyE1Jobs(refDir, true), { workers: 2 })).failed).toEqual([]);
    const names = recordFiles(join(refDir, "e1-records"));
    expect(recordFiles(records).sort()).toEqual(names.sort());
    for (const f of names) expect(readRecord(join(records, f))).toEqual(readRecord(join(refDir, "e1-records", f)));
  }, 360_000); // ~80 s on an idle 2-core machine
});

describe("records made under other library defaults", () => {
  it("each record names the defaults its run rested on; a sweep warns about records made under others", async () => {
    const defaults = { lr: 0.003, batch: 128 }; // the library's defaults, as the experiment sees them now
    registerExperiment({
      name: "defaultsTest",
      title: "t",
      schema: z.object({}),
      quick: {},
      plan: () => [],
      execute: (c: { seed: number }) => ({ metrics: { x: c.seed }, summary: "" }),
      paths: (d) => ({ recordsDir: join(d, "defaultsTest-records"), outPrefix: join(d, "defaultsTest") }),
      summarise: async () => [],
      defaults: () => defaults,
    });
    try {
      const dir = join(root, "defaults");
      const job = (seed: number): Job => ({
        id: jobId("defaultsTest", { seed }),
        experiment: "defaultsTest",
        run: `run-seed${seed}`,
        resultsDir: dir,
        config: { seed },
      });
      const write = async (j: Job) => {
        const o = await executeJob(j);
        if (!o.ok) throw new Error(o.error);
        writeRecord(join(dir, "defaultsTest-records"), o.record);
        return o.record;
      };
      const first = await write(job(0));
      expect(first.defaults).toBe(fingerprint({ batch: 128, lr: 0.003 }));
      expect(staleRecords([job(0)])).toEqual([]);

      defaults.batch = 64; // a later commit changes a default: the record no longer matches
      const second = await write(job(1));
      expect(second.defaults).not.toBe(first.defaults);
      const [warning, ...more] = staleRecords([job(0), job(1)]);
      expect(more).toEqual([]);
      expect(warning).toMatch(/1 of the 2 existing defaultsTest records were made under other library defaults/);
      expect(describeRecords([first, second])).toMatch(
        new RegExp(`defaults ${first.defaults} \\(1\\), ${second.defaults} \\(1\\)$`),
      );
      // Records from before fingerprints count as made under other defaults too.
      const { defaults: _, ...old } = second;
      writeRecord(join(dir, "defaultsTest-records"), old);
      expect(staleRecords([job(1)])[0]).toMatch(/1 of the 1 existing/);
      expect(describeRecords([old])).not.toMatch(/defaults/);
      expect(describeRecords([first, old])).toMatch(/defaults \w+ \(1\), not recorded \(1\)$/);
      // The record names what ran its matmuls (the native GEMM sums in another order: other numbers).
      expect(first.backend.gemm).toMatch(/^(native|xnnpack|backend)$/);
      const { gemm: __, ...oldBackend } = first.backend;
      expect(describeRecords([first, { ...first, backend: oldBackend }])).toContain(
        `backend ${first.backend.kind} (${first.backend.gemm} GEMM), ${first.backend.kind};`,
      );
      // E1 rests on no library defaults: its records are not even read (none exist here).
      expect(staleRecords(tinyE1Jobs(join(root, "e1-none")))).toEqual([]);
    } finally {
      delete EXPERIMENTS.defaultsTest;
    }
  });
});

describe("the committed results", () => {
  // A preset whose plan no longer matches its committed records cannot regenerate its page: resuming
  // would stop at the first record ("made with another config").
  it("each preset's plan matches the records committed for it", () => {
    const found: Record<string, number> = {};
    for (const name of Object.keys(EXPERIMENTS))
      found[name] = expandSpecs(loadSpecs(name))
        .flatMap((p) => p.jobs)
        .filter(jobDone).length; // throws at a record made with another config
    // The efficiency preset's default tasks once planned without their envOptions: it found none.
    expect(found.efficiency).toBeGreaterThanOrEqual(80);
  });
});
