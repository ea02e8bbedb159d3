// Experiment E4: which estimator trains the world model of an agent best? Learning curves (return
// and success on fixed evaluation seeds vs env steps) of the imagination agent per training
// estimator, per env and seed, against baselines in the same loop and record format: DQN (discrete
// actions), a random policy and the oracle MPC (planning in the true simulator).
import { join } from "node:path";
import { z } from "zod";
import { describeRecords, readRecords, type RunRecord } from "../records.ts";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { make, registeredIds } from "../../envs/index.ts";
import { ESTIMATOR_NAMES, type EstimatorName } from "../../worldmodel/estimators/index.ts";
import { actionSpecOf } from "../../agent/learner.ts";
import { runMethod, type CurveMetrics } from "../methodRun.ts";
import { runFiles, type RunFiles } from "../runFiles.ts";
import { lineWithBand, renderPlot, seedsNote, type Row } from "../plots.ts";
import { bootstrapCi, groupBy, iqm, mean } from "../stats.ts";
import { csv, markdownTable } from "../tables.ts";
import { aggregatePlots, aggregateSection, normaliseRuns, whatThisShows } from "../suiteAggregate.ts";
import { separatedFrom, type CiCell } from "../whatThisShows.ts";

const BASELINES = ["dqn", "random", "oracle"] as const;
type Baseline = (typeof BASELINES)[number];

export const E4Config = z
  .object({
    /** Catch and its stochastic variant: where the agent learns at a budget every estimator can be run at here. */
    envs: z.array(z.string()).min(1).default(["Catch-v0", "CatchDrift-v0"]),
    estimators: z
      .array(z.enum(ESTIMATOR_NAMES as [EstimatorName, ...EstimatorName[]]))
      .min(1)
      .default(ESTIMATOR_NAMES),
    baselines: z.array(z.enum(BASELINES)).default([...BASELINES]),
    seeds: z.number().int().min(1).max(100).default(5),
    /**
     * Agent settings (agent/config.ts) shared by every run, then per env. The reference run (8
     * estimators + 3 baselines x 2 envs x 5 seeds) took 164 core-minutes, 1.4 hours on 2 workers:
     * 4000 env steps (the efficiency experiment's agent first reaches success 0.9 on Catch at
     * 1000-2000), 10 evaluation episodes every 500 steps.
     */
    agent: z.record(z.string(), z.unknown()).default({ steps: 4000, evalEvery: 500, evalEpisodes: 10 }),
    perEnv: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    /**
     * Oracle MPC settings (agent/planner.ts, agent/baselines.ts), per env. On the stochastic variant
     * each sequence is scored by 8 rollouts under fresh random streams: an oracle of the dynamics,
     * not a clairvoyant one that plans with the real env's own draws.
     */
    oracle: z.record(z.string(), z.record(z.string(), z.unknown())).default({
      "PointMass-v0": { horizon: 10, samples: 64, iterations: 3, elites: 8 },
      "CatchDrift-v0": { rollouts: 8 },
    }),
  })
  .strict();
export type E4Config = z.infer<typeof E4Config>;

export const E4_QUICK: z.input<typeof E4Config> = {
  envs: ["Catch-v0"],
  estimators: ["st-gumbel-softmax"],
  baselines: ["dqn", "random", "oracle"],
  seeds: 1,
  agent: { steps: 200, evalEvery: 100, seedSteps: 100, pretrainUpdates: 10, modelPretrainUpdates: 20, evalEpisodes: 2 },
  perEnv: {},
};

export interface E4RunConfig {
  env: string;
  /** An estimator name (the planner agent) or a baseline. */
  method: EstimatorName | Baseline;
  seed: number;
  agent: Record<string, unknown>;
  oracle: Record<string, unknown>;
}

export type E4Metrics = CurveMetrics;

export function planE4(cfg: E4Config): { run: string; config: E4RunConfig }[] {
  const known = registeredIds();
  for (const env of cfg.envs)
    if (!known.includes(env)) throw new Error(`e4: unknown env '${env}' (registered: ${known.join(", ")})`);
  const runs: { run: string; config: E4RunConfig }[] = [];
  for (let seed = 0; seed < cfg.seeds; seed++) {
    for (const env of cfg.envs) {
      const discrete = actionSpecOf(make(env)).kind === "discrete";
      for (const method of [...cfg.estimators, ...cfg.baselines.filter((b) => discrete || b !== "dqn")]) {
        runs.push({
          run: `${env}-${method}-seed${seed}`,
          config: {
            env,
            method,
            seed,
            agent: { ...cfg.agent, ...(cfg.perEnv[env] ?? {}) },
            // Only the oracle's runs use its settings: changing them keeps the learners' records.
            oracle: method === "oracle" ? (cfg.oracle[env] ?? {}) : {},
          },
        });
      }
    }
  }
  return runs;
}

export async function runE4One(c: E4RunConfig, files: RunFiles = {}): Promise<E4Metrics> {
  if (c.method === "random" || c.method === "oracle" || c.method === "dqn")
    return runMethod({ ...c, method: c.method }, files);
  const worldModel = { ...((c.agent.worldModel as object) ?? {}), estimator: c.method };
  return runMethod({ ...c, method: "agent", agent: { ...c.agent, worldModel } }, files);
}

export async function executeE4(
  config: E4RunConfig,
  resultsDir: string,
  run: string,
): Promise<{ metrics: E4Metrics; summary: string }> {
  const metrics = await runE4One(config, runFiles(resultsDir, "e4", run));
  const last = metrics.evals[metrics.evals.length - 1]!;
  return { metrics, summary: `return ${last.return.toFixed(3)} success ${last.success.toFixed(2)}` };
}

