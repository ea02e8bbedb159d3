// The efficiency experiment: does the imagination agent earn its model? Env steps until a run first
// reaches its task's threshold, agent against DQN, on the suite's tasks, with random and oracle-MPC
// reference lines. Per task a budget and a threshold: success >= 0.9 on the grids and Catch; on
// Breakout and PointMass a return of 80% of the oracle MPC's (measured in the same run). A run that
// never reaches its threshold counts as its budget in the medians. Stable once solved: no later
// evaluation falls below `stability` x threshold.
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { make, registeredIds } from "../../envs/index.ts";
import { actionSpecOf } from "../../agent/learner.ts";
import { METHODS, runMethod, type CurveMetrics, type Method } from "../methodRun.ts";
import { lineWithBand, pointsWithErrors, renderPlot, seedsNote, type ReferenceLine, type Row } from "../plots.ts";
import { describeRecords, readRecords, runSeconds, type RunRecord } from "../records.ts";
import { runFiles } from "../runFiles.ts";
import { probabilityOfImprovementCi, type Interval } from "../aggregate.ts";
import { groupBy, mean, median } from "../stats.ts";
import {
  aggregatePlots,
  aggregateSection,
  normaliseRuns,
  showInterval,
  sideOfHalf,
  whatThisShows,
} from "../suiteAggregate.ts";
import { csv, fmt3, markdownTable } from "../tables.ts";
import { evaluationStates, stabilitySpec } from "./stabilityPlot.ts";

const Threshold = z
  .object({
    /** `success`: the evaluation's success rate; `oracle`: its return against the oracle MPC's mean return. */
    metric: z.enum(["success", "oracle"]),
    /** Success rate to reach, or the fraction of the oracle's return. */
    value: z.number(),
  })
  .strict();

const Task = z
  .object({
    env: z.string(),
    envOptions: z.record(z.string(), z.unknown()).default({}),
    /** Env steps of every run of the task. */
    budget: z.number().int().min(1),
    threshold: Threshold,
  })
  .strict();
export type Task = z.infer<typeof Task>;

const success = { metric: "success" as const, value: 0.9 };
const oracle = { metric: "oracle" as const, value: 0.8 };
/** The issue's tasks: 20k env steps for the small ones, 50k for the others. */
const TASKS: Record<string, z.input<typeof Task>> = {
  "Catch-v0": { env: "Catch-v0", budget: 20000, threshold: success },
  "GridEmpty-v0-8x8": { env: "GridEmpty-v0", envOptions: { size: 8 }, budget: 20000, threshold: success },
  "GridFourRooms-v0-11x11": { env: "GridFourRooms-v0", envOptions: { size: 11 }, budget: 50000, threshold: success },
  "GridDoorKey-v0-5x5": { env: "GridDoorKey-v0", envOptions: { size: 5 }, budget: 20000, threshold: success },
  "GridDoorKey-v0-8x8": { env: "GridDoorKey-v0", envOptions: { size: 8 }, budget: 50000, threshold: success },
  "GridLavaGap-v0": { env: "GridLavaGap-v0", budget: 20000, threshold: success },
  "Breakout-v0": { env: "Breakout-v0", budget: 50000, threshold: oracle },
  "PointMass-v0": { env: "PointMass-v0", budget: 50000, threshold: oracle },
};

/**
 * The grid-cells world model of FourRooms-11, DoorKey-8x8 and Breakout (PER_TASK below): each entry
 * adds its encoder options and its latents, one per cell.
 */
const CELLS_MODEL = { levels: [2, 2, 2, 2], dynamicsHidden: [64, 64], inverseDynamicsWeight: 0, horizon: 2, batch: 32 };

/** PointMass's encoder, for the agent and DQN alike (why: PER_TASK below). */
const POINT_MASS_ENCODER = { encoder: { type: "keypoints", keypoints: 8 }, normalization: "channel" };

/**
 * Agent settings for one task only, merged over `agent` (the issue allows them where a task truly
 * needs them, in one visible table). LavaGap: the encoder keeps learning. Its 1000 random seed
 * steps mostly die in the lava, so an encoder frozen after 1500 updates on them never learns the
 * goal side: at step 8000 (seed 3) such a model predicted none of the 34 goal steps of the 20
 * layouts' 1162 states, one that kept learning 18 of them, and its agent reached success 0.9 at
 * step 7000 where the frozen one stayed at 0-0.3. And it plans one step ahead: its model predicts
 * the whole next code for a sixth to a third of the evaluation layouts' steps (npm run inspect),
 * so a longer lookahead adds its errors; with horizon 1 (seeds 0-3) the mean return over the
 * evaluations was higher on every seed than with 3 (docs/efficiency-investigations.md).
 * LavaGap and DoorKey-5x5 take 10-step value targets: both crossed the threshold by search before
 * the value led the way from the start, then dipped. With 10 steps, stable on 4 and 5 of 5 seeds
 * (2 and 3 of 5 with the default 3), at the same medians.
 */
