// The world-model probe: can the agent's world model predict each env's states exactly? Random-walk
// data per env and seed (collected once, saved), one world model per named variant of the agent's
// world-model settings, and every `every` updates on held-out sequences:
//   whole-code accuracy at 1 and k steps (open loop, expected codes as the planner propagates them:
//     the share of sequences whose argmax prediction gets every latent right),
//   per-latent 1-step accuracy, and how well the codes separate states (distinct observations vs
//     distinct codes, and the ceiling of 1-step whole accuracy on those codes).
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { Rng } from "../../common/rng.ts";
import { checkName } from "../../common/safePaths.ts";
import { makeBare, registeredIds } from "../../envs/index.ts";
import { AGENT_WORLD_MODEL } from "../../agent/config.ts";
import { parseWorldModelConfig } from "../../worldmodel/config.ts";
import { codeInjectivity, evaluate } from "../../worldmodel/eval.ts";
import { WorldModel, envShapeOf } from "../../worldmodel/model.ts";
import { WorldModelTrainer } from "../../worldmodel/train.ts";
import { cachedDataset, DataConfig } from "../datasets.ts";
import { lineWithBand, renderPlot, seedsNote, type Row } from "../plots.ts";
import { describeRecords, readRecords, type RunRecord } from "../records.ts";
import { groupBy, meanWithCi } from "../stats.ts";
import { csv, markdownTable } from "../tables.ts";
import { separatedFrom, type CiCell } from "../whatThisShows.ts";

/**
 * An env to probe: a registered id (its default options), or a named env with options (the sizes the
 * efficiency experiment runs, which differ from the defaults: FourRooms 11x11 against 19x19).
 */
const ProbeEnv = z.union([
  z.string(),
  z.object({ name: z.string(), env: z.string(), options: z.record(z.string(), z.unknown()) }).strict(),
]);
type ProbeEnv = z.infer<typeof ProbeEnv>;

const SUITE: ProbeEnv[] = [
  "Catch-v0",
  "GridEmpty-v0",
  "GridFourRooms-v0",
  { name: "GridFourRooms-v0-11x11", env: "GridFourRooms-v0", options: { size: 11 } },
  "GridDoorKey-v0",
  { name: "GridDoorKey-v0-5x5", env: "GridDoorKey-v0", options: { size: 5 } },
  "GridLavaGap-v0",
  "Breakout-v0",
  "PointMass-v0",
];

/** The name a probe env goes by (in run names, variantEnvs and the table) and how to make it. */
function probeEnv(e: ProbeEnv): { name: string; env: string; options?: Record<string, unknown> } {
  if (typeof e === "string") return { name: e, env: e };
  return { name: checkName(e.name, "probe env name"), env: e.env, options: e.options };
}

export const ProbeConfig = z
  .object({
    envs: z.array(ProbeEnv).min(1).default(SUITE),
    /**
     * Envs (by name) the variants after the first run on (null: every env); the first variant, the reference,
     * runs on every env. The probe's targets are set on GridEmpty-8x8 and Catch, so the ablations run
     * there and the agent's settings everywhere.
     */
    variantEnvs: z.array(z.string()).min(1).nullable().default(["GridEmpty-v0", "Catch-v0"]),
    seeds: z.number().int().min(1).max(100).default(3),
    /** Random-walk transitions per env and seed (experiments/datasets.ts). */
    data: DataConfig,
    /** World-model updates per run, evaluated every `every`. */
    updates: z.number().int().min(1).default(3000),
    every: z.number().int().min(1).default(250),
    /** Open-loop horizon of the k-step whole-code accuracy. */
    k: z.number().int().min(1).max(50).default(5),
    evalBatch: z.number().int().min(2).default(512),
    /** Settings merged over the agent's world model (agent/config.ts AGENT_WORLD_MODEL). */
    model: z.record(z.string(), z.unknown()).default({}),
    /**
     * Named variants, each merged over `model` and run in full. The reference run: the agent's
     * settings; each of its probe-tuned settings set back alone (batch 64, rho 0.5, the encoder
     * frozen at 1000 updates); the agent's settings before (commit 846671d: all three together) and
     * before the probe (commit 9728930: lr 1e-3, rho 0.9, the encoder learning throughout).
     */
    variants: z.record(z.string(), z.record(z.string(), z.unknown())).default({
      agent: {},
      "batch-64": { batch: 64 },
      "rho-0.5": { rho: 0.5 },
      "freeze-1000": { encoderFreezeAfter: 1000 },
      "agent-846671d": { batch: 64, rho: 0.5, encoderFreezeAfter: 1000 },
      "agent-9728930": { batch: 64, lr: 1e-3, rho: 0.9, encoderFreezeAfter: null },
    }),
    /** The accuracies the summary reports the first evaluation to reach (1-step and k-step). */
    targets: z
      .object({ oneStep: z.number().min(0).max(1).default(0.95), kStep: z.number().min(0).max(1).default(0.9) })
      .strict()
      .default({ oneStep: 0.95, kStep: 0.9 }),
  })
  .strict();
