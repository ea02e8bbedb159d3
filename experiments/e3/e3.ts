// Experiment E3: planning modes. For an agent trained with the default settings (ST Gumbel-softmax
// world model), score a fixed set of action sequences from a fixed set of states R times under each
// propagation mode (expected, sample, mode) and report:
//   - the score's standard deviation across repeats (expected codes are deterministic: 0),
//   - the rank agreement (Spearman) of the model's H-step predicted returns with the true H-step
//     returns of the same sequences in the simulator (the oracle's scores), and of the first actions
//     the two would choose,
//   - the episode return and success of the agent planning in each mode.
// Every mode works from the same states, sequences, true returns and random streams, so the page
// reads each mode against `expected` by its per-seed differences (pairedWith).
import { join } from "node:path";
import { z } from "zod";
import * as tf from "@tensorflow/tfjs";
import { describeRecords, readRecords, type RunRecord } from "../records.ts";
import { Rng } from "../../common/rng.ts";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { make, makeBare, registeredIds, withRandomStream, type EnvState, type TypedArray } from "../../envs/index.ts";
import { ImaginationAgent } from "../../agent/agent.ts";
import { actionArg, evaluatePolicy, EVAL_SEED_BASE } from "../../agent/evaluate.ts";
import { PROPAGATION_MODES, scoreSequences, type PropagationMode } from "../../agent/imagination.ts";
import { parseAgentConfig } from "../../agent/config.ts";
import { reshapingOptions } from "../../agent/agentEnv.ts";
import { runFiles, trainForRecord, type RunFiles } from "../runFiles.ts";
import { pointsWithErrors, renderPlot, seedsNote, type Row } from "../plots.ts";
import { bootstrapCi, groupBy, mean } from "../stats.ts";
import { csv, markdownTable } from "../tables.ts";
import { pairedWith } from "../whatThisShows.ts";

export const E3Config = z
  .object({
    /** Two deterministic envs beside their stochastic variants, where the modes can differ. */
    envs: z.array(z.string()).min(1).default(["Catch-v0", "CatchDrift-v0", "GridEmpty-v0", "GridEmptySlippery-v0"]),
    seeds: z.number().int().min(1).max(100).default(5),
    /** Agent settings (agent/config.ts) of the training run, per env id (merged over `agent`). */
    agent: z.record(z.string(), z.unknown()).default({ steps: 3000, evalEvery: 1000, seedSteps: 500 }),
    perEnv: z.record(z.string(), z.record(z.string(), z.unknown())).default({
      "GridEmpty-v0": { envOptions: { size: 6 } },
      "GridEmptySlippery-v0": { envOptions: { size: 6 } },
    }),
    /** Start states: observations along the trained agent's evaluation episodes. */
    states: z.number().int().min(1).default(16),
    /** Fixed random action sequences scored from every state. */
    sequences: z.number().int().min(2).default(64),
    repeats: z.number().int().min(2).default(10),
    /** Episodes per mode for the return. */
    episodes: z.number().int().min(1).default(20),
    /**
     * Simulator rollouts per sequence for its true H-step return, each from the saved state under a
     * fresh random stream (their mean: the expected return on stochastic envs). 1 replays the real
     * env's own draws (exact on deterministic envs, clairvoyant on stochastic ones).
     */
    simulatorRollouts: z.number().int().min(1).default(8),
  })
  .strict();
export type E3Config = z.infer<typeof E3Config>;

export const E3_QUICK: z.input<typeof E3Config> = {
  envs: ["Catch-v0"],
  seeds: 1,
  agent: { steps: 300, evalEvery: 300, seedSteps: 100, pretrainUpdates: 20, modelPretrainUpdates: 20, evalEpisodes: 2 },
  states: 3,
  sequences: 8,
  repeats: 3,
  episodes: 2,
};

export interface E3RunConfig {
  env: string;
  seed: number;
  agent: Record<string, unknown>;
  states: number;
  sequences: number;
  repeats: number;
  episodes: number;
  simulatorRollouts?: number;
}

export interface ModeMetrics {
  /** Std of a sequence's score across repeats, mean over sequences and states. */
  scoreStd: number;
  /** Spearman correlation of predicted and true H-step returns, mean over states. */
  spearman: number;
  /** Fraction of states where the mode's best sequence starts with the true best sequence's first action. */
  firstActionAgreement: number;
  return: number;
  success: number;
}