export const PER_TASK: Record<string, Record<string, unknown>> = {
  // LavaGap: evaluations act with weights averaged over about 500 updates (`evalAverage`): its dips
  // were a reward or value error of the moment sending a layout into lava, gone by the next
  // evaluation. With 0.002, 5 seeds stable (the online weights: 4), median first crossing 10000
  // (9000); 0.001 stable on 5 too, crossing later (11000); 0.005 on 4 (docs/efficiency-investigations.md).
  "GridLavaGap-v0": {
    worldModel: { encoderFreezeAfter: null },
    planner: { horizon: 1 },
    value: { nStep: 10 },
    evalAverage: 0.002,
  },
  // DoorKey-5x5: revisit memory takes a rewarded ending first (the goal step). The goal pays
  // 1 - 0.9 t/250 and the observation does not show t: a goal step taken late once scores low, and
  // the agent circled the goal to the time limit (docs/efficiency-investigations.md).
  "GridDoorKey-v0-5x5": { revisitGoals: true, value: { nStep: 10 } },
  // Breakout: grid cells as codes, as FourRooms-11's, with 5x5 neighbourhoods (`radius` 2: the cell
  // the ball enters sees its trail two cells back) and presence flags; classified event heads; a
  // search 40 deep over 1500 codes on observed steps; value targets 10 steps long, discounted by
  // 0.99 (DQN's; 0.95 shared: a lost ball weighs further back) and capped at the largest return
  // seen; evaluations with averaged weights. 5 seeds x 50k: return >= 11.92 (0.8 x the oracle MPC's)
  // first at steps 19000, 17000, 17000, 11000, 15000 (median 17000; 3-step DQN got there once, at
  // 47000); best evaluations 62-80; seed 3 fell below 0.8 x threshold once (8 at step 13000).
  // The entry before (codes shaped by a reconstruction loss, the encoder learning throughout, a
  // one-step plan) stayed below 3-step DQN, final return 7.5-9.5 (results/efficiency-426cd97-breakout;
  // docs/efficiency-status.md tells each step of it).
  "Breakout-v0": {
    worldModel: {
      encoder: { type: "cells", presence: true, radius: 2, eventHeads: "classified" },
      latents: 100,
      ...CELLS_MODEL,
    },
    planner: { search: { depth: 40, maxNodes: 1500, observed: true } },
    value: { nStep: 10, gamma: 0.99, returnCap: true },
    evalAverage: 0.002,
  },
  // PointMass: a keypoint encoder (a spatial soft-argmax of 8 feature maps) with statistics pooled
  // per channel. The seed steps show 10 targets; an MLP encoder's codes fitted to them carry no new
  // target (held-out reward MSE 0.13 against the reward's variance 0.11; the keypoints' 0.025), and
  // every MLP variant tried stayed at the random level through 6000 steps (docs/efficiency-investigations.md). Its
  // encoder keeps learning from the agent's own steps through 10000 updates, then stops so that the
  // rest of the 50k steps reuse each observation's code (FrozenCodes). Frozen at 1500 updates, the 5
  // seeds first passed the threshold at steps 5000, 3000, 3000, 2000, 1000; learning, at 3000, 3000,
  // 2000, 2000, 1000 (DQN's median 2000; records in results/efficiency-eac5d9f-pointmass).
  "PointMass-v0": { worldModel: { ...POINT_MASS_ENCODER, encoderFreezeAfter: 10000 } },
  // FourRooms-11: grid cells as codes with local heads (encoder.type "cells"), and a search over
  // codes. Every episode is a new layout; the shared settings' model predicted the whole next code
  // for 1-2% of random-walk steps, so the search had nothing to search. The cells model predicts it
  // for 0.99-1.00 from 2000 updates on (probe, held-out layouts), and in a screen (seeds 0, 1) the
  // agent's success was 0.7-1.0 and 0.4-0.8 through 5000-6000 steps against the records' 0.1-0.5
  // (docs/efficiency-investigations.md, "Grid cells as codes, with local heads"). The search covers
  // the layout: a layout has about 270 poses, some 40 actions apart, and a search cut at depth 30
  // left the far ones to the value net. From seed 1's checkpoint at step 5000 (success 0.4-0.8 in
  // its evaluations), 20 evaluation layouts: success 0.50 at depth 30 (400 or 1500 nodes), 0.75 at
  // depth 60 (400 nodes) and at 100 (1500). And a step pays only where the model says it ends (the
  // grids pay only at the goal): the model's small rewards on steps that go on (0.017 on average,
  // 0.059 at the 90th percentile in one run's model at step 5000) add up around cycles to more than
  // the goal's 0.38. On 40 layouts at depth 100, three checkpoints: 1.00, 0.97, 1.00 with it, 0.97,
  // 0.60, 0.53 without. Evaluations act with weights averaged over about 500 updates (`evalAverage`,
  // as LavaGap's) and again with the online ones (`evalOnline`, recorded beside): the records made
  // with the online weights alone (results/efficiency-22720f2-fourrooms: first at steps 2000, 3000,
  // 4000, 1000, 4000, DQN never) fell twice, an error of the moment in the model (seed 2 at 15000)
  // and a crossing before the goal steps were learned (seed 3 at 2000). Its records: first at steps
  // 2000, 4000, 3000, 2000, 4000 (the online weights of the same runs: 2000, 3000, 4000, 1000, 3000),
  // 4 of 5 stable (online 3 of 5); seed 1 fell to 0.7 at step 7000 with either weights.
  // The shared settings' records in results/efficiency-c960ede-fourrooms never passed 0.6.
  "GridFourRooms-v0-11x11": {
    worldModel: {
      encoder: { type: "cells" },
      latents: 121,
      ...CELLS_MODEL,
    },
    planner: { search: { depth: 100, maxNodes: 1500, rewardOnEnding: true } },
    evalAverage: 0.002,
    evalOnline: true,
  },
  // DoorKey-8x8: FourRooms-11's cells model and search, with one flag per code in every cell's input
  // (`presence`: whether the grid still holds the key; the locked door opens only for an agent that
  // carries it, which no 3x3 neighbourhood shows). While training, a bonus of 0.1 on search steps with
  // a (neighbourhood, action) never taken in the env (`untried`: the heads meet the unlock too seldom
  // to predict it), on every other episode (`exploitEvery` 2, so that paying episodes come too), with
  // epsilon down by step 2500 so that the search, not chance, explores. Layouts turned a random number
  // of quarter turns (`turnAugment`: the goal step is learned from every side), the events heads as
  // classifiers (`eventHeads`: thousands of steps without a reward no longer shut the reward gates),
  // value targets capped at the best return seen (`returnCap`: no divergence), evaluations with
  // weights averaged over about 500 updates (`evalAverage`), and every search takes the next code each
  // (neighbourhood, action) always led to in the env (`observed`: the door's steps, which the heads
  // kept flipping). Its records: success 0.9 first at steps 4000, 4000, 7000, 4000, 4000 (the shared
  // settings never in 50k), 187 of the 190 evaluations from step 13000 on at 1.0; seeds 0 and 3 fell
  // below 0.72 once each (docs/efficiency-status.md, DoorKey-8x8).
  "GridDoorKey-v0-8x8": {
    worldModel: {
      encoder: { type: "cells", presence: true, eventHeads: "classified" },
      latents: 64,
      ...CELLS_MODEL,
    },
    planner: {
      search: { depth: 60, maxNodes: 1500, rewardOnEnding: true, untried: 0.1, exploitEvery: 2, observed: true },
    },
    exploration: { epsilonFraction: 0.05 },
    turnAugment: true,
    value: { returnCap: true },
    evalAverage: 0.002,
  },
};