/**
 * "What this shows": the probability of improvement over ST-GS on normalised scores when the records
 * hold the random and oracle references, else each env's final return against ST-GS's by its CI.
 */
function findings(normalised: ReturnType<typeof normaliseRuns>, cells: CiCell[], budget: string): string[] {
  const improvement = whatThisShows(normalised, "st-gumbel-softmax", budget);
  return improvement.length ? improvement : separatedFrom(cells, "st-gumbel-softmax", budget);
}

export async function summariseE4(
  recordsDir: string,
  outPrefix: string,
  command = "npm run exp -- e4",
): Promise<string[]> {
  const records = readRecords(recordsDir) as unknown as RunRecord<E4RunConfig, E4Metrics>[];
  const files: string[] = [];
  const curves: Row[] = [];
  const rows: Row[] = [];
  const cells: CiCell[] = [];
  for (const [, group] of groupBy(records, (r) => `${r.config.env}|${r.config.method}`)) {
    const { env, method } = group[0]!.config;
    const steps = [...new Set(group.flatMap((r) => r.metrics.evals.map((e) => e.step)))].sort((a, b) => a - b);
    for (const step of steps) {
      const xs = group
        .map((r) => r.metrics.evals.find((e) => e.step === step)?.return)
        .filter((x): x is number => typeof x === "number");
      const [lo, hi] = xs.length > 1 ? bootstrapCi(xs, 1) : [xs[0]!, xs[0]!];
      curves.push({ env, method, step, return: mean(xs), lo, hi });
    }
    const finals = group.map((r) => r.metrics.evals[r.metrics.evals.length - 1]!);
    const returns = finals.map((e) => e.return);
    const [lo, hi] = returns.length > 1 ? bootstrapCi(returns, 1) : [returns[0]!, returns[0]!];
    // IQM over every final evaluation episode of every seed (Agarwal et al. 2021).
    const episodeReturns = finals.flatMap((e) => e.returns);
    const first90 = group.map((r) => r.metrics.evals.find((e) => e.success >= 0.9)?.step ?? NaN);
    cells.push({ group: env, method, metric: "final return", mean: mean(returns), lo, hi });
    rows.push({
      env,
      method,
      seeds: group.length,
      "final return": mean(returns),
      "return CI": `[${lo.toFixed(3)}, ${hi.toFixed(3)}]`,
      "IQM return": iqm(episodeReturns),
      success: mean(finals.map((e) => e.success)),
      "steps to 90% success":
        method === "random" || method === "oracle" ? "n/a" : first90.every(Number.isFinite) ? mean(first90) : "-",
    });
  }
  rows.sort(
    (a, b) =>
      String(a.env).localeCompare(String(b.env)) || (b["final return"] as number) - (a["final return"] as number),
  );
  writeFileAtomic(`${outPrefix}.csv`, csv(rows));
  const normalised = normaliseRuns(
    records.map((r) => ({ task: r.config.env, method: r.config.method, evals: r.metrics.evals })),
  );
  const md = [
    "# E4: estimators for the agent's world model, learning curves against baselines",
    "",
    `Regenerate with \`${command}\`. ${describeRecords(records)}.`,
    "Evaluation return on fixed seeds at the end of training: mean over seeds with a 95% bootstrap CI, IQM over all final evaluation episodes, success rate, and the mean env step of the first evaluation with success >= 0.9 ('-' if a seed never got there). random and oracle (MPC in the true simulator) do not learn: one evaluation, drawn flat.",
    "",
    markdownTable(rows),
    `Env steps and options per env: ${[...groupBy(records, (r) => r.config.env)].map(([env, g]) => `${env} ${JSON.stringify({ steps: (g[0]!.config.agent as { steps?: number }).steps, ...((g[0]!.config.agent as { envOptions?: object }).envOptions ?? {}) })}`).join("; ")}.`,
    "",
    "Plot: `e4-curves.png` (return vs env steps, mean and 95% CI over seeds).",
    ...aggregateSection(normalised, "st-gumbel-softmax"),
    ...findings(
      normalised,
      cells,
      `these budgets (${budgets(records)}, ${seedsNote(rows.map((r) => r.seeds as number))})`,
    ),
  ].join("\n");
  writeFileAtomic(`${outPrefix}.md`, md);
  files.push(`${outPrefix}.csv`, `${outPrefix}.md`);
  if (curves.length)
    files.push(
      ...(await renderPlot(
        lineWithBand(curves, {
          title: "E4: evaluation return vs env steps (95% bootstrap CI over seeds)",
          subtitle: `${seedsNote(rows.map((r) => r.seeds as number))}; random and the oracle MPC do not learn (one evaluation, drawn flat); each panel has its own step range`,
          x: "step",
          y: "return",
          lo: "lo",
          hi: "hi",
          color: "method",
          facet: "env",
          xTitle: "env steps",
        }),
        `${outPrefix}-curves`,
      )),
    );
  files.push(...(await aggregatePlots(normalised, outPrefix, "E4", "st-gumbel-softmax")));
  return files;
}

/** "2000 env steps" or "1500-2000 env steps" over the records. */
function budgets(records: RunRecord<E4RunConfig, E4Metrics>[]): string {
  const steps = records.map((r) => (r.config.agent as { steps?: number }).steps ?? 20000);
  const lo = Math.min(...steps);
  const hi = Math.max(...steps);
  return `${lo === hi ? lo : `${lo}-${hi}`} env steps`;
}

export function e4Paths(resultsDir: string): { recordsDir: string; outPrefix: string; checkpointsDir: string } {
  return {
    recordsDir: join(resultsDir, "e4-records"),
    outPrefix: join(resultsDir, "e4"),
    checkpointsDir: join(resultsDir, "e4-checkpoints"),
  };
}
