// Experiment E1: how good is each estimator's gradient?
//   (a) quality: bias, variance and cosine to the exact gradient on an enumerable problem, over tau;
//   (b) ReinMax's polynomial programming toy: the final exact expected loss after training.
// Runs are planned from the config, skipped when their record exists (so a run resumes), split
// across worker processes by --shard, and summarised from the records into tables and plots.
import { join } from "node:path";
import { z } from "zod";
import { readRecords, type RunRecord } from "../records.ts";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { ESTIMATOR_NAMES, TAU_ESTIMATORS, type EstimatorName } from "../../worldmodel/estimators/index.ts";
import { lineWithBand, pointsWithErrors, renderPlot, seedsNote, type Row } from "../plots.ts";
import { csv, markdownTable } from "../tables.ts";
import { separatedFrom } from "../whatThisShows.ts";
import { numberTag, type PlannedRun } from "../runner.ts";
import { groupBy, summarise } from "../stats.ts";
import { gradientQuality, type QualityConfig, type QualityMetrics } from "./gradientQuality.ts";
import { polynomialToy, type ToyConfig, type ToyResult } from "./polynomialToy.ts";

export const E1Config = z
  .object({
    /** Seeds of the toy runs: 0..seeds-1. */
    seeds: z.number().int().min(1).max(100).default(3),
    /** Estimators to compare ("exact" is added to the toy as the reference). */
    estimators: z.array(z.enum(ESTIMATOR_NAMES as [EstimatorName, ...EstimatorName[]])).default(ESTIMATOR_NAMES),
    quality: z
      .object({
        /** Seeds of the quality runs (cheap, and theta varies with the seed): 0..seeds-1. */
        seeds: z.number().int().min(1).max(1000).default(10),
        taus: z.array(z.number().positive()).default([0.1, 0.3, 0.5, 1, 2]),
        dims: z.number().int().min(1).max(6).default(4),
        classes: z.number().int().min(2).max(16).default(8),
        /** Single-sample estimates per run. */
        samples: z.number().int().min(2).default(2000),
      })
      .strict()
      .default({ seeds: 10, taus: [0.1, 0.3, 0.5, 1, 2], dims: 4, classes: 8, samples: 2000 }),
    toy: z
      .object({
        ps: z.array(z.number().min(1)).default([1.5, 2, 3]),
        taus: z.array(z.number().positive()).default([1, 0.5]),
        dims: z.number().int().min(1).default(128),
        batch: z.number().int().min(2).default(64),
        lr: z.number().positive().default(1e-3),
        steps: z.number().int().min(1).default(8000),
        /** Record the exact loss every this many steps. */
        every: z.number().int().min(1).default(200),
        /** Gumbel-Rao's K. */
        draws: z.number().int().min(2).default(10),
        /** Gumbel-Rao costs K times more per step: restrict it to these p (empty: all). */
        gumbelRaoPs: z.array(z.number().min(1)).default([2]),
      })
      .strict()
      .default({
        ps: [1.5, 2, 3],
        taus: [1, 0.5],
        dims: 128,
        batch: 64,
        lr: 1e-3,
        steps: 8000,
        every: 200,
        draws: 10,
        gumbelRaoPs: [2],
      }),
  })
  .strict();
export type E1Config = z.infer<typeof E1Config>;

/** What `--quick` runs: about a minute on 2 cores, same code paths. */
export const E1_QUICK: z.input<typeof E1Config> = {
  seeds: 2,
  quality: { seeds: 2, taus: [0.5, 1], samples: 300 },
  toy: { ps: [2], taus: [1], steps: 300, every: 50, gumbelRaoPs: [2] },
};

type QualityRun = { kind: "quality"; run: string; config: QualityConfig };
type ToyRun = { kind: "toy"; run: string; config: ToyConfig };
export type E1Run = QualityRun | ToyRun;

