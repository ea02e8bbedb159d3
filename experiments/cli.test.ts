// The entry points as a user meets them: bad input is one line and exit code 1 on every command;
// npm start's config precedence; Ctrl-C through `npm start` writes a checkpoint and --resume goes on.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it, onTestFinished } from "vitest";
import { Command } from "commander";
import { addCheckpointOptions, applyCheckpointOptions } from "./cli.ts";
import { mainConfig } from "./mainConfig.ts";
import { runFiles } from "./runFiles.ts";
import { tsxExecArgv } from "./sweep/localPool.ts";

const root = join(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

/** Runs `tsx <script> ...args`; resolves with the exit code and output. */
async function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [...tsxExecArgv(), join(root, script), ...args],
      { cwd: root, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("bad input: one line on stderr naming the problem, exit code 1, on every entry point", () => {
  const nested = file("nested.json", '{"worldModel": {"decoder": {"bogus": 1}}}');
  const cases: [string, string[], RegExp][] = [
    ["experiments/main.ts", ["--env", "Nope-v0"], /unknown env id 'Nope-v0'. Registered ids: GridEmpty-v0/],
    ["experiments/main.ts", ["--steps", "0"], /--steps must be a positive integer, got '0'/],
    ["experiments/main.ts", ["--tau", "Infinity"], /--tau must be a finite positive number, got 'Infinity'/],
    [
      "experiments/main.ts",
      ["--config", join(dir, "missing.json")],
      /--config: cannot read '.*missing.json' \(no such file\)/,
    ],
    ["experiments/main.ts", ["--config", file("bad.json", "{bad")], /--config: '.*bad.json' is not valid JSON/],
    [
      "experiments/main.ts",
      ["--config", file("null.json", "null")],
      /--config: '.*null.json' must hold a JSON object, got null/,
    ],
    ["experiments/main.ts", ["--config", nested], /decoder: Unrecognized key: "bogus"/],
    [
      "experiments/main.ts",
      ["--config", file("many.json", '{"steps": "many"}')],
      /steps: Invalid input: expected number, received string/,
    ],
    ["experiments/run.ts", ["e1", "--config", nested], /invalid config .* Unrecognized key: "worldModel"/],
    [
      "experiments/run.ts",
      ["e1", "--no-checkpoints", "--all-checkpoints"],
      /--no-checkpoints and --all-checkpoints contradict each other/,
    ],
    [
      "experiments/sweep/main.ts",
      [join(dir, "null.json")],
      /spec 0 in .*null.json: \(root\): Invalid input: expected object/,
    ],
    ["experiments/sweep/workerMain.ts", ["--queue", "http://x"], /--queue: 'http:\/\/x' must start with redis:\/\//],
    [
      "experiments/sweep/workerMain.ts",
      ["--queue", "redis://127.0.0.1:1", "--connect-timeout", "2"],
      /no Redis answered at redis:\/\/127.0.0.1:1 within 2 s \(connect ECONNREFUSED/,
    ],
    ["experiments/report/main.ts", ["--results", join(dir, "none")], /--results: '.*none' is not a folder/],
    ["experiments/demoMain.ts", ["--seed", "-1"], /--seed must be a non-negative integer, got '-1'/],
    ["experiments/inspectMain.ts", ["ckpt", "--reset", "x"], /--reset must be a non-negative integer, got 'x'/],
    ["bench/run.ts", ["nope"], /unknown benchmark 'nope' \(known: backend, worldmodel, agent, envs/],
    ["bench/run.ts", ["versions", "--checkpoint=x"], /bench versions: give --baseline=DIR \(another tree/],
    ["bench/run.ts", ["evaluation", "--rounds=0"], /bench evaluation: --rounds must be a whole number >= 1/],
    ["bench/run.ts", ["evaluation", `--checkpoint=${join(dir, "none")}`], /loadAgent: .*none/],
    [
      "bench/run.ts",
      ["versions", `--baseline=${dir}`, "--checkpoint=x"],
      /bench versions: .* is not a tree of this project \(no agent\/load.ts\)/,
    ],
  ];
  it.each(cases)(
    "%s %j",
    async (script, args, message) => {
      const { code, stderr } = await run(script, [
        ...args,
        ...(script.endsWith("main.ts") && script.startsWith("experiments/main") ? ["--out", join(dir, "out")] : []),
      ]);
      expect(code).toBe(1);
      const lines = stderr.trim().split("\n");
      expect(lines, stderr.slice(0, 500)).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(message);
    },
    120_000,
  );
});

describe("user envs in every command (--import)", () => {
  it("npm start trains on an env registered by a user's module", async () => {
    // The README's corridor, from its own file, importing the project through index.ts.
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const example = /```ts\n(import \{\s*ArrayEnv[\s\S]*?)\ncheckEnv/.exec(readme)![1]!;
    // Inside the project (its package.json makes a .ts file an ES module), as a user's own file would be.
    const module = join(root, `.cli-test-corridor-${process.pid}.ts`);
    writeFileSync(module, example);
    onTestFinished(() => rmSync(module, { force: true }));
    const out = join(dir, "corridor-run");
    const cfg = file(
      "corridor.json",
      JSON.stringify({ seedSteps: 100, pretrainUpdates: 10, modelPretrainUpdates: 0, evalEpisodes: 2 }),
    );
    const ran = await run("experiments/main.ts", [
      "--import",
      module,
      "--env",
      "Corridor-v0",
      "--steps",
      "300",
      "--eval-every",
      "300",
      "--config",
      cfg,
      "--out",
      out,
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/Corridor-v0 \(planner, st-gumbel-softmax\): return -?[0-9.]+/);
    expect(JSON.parse(readFileSync(join(out, "record.json"), "utf8")).config.env).toBe("Corridor-v0");
    const missing = await run("experiments/main.ts", ["--import", join(dir, "nope.ts"), "--out", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`error: --import: no file '${join(dir, "nope.ts")}'`);
  }, 180_000);
});

describe("npm start's config", () => {
  it("defaults < the file < the options typed, merging nested objects", () => {
    const file = {
      env: "GridEmpty-v0",
      steps: 300,
      seed: 4,
      mode: "sample",
      worldModel: { estimator: "reinmax", decoder: { hidden: [32] } },
      planner: { samples: 16 },
    };
    const fromFile = mainConfig({ out: "o", resume: false, backend: "auto" }, file);
    expect(fromFile).toMatchObject({
      env: "GridEmpty-v0",
      steps: 300,
      seed: 4,
      mode: "sample",
      evalEvery: 500,
      seedSteps: 300,
    });
    expect(fromFile.worldModel).toEqual({ estimator: "reinmax", tau: 1, decoder: { enabled: true, hidden: [32] } });
    const typed = mainConfig({ out: "o", resume: false, backend: "auto", steps: 900, tau: 2, horizon: 5 }, file);
    expect(typed).toMatchObject({ env: "GridEmpty-v0", steps: 900, planner: { samples: 16, horizon: 5 } });
    expect(typed.worldModel).toMatchObject({ estimator: "reinmax", tau: 2 });
    expect(() =>
      mainConfig({ out: "o", resume: false, backend: "auto" }, JSON.parse('{"__proto__": {"x": 1}}')),
    ).toThrow(/the key '__proto__' is not allowed/);
  });
});

describe("Ctrl-C on npm start", () => {
  it("writes a checkpoint within seconds and exits; --resume continues from it to the end", async () => {
    const out = join(dir, "interrupted");
    const cfg = file(
      "short.json",
      JSON.stringify({ seedSteps: 200, pretrainUpdates: 20, modelPretrainUpdates: 0, evalEpisodes: 2 }),
    );
    const args = ["start", "--", "--steps", "1200", "--eval-every", "1000", "--config", cfg, "--out", out];
    // Its own process group, as a terminal's: Ctrl-C signals npm, sh, tsx and node at once.
    const child = spawn("npm", args, { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const end = Date.now() + 120_000;
    while (!/pretrained on the seed data/.test(output)) {
      if (Date.now() > end) throw new Error(`npm start did not get past its seed steps:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const sent = Date.now();
    process.kill(-child.pid!, "SIGINT");
    const code = await exited;
    const step = Number(/interrupted at step (\d+): checkpoint written/.exec(output)?.[1]);
    expect(step, `output:\n${output}`).toBeGreaterThanOrEqual(200);
    expect(step).toBeLessThan(1000);
    expect(code).not.toBe(0);
    // Whatever the machine's speed, the checkpoint comes at most 8 env steps and one save after the signal.
    expect(Date.now() - sent).toBeLessThan(60_000);
    expect(readdirSync(join(out, "checkpoint"))).toContain(`ckpt-${step}`);
    const resumed = await run("experiments/main.ts", args.slice(2).concat("--resume"));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`resumed from .*ckpt-${step} at step ${step}`));
    const record = JSON.parse(readFileSync(join(out, "record.json"), "utf8")) as {
      metrics: { evals: { step: number }[]; resumedFrom: number };
    };
    expect(record.metrics.evals.map((e) => e.step)).toEqual([1000, 1200]);
    expect(record.metrics.resumedFrom).toBe(step);
    expect(existsSync(join(out, "curve.png"))).toBe(true);
  }, 240_000);
});

describe("exp's and sweep's checkpoint options reach each run (through the environment, as workers inherit it)", () => {
  afterEach(() => void delete process.env.GUMBEL_WORLDS_CHECKPOINTS);
  const files = (...args: string[]) => {
    const o = addCheckpointOptions(new Command()).parse(args, { from: "user" }).opts();
    applyCheckpointOptions(o as { checkpoints: boolean; allCheckpoints: boolean });
    return runFiles("results", "efficiency", "run");
  };
  it.each([
    [[], { checkpointDir: join("results", "efficiency-checkpoints", "run"), keepCheckpoints: false }],
    [["--all-checkpoints"], { checkpointDir: join("results", "efficiency-checkpoints", "run"), keepCheckpoints: true }],
    [["--no-checkpoints"], { checkpointDir: undefined, keepCheckpoints: undefined }],
  ])("%j", (args, expected) => {
    const { checkpointDir, keepCheckpoints } = files(...args);
    expect({ checkpointDir, keepCheckpoints }).toEqual(expected);
  });
});