export interface E3Metrics {
  trainReturn: number;
  modes: Record<PropagationMode, ModeMetrics>;
}

export function planE3(cfg: E3Config): { run: string; config: E3RunConfig }[] {
  const known = registeredIds();
  for (const env of cfg.envs) {
    if (!known.includes(env)) throw new Error(`e3: unknown env '${env}' (registered: ${known.join(", ")})`);
    // E3 takes its start states, simulator returns and evaluation episodes from the plain env: an
    // agent whose env was reshaped would be scored on observations and actions it never saw.
    const bad = reshapingOptions(parseAgentConfig({ ...cfg.agent, ...(cfg.perEnv[env] ?? {}), env }));
    if (bad.length)
      throw new Error(
        `e3: ${env}: agent option ${bad.join(", ")} reshapes the agent's observations or actions, but E3 scores states and sequences of the plain env; remove it`,
      );
  }
  return cfg.envs.flatMap((env) =>
    Array.from({ length: cfg.seeds }, (_, seed) => ({
      run: `${env}-seed${seed}`,
      config: {
        env,
        seed,
        agent: { ...cfg.agent, ...(cfg.perEnv[env] ?? {}) },
        states: cfg.states,
        sequences: cfg.sequences,
        repeats: cfg.repeats,
        episodes: cfg.episodes,
        // Only when set: records made before the option (one clairvoyant rollout) keep their config.
        ...(cfg.simulatorRollouts > 1 ? { simulatorRollouts: cfg.simulatorRollouts } : {}),
      },
    })),
  );
}

