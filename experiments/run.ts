// npm run exp -- <experiment> [options]: runs an experiment, writes its records under the results
// folder, and regenerates its tables and plots from the records.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { BACKENDS, initBackend, type BackendChoice, type BackendInfo } from "../worldmodel/backend/init.ts";
import { E1Config, E1_QUICK, e1Paths, runE1, summariseE1 } from "./e1/e1.ts";
import { E2Config, E2_QUICK, e2Paths, runE2, summariseE2 } from "./e2/e2.ts";
import { E3Config, E3_QUICK, e3Paths, runE3, summariseE3 } from "./e3/e3.ts";
import { E4Config, E4_QUICK, e4Paths, runE4, summariseE4 } from "./e4/e4.ts";

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${v}'`);
  return n;
};
const shardArg = (v: string): [number, number] => {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new InvalidArgumentError(`--shard must look like k/n with 1 <= k <= n, got '${v}'`);
  return [Number(m[1]) - 1, Number(m[2])];
};

const CliOptions = z.object({
  seeds: z.number().int().min(1).optional(),
  quick: z.boolean().default(false),
  workers: z.number().int().min(1).max(64).default(1),
  backend: z.enum(BACKENDS).default("auto"),
  results: z.string().optional(),
  config: z.string().optional(),
  shard: z.tuple([z.number().int(), z.number().int()]).optional(),
  summary: z.boolean().default(true),
});
type CliOptions = z.infer<typeof CliOptions>;

/** Reads --config, applies --quick and --seeds, and validates against the experiment's schema. */
function loadConfig<S extends z.ZodType>(name: string, schema: S, quick: unknown, opts: CliOptions): z.infer<S> {
  const fromFile = opts.config ? (JSON.parse(readFileSync(opts.config, "utf8")) as object) : {};
  const base = opts.quick ? { ...(quick as object), ...fromFile } : fromFile;
  const parsed = schema.safeParse({ ...base, ...(opts.seeds !== undefined ? { seeds: opts.seeds } : {}) });
  if (!parsed.success) {
    throw new Error(`${name}: invalid config${opts.config ? ` in ${opts.config}` : ""}:\n${parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n")}`);
  }
  return parsed.data;
}

/** Re-runs this command in `workers` child processes, one shard each (WASM uses one core per process). */
function runShards(workers: number): Promise<void> {
  const args = process.argv.slice(2).filter((a, i, all) => a !== "--workers" && all[i - 1] !== "--workers");
  const children = Array.from({ length: workers }, (_, k) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args, "--shard", `${k + 1}/${workers}`, "--no-summary"], { stdio: "inherit" });
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker ${k + 1}/${workers} exited with code ${code}`))));
    }),
  );
  return Promise.all(children).then(() => undefined);
}

/** What differs between experiments; the command plumbing (config, shards, summary) is shared. */
interface Experiment<S extends z.ZodType> {
  schema: S;
  quick: unknown;
  run(cfg: z.infer<S>, resultsDir: string, backend: BackendInfo, shard: [number, number]): Promise<void>;
  /** Regenerates tables and plots from the records; returns the files written. */
  summarise(resultsDir: string): Promise<string[]>;
}

function experimentAction<S extends z.ZodType>(name: string, exp: Experiment<S>) {
  return async (raw: Record<string, unknown>): Promise<void> => {
    const opts = CliOptions.parse(raw);
    const cfg = loadConfig(name, exp.schema, exp.quick, opts);
    const resultsDir = opts.results ?? (opts.quick ? "results/quick" : "results");
    if (opts.workers > 1 && !opts.shard) {
      await runShards(opts.workers);
    } else {
      const backend = await initBackend({ backend: opts.backend as BackendChoice });
      console.log(`${name}: backend ${backend.kind}; results in ${resultsDir}`);
      await exp.run(cfg, resultsDir, backend, opts.shard ?? [0, 1]);
    }
    if (opts.summary) console.log(`${name}: wrote ${(await exp.summarise(resultsDir)).join(", ")}`);
  };
}

const e1 = experimentAction("e1", {
  schema: E1Config,
  quick: E1_QUICK,
  run: (cfg, dir, backend, shard) => runE1(cfg, { recordsDir: e1Paths(dir).recordsDir, backend, shard }),
  summarise: (dir) => summariseE1(e1Paths(dir).recordsDir, e1Paths(dir).outPrefix),
});

const e2 = experimentAction("e2", {
  schema: E2Config,
  quick: E2_QUICK,
  run: (cfg, dir, backend, shard) => runE2(cfg, { ...e2Paths(dir), backend, shard }),
  summarise: (dir) => summariseE2(e2Paths(dir).recordsDir, e2Paths(dir).outPrefix),
});

const e3 = experimentAction("e3", {
  schema: E3Config,
  quick: E3_QUICK,
  run: (cfg, dir, backend, shard) => runE3(cfg, { recordsDir: e3Paths(dir).recordsDir, backend, shard }),
  summarise: (dir) => summariseE3(e3Paths(dir).recordsDir, e3Paths(dir).outPrefix),
});

const e4 = experimentAction("e4", {
  schema: E4Config,
  quick: E4_QUICK,
  run: (cfg, dir, backend, shard) => runE4(cfg, { recordsDir: e4Paths(dir).recordsDir, backend, shard }),
  summarise: (dir) => summariseE4(e4Paths(dir).recordsDir, e4Paths(dir).outPrefix),
});

/** The options every experiment command takes. */
function withCommonOptions(cmd: Command, quickNote: string): Command {
  return cmd
    .option("--seeds <n>", "number of seeds (0..n-1)", positiveInt("--seeds"))
    .option("--quick", quickNote, false)
    .option("--workers <n>", "worker processes (one core each)", positiveInt("--workers"), 1)
    .addOption(new Option("--backend <name>", "tfjs backend").choices([...BACKENDS]).default("auto"))
    .option("--results <dir>", "results folder (default results, or results/quick with --quick)")
    .option("--config <file>", "a JSON file of the experiment's settings (its zod schema documents each field)")
    .option("--shard <k/n>", "run only the k-th of n shares of the runs (used by --workers)", shardArg)
    .option("--no-summary", "skip regenerating tables and plots");
}

const program = new Command().name("npm run exp --").description("gumbel-worlds experiments");
withCommonOptions(
  program.command("e1").description("E1: gradient quality of the estimators (bias, variance, cosine vs exact) and ReinMax's polynomial toy"),
  "a smoke run of about a minute (results/quick unless --results)",
).action(e1);
withCommonOptions(
  program.command("e2").description("E2: world models trained with each estimator: k-step accuracy, pixel mismatch, code usage, training curves"),
  "a smoke run of about a minute (results/quick unless --results)",
).action(e2);

withCommonOptions(
  program.command("e3").description("E3: planning modes (expected / sample / mode codes): score spread, rank agreement with the oracle, episode return"),
  "a smoke run of about a minute (results/quick unless --results)",
).action(e3);

withCommonOptions(
  program.command("e4").description("E4: learning curves of the agent per world-model estimator, against DQN, random and the oracle MPC"),
  "a smoke run of about a minute (results/quick unless --results)",
).action(e4);

try {
  await program.parseAsync();
} catch (err) {
  // Bad input is reported as a message, not a stack trace.
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