/**
 * DQN's settings on every task (over `agent`; a task's DQN_PER_TASK entry goes over them): 3-step
 * targets (Rainbow's; Hessel et al. 2018), the stronger yardstick. Against the one-step DQN of the
 * records before (commit f820199, now in results/efficiency-f820199-dqn1step): median steps to
 * threshold the same or fewer and the area under the curve higher or level on every task but
 * PointMass, where they reached the threshold later (docs/efficiency-investigations.md).
 */
export const DQN_SHARED: Record<string, unknown> = { dqn: { nStep: 3 } };

/**
 * DQN's settings for one task only (merged over `agent`). PointMass has Box actions: DQN picks among
 * a 3 x 3 grid of them (each force component -1, 0 or 1: bang-bang plus zero, bounds included), and
 * reads the pixels through the same keypoint encoder as the agent, so the two differ in what they
 * learn, not in what they see. The stronger yardstick too: with the shared MLP encoder DQN returned
 * 16-50 through 10000 steps (seed 0), with the keypoints it passes 78.6 by step 2000-3000.
 */
export const DQN_PER_TASK: Record<string, Record<string, unknown>> = {
  // dqn: undefined keeps DQN's own defaults (one-step targets) over DQN_SHARED's 3 steps: with 3,
  // DQN passed the threshold later (median step 5000 against 2000; docs/efficiency-investigations.md).
  "PointMass-v0": { actionGrid: 3, worldModel: POINT_MASS_ENCODER, dqn: undefined },
};

const plainName = /^[A-Za-z0-9][A-Za-z0-9._=,+-]*$/;

/** Stable once solved: no evaluation after a run first reaches its threshold falls below this x threshold. */
export const STABILITY = 0.8;

export const EfficiencyConfig = z
  .object({
    tasks: z
      .record(z.string().regex(plainName, "task names are plain names (letters, digits, . _ - = , +)"), Task)
      .prefault(TASKS),
    methods: z
      .array(z.enum(["agent", "dqn"]))
      .min(1)
      .default(["agent", "dqn"]),
    references: z.array(z.enum(["random", "oracle"])).default(["random", "oracle"]),
    seeds: z.number().int().min(1).max(100).default(5),
    /** Agent settings (agent/config.ts) shared by every run; steps and envOptions come from the task. */
    agent: z.record(z.string(), z.unknown()).default({ evalEvery: 1000, evalEpisodes: 10 }),
    /** Settings for one task only (merged over `agent`); unset: PER_TASK's for the tasks run. */
    perTask: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    /** DQN's settings on every task, merged over `agent` (DQN_SHARED: why). */
    dqnShared: z.record(z.string(), z.unknown()).default(DQN_SHARED),
    /** DQN's settings for one task only (merged over `agent` and `dqnShared`); unset: DQN_PER_TASK's for the tasks run. DQN runs on a Box-action task only when they set `actionGrid`. */
    dqnPerTask: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    /** Oracle MPC settings (agent/planner.ts), per env id. */
    oracle: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .default({ "PointMass-v0": { horizon: 10, samples: 64, iterations: 3, elites: 8 } }),
    /** Stable once solved: no evaluation after the first success falls below this x threshold. */
    stability: z.number().min(0).max(1).default(STABILITY),
  })
  .strict();
export type EfficiencyConfig = z.infer<typeof EfficiencyConfig>;

