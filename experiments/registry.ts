// The experiments, each as the parts the runners need: a validated config, a plan of runs (one run
// = one job = one record), how to execute one run, where its records go, and how to summarise
// them. `npm run exp`, `npm run sweep`, the queue worker and `npm run report` all work from here.
import type { z } from "zod";
import { parseAgentConfig } from "../agent/config.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { E1Config, E1_QUICK, e1Paths, executeE1, planE1Jobs, summariseE1 } from "./e1/e1.ts";
import { E2Config, E2_QUICK, e2Paths, executeE2, planE2, summariseE2 } from "./e2/e2.ts";
import { E3Config, E3_QUICK, e3Paths, executeE3, planE3, summariseE3 } from "./e3/e3.ts";
import { E4Config, E4_QUICK, e4Paths, executeE4, planE4, summariseE4 } from "./e4/e4.ts";
import {
  EFFICIENCY_QUICK,
  EfficiencyConfig,
  efficiencyPaths,
  executeEfficiency,
  planEfficiency,
  summariseEfficiency,
  efficiencyProgress,
} from "./efficiency/efficiency.ts";
import { PROBE_QUICK, ProbeConfig, executeProbe, planProbe, probePaths, summariseProbe } from "./probe/probe.ts";
import { fingerprint } from "./records.ts";
import type { PlannedRun } from "./runner.ts";

export interface RunConfig {
  seed: number;
  [key: string]: unknown;
}

export interface ExperimentDef {
  name: string;
  title: string;
  schema: z.ZodType;
  /** Config of the `--quick` smoke preset (results/quick). */
  quick: unknown;
  /** Every run of a validated config, in a fixed order. */
  plan(cfg: unknown, resultsDir: string): PlannedRun<RunConfig>[];
  /**
   * One run: its metrics and a one-line summary. Side files (pictures, training logs, checkpoints)
   * go under resultsDir, named after `run`.
   */
  execute(config: RunConfig, resultsDir: string, run: string): Promise<{ metrics: unknown; summary: string }>;
  recordsDir(resultsDir: string): string;
  /** Folders under resultsDir that hold caches, not results (a queue worker does not send them back). */
  caches(resultsDir: string): string[];
  /**
   * Regenerates tables and plots from the records; returns the files written. `command` is the one
   * that reproduces them, quoted on the page (default: the experiment's preset).
   */
  summarise(resultsDir: string, command?: string): Promise<string[]>;
  /** Path prefix of its summary files under a results folder (`<prefix>.md`, `<prefix>.csv`, plots). */
  outPrefix(resultsDir: string): string;
  /** Hash of the library defaults its runs rest on (see ExperimentParts.defaults); undefined if none. */
  defaultsFingerprint(): string | undefined;
  /** What a run's evaluations so far say (ExperimentParts.progress); undefined when it says nothing. */
  progress(config: RunConfig, evals: RunEvaluation[], resultsDir: string): string | undefined;
}

/** One evaluation as a run's training log holds it. */
export interface RunEvaluation {
  step: number;
  return: number;
  success: number;
}

/** What an experiment is made of (a user's experiment too: see registerExperiment). */
export interface ExperimentParts {
  name: string;
  title: string;
  /** Validates the experiment's config (defaults filled in: they are its reference preset). */
  schema: z.ZodType;
  /** The `--quick` smoke preset. */
  quick: unknown;
  /** Every run of a validated config, in a fixed order; each run's name is a plain file name. */
  plan: (cfg: any, resultsDir: string) => PlannedRun<any>[];
  /** One run: { metrics, summary } (or a promise of it). */
  execute: (c: any, resultsDir: string, run: string) => unknown;
  /** Where its records and outputs go under a results folder (data and checkpoint folders are caches). */
  paths: (dir: string) => { recordsDir: string; outPrefix: string; dataDir?: string; checkpointsDir?: string };
  /** Tables and plots from the records, naming `command` as the way to reproduce them; returns the files written. */
  summarise: (recordsDir: string, outPrefix: string, command: string) => Promise<string[]>;
  /**
   * The library defaults below its own config that its runs rest on (e.g. the agent's): a record
   * stores only the experiment's config, so when one of these changes, old records would pass for
   * new ones. Their hash goes into every record; sweeps and pages name records made under others.
   */
  defaults?: () => unknown;
  /**
   * What a run's evaluations so far say, in a few words, for a sweep's `--status` (e.g. where it
   * first reached its threshold); undefined: nothing beyond the evaluations themselves.
   */
  progress?: (config: any, evals: RunEvaluation[], resultsDir: string) => string | undefined;
}