export type ProbeConfig = z.infer<typeof ProbeConfig>;

export const PROBE_QUICK: z.input<typeof ProbeConfig> = {
  envs: ["GridEmpty-v0", "Catch-v0"],
  seeds: 2,
  data: { steps: 2000, testSteps: 500, numEnvs: 4 },
  updates: 100,
  every: 50,
  evalBatch: 64,
  variants: { agent: {} },
};

export interface ProbeRunConfig {
  env: string;
  /** A named env's name and options (absent for an env id on its defaults). */
  name?: string;
  envOptions?: Record<string, unknown>;
  variant: string;
  seed: number;
  data: ProbeConfig["data"];
  updates: number;
  every: number;
  k: number;
  evalBatch: number;
  model: Record<string, unknown>;
  dataDir: string;
}

export interface ProbePoint {
  updates: number;
  whole1: number;
  wholeK: number;
  latent1: number;
  observations: number;
  codes: number;
  ceiling: number;
  /** Per-latent 1-step accuracy of predicting that no latent changes (absent in records before it). */
  unchanged?: number;
}

export interface ProbeMetrics {
  curve: ProbePoint[];
}

/** Settings over the agent's world model; the encoder's fields merge one level deeper. */
function merged(...layers: Record<string, unknown>[]): Record<string, unknown> {
  const encoder = Object.assign({}, ...layers.map((l) => (l.encoder as object | undefined) ?? {}));
  return { ...Object.assign({}, ...layers), encoder };
}

export function planProbe(cfg: ProbeConfig, dataDir: string): { run: string; config: ProbeRunConfig }[] {
  const known = registeredIds();
  const envs = cfg.envs.map(probeEnv);
  for (const { name, env, options } of envs) {
    if (!known.includes(env)) throw new Error(`probe: unknown env '${env}' (registered: ${known.join(", ")})`);
    if (!options) continue;
    makeBare(env, options); // bad options fail the plan, not run 37
    if (known.includes(name)) throw new Error(`probe: the env with options named '${name}' needs a name of its own`);
  }
  const names = envs.map((e) => e.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`probe: env name '${twice}' is given twice`);
  for (const name of cfg.variantEnvs ?? [])
    if (!names.includes(name)) throw new Error(`probe: variantEnvs has '${name}', which is not in envs`);
  const runs: { run: string; config: ProbeRunConfig }[] = [];
  const reference = Object.keys(cfg.variants)[0];
  for (let seed = 0; seed < cfg.seeds; seed++)
    for (const { name, env, options } of envs)
      for (const [variant, overrides] of Object.entries(cfg.variants)) {
        if (variant !== reference && cfg.variantEnvs && !cfg.variantEnvs.includes(name)) continue;
        const model = merged(AGENT_WORLD_MODEL, cfg.model, overrides);
        parseWorldModelConfig(model); // a bad setting fails the plan, not run 37
        runs.push({
          run: `${variant}-${name}-seed${seed}`,
          config: {
            env,
            // Only named envs carry these, so records of env ids on their defaults keep their configs.
            ...(options ? { name, envOptions: options } : {}),
            variant,
            seed,
            data: cfg.data,
            updates: cfg.updates,
            every: cfg.every,
            k: cfg.k,
            evalBatch: cfg.evalBatch,
            model,
            dataDir,
          },
        });
      }
  return runs;
}