export const EFFICIENCY_QUICK: z.input<typeof EfficiencyConfig> = {
  tasks: {
    "Catch-v0": { env: "Catch-v0", budget: 300, threshold: success },
    "PointMass-v0": { env: "PointMass-v0", budget: 200, threshold: oracle },
  },
  seeds: 1,
  agent: { evalEvery: 100, evalEpisodes: 2, seedSteps: 100, pretrainUpdates: 10, modelPretrainUpdates: 20 },
  oracle: { "PointMass-v0": { horizon: 5, samples: 16, iterations: 2, elites: 4 } },
};

export interface EfficiencyRunConfig {
  task: string;
  env: string;
  method: Method;
  seed: number;
  budget: number;
  threshold: z.infer<typeof Threshold>;
  agent: Record<string, unknown>;
  /** The task's own settings, already merged into `agent` (absent when it has none). */
  perTask?: Record<string, unknown>;
  oracle: Record<string, unknown>;
}

export function planEfficiency(cfg: EfficiencyConfig): { run: string; config: EfficiencyRunConfig }[] {
  const known = registeredIds();
  for (const [name, t] of Object.entries(cfg.tasks))
    if (!known.includes(t.env))
      throw new Error(`efficiency: task '${name}' has unknown env '${t.env}' (registered: ${known.join(", ")})`);
  for (const field of ["perTask", "dqnPerTask"] as const)
    for (const name of Object.keys(cfg[field] ?? {}))
      if (!cfg.tasks[name]) throw new Error(`efficiency: ${field} names unknown task '${name}'`);
  const tasksRun = (table: Record<string, Record<string, unknown>>) =>
    Object.fromEntries(Object.entries(table).filter(([t]) => cfg.tasks[t]));
  const perTask = cfg.perTask ?? tasksRun(PER_TASK);
  const dqnPerTask = cfg.dqnPerTask ?? tasksRun(DQN_PER_TASK);
  const runs: { run: string; config: EfficiencyRunConfig }[] = [];
  for (let seed = 0; seed < cfg.seeds; seed++)
    for (const [task, t] of Object.entries(cfg.tasks)) {
      // DQN needs discrete actions: on a Box-action task it runs only through its own actionGrid.
      const discrete = actionSpecOf(make(t.env, t.envOptions)).kind === "discrete";
      const dqnRuns = discrete || dqnPerTask[task]?.actionGrid !== undefined;
      const methods = [...cfg.methods.filter((m) => dqnRuns || m !== "dqn"), ...cfg.references];
      for (const method of methods) {
        // Per-task settings are each learner's own; the references run the shared ones.
        const own = method === "agent" ? perTask[task] : method === "dqn" ? dqnPerTask[task] : undefined;
        const shared = method === "dqn" ? cfg.dqnShared : {};
        runs.push({
          run: `${task}-${method}-seed${seed}`,
          config: {
            task,
            env: t.env,
            method,
            seed,
            budget: t.budget,
            threshold: t.threshold,
            agent: { ...cfg.agent, ...shared, ...(own ?? {}), steps: t.budget, envOptions: t.envOptions },
            ...(own ? { perTask: own } : {}),
            oracle: cfg.oracle[t.env] ?? {},
          },
        });
      }
    }
  return runs;
}

export async function executeEfficiency(
  config: EfficiencyRunConfig,
  resultsDir: string,
  run: string,
): Promise<{ metrics: CurveMetrics; summary: string }> {
  // Where a run falls back below the stability floor, the checkpoints on both sides stay, to load the
  // agent as it was there (docs/efficiency-investigations.md reads dips so). An oracle threshold is
  // read from the oracle records in the folder at each evaluation: none yet, nothing kept.
  const keepAround = (evals: readonly Evaluation[]) => {
    const threshold = resolvedThreshold(config, resultsDir);
    return typeof threshold !== "string" && fellBack(evals, config.threshold.metric, threshold.target);
  };
  const learner = config.method === "agent" || config.method === "dqn";
  const metrics = await runMethod(config, runFiles(resultsDir, "efficiency", run, learner ? keepAround : undefined));
  const last = metrics.evals[metrics.evals.length - 1]!;
  const first =
    config.threshold.metric === "success" ? metrics.evals.find((e) => e.success >= config.threshold.value) : undefined;
  return {
    metrics,
    summary: `return ${last.return.toFixed(3)} success ${last.success.toFixed(2)}${first ? `; success >= ${config.threshold.value} first at step ${first.step}` : ""}${metrics.resumedFrom !== undefined ? ` (resumed from step ${metrics.resumedFrom})` : ""}`,
  };
}

type EfficiencyRecord = RunRecord<EfficiencyRunConfig, CurveMetrics>;

/**
 * Where the learning curves part per task: the tasks on which P(agent run's area > DQN run's) has a
 * 95% CI above 0.5, below it, or holding it. Steps to threshold cannot say this when neither
 * method reaches the threshold (both count as the budget).
 */
export function perTaskVerdict(rows: readonly { task: string; p: Interval }[]): string {
  const list = (xs: typeof rows) => (xs.length ? xs.map((x) => `${x.task} ${showInterval(x.p)}`).join(", ") : "none");
  const on = (side: ReturnType<typeof sideOfHalf>) => list(rows.filter((r) => sideOfHalf(r.p) === side));
  return `Per task, P(an agent run's area under the learning curve beats a DQN run's), 95% bootstrap CI over seeds: agent better on ${on("better")}; worse on ${on("worse")}; undecided on ${on("undecided")}.`;
}