/** Spearman's rank correlation (average ranks for ties); NaN when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (x: ArrayLike<number>) => {
    const idx = Array.from({ length: x.length }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
    const r = new Array<number>(x.length);
    for (let s = 0; s < idx.length; ) {
      let e = s;
      while (e + 1 < idx.length && x[idx[e + 1]!] === x[idx[s]!]) e++;
      for (let k = s; k <= e; k++) r[idx[k]!] = (s + e) / 2;
      s = e + 1;
    }
    return r;
  };
  const [ra, rb] = [rank(a), rank(b)];
  const [ma, mb] = [mean(ra), mean(rb)];
  let num = 0,
    da = 0,
    db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

export async function runE3One(c: E3RunConfig, files: RunFiles = {}): Promise<E3Metrics> {
  const { agent: learner, config, result } = await trainForRecord({ ...c.agent, env: c.env, seed: c.seed }, files);
  if (!(learner instanceof ImaginationAgent)) throw new Error("e3: needs the planner agent (algorithm 'planner')");
  const agent = learner;
  let metrics: E3Metrics;
  try {
    const h = config.planner.horizon;
    const gamma = config.value.gamma;
    const rng = new Rng(c.seed + 17);
    // Start states along the trained agent's evaluation episodes (every other step).
    const env = make(c.env, config.envOptions);
    const states: { obs: TypedArray; state: EnvState }[] = [];
    agent.explore = false;
    agent.evaluating(() => {
      for (let e = 0; states.length < c.states && e < 100; e++) {
        let [obs] = env.reset({ seed: EVAL_SEED_BASE + e }) as [TypedArray, unknown];
        agent.reset();
        for (let t = 0; states.length < c.states; t++) {
          if (t % 2 === 0) states.push({ obs: obs.slice() as TypedArray, state: env.unwrapped.getState() });
          const [next, , terminated, truncated] = env.step(actionArg(env.actionSpace, agent.act(obs)));
          obs = next as TypedArray;
          if (terminated || truncated) break;
        }
      }
    });
    const width = agent.spec.kind === "discrete" ? 1 : agent.spec.size;
    const seqs = new Float32Array(c.sequences * h * width);
    for (let i = 0; i < seqs.length; i++)
      seqs[i] =
        agent.spec.kind === "discrete"
          ? rng.int(agent.spec.n)
          : rng.uniform(agent.spec.low[i % width]!, agent.spec.high[i % width]!);
    const sim = makeBare(c.env, config.envOptions);
    const rollouts = c.simulatorRollouts ?? 1;
    const streams = new Rng(c.seed + 17);
    const trueReturns = (state: EnvState) =>
      Float64Array.from({ length: c.sequences }, (_, i) => {
        let sum = 0;
        for (let j = 0; j < rollouts; j++) {
          sim.setState(rollouts > 1 ? withRandomStream(state, streams.childSeed()) : state);
          let total = 0;
          for (let t = 0; t < h; t++) {
            const [, r, terminated] = sim.step(
              actionArg(sim.actionSpace, Array.from(seqs.subarray((i * h + t) * width, (i * h + t + 1) * width))),
            );
            total += gamma ** t * r;
            if (terminated) break;
          }
          sum += total;
        }
        return sum / rollouts;
      });
    // One truth per state for every mode, and every mode from the same random streams (its own scoring
    // stream, the agent's noise as evaluating() sets it aside): the modes differ only in how they
    // propagate, so their per-seed differences are paired.
    const truths = states.map((s) => trueReturns(s.state));
    const scoringSeed = rng.childSeed();
    const modes = {} as Record<PropagationMode, ModeMetrics>;
    for (const mode of PROPAGATION_MODES)
      modes[mode] = agent.evaluating(() => {
        const scoring = new Rng(scoringSeed);
        const stds: number[] = [];
        const rhos: number[] = [];
        let agree = 0;
        states.forEach((s, k) => {
          const z0 = agent.codesOf(s.obs);
          // Planner scores (with the terminal value) for the repeat spread; H-step returns (no value) for the ranking.
          const repeats = Array.from({ length: c.repeats }, () => agent.score(z0, seqs, c.sequences, mode));
          const predicted = Array.from({ length: c.repeats }, () =>
            scoreSequences(agent.model, z0, seqs, c.sequences, h, {
              mode,
              gamma,
              rng: scoring,
              samples: config.modeSamples,
            }),
          );
          z0.dispose();
          for (let i = 0; i < c.sequences; i++) {
            const xs = repeats.map((r) => r[i]!);
            const m = mean(xs);
            stds.push(Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)));
          }
          const avgPredicted = Float64Array.from({ length: c.sequences }, (_, i) => mean(predicted.map((p) => p[i]!)));
          const truth = truths[k]!;
          const rho = spearman(avgPredicted, truth);
          if (Number.isFinite(rho)) rhos.push(rho);
          const best = (x: ArrayLike<number>) => Array.from(x).reduce((bi, v, i, all) => (v > all[bi]! ? i : bi), 0);
          if (seqs[best(avgPredicted) * h * width] === seqs[best(truth) * h * width]) agree++;
        });
        agent.mode = mode;
        const ev = evaluatePolicy(c.env, agent, c.episodes, { envOptions: config.envOptions });
        return {
          scoreStd: mean(stds),
          spearman: rhos.length ? mean(rhos) : NaN,
          firstActionAgreement: agree / states.length,
          return: ev.return,
          success: ev.success,
        };
      });
    metrics = { trainReturn: result.evals[result.evals.length - 1]?.return ?? NaN, modes };
  } finally {
    learner.dispose();
  }
  if (tf.memory().numTensors > 10_000)
    throw new Error(`e3: ${tf.memory().numTensors} tensors alive after a run (leak)`);
  return metrics;
}

export async function executeE3(
  config: E3RunConfig,
  resultsDir: string,
  run: string,
): Promise<{ metrics: E3Metrics; summary: string }> {
  const metrics = await runE3One(config, runFiles(resultsDir, "e3", run));
  const m = metrics.modes;
  return {
    metrics,
    summary: PROPAGATION_MODES.filter((k) => m[k])
      .map(
        (k) =>
          `${k}: std ${m[k].scoreStd.toExponential(1)} rho ${m[k].spearman.toFixed(2)} return ${m[k].return.toFixed(2)}`,
      )
      .join("; "),
  };
}

export async function summariseE3(
  recordsDir: string,
  outPrefix: string,
  command = "npm run exp -- e3",
): Promise<string[]> {
  const records = readRecords(recordsDir) as unknown as RunRecord<E3RunConfig, E3Metrics>[];
  const files: string[] = [];
  const rows: Row[] = [];
  const plotRows: Row[] = [];
  for (const [env, all] of groupBy(records, (r) => r.config.env)) {
    for (const mode of PROPAGATION_MODES) {
      // Records made before a mode existed (e.g. `average`) have no entry for it.
      const group = all.filter((r) => r.metrics.modes[mode]);
      if (!group.length) continue;
      const stat = (f: (m: ModeMetrics) => number) => {
        const xs = group
          .map((r) => f(r.metrics.modes[mode]))
          .filter((x) => typeof x === "number" && Number.isFinite(x));
        if (!xs.length) return { mean: NaN, lo: NaN, hi: NaN };
        const [lo, hi] = bootstrapCi(xs, 1);
        return { mean: mean(xs), lo, hi };
      };
      const [std, rho, agree, ret, succ] = [
        stat((m) => m.scoreStd),
        stat((m) => m.spearman),
        stat((m) => m.firstActionAgreement),
        stat((m) => m.return),
        stat((m) => m.success),
      ];
      const rhoSeeds = group.filter((r) => Number.isFinite(r.metrics.modes[mode].spearman)).length;
      rows.push({
        env,
        mode,
        seeds: group.length,
        "score std": std.mean,
        "Spearman vs oracle": rho.mean,
        "Spearman seeds": rhoSeeds,
        "Spearman CI": `[${rho.lo.toFixed(2)}, ${rho.hi.toFixed(2)}]`,
        "first-action agreement": agree.mean,
        return: ret.mean,
        "return CI": `[${ret.lo.toFixed(2)}, ${ret.hi.toFixed(2)}]`,
        success: succ.mean,
      });
      plotRows.push(
        { env, mode, metric: "Spearman vs oracle", value: rho.mean, lo: rho.lo, hi: rho.hi },
        { env, mode, metric: "episode return", value: ret.mean, lo: ret.lo, hi: ret.hi },
      );
    }
  }
  writeFileAtomic(`${outPrefix}.csv`, csv(rows));
  files.push(`${outPrefix}.csv`);
  const md = [
    "# E3: planning modes (expected vs sampled vs mode codes)",
    "",
    `Regenerate with \`${command}\`. ${describeRecords(records)}.`,
    "Per trained agent: fixed random action sequences scored R times from fixed states under each mode. score std: spread of one sequence's score across repeats (0 = deterministic). Spearman: rank correlation of predicted H-step returns (mean over repeats) with the true ones in the simulator. first-action agreement: the best predicted sequence starts like the truly best one. return/success: the agent planning in that mode. Means over seeds, 95% bootstrap CIs.",
    "",
    markdownTable(rows),
    "Spearman is undefined (and left out of the mean: 'Spearman seeds' counts the seeds that have it) where every sequence's true H-step return is equal, e.g. on a grid whose goal is more than H steps from every sampled state.",
    "",
    "Plots: `e3-spearman.png` (rank agreement with the simulator), `e3-return.png` (episode return per mode).",
    ...pairedWith(
      records.flatMap((r) =>
        PROPAGATION_MODES.filter((mode) => r.metrics.modes[mode]).flatMap((mode) =>
          [
            { metric: "Spearman vs oracle", value: r.metrics.modes[mode].spearman },
            { metric: "episode return", value: r.metrics.modes[mode].return },
          ].map((m) => ({ ...m, group: r.config.env, method: mode, seed: r.config.seed })),
        ),
      ),
      "expected",
      `${[...new Set(records.map((r) => (r.config.agent as { steps?: number }).steps ?? 20000))].join(", ")} env steps of agent training, ${seedsNote(rows.map((r) => r.seeds as number))}`,
      "; every seed's agent plans in every mode from the same states, sequences, true returns and random streams",
    ),
  ].join("\n");
  writeFileAtomic(`${outPrefix}.md`, md);
  files.push(`${outPrefix}.md`);
  if (plotRows.length) {
    for (const metric of ["Spearman vs oracle", "episode return"]) {
      const tag = metric === "episode return" ? "return" : "spearman";
      files.push(
        ...(await renderPlot(
          pointsWithErrors(
            plotRows.filter((r) => r.metric === metric).map((r) => ({ ...r, mode: `${r.env} ${r.mode}` })),
            {
              title: `E3: ${metric} per planning mode (95% bootstrap CI)`,
              x: "mode",
              y: "value",
              lo: "lo",
              hi: "hi",
              facet: "env",
              yTitle: metric,
            },
          ),
          `${outPrefix}-${tag}`,
        )),
      );
    }
  }
  return files;
}

export function e3Paths(resultsDir: string): { recordsDir: string; outPrefix: string; checkpointsDir: string } {
  return {
    recordsDir: join(resultsDir, "e3-records"),
    outPrefix: join(resultsDir, "e3"),
    checkpointsDir: join(resultsDir, "e3-checkpoints"),
  };
}
