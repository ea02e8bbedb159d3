// Experiment E2: which estimator trains the world model best? One fixed dataset per env and seed
// (collected by the explorer policy, saved under results/e2-data), one world model per estimator
// (GS-based ones over a tau sweep on one env), evaluated open loop on held-out sequences:
// k-step code accuracy and cross-entropy up to k = K, pixel mismatch of decoded predictions on
// pixel envs, code usage / perplexity (collapse), and the training curve.
import { join } from "node:path";
import { z } from "zod";
import { describeRecords, readRecords, type RunRecord } from "../records.ts";
import { Rng } from "../../common/rng.ts";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { makeBare, registeredIds } from "../../envs/index.ts";
import { parseWorldModelConfig, type WorldModelConfigInput } from "../../worldmodel/config.ts";
import type { ReplayBuffer } from "../../data/replayBuffer.ts";
import { ESTIMATOR_NAMES, TAU_ESTIMATORS, type EstimatorName } from "../../worldmodel/estimators/index.ts";
import { evaluate, pixelMismatch, type EvalMetrics } from "../../worldmodel/eval.ts";
import { nextCodeDistributionGap, type DistributionGap } from "../../worldmodel/nextCodeDistribution.ts";
import { visitationGap, type VisitationGap } from "../../worldmodel/visitation.ts";
import { WorldModel, envShapeOf } from "../../worldmodel/model.ts";
import { WorldModelTrainer } from "../../worldmodel/train.ts";
import { writeImaginedRollout } from "../../worldmodel/rolloutPictures.ts";
import { lineWithBand, renderPlot, seedsNote, type Row } from "../plots.ts";
import { numberTag } from "../runner.ts";
import { groupBy, meanWithCi } from "../stats.ts";
import { csv, markdownTable } from "../tables.ts";
import { cachedDataset, DataConfig } from "../datasets.ts";
import { separatedFrom, type CiCell } from "../whatThisShows.ts";

/** Envs whose observations are images, where decoded predictions are compared by pixelmatch. */
const PIXEL_ENVS = ["Catch-v0", "Breakout-v0", "PointMass-v0"];