/** The per-task settings the records ran with, one line per learner, task and setting. */
function perTaskNote(records: EfficiencyRecord[]): string {
  const settings = (method: Method) => [
    ...new Set(
      records
        .filter((r) => r.config.method === method && r.config.perTask)
        .map((r) => `${r.config.task}: \`${JSON.stringify(r.config.perTask)}\``),
    ),
  ];
  const agent = settings("agent");
  const dqn = settings("dqn");
  // DQN's own settings (`dqnShared` puts them in every DQN run): the records of each setting, by task.
  const dqnOwn = new Map<string, Set<string>>();
  for (const r of records.filter((r) => r.config.method === "dqn")) {
    const own = JSON.stringify(r.config.agent.dqn ?? {});
    dqnOwn.set(own, (dqnOwn.get(own) ?? new Set()).add(r.config.task));
  }
  const dqnLine = [...dqnOwn]
    .map(([own, tasks]) => `${own === "{}" ? "its defaults" : `\`${own}\``} on ${[...tasks].sort().join(", ")}`)
    .join("; ");
  return [
    agent.length
      ? `Per-task agent settings (the config's \`perTask\`, over the shared \`agent\`): ${agent.join("; ")}.`
      : "Every task ran the shared agent settings (no `perTask`).",
    ...(dqnOwn.size
      ? [`DQN's settings (\`dqn\`; the config's \`dqnShared\` sets them on every task): ${dqnLine}.`]
      : []),
    ...(dqn.length ? [`Per-task DQN settings (\`dqnPerTask\`): ${dqn.join("; ")}.`] : []),
    "",
  ].join("\n");
}

/** What the threshold's reading needs of an evaluation. */
type Evaluation = Pick<CurveMetrics["evals"][number], "step" | "return" | "success">;

/**
 * A run's threshold in its metric, with its text: an oracle threshold takes the oracle's mean final
 * return from the records in the run's results folder; a string says why it cannot be resolved.
 */
function resolvedThreshold(config: EfficiencyRunConfig, resultsDir: string): { target: number; text: string } | string {
  const { metric, value } = config.threshold;
  if (metric === "success") return { target: value, text: `success >= ${value}` };
  let oracle: number[] = [];
  try {
    oracle = (readRecords(efficiencyPaths(resultsDir).recordsDir) as unknown as EfficiencyRecord[])
      .filter((r) => r.config.task === config.task && r.config.method === "oracle")
      .map((r) => r.metrics.evals[r.metrics.evals.length - 1]!.return);
  } catch (err) {
    return `threshold ${value} x the oracle's return: its records are unreadable (${(err as Error).message})`;
  }
  if (!oracle.length) return `threshold ${value} x the oracle's return: no oracle record in this results folder`;
  const target = value * mean(oracle);
  return { target, text: `return >= ${value} x oracle = ${fmt3(target)}` };
}

/**
 * What a learning run's evaluations so far say of its threshold, for a sweep's `--status`: where it
 * first reached it, and the lowest evaluation since against the stability floor.
 */
export function efficiencyProgress(
  config: EfficiencyRunConfig,
  evals: readonly Evaluation[],
  resultsDir: string,
): string | undefined {
  if (config.method !== "agent" && config.method !== "dqn") return undefined;
  const threshold = resolvedThreshold(config, resultsDir);
  if (typeof threshold === "string") return threshold;
  return thresholdProgress(evals, config.threshold.metric, threshold.target, threshold.text);
}

/**
 * Whether the last of `evals` fell below the stability floor after an earlier one reached `target`
 * (a run that is not stable once solved, at this evaluation).
 */
export function fellBack(
  evals: readonly Evaluation[],
  metric: "success" | "oracle",
  target: number,
  stability = STABILITY,
): boolean {
  const value = metricOf(metric);
  const last = evals.at(-1);
  const first = evals.find((e) => value(e) >= target);
  return (
    last !== undefined &&
    first !== undefined &&
    first.step < last.step &&
    value(last) < stabilityFloor(target, stability)
  );
}

/** efficiencyProgress for a resolved target: "<text> first at step N; lowest since X (floor F): ...". */
export function thresholdProgress(
  evals: readonly Evaluation[],
  metric: "success" | "oracle",
  target: number,
  text: string,
  stability = STABILITY,
): string {
  const o = outcomeOf(evals, metric, target, stability);
  const value = metricOf(metric);
  if (o.stepsToThreshold === undefined) {
    const best = Math.max(...evals.map(value));
    return `${text}: not reached yet${evals.length ? ` (best ${fmt3(best)})` : ""}`;
  }
  const since = evals.filter((e) => e.step >= o.stepsToThreshold!);
  const lowest = Math.min(...since.map(value));
  return `${text} first at step ${o.stepsToThreshold}; lowest since ${fmt3(lowest)} (floor ${fmt3(stabilityFloor(target, stability))}): ${o.stable ? "stable so far" : "fell below"}`;
}

/** An evaluation's value in the threshold's metric: its success rate, or its return (oracle thresholds). */
const metricOf = (metric: "success" | "oracle") => (e: Evaluation) => (metric === "success" ? e.success : e.return);

/** Stability in the threshold's metric; a negative return target (oracle below 0) scales the other way. */
const stabilityFloor = (target: number, stability: number) => (target >= 0 ? stability * target : target / stability);