/** Every run of the experiment, in a fixed order. */
export function planE1(cfg: E1Config): E1Run[] {
  const runs: E1Run[] = [];
  for (let seed = 0; seed < cfg.quality.seeds; seed++) {
    for (const estimator of cfg.estimators) {
      const taus = TAU_ESTIMATORS.includes(estimator)
        ? cfg.quality.taus.filter((t) => estimator !== "reinmax" || t >= 1)
        : [1];
      for (const tau of taus) {
        const { dims, classes, samples } = cfg.quality;
        runs.push({
          kind: "quality",
          run: `quality-${estimator}-tau${numberTag(tau)}-seed${seed}`,
          config: { estimator, tau, seed, dims, classes, samples, draws: cfg.toy.draws },
        });
      }
    }
  }
  for (let seed = 0; seed < cfg.seeds; seed++) {
    for (const p of cfg.toy.ps) {
      for (const estimator of ["exact" as const, ...cfg.estimators]) {
        if (estimator === "gumbel-rao" && cfg.toy.gumbelRaoPs.length && !cfg.toy.gumbelRaoPs.includes(p)) continue;
        const taus =
          estimator !== "exact" && TAU_ESTIMATORS.includes(estimator)
            ? cfg.toy.taus.filter((t) => estimator !== "reinmax" || t >= 1)
            : [1];
        for (const tau of taus) {
          const { dims, batch, lr, steps, every, draws } = cfg.toy;
          runs.push({
            kind: "toy",
            run: `toy-${estimator}-p${numberTag(p)}-tau${numberTag(tau)}-seed${seed}`,
            config: { estimator, p, tau, dims, batch, lr, steps, seed, draws, every },
          });
        }
      }
    }
  }
  return runs;
}

/** The planned runs with their kind folded into the config (what a job carries). */
export function planE1Jobs(cfg: E1Config): PlannedRun<E1JobConfig>[] {
  return planE1(cfg).map((r) => ({ run: r.run, config: { kind: r.kind, ...r.config } as E1JobConfig }));
}
export type E1JobConfig = (QualityConfig | ToyConfig) & { kind: E1Run["kind"] };

/** One run: gradient quality of an estimator, or one training run of the polynomial toy. */
export function executeE1(config: E1JobConfig): { metrics: QualityMetrics | ToyResult; summary: string } {
  if (config.kind === "quality") {
    const m = gradientQuality(config as QualityConfig);
    return {
      metrics: m,
      summary: `bias ${m.relBias.toFixed(3)} var ${m.relVariance.toFixed(3)} cos ${m.cosineSingle.toFixed(3)}`,
    };
  }
  const m = polynomialToy(config as ToyConfig);
  return { metrics: m, summary: `exact loss ${m.exactLoss.toFixed(5)}` };
}