// Each experiment's functions are typed with its own configs; the registry erases them to RunConfig
// (configs arrive as JSON from files, processes and Redis, and are validated by the schema first).
const def = (d: ExperimentParts): ExperimentDef => ({
  name: d.name,
  title: d.title,
  schema: d.schema,
  quick: d.quick,
  plan: d.plan,
  execute: async (c, dir, run) => (await d.execute(c, dir, run)) as { metrics: unknown; summary: string },
  recordsDir: (dir) => d.paths(dir).recordsDir,
  // Checkpoints stay where the run ran (a queue worker does not send them back: they can be large).
  caches: (dir) => [d.paths(dir).dataDir, d.paths(dir).checkpointsDir].filter((x): x is string => x !== undefined),
  summarise: (dir, command = `npm run exp -- ${d.name}`) =>
    d.summarise(d.paths(dir).recordsDir, d.paths(dir).outPrefix, command),
  outPrefix: (dir) => d.paths(dir).outPrefix,
  defaultsFingerprint: () => (d.defaults ? fingerprint(d.defaults()) : undefined),
  progress: (c, evals, dir) => d.progress?.(c, evals, dir),
});

// The agent's defaults include its world model's and DQN's.
const agentDefaults = () => parseAgentConfig({});

export const EXPERIMENTS: Record<string, ExperimentDef> = {
  e1: def({
    name: "e1",
    title: "E1: gradient quality of the estimators (bias, variance, cosine vs exact) and ReinMax's polynomial toy",
    schema: E1Config,
    quick: E1_QUICK,
    plan: planE1Jobs,
    execute: executeE1,
    paths: e1Paths,
    summarise: summariseE1,
  }),
  e2: def({
    name: "e2",
    title: "E2: world models trained with each estimator: k-step accuracy, pixel mismatch, code usage, training curves",
    schema: E2Config,
    quick: E2_QUICK,
    plan: (cfg, dir) => planE2(cfg, e2Paths(dir).dataDir),
    execute: executeE2,
    paths: e2Paths,
    summarise: summariseE2,
    defaults: () => parseWorldModelConfig({}),
  }),
  e3: def({
    name: "e3",
    title:
      "E3: planning modes (expected / sample / mode codes / average of samples): score spread, rank agreement with the oracle, episode return",
    schema: E3Config,
    quick: E3_QUICK,
    plan: planE3,
    execute: executeE3,
    paths: e3Paths,
    summarise: summariseE3,
    defaults: agentDefaults,
  }),
  e4: def({
    name: "e4",
    title: "E4: learning curves of the agent per world-model estimator, against DQN, random and the oracle MPC",
    schema: E4Config,
    quick: E4_QUICK,
    plan: planE4,
    execute: executeE4,
    paths: e4Paths,
    summarise: summariseE4,
    defaults: agentDefaults,
  }),
  efficiency: def({
    name: "efficiency",
    title:
      "Efficiency: env steps to each task's threshold, imagination agent vs DQN, with random and oracle-MPC references",
    schema: EfficiencyConfig,
    quick: EFFICIENCY_QUICK,
    plan: planEfficiency,
    execute: executeEfficiency,
    paths: efficiencyPaths,
    summarise: (recordsDir, outPrefix, command) => summariseEfficiency(recordsDir, outPrefix, command),
    defaults: agentDefaults,
    progress: efficiencyProgress,
  }),
  probe: def({
    name: "probe",
    title: "World-model probe: whole-code 1-step and k-step accuracy vs updates on random walks of each env",
    schema: ProbeConfig,
    quick: PROBE_QUICK,
    plan: (cfg, dir) => planProbe(cfg, probePaths(dir).dataDir),
    execute: executeProbe,
    paths: probePaths,
    summarise: (recordsDir, outPrefix, command) => summariseProbe(recordsDir, outPrefix, command),
    defaults: agentDefaults,
  }),
};

/**
 * Adds a user's experiment to the registry, so that `npm run exp -- <name>`, `npm run sweep`, the
 * queue worker and `npm run report` know it: call it from a module loaded with `--import`.
 */
export function registerExperiment(parts: ExperimentParts): ExperimentDef {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(parts.name))
    throw new Error(
      `registerExperiment: '${parts.name}' is not a valid name (a letter, then letters, digits, _ or -; at most 64)`,
    );
  if (EXPERIMENTS[parts.name]) throw new Error(`registerExperiment: '${parts.name}' is already registered`);
  const d = def(parts);
  EXPERIMENTS[parts.name] = d;
  return d;
}

export function experiment(name: string): ExperimentDef {
  const d = EXPERIMENTS[name];
  if (!d) throw new Error(`unknown experiment '${name}' (known: ${Object.keys(EXPERIMENTS).join(", ")})`);
  return d;
}

/** Validates an experiment's config (`quick`: over its smoke preset), naming every bad field. */
export function parseExperimentConfig(name: string, input: unknown, quick = false, source = ""): unknown {
  const d = experiment(name);
  const base = quick ? { ...(d.quick as object), ...(input as object) } : input;
  const parsed = d.schema.safeParse(base ?? {});
  if (!parsed.success) {
    throw new Error(
      `${name}: invalid config${source ? ` in ${source}` : ""}:\n${parsed.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n")}`,
    );
  }
  return parsed.data;
}