/** What one learning run says about its threshold. */
export interface RunOutcome {
  /** The env step of the first evaluation at or above the threshold (undefined: never within the budget). */
  stepsToThreshold: number | undefined;
  finalReturn: number;
  /** The lowest return of the evaluations from that step on (undefined when never reached). */
  minReturnAfter: number | undefined;
  /** No evaluation after reaching the threshold fell below stability x threshold (in the threshold's metric). */
  stable: boolean | undefined;
}

/**
 * Reads a curve against a resolved threshold: `target` in the threshold's metric (a success rate, or
 * a return for oracle thresholds).
 */
export function outcomeOf(
  evals: readonly Evaluation[],
  metric: "success" | "oracle",
  target: number,
  stability: number,
): RunOutcome {
  const value = metricOf(metric);
  const at = evals.findIndex((e) => value(e) >= target);
  const finalReturn = evals[evals.length - 1]?.return ?? NaN;
  if (at < 0) return { stepsToThreshold: undefined, finalReturn, minReturnAfter: undefined, stable: undefined };
  const after = evals.slice(at);
  const floor = stabilityFloor(target, stability);
  return {
    stepsToThreshold: evals[at]!.step,
    finalReturn,
    minReturnAfter: Math.min(...after.map((e) => e.return)),
    stable: after.every((e) => value(e) >= floor),
  };
}

/**
 * What the runs cost: wall hours per task and method, each run's range in minutes, and the sum.
 * Runs share the cores with one another, so these are wall times, not one core's.
 */
export function runTimes(records: readonly Pick<EfficiencyRecord, "config" | "wallSeconds" | "metrics">[]): {
  rows: Row[];
  hours: number;
} {
  const rows: Row[] = [];
  for (const [task, group] of groupBy(records, (r) => r.config.task)) {
    const row: Row = { task };
    for (const method of METHODS) {
      const minutes = group.filter((r) => r.config.method === method).map((r) => runSeconds(r) / 60);
      if (!minutes.length) {
        row[method] = "-";
        continue;
      }
      const [lo, hi] = [Math.min(...minutes), Math.max(...minutes)].map((m) => m.toFixed(m < 10 ? 1 : 0));
      row[method] =
        `${(minutes.reduce((a, m) => a + m, 0) / 60).toFixed(2)} h (${lo === hi ? lo : `${lo}-${hi}`} min each)`;
    }
    rows.push(row);
  }
  return { rows, hours: records.reduce((a, r) => a + runSeconds(r), 0) / 3600 };
}