export function runProbe(c: ProbeRunConfig): ProbeMetrics {
  const data = (split: "train" | "test", steps: number) =>
    cachedDataset(c.dataDir, {
      env: c.env,
      name: c.name,
      envOptions: c.envOptions,
      seed: c.seed,
      split,
      steps,
      numEnvs: c.data.numEnvs,
      policy: "random",
    });
  const train = data("train", c.data.steps);
  const test = data("test", c.data.testSteps);
  const cfg = parseWorldModelConfig(c.model);
  const rng = new Rng(c.seed);
  const model = new WorldModel(cfg, envShapeOf(makeBare(c.env, c.envOptions)), rng.childSeed());
  model.fitNormalization(train.observations());
  const trainer = new WorldModelTrainer(model, rng.childSeed());
  const batchRng = new Rng(rng.childSeed());
  const open = test.sample(c.evalBatch, c.k, new Rng(c.seed + 7));
  const oneStep = test.sample(c.evalBatch, 1, new Rng(c.seed + 8));
  const curve: ProbePoint[] = [];
  try {
    for (let u = 1; u <= c.updates; u++) {
      trainer.stepOnBuffer(train, batchRng, 0.25);
      if (u % c.every !== 0 && u !== c.updates) continue;
      const m = evaluate(model, open, "expected");
      curve.push({
        updates: u,
        whole1: m.wholeAccuracy[0]!,
        wholeK: m.wholeAccuracy[c.k - 1]!,
        latent1: m.accuracy[0]!,
        ...codeInjectivity(model, oneStep),
      });
    }
    return { curve };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

export function executeProbe(config: ProbeRunConfig): { metrics: ProbeMetrics; summary: string } {
  const metrics = runProbe(config);
  const last = metrics.curve[metrics.curve.length - 1]!;
  return {
    metrics,
    summary: `whole@1 ${last.whole1.toFixed(3)} whole@${config.k} ${last.wholeK.toFixed(3)} codes ${last.codes}/${last.observations} obs, ceiling ${last.ceiling.toFixed(3)}`,
  };
}

type ProbeRecord = RunRecord<ProbeRunConfig, ProbeMetrics>;

/** Regenerates results/probe.{md,csv} and the curves from the records. */
export async function summariseProbe(
  recordsDir: string,
  outPrefix: string,
  command = "npm run exp -- probe",
  targets = ProbeConfig.parse({}).targets,
) {
  const records = readRecords(recordsDir) as unknown as ProbeRecord[];
  const files: string[] = [];
  const write = (path: string, text: string) => {
    writeFileAtomic(path, text);
    files.push(path);
  };
  const rows: Row[] = [];
  const curves: Row[] = [];
  const ks = new Set<number>();
  const cells: CiCell[] = [];
  const envName = (c: ProbeRunConfig) => c.name ?? c.env;
  for (const [, group] of groupBy(records, (r) => `${envName(r.config)}|${r.config.variant}`)) {
    const { variant, k } = group[0]!.config;
    const env = envName(group[0]!.config);
    ks.add(k);
    const points = group[0]!.metrics.curve.length;
    const at = (i: number, f: (p: ProbePoint) => number) =>
      meanWithCi(group.map((r) => (r.metrics.curve[i] ? f(r.metrics.curve[i]!) : NaN)));
    const first = (f: (p: ProbePoint) => number, target: number) => {
      for (let i = 0; i < points; i++) if (at(i, f).mean >= target) return group[0]!.metrics.curve[i]!.updates;
      return "never";
    };
    const last = points - 1;
    const ci = (s: { lo: number; hi: number }) => `[${s.lo.toFixed(3)}, ${s.hi.toFixed(3)}]`;
    const w1 = at(last, (p) => p.whole1);
    const wk = at(last, (p) => p.wholeK);
    cells.push(
      { group: env, method: variant, metric: "whole@1", ...w1 },
      { group: env, method: variant, metric: `whole@${k}`, ...wk },
    );
    rows.push({
      env,
      variant,
      seeds: group.length,
      updates: group[0]!.metrics.curve[last]!.updates,
      "whole@1": w1.mean,
      "whole@1 CI": ci(w1),
      [`whole@${k}`]: wk.mean,
      [`whole@${k} CI`]: ci(wk),
      "latent@1": at(last, (p) => p.latent1).mean,
      // Empty for records made before it was measured.
      "unchanged@1": group.some((r) => r.metrics.curve[last]?.unchanged !== undefined)
        ? at(last, (p) => p.unchanged ?? NaN).mean
        : "",
      "codes / states": `${at(last, (p) => p.codes).mean.toFixed(0)} / ${at(last, (p) => p.observations).mean.toFixed(0)}`,
      ceiling: at(last, (p) => p.ceiling).mean,
      [`first whole@1 >= ${targets.oneStep}`]: first((p) => p.whole1, targets.oneStep),
      [`first whole@${k} >= ${targets.kStep}`]: first((p) => p.wholeK, targets.kStep),
    });
    for (let i = 0; i < points; i++) {
      const u = group[0]!.metrics.curve[i]!.updates;
      for (const [name, f] of [
        ["1-step", (p: ProbePoint) => p.whole1],
        [`${k}-step`, (p: ProbePoint) => p.wholeK],
      ] as const) {
        const s = at(i, f);
        curves.push({ env, series: `${variant}, ${name}`, updates: u, accuracy: s.mean, lo: s.lo, hi: s.hi });
      }
    }
  }
  rows.sort((a, b) => String(a.env).localeCompare(String(b.env)) || String(a.variant).localeCompare(String(b.variant)));
  write(`${outPrefix}.csv`, csv(rows));
  const md = [
    "# World-model probe: whole-code accuracy on random walks",
    "",
    `Regenerate with \`${command}\`. ${describeRecords(records as RunRecord<unknown, unknown>[])}.`,
    "Each run trains one world model (the agent's settings, merged with its variant) on random-walk data of its env and evaluates it on held-out random walks: the share of sequences whose open-loop prediction (expected codes, as the planner propagates them) gets *every* latent right after 1 and k steps, mean over seeds with 95% bootstrap CIs at the last evaluation. `codes / states`: distinct codes the encoder gives the distinct observations of the evaluation sample (fewer codes: states merged); `ceiling`: the best 1-step whole accuracy any dynamics could reach on those codes; `unchanged@1`: the per-latent 1-step accuracy of predicting that nothing changes, the bar `latent@1` has to clear (empty for records made before it was measured). `first ... >=`: the first evaluation at which the seeds' mean reaches the target.",
    "",
    markdownTable(rows),
    "Plot: `probe-curves.png` (whole-code accuracy vs updates, per env).",
    ...separatedFrom(
      cells,
      "agent",
      `${[...new Set(rows.map((r) => r.updates))].join(", ")} world-model updates, ${seedsNote(rows.map((r) => r.seeds as number))}`,
    ),
  ].join("\n");
  write(`${outPrefix}.md`, md);
  if (curves.length)
    files.push(
      ...(await renderPlot(
        lineWithBand(curves, {
          title: `World-model probe: whole-code accuracy on held-out random walks (1 and ${[...ks].join("/")} steps open loop)`,
          subtitle: `${seedsNote(rows.map((r) => r.seeds as number))}; band: 95% bootstrap CI`,
          x: "updates",
          y: "accuracy",
          lo: "lo",
          hi: "hi",
          color: "series",
          facet: "env",
          xTitle: "world-model updates",
          yTitle: "whole-code accuracy",
          references: [{ y: targets.oneStep, label: `target ${targets.oneStep}` }],
        }),
        `${outPrefix}-curves`,
      )),
    );
  return files;
}

export function probePaths(resultsDir: string): { recordsDir: string; outPrefix: string; dataDir: string } {
  return {
    recordsDir: join(resultsDir, "probe-records"),
    outPrefix: join(resultsDir, "probe"),
    dataDir: join(resultsDir, "probe-data"),
  };
}