export const E2Config = z
  .object({
    /** Deterministic envs beside their stochastic variants (the estimators' claims are about uncertain futures). */
    envs: z.array(z.string()).min(1).default(["Catch-v0", "CatchDrift-v0", "GridEmpty-v0", "GridEmptySlippery-v0"]),
    estimators: z
      .array(z.enum(ESTIMATOR_NAMES as [EstimatorName, ...EstimatorName[]]))
      .min(1)
      .default(ESTIMATOR_NAMES),
    /** Temperature of every run, except the sweep below. */
    tau: z.number().positive().default(1),
    /** The GS-based estimators run over these taus on this env (the reference: tau 1 only, to fit 3 hours). */
    tauSweep: z
      .object({ env: z.string(), taus: z.array(z.number().positive()).min(1) })
      .strict()
      .default({ env: "Catch-v0", taus: [1] }),
    seeds: z.number().int().min(1).max(100).default(5),
    data: DataConfig,
    train: z
      .object({
        /**
         * The reference's 160 runs: per-latent accuracy has levelled off on Catch by then, whole-code
         * accuracy is still rising on all four envs (results/e2.md).
         */
        steps: z.number().int().min(1).default(5000),
        /** Record the training curve every this many steps. */
        every: z.number().int().min(1).default(250),
      })
      .strict()
      .prefault({}),
    /** World-model settings (worldmodel/config.ts); estimator and tau are set per run. */
    model: z.record(z.string(), z.unknown()).default({
      latents: 16,
      encoder: { hidden: [128] },
      dynamicsHidden: [128, 128],
      headHidden: [64],
      batch: 64,
      lr: 1e-3,
    }),
    /**
     * Named variants of the model settings, each merged over `model` and run in full (e.g. auxiliary
     * losses against collapse: experiments/e2/collapse.json). One unnamed variant by default.
     */
    variants: z.record(z.string(), z.record(z.string(), z.unknown())).default({ default: {} }),
    eval: z
      .object({
        /** Open-loop horizon K of the k-step metrics (Catch's episodes last 9 steps). */
        k: z.number().int().min(1).max(50).default(8),
        batch: z.number().int().min(2).default(256),
        /**
         * Held-out transitions for the next-code distribution (Discrete actions): grouped by (code,
         * action), groups of at least `minCount` give the total variation to the empirical one.
         */
        transitions: z.number().int().min(2).default(4000),
        minCount: z.number().int().min(2).default(10),
        /**
         * Open-loop horizon of the visitation distributions (Discrete actions): `transitions` held-out
         * sequences rolled out sampled and argmax, against the real ones (worldmodel/visitation.ts).
         */
        visitSteps: z.number().int().min(1).max(50).default(5),
        /** Horizon of the held-out whole-code accuracy and cross-entropy on the training curve. */
        curveK: z.number().int().min(1).max(50).default(5),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type E2Config = z.infer<typeof E2Config>;

export const E2_QUICK: z.input<typeof E2Config> = {
  envs: ["GridEmpty-v0", "Catch-v0"],
  estimators: ["st-gumbel-softmax", "expected", "hard-no-grad"],
  tauSweep: { env: "Catch-v0", taus: [1] },
  seeds: 2,
  data: { steps: 2000, testSteps: 500, numEnvs: 4 },
  train: { steps: 100, every: 50 },
  eval: { k: 5, batch: 64 },
};

export interface E2RunConfig {
  env: string;
  variant: string;
  estimator: EstimatorName;
  tau: number;
  seed: number;
  data: E2Config["data"];
  train: E2Config["train"];
  model: Record<string, unknown>;
  eval: E2Config["eval"];
  dataDir: string;
}

export interface E2Metrics {
  /**
   * Training loss and cross-entropy of the batch; on a fixed held-out sample: per-latent 1-step
   * accuracy, whole-code accuracy and cross-entropy at 1 and curveK steps (older records: accuracy1 only).
   */
  curve: {
    step: number;
    loss: number;
    ce: number;
    accuracy1: number;
    whole1?: number;
    wholeK?: number;
    testCe1?: number;
    testCeK?: number;
  }[];
  /**
   * distribution: the predicted next-code distribution against the empirical one; visitation: where
   * sampled and argmax open-loop rollouts go against the real ones (both Discrete actions only).
   */
  final: EvalMetrics & { pixelMismatch?: number[]; distribution?: DistributionGap; visitation?: VisitationGap };
}

export function planE2(cfg: E2Config, dataDir: string): { run: string; config: E2RunConfig }[] {
  const known = registeredIds();
  for (const env of cfg.envs)
    if (!known.includes(env)) throw new Error(`e2: unknown env '${env}' (registered: ${known.join(", ")})`);
  const runs: { run: string; config: E2RunConfig }[] = [];
  for (let seed = 0; seed < cfg.seeds; seed++) {
    for (const env of cfg.envs) {
      for (const estimator of cfg.estimators) {
        const sweep = env === cfg.tauSweep.env && TAU_ESTIMATORS.includes(estimator) ? cfg.tauSweep.taus : [cfg.tau];
        for (const tau of sweep.filter((t) => estimator !== "reinmax" || t >= 1)) {
          for (const [variant, overrides] of Object.entries(cfg.variants)) {
            const effectiveTau = TAU_ESTIMATORS.includes(estimator) ? tau : 1;
            const prefix = variant === "default" ? "" : `${variant}-`;
            const run = `${prefix}${env}-${estimator}-tau${numberTag(effectiveTau)}-seed${seed}`;
            if (runs.some((r) => r.run === run)) continue;
            // Pixel envs always get a decoder (to compare decoded predictions with frames); others keep the config's.
            const merged: Record<string, unknown> = { ...cfg.model, ...overrides };
            const decoder = (merged.decoder ?? {}) as { enabled?: boolean };
            const model = {
              ...merged,
              decoder: { ...decoder, enabled: PIXEL_ENVS.includes(env) || decoder.enabled === true },
            };
            runs.push({
              run,
              config: {
                env,
                variant,
                estimator,
                tau: effectiveTau,
                seed,
                data: cfg.data,
                train: cfg.train,
                model,
                eval: cfg.eval,
                dataDir,
              },
            });
          }
        }
      }
    }
  }
  return runs;
}

/** The fixed explorer dataset of an env and seed (experiments/datasets.ts). */
function dataset(c: E2RunConfig, split: "train" | "test"): ReplayBuffer {
  const steps = split === "train" ? c.data.steps : c.data.testSteps;
  return cachedDataset(c.dataDir, {
    env: c.env,
    seed: c.seed,
    split,
    steps,
    numEnvs: c.data.numEnvs,
    policy: "explorer",
  });
}

/** Trains and evaluates one world model; with `imaginedPath`, also writes a picture of an imagined rollout (pixel envs). */
export function runE2One(c: E2RunConfig, imaginedPath?: string): E2Metrics {
  const train = dataset(c, "train");
  const test = dataset(c, "test");
  const cfg = parseWorldModelConfig({ ...(c.model as WorldModelConfigInput), estimator: c.estimator, tau: c.tau });
  const rng = new Rng(c.seed);
  const model = new WorldModel(cfg, envShapeOf(makeBare(c.env)), rng.childSeed());
  model.fitNormalization(train.observations());
  const trainer = new WorldModelTrainer(model, rng.childSeed());
  const batchRng = new Rng(rng.childSeed());
  const evalSample = test.sample(c.eval.batch, c.eval.k, new Rng(c.seed + 7));
  const curveK = c.eval.curveK;
  const curveSample = test.sample(c.eval.batch, curveK, new Rng(c.seed + 17));
  const curve: E2Metrics["curve"] = [];
  try {
    for (let step = 1; step <= c.train.steps; step++) {
      const s = trainer.stepOnBuffer(train, batchRng);
      if (step % c.train.every === 0 || step === c.train.steps) {
        const m = evaluate(model, curveSample);
        curve.push({
          step,
          loss: s.loss,
          ce: s.ce,
          accuracy1: m.accuracy[0]!,
          whole1: m.wholeAccuracy[0]!,
          wholeK: m.wholeAccuracy[curveK - 1]!,
          testCe1: m.crossEntropy[0]!,
          testCeK: m.crossEntropy[curveK - 1]!,
        });
      }
    }
    const final: E2Metrics["final"] = evaluate(model, evalSample);
    if (model.shape.action.kind === "discrete") {
      final.distribution = nextCodeDistributionGap(
        model,
        test.sample(c.eval.transitions, 1, new Rng(c.seed + 13)),
        c.eval.minCount,
      );
      final.visitation = visitationGap(
        model,
        test.sample(c.eval.transitions, c.eval.visitSteps, new Rng(c.seed + 19)),
        c.seed + 23,
      );
    }
    if (model.decoder) {
      final.pixelMismatch = pixelMismatch(model, evalSample);
      if (imaginedPath)
        writeImaginedRollout(model, test.sample(1, Math.min(c.eval.k, 10), new Rng(c.seed + 11)), imaginedPath);
    }
    return { curve, final };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/** One run; seed 0 also writes a picture of an imagined rollout (pixel envs) under the results folder. */
export function executeE2(config: E2RunConfig, resultsDir: string): { metrics: E2Metrics; summary: string } {
  const imagined =
    config.seed === 0
      ? join(
          e2Paths(resultsDir).imaginedDir,
          `${config.env}-${label(config).replaceAll(": ", "-").replaceAll(" ", "-")}`,
        )
      : undefined;
  const metrics = runE2One(config, imagined);
  const acc = metrics.final.accuracy;
  return {
    metrics,
    summary: `acc@1 ${acc[0]!.toFixed(3)} acc@${acc.length} ${acc[acc.length - 1]!.toFixed(3)} perplexity ${metrics.final.perplexity.toFixed(2)}`,
  };
}

/** "400" or "400-5000": the training updates of the records. */
function budgetOf(records: RunRecord<E2RunConfig, E2Metrics>[]): string {
  const steps = records.map((r) => r.config.train.steps);
  const [lo, hi] = [Math.min(...steps), Math.max(...steps)];
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

const label = (r: { estimator: string; tau: number; variant?: string }) =>
  `${r.variant && r.variant !== "default" ? `${r.variant}: ` : ""}${TAU_ESTIMATORS.includes(r.estimator as EstimatorName) && r.tau !== 1 ? `${r.estimator} tau ${r.tau}` : r.estimator}`;

/** Regenerates results/e2-* from the records. */
export async function summariseE2(
  recordsDir: string,
  outPrefix: string,
  command = "npm run exp -- e2",
): Promise<string[]> {
  const records = readRecords(recordsDir) as unknown as RunRecord<E2RunConfig, E2Metrics>[];
  const files: string[] = [];
  const write = (path: string, text: string) => {
    writeFileAtomic(path, text);
    files.push(path);
  };
  const rows: Row[] = [];
  const stochRows: Row[] = [];
  const curves: Row[] = [];
  const kRows: Row[] = [];
  const pixelRows: Row[] = [];
  const cells: CiCell[] = [];
  for (const [, group] of groupBy(records, (r) => `${r.config.env}|${label(r.config)}`)) {
    const { env } = group[0]!.config;
    const name = label(group[0]!.config);
    // NaN metrics (no sequence lasts k steps) are stored as null in JSON: meanWithCi leaves them out.
    const stat = (f: (r: RunRecord<E2RunConfig, E2Metrics>) => number | null) => meanWithCi(group.map(f));
    const kMax = group[0]!.metrics.final.accuracy.length;
    const a1 = stat((r) => r.metrics.final.accuracy[0]!);
    const aK = stat((r) => r.metrics.final.accuracy[kMax - 1]!);
    const ppl = stat((r) => r.metrics.final.perplexity);
    cells.push(
      { group: env, method: name, metric: "acc@1", ...a1 },
      { group: env, method: name, metric: `acc@${kMax}`, ...aK },
    );
    // Whole-code accuracy (older records: none).
    const kWhole = Math.min(5, kMax);
    const whole = group.every((r) => r.metrics.final.wholeAccuracy);
    const w1 = stat((r) => (whole ? r.metrics.final.wholeAccuracy[0]! : NaN));
    const wK = stat((r) => (whole ? r.metrics.final.wholeAccuracy[kWhole - 1]! : NaN));
    if (whole) cells.push({ group: env, method: name, metric: `whole@${kWhole}`, ...wK });
    const row: Row = {
      env,
      estimator: name,
      seeds: group.length,
      codes: stat((r) => r.metrics.final.codeUsage).mean,
      "acc@1": a1.mean,
      "acc@1 CI": `[${a1.lo.toFixed(3)}, ${a1.hi.toFixed(3)}]`,
      [`acc@${kMax}`]: aK.mean,
      [`acc@${kMax} CI`]: `[${aK.lo.toFixed(3)}, ${aK.hi.toFixed(3)}]`,
      ...(whole
        ? {
            "whole@1": w1.mean,
            [`whole@${kWhole}`]: wK.mean,
            [`whole@${kWhole} CI`]: `[${wK.lo.toFixed(3)}, ${wK.hi.toFixed(3)}]`,
          }
        : {}),
      "CE@1": stat((r) => r.metrics.final.crossEntropy[0]!).mean,
      perplexity: ppl.mean,
      "freq. baseline": stat((r) => r.metrics.final.frequencyBaseline).mean,
    };
    if (group.every((r) => r.metrics.final.distribution)) {
      // Discrete actions only, in a table of their own (records before the visitation measure lack its columns).
      const nll = stat((r) => r.metrics.final.distribution!.nll);
      cells.push({ group: env, method: name, metric: "NLL@1", ...nll });
      const stochRow: Row = {
        env,
        estimator: name,
        seeds: group.length,
        "NLL@1": nll.mean,
        "NLL@1 CI": `[${nll.lo.toFixed(3)}, ${nll.hi.toFixed(3)}]`,
        "TV next code": stat((r) => r.metrics.final.distribution!.tv).mean,
        "TV floor": stat((r) => r.metrics.final.distribution!.tvFloor).mean,
      };
      if (group.every((r) => r.metrics.final.visitation)) {
        const vSteps = group[0]!.metrics.final.visitation!.sampled.length;
        const visit = (f: (v: VisitationGap) => number[]) => stat((r) => f(r.metrics.final.visitation!)[vSteps - 1]!);
        const vSampled = visit((v) => v.sampled);
        cells.push({ group: env, method: name, metric: `visit TV sampled@${vSteps}`, ...vSampled });
        stochRow[`visit TV sampled@${vSteps}`] = vSampled.mean;
        stochRow[`visit TV sampled@${vSteps} CI`] = `[${vSampled.lo.toFixed(3)}, ${vSampled.hi.toFixed(3)}]`;
        stochRow[`visit TV argmax@${vSteps}`] = visit((v) => v.mode).mean;
        stochRow[`visit floor@${vSteps}`] = visit((v) => v.floor).mean;
      }
      stochRows.push(stochRow);
    }
    if (group[0]!.metrics.final.pixelMismatch)
      row[`mismatch@${kMax}`] = stat((r) => r.metrics.final.pixelMismatch![kMax - 1]!).mean;
    rows.push(row);
    for (let k = 1; k <= kMax; k++) {
      const s = stat((r) => r.metrics.final.accuracy[k - 1]!);
      if (Number.isFinite(s.mean)) kRows.push({ env, estimator: name, k, accuracy: s.mean, lo: s.lo, hi: s.hi });
      if (group[0]!.metrics.final.pixelMismatch) {
        const p = stat((r) => r.metrics.final.pixelMismatch![k - 1]!);
        if (Number.isFinite(p.mean)) pixelRows.push({ env, estimator: name, k, mismatch: p.mean, lo: p.lo, hi: p.hi });
      }
    }
    group[0]!.metrics.curve.forEach((c, i) => {
      const point = (f: (p: E2Metrics["curve"][number]) => number | undefined) =>
        stat((r) => {
          const p = r.metrics.curve[i];
          return p ? (f(p) ?? NaN) : NaN;
        });
      const acc = point((p) => p.accuracy1);
      const whole = point((p) => p.wholeK);
      const ce = point((p) => p.testCe1);
      curves.push({
        env,
        estimator: name,
        step: c.step,
        accuracy1: acc.mean,
        lo: acc.lo,
        hi: acc.hi,
        ...(c.wholeK !== undefined ? { wholeK: whole.mean, wholeLo: whole.lo, wholeHi: whole.hi } : {}),
        ...(c.testCe1 !== undefined ? { ce1: ce.mean, ceLo: ce.lo, ceHi: ce.hi } : {}),
      });
    });
  }
  rows.sort((a, b) => String(a.env).localeCompare(String(b.env)) || (b["acc@1"] as number) - (a["acc@1"] as number));
  const curveK = records[0]?.config.eval.curveK ?? 1;
  write(`${outPrefix}.csv`, csv(rows));
  if (stochRows.length) write(`${outPrefix}-distribution.csv`, csv(stochRows));
  const md = [
    "# E2: estimators for training the world model",
    "",
    `Regenerate with \`${command}\`. ${describeRecords(records)}.`,
    "Open-loop k-step code accuracy on held-out sequences (expected-code propagation), per latent (`acc`) and whole code (`whole`: every latent right, a state predicted exactly), mean over seeds with 95% bootstrap CIs; perplexity of the encoder's codes (1 = collapse); the frequency baseline predicts each latent's most frequent code.",
    "",
    markdownTable(rows),
    ...(stochRows.length
      ? [
          "Next-code distributions and where rollouts go (Discrete actions; what separates estimators on stochastic envs). `NLL@1`: the whole next code's negative log-likelihood on held-out transitions, in nats; `TV next code`: total variation between the predicted distribution of the whole next code and the empirical one, over held-out transitions grouped by (code, action), with `TV floor` the same between two halves of the data (sampling noise alone; worldmodel/nextCodeDistribution.ts). `visit TV`: the whole codes reached by open-loop rollouts from held-out starts with the real actions, sampled from the model's predictions (`sampled`) or argmax (`argmax`), against the real ones, pooled over starts, with `visit floor` between two halves of the real ones (worldmodel/visitation.ts).",
          "",
          markdownTable(stochRows),
        ]
      : []),
    `Plots: \`e2-accuracy.png\` (accuracy vs k)${pixelRows.length ? ", `e2-pixel-mismatch.png` (decoded predictions vs real frames)" : ""}, \`e2-curves.png\` (${curves.some((c) => c.wholeK !== undefined) ? `held-out whole-code ${curveK}-step accuracy` : "1-step accuracy"} during training)${curves.some((c) => c.ce1 !== undefined) ? ", `e2-ce-curves.png` (held-out 1-step cross-entropy during training)" : ""}.${pixelRows.length ? " Imagined rollouts of seed 0 on pixel envs (rows real | imagined | diff): `e2-imagined/*.png` and `.apng`." : ""}`,
    ...separatedFrom(
      cells,
      "st-gumbel-softmax",
      `${budgetOf(records)} world-model updates per run, ${seedsNote(rows.map((r) => r.seeds as number))}`,
    ),
  ].join("\n");
  write(`${outPrefix}.md`, md);
  if (kRows.length)
    files.push(
      ...(await renderPlot(
        lineWithBand(kRows, {
          title: "E2: open-loop k-step code accuracy (95% bootstrap CI)",
          subtitle: seedsNote(rows.map((r) => r.seeds as number)),
          x: "k",
          y: "accuracy",
          lo: "lo",
          hi: "hi",
          color: "estimator",
          facet: "env",
        }),
        `${outPrefix}-accuracy`,
      )),
    );
  if (pixelRows.length)
    files.push(
      ...(await renderPlot(
        lineWithBand(pixelRows, {
          title: "E2: mismatched-pixel fraction of decoded k-step predictions",
          subtitle: seedsNote(rows.map((r) => r.seeds as number)),
          x: "k",
          y: "mismatch",
          lo: "lo",
          hi: "hi",
          color: "estimator",
          facet: "env",
        }),
        `${outPrefix}-pixel-mismatch`,
      )),
    );
  const whole = curves.filter((c) => c.wholeK !== undefined);
  if (curves.length)
    files.push(
      ...(await renderPlot(
        whole.length
          ? lineWithBand(whole, {
              title: `E2: held-out whole-code ${curveK}-step accuracy during training (95% bootstrap CI)`,
              subtitle: seedsNote(rows.map((r) => r.seeds as number)),
              x: "step",
              y: "wholeK",
              lo: "wholeLo",
              hi: "wholeHi",
              color: "estimator",
              facet: "env",
            })
          : lineWithBand(curves, {
              title: "E2: 1-step accuracy during training",
              subtitle: seedsNote(rows.map((r) => r.seeds as number)),
              x: "step",
              y: "accuracy1",
              lo: "lo",
              hi: "hi",
              color: "estimator",
              facet: "env",
            }),
        `${outPrefix}-curves`,
      )),
    );
  const ce = curves.filter((c) => c.ce1 !== undefined);
  if (ce.length)
    files.push(
      ...(await renderPlot(
        lineWithBand(ce, {
          title: "E2: held-out 1-step cross-entropy during training (95% bootstrap CI)",
          subtitle: seedsNote(rows.map((r) => r.seeds as number)),
          x: "step",
          y: "ce1",
          lo: "ceLo",
          hi: "ceHi",
          color: "estimator",
          facet: "env",
        }),
        `${outPrefix}-ce-curves`,
      )),
    );
  return files;
}

export function e2Paths(resultsDir: string): {
  recordsDir: string;
  outPrefix: string;
  dataDir: string;
  imaginedDir: string;
} {
  return {
    recordsDir: join(resultsDir, "e2-records"),
    outPrefix: join(resultsDir, "e2"),
    dataDir: join(resultsDir, "e2-data"),
    imaginedDir: join(resultsDir, "e2-imagined"),
  };
}