/** Regenerates results/efficiency.{md,csv} and its plots from the records. */
export async function summariseEfficiency(
  recordsDir: string,
  outPrefix: string,
  command = "npm run exp -- efficiency",
  stability = STABILITY,
): Promise<string[]> {
  const records = readRecords(recordsDir) as unknown as EfficiencyRecord[];
  const files: string[] = [];
  const byTask = groupBy(records, (r) => r.config.task);
  const csvRows: Row[] = [];
  const table: Row[] = [];
  const curves: Row[] = [];
  const stepRows: Row[] = [];
  const stateRows: Row[] = [];
  const references: ReferenceLine[] = [];
  let halved = 0;
  let notWorse = 0;
  let compared = 0;
  // Per task, P(an agent run's area beats a DQN run's): steps to threshold tie when neither gets there.
  const perTaskP: { task: string; p: Interval }[] = [];
  const bothWaysRows: Row[] = [];
  for (const [task, group] of byTask) {
    const { threshold, budget } = group[0]!.config;
    const refReturn = (m: Method) => {
      const rs = group
        .filter((r) => r.config.method === m)
        .map((r) => r.metrics.evals[r.metrics.evals.length - 1]!.return);
      return rs.length ? mean(rs) : NaN;
    };
    const oracleReturn = refReturn("oracle");
    const randomReturn = refReturn("random");
    if (Number.isFinite(oracleReturn)) references.push({ y: oracleReturn, label: "oracle MPC", facetValue: task });
    if (Number.isFinite(randomReturn)) references.push({ y: randomReturn, label: "random", facetValue: task });
    // Oracle thresholds need the oracle's return: without its records the task cannot be judged.
    const target = threshold.metric === "success" ? threshold.value : threshold.value * oracleReturn;
    const thresholdText =
      threshold.metric === "success"
        ? `success >= ${threshold.value}`
        : `return >= ${threshold.value} x oracle ${Number.isFinite(oracleReturn) ? `= ${target.toFixed(3)}` : "(no oracle record)"}`;
    const perMethod = new Map<Method, { steps: number[]; reached: number; stable: number; runs: number }>();
    for (const r of group) {
      const learning = r.config.method === "agent" || r.config.method === "dqn";
      const o =
        learning && Number.isFinite(target)
          ? outcomeOf(r.metrics.evals, threshold.metric, target, stability)
          : undefined;
      csvRows.push({
        env: task,
        method: r.config.method,
        seed: r.config.seed,
        budget,
        threshold: Number.isFinite(target) ? +target.toFixed(4) : "",
        steps_to_threshold: o?.stepsToThreshold ?? "",
        final_return: +r.metrics.evals[r.metrics.evals.length - 1]!.return.toFixed(4),
        min_return_after_threshold: o?.minReturnAfter !== undefined ? +o.minReturnAfter.toFixed(4) : "",
      });
      if (!o) continue;
      const states = evaluationStates(
        r.metrics.evals.map(metricOf(threshold.metric)),
        target,
        stabilityFloor(target, stability),
      );
      const run = `${r.config.method === "dqn" ? "DQN" : r.config.method} seed ${r.config.seed}`;
      const order = (r.config.method === "agent" ? 0 : 1000) + r.config.seed;
      r.metrics.evals.forEach((e, i) => stateRows.push({ task, run, order, step: e.step, state: states[i]! }));
      const m = perMethod.get(r.config.method) ?? { steps: [], reached: 0, stable: 0, runs: 0 };
      m.runs++;
      m.steps.push(o.stepsToThreshold ?? budget);
      if (o.stepsToThreshold !== undefined) m.reached++;
      if (o.stable) m.stable++;
      perMethod.set(r.config.method, m);
      stepRows.push({ task, method: r.config.method, seed: r.config.seed, steps: o.stepsToThreshold ?? budget });
    }
    const paired = Number.isFinite(target)
      ? bothWays(task, group, threshold.metric, target, stability, budget)
      : undefined;
    if (paired) bothWaysRows.push(paired);
    const agent = perMethod.get("agent");
    const dqn = perMethod.get("dqn");
    const ratio = agent && dqn ? median(agent.steps) / median(dqn.steps) : NaN;
    if (Number.isFinite(ratio)) {
      compared++;
      if (ratio <= 0.5) halved++;
      if (ratio <= 1) notWorse++;
    }
    const areas = (m: Method) =>
      group.filter((r) => r.config.method === m).map((r) => mean(r.metrics.evals.map((e) => e.return)));
    const [agentAreas, dqnAreas] = [areas("agent"), areas("dqn")];
    const p =
      agentAreas.length && dqnAreas.length
        ? probabilityOfImprovementCi([agentAreas], [dqnAreas], { seed: 1 })
        : undefined;
    if (p) perTaskP.push({ task, p });
    const cell = (m: typeof agent) => (m ? `${median(m.steps)} (${m.steps.join(", ")})` : "-");
    table.push({
      task,
      budget,
      threshold: thresholdText,
      "agent median steps (per seed)": cell(agent),
      "DQN median steps (per seed)": cell(dqn),
      "agent / DQN": Number.isFinite(ratio) ? ratio.toFixed(2) : "-",
      "agent reached": agent ? `${agent.reached}/${agent.runs}` : "-",
      "DQN reached": dqn ? `${dqn.reached}/${dqn.runs}` : "-",
      "agent stable": agent ? `${agent.stable}/${agent.reached}` : "-",
      "DQN stable": dqn ? `${dqn.stable}/${dqn.reached}` : "-",
      "oracle return": Number.isFinite(oracleReturn) ? +oracleReturn.toFixed(3) : "-",
      "random return": Number.isFinite(randomReturn) ? +randomReturn.toFixed(3) : "-",
      "P(agent > DQN) area": p ? showInterval(p) : "-",
    });
    for (const [method, runs] of groupBy(
      group.filter((r) => r.config.method === "agent" || r.config.method === "dqn"),
      (r) => r.config.method,
    )) {
      const steps = [...new Set(runs.flatMap((r) => r.metrics.evals.map((e) => e.step)))].sort((a, b) => a - b);
      for (const step of steps) {
        const xs = runs
          .map((r) => r.metrics.evals.find((e) => e.step === step)?.return)
          .filter((x): x is number => typeof x === "number");
        curves.push({ task, method, step, return: mean(xs), lo: Math.min(...xs), hi: Math.max(...xs) });
      }
    }
  }
  csvRows.sort(
    (a, b) =>
      String(a.env).localeCompare(String(b.env)) ||
      String(a.method).localeCompare(String(b.method)) ||
      (a.seed as number) - (b.seed as number),
  );
  const write = (path: string, text: string) => {
    writeFileAtomic(path, text);
    files.push(path);
  };
  write(`${outPrefix}.csv`, csv(csvRows));
  const seeds = [...groupBy(records, (r) => `${r.config.task}|${r.config.method}`).values()].map((g) => g.length);
  const normalised = normaliseRuns(
    records.map((r) => ({ task: r.config.task, method: r.config.method, evals: r.metrics.evals })),
  );
  write(
    `${outPrefix}.md`,
    [
      "# Efficiency: env steps to each task's threshold, imagination agent vs DQN",
      "",
      `Regenerate with \`${command}\`. ${describeRecords(records as RunRecord<unknown, unknown>[])}.`,
      `Each run evaluates on fixed seeds every \`evalEvery\` env steps; its steps to threshold are the env step of its first evaluation at or above the task's threshold. Medians over seeds, counting a run that never got there as the budget (per-seed values in brackets). \`agent stable\`: runs that, once at the threshold, never fell below ${stability} x threshold at a later evaluation. Oracle MPC (planning in the true simulator) and random: one evaluation per seed, mean shown. ${seedsNote(seeds)}.`,
      "",
      markdownTable(table),
      perTaskNote(records),
      compared
        ? `Agent median <= 0.5x DQN's on ${halved} of ${compared} tasks; no worse than DQN on ${notWorse} of ${compared} (by median steps to threshold).`
        : "No task has both agent and DQN records yet.",
      "",
      ...(perTaskP.length ? [perTaskVerdict(perTaskP), ""] : []),
      ...(bothWaysRows.length
        ? [
            "Evaluated both ways (`evalOnline`): every evaluation of these agent runs also ran with the online weights, beside the averaged weights (`evalAverage`) that the table above reads. The same training, read two ways:",
            "",
            markdownTable(bothWaysRows),
          ]
        : []),
      ...aggregateSection(normalised, "dqn"),
      `Plots: \`efficiency-curves.png\` (evaluation return vs env steps: mean, band from the lowest to the highest seed; dashed: oracle MPC and random), \`efficiency-steps.png\` (steps to threshold per run; budget where never reached), \`efficiency-stability.png\` (each run's evaluations against its threshold: not reached yet, at or above it, below it since, below ${stability} x threshold).`,
      ...whatThisShows(normalised, "dqn", "each task's budget"),
      ...runTimeSection(records),
    ].join("\n"),
  );
  if (curves.length)
    files.push(
      ...(await renderPlot(
        lineWithBand(curves, {
          title: "Efficiency: evaluation return vs env steps, imagination agent vs DQN",
          subtitle: `${seedsNote(seeds)}; line: mean, band: lowest to highest seed; dashed: oracle MPC and random; each panel its own budget`,
          x: "step",
          y: "return",
          lo: "lo",
          hi: "hi",
          color: "method",
          facet: "task",
          xTitle: "env steps",
          references,
        }),
        `${outPrefix}-curves`,
      )),
    );
  if (stepRows.length) {
    const points: Row[] = [];
    for (const [key, g] of groupBy(stepRows, (r) => `${r.task}|${r.method}`)) {
      const xs = g.map((r) => r.steps as number);
      points.push({
        task: key.split("|")[0]!,
        method: String(g[0]!.method),
        steps: median(xs),
        lo: Math.min(...xs),
        hi: Math.max(...xs),
      });
    }
    files.push(
      ...(await renderPlot(
        pointsWithErrors(points, {
          title: "Efficiency: env steps to the threshold (median; bar: fastest to slowest seed)",
          subtitle: `${seedsNote(seeds)}; a run that never reached it counts as the task's budget`,
          x: "method",
          y: "steps",
          lo: "lo",
          hi: "hi",
          facet: "task",
          yTitle: "env steps to threshold",
          yZero: true,
          references: [...byTask].map(([task, g]) => ({ y: g[0]!.config.budget, label: "budget", facetValue: task })),
        }),
        `${outPrefix}-steps`,
      )),
    );
  }
  if (stateRows.length)
    files.push(
      ...(await renderPlot(
        stabilitySpec(stateRows, {
          subtitle: `${seedsNote(seeds)}; a cell per evaluation; the floor is ${stability} x threshold (target 3: no cell below it once a run got there)`,
        }),
        `${outPrefix}-stability`,
      )),
    );
  files.push(...(await aggregatePlots(normalised, outPrefix, "Efficiency", "dqn")));
  return files;
}