/** Regenerates results/e1-* (tables and plots) from the records. Returns the written files. */
export async function summariseE1(
  recordsDir: string,
  outPrefix: string,
  command = "npm run exp -- e1",
): Promise<string[]> {
  const records = readRecords(recordsDir) as RunRecord<
    Record<string, unknown> & { kind: string },
    Record<string, unknown>
  >[];
  const quality = records.filter((r) => r.config.kind === "quality") as unknown as RunRecord<
    QualityConfig,
    QualityMetrics
  >[];
  const toy = records.filter((r) => r.config.kind === "toy") as unknown as RunRecord<ToyConfig, ToyResult>[];
  const files: string[] = [];
  const write = (path: string, text: string) => {
    writeFileAtomic(path, text);
    files.push(path);
  };

  // (a) quality, per estimator and tau, over seeds.
  const qRows: Row[] = [];
  for (const [, group] of groupBy(quality, (r) => `${r.config.estimator}|${r.config.tau}`)) {
    const { estimator, tau } = group[0]!.config;
    const row: Row = { estimator, tau, seeds: group.length };
    for (const key of ["relBias", "relBiasFloor", "relVariance", "cosineSingle", "cosineMean"] as const) {
      const s = summarise(group.map((r) => r.metrics[key]));
      row[key] = s.mean;
      row[`${key}_ci95`] = s.ci95;
    }
    qRows.push(row);
  }
  qRows.sort((a, b) => String(a.estimator).localeCompare(String(b.estimator)) || (a.tau as number) - (b.tau as number));
  write(`${outPrefix}-quality.csv`, csv(qRows));

  // (b) polynomial toy: final exact expected loss per estimator, p, tau.
  const tRows: Row[] = [];
  for (const [, group] of groupBy(toy, (r) => `${r.config.estimator}|${r.config.p}|${r.config.tau}`)) {
    const { estimator, p, tau } = group[0]!.config;
    const s = summarise(group.map((r) => r.metrics.exactLoss));
    tRows.push({
      estimator,
      p,
      tau,
      seeds: group.length,
      exactLoss: s.mean,
      ci95: s.ci95,
      std: s.std,
      optimum: group[0]!.metrics.optimum,
      wallSeconds: summarise(group.map((r) => r.wallSeconds)).mean,
    });
  }
  tRows.sort((a, b) => (a.p as number) - (b.p as number) || (a.exactLoss as number) - (b.exactLoss as number));
  write(`${outPrefix}-toy.csv`, csv(tRows));

  const pivot = pivotToy(tRows);
  const toyBackends = [...new Set(toy.map((r) => r.backend.kind))].join(", ") || "-";
  const commits = [...new Set(records.map((r) => r.commit))].join(", ") || "-";
  const md = [
    "# E1: gradient estimators for categorical samples",
    "",
    `Regenerate with \`${command}\`. ${records.length} records in \`${recordsDir}\`; backend ${toyBackends}; commit ${commits}.`,
    "",
    "## Polynomial programming toy (ReinMax paper): final exact expected loss",
    "",
    `Mean over seeds of mean_d [q_d 0.55^p + (1 - q_d) 0.45^p] after training (lower is better; the optimum is 0.45^p). Columns: p. Estimator rows at tau 1 unless marked.`,
    "",
    markdownTable(pivot),
    "Per configuration, with 95% CI over seeds: `e1-toy.csv`. Curves: `e1-toy-curves.png`. Dots with error bars: `e1-toy-final.png`.",
    "",
    "## Gradient quality on an enumerable problem",
    "",
    "D = 4 categorical variables of K = 8 classes (8^4 = 4096 configurations), f(z) = sin(sum z.w) + (z_0.w_0)(z_1.w_1)^2 + sum (z.u)^2 / D, theta ~ N(0, 1) per seed. relBias = ||E[g] - g*|| / ||g*|| (relBiasFloor: its Monte Carlo noise level); relVariance = tr Cov[g] / ||g*||^2 per single sample; cosineSingle = mean cosine of one sample's estimate with g*.",
    "",
    markdownTable(
      qRows.map((r) => ({
        estimator: r.estimator!,
        tau: r.tau!,
        relBias: r.relBias!,
        relBiasFloor: r.relBiasFloor!,
        relVariance: r.relVariance!,
        cosineSingle: r.cosineSingle!,
        cosineMean: r.cosineMean!,
      })),
    ),
    "Plots: `e1-quality.png` (bias, variance, cosine over tau).",
    ...separatedFrom(
      tRows.map((r) => ({
        group: `toy p = ${r.p}`,
        method: r.tau === 1 ? String(r.estimator) : `${r.estimator} tau ${r.tau}`,
        metric: "final loss",
        mean: r.exactLoss as number,
        lo: (r.exactLoss as number) - (r.ci95 as number),
        hi: (r.exactLoss as number) + (r.ci95 as number),
      })),
      "st-gumbel-softmax",
      `the toy's training budget (${[...new Set(toy.map((r) => r.config.steps))].join(", ")} steps, ${[...new Set(tRows.map((r) => r.seeds))].join(", ")} seeds)`,
      " on the polynomial toy's final exact loss (lower is better; the gradient-quality table above has no seeds to compare)",
    ),
  ].join("\n");
  write(`${outPrefix}.md`, md);

  if (tRows.length) {
    const bars = tRows.map((r) => ({
      ...r,
      label: r.tau === 1 ? String(r.estimator) : `${r.estimator} tau ${r.tau}`,
      lo: (r.exactLoss as number) - (r.ci95 as number),
      hi: (r.exactLoss as number) + (r.ci95 as number),
      panel: `p = ${r.p}`,
    }));
    files.push(
      ...(await renderPlot(
        pointsWithErrors(bars, {
          title: "Polynomial toy: final exact expected loss (95% CI over seeds)",
          x: "label",
          y: "exactLoss",
          lo: "lo",
          hi: "hi",
          facet: "panel",
          yTitle: "exact expected loss",
          subtitle: `${seedsNote(tRows.map((r) => r.seeds as number))}; dashed: the optimum 0.45^p (and the exact-gradient run's value as a dot)`,
          references: [...new Set(tRows.map((r) => r.p as number))].map((pp) => ({
            y: 0.45 ** pp,
            label: "optimum 0.45^p",
            facetValue: `p = ${pp}`,
          })),
        }),
        `${outPrefix}-toy-final`,
      )),
    );
    const curveRows: Row[] = [];
    for (const [, group] of groupBy(
      toy.filter((r) => r.config.p === 2),
      (r) => `${r.config.estimator}|${r.config.tau}`,
    )) {
      const { estimator, tau } = group[0]!.config;
      const steps = group[0]!.metrics.curve.map((c) => c.step);
      steps.forEach((step, i) => {
        const s = summarise(group.map((r) => r.metrics.curve[i]?.exactLoss ?? NaN));
        curveRows.push({
          series: tau === 1 ? estimator : `${estimator} tau ${tau}`,
          step,
          loss: s.mean,
          lo: s.mean - s.ci95,
          hi: s.mean + s.ci95,
        });
      });
    }
    files.push(
      ...(await renderPlot(
        lineWithBand(curveRows, {
          title: "Polynomial toy, p = 2: exact expected loss during training",
          x: "step",
          y: "loss",
          lo: "lo",
          hi: "hi",
          color: "series",
          yTitle: "exact expected loss",
        }),
        `${outPrefix}-toy-curves`,
      )),
    );
  }
  if (qRows.length) {
    const long: Row[] = [];
    for (const r of qRows) {
      for (const [metric, key] of [
        ["relative bias", "relBias"],
        ["relative variance", "relVariance"],
        ["cosine (one sample)", "cosineSingle"],
      ] as const) {
        const m = r[key] as number;
        const c = r[`${key}_ci95`] as number;
        long.push({ estimator: r.estimator!, tau: r.tau!, metric, value: m, lo: m - c, hi: m + c });
      }
    }
    files.push(
      ...(await renderPlot(
        lineWithBand(long, {
          title: "Gradient quality vs the exact gradient (D = 4, K = 8), 95% CI over seeds",
          x: "tau",
          y: "value",
          lo: "lo",
          hi: "hi",
          color: "estimator",
          facet: "metric",
          xScale: "log",
          xTitle: "tau",
        }),
        `${outPrefix}-quality`,
      )),
    );
  }
  return files;
}

/** Estimator (and tau) rows, p columns: the table the ReinMax paper prints. */
function pivotToy(rows: Row[]): Row[] {
  const ps = [...new Set(rows.map((r) => r.p as number))].sort((a, b) => a - b);
  const out = new Map<string, Row>();
  for (const r of rows) {
    const label = r.tau === 1 ? String(r.estimator) : `${r.estimator} (tau ${r.tau})`;
    const row = out.get(label) ?? { estimator: label };
    row[`p = ${r.p}`] = `${(r.exactLoss as number).toFixed(5)} ± ${(r.ci95 as number).toFixed(5)}`;
    out.set(label, row);
  }
  const optimum: Row = { estimator: "optimum 0.45^p" };
  for (const p of ps) optimum[`p = ${p}`] = (0.45 ** p).toFixed(5);
  const all = [...out.values()].map(
    (r) =>
      Object.fromEntries([["estimator", r.estimator!], ...ps.map((p) => [`p = ${p}`, r[`p = ${p}`] ?? "-"])]) as Row,
  );
  return [...all, optimum];
}

export function e1Paths(resultsDir: string): { recordsDir: string; outPrefix: string } {
  return { recordsDir: join(resultsDir, "e1-records"), outPrefix: join(resultsDir, "e1") };
}