/**
 * A task's agent runs read twice where every evaluation also ran with the online weights
 * (`evalOnline`): steps to threshold, reached and stable, with the averaged weights (the record's
 * own evaluations) and with the online ones. Undefined when no agent run of the task has them.
 */
export function bothWays(
  task: string,
  group: readonly Pick<EfficiencyRecord, "config" | "metrics">[],
  metric: "success" | "oracle",
  target: number,
  stability: number,
  budget: number,
): Row | undefined {
  const runs = group.filter((r) => r.config.method === "agent" && r.metrics.evals.every((e) => e.online));
  if (!runs.length) return undefined;
  const read = (evals: readonly Evaluation[][]) => {
    const outcomes = evals.map((e) => outcomeOf(e, metric, target, stability));
    const steps = outcomes.map((o) => o.stepsToThreshold ?? budget);
    const reached = outcomes.filter((o) => o.stepsToThreshold !== undefined).length;
    return {
      steps: `${median(steps)} (${steps.join(", ")})`,
      reached: `${reached}/${outcomes.length}`,
      stable: `${outcomes.filter((o) => o.stable).length}/${reached}`,
    };
  };
  const averaged = read(runs.map((r) => r.metrics.evals));
  const online = read(runs.map((r) => r.metrics.evals.map((e) => ({ step: e.step, ...e.online! }))));
  return {
    task,
    "averaged: median steps (per seed)": averaged.steps,
    "averaged: reached": averaged.reached,
    "averaged: stable": averaged.stable,
    "online: median steps (per seed)": online.steps,
    "online: reached": online.reached,
    "online: stable": online.stable,
  };
}

function runTimeSection(records: readonly EfficiencyRecord[]): string[] {
  const { rows, hours } = runTimes(records);
  return [
    "## Run time",
    "",
    `The runs' wall time, ${hours.toFixed(1)} hours in all: per task and method the sum over seeds, with each run's range. A run continued from its checkpoint counts whole (its evaluations' time); runs that shared the cores count their shared time, so this is not what one core or an idle machine would take.`,
    "",
    markdownTable(rows),
  ];
}

export function efficiencyPaths(resultsDir: string): { recordsDir: string; outPrefix: string; checkpointsDir: string } {
  return {
    recordsDir: join(resultsDir, "efficiency-records"),
    outPrefix: join(resultsDir, "efficiency"),
    checkpointsDir: join(resultsDir, "efficiency-checkpoints"),
  };
}
