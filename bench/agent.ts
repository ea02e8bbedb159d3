// npm run bench -- agent [--quick] [--json] [--no-torch] [--backend=NAME]: the agent's update (one
// world-model step, batch 64, H 5, and one value step) and the planner, against a PyTorch port of
// the same update and scoring call (bench/torch_agent.py, one thread) in the same run:
//   - the port loads this run's initial weights and replays the project's first update (same batch,
//     Gumbel noise and ensemble pair); the bench prints its largest relative difference;
//   - project and port are timed in alternating rounds (A/B/A/B), each a median over updates; the
//     figures are medians over rounds;
//   - kernel calls and tensors per update, planning ms per action, the batched scoring call (H
//     imagined steps + value over samples + prior sequences) against the port's.
// The port is skipped with a message where `python3 -c "import torch"` fails (Debian: python3-torch).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { ImaginationAgent } from "../agent/agent.ts";
import { parseAgentConfig } from "../agent/config.ts";
import { Rng } from "../common/rng.ts";
import { make, type TypedArray } from "../envs/index.ts";
import { BACKENDS, initBackend, type BackendChoice } from "../backend/init.ts";
import { collect } from "../data/collector.ts";
import type { ReplayBuffer, SequenceBatch } from "../data/replayBuffer.ts";
import { Noise } from "../worldmodel/estimators/index.ts";
import { countKernels } from "./kernelCounter.ts";
import { findTorchPython, torchEnv } from "./torchEnv.ts";
import { median, medianMs, printTable } from "./timing.ts";

type Batch = Record<"obs" | "actions" | "rewards" | "terminated" | "mask", number[]>;
const plain = (b: SequenceBatch): Batch => ({
  obs: Array.from(b.obs),
  actions: Array.from(b.actions),
  rewards: Array.from(b.rewards),
  terminated: Array.from(b.terminated),
  mask: Array.from(b.mask),
});
const weights = (named: [string, tf.Variable][]) =>
  Object.fromEntries(named.map(([n, v]) => [n, { shape: v.shape, data: Array.from(v.dataSync()) }]));

interface EnvFigures {
  update_ms: number;
  torch_update_ms?: number;
  update_ratio?: number;
  kernel_calls: number;
  tensors: number;
  plan_ms: number;
  score_ms: number;
  torch_score_ms?: number;
  plan_ratio?: number;
  torch_check?: number;
}

export async function benchAgent(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const backendArg = args.find((a) => a.startsWith("--backend="))?.split("=")[1] ?? "auto";
  if (!(BACKENDS as readonly string[]).includes(backendArg))
    throw new Error(`bench agent: --backend must be one of ${BACKENDS.join(", ")}, got '${backendArg}'`);
  const info = await initBackend({ backend: backendArg as BackendChoice });
  const python = args.includes("--no-torch") ? undefined : findTorchPython();
  const rounds = quick ? 2 : 4;
  const perRound = quick ? 8 : 20;
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-agent-"));
  const envs: Record<string, EnvFigures> = {};
  try {
    for (const envId of ["Catch-v0", "GridEmpty-v0", "PointMass-v0"]) {
      const cfg = parseAgentConfig({ env: envId });
      const env = make(envId);
      const agent = new ImaginationAgent(cfg, env, 0);
      const buffer = collect({ envId, steps: 2000, numEnvs: 4, seed: 0 });
      agent.model.fitNormalization(buffer.observations());
      const rng = new Rng(0);
      const [obs] = env.reset({ seed: 0 }) as [TypedArray, unknown];
      const discrete = agent.spec.kind === "discrete";
      // The planner's scoring call: samples + prior sequences, as Planner.plan makes them.
      const n = cfg.planner.samples + (discrete ? 1 : cfg.planner.policySamples);
      const seqRng = new Rng(1);
      const width = discrete ? 1 : (agent.spec as { size: number }).size;
      const sequences = Float32Array.from({ length: n * cfg.planner.horizon * width }, () =>
        discrete ? seqRng.int((agent.spec as { n: number }).n) : seqRng.uniform(-1, 1),
      );
      const z0 = agent.codesOf(obs);
      const port =
        python && discrete ? exportForPort(dir, envId, agent, buffer, rng, z0, sequences, n, perRound) : undefined;
      if (!port) agent.update(buffer, rng);
      const counted = countKernels(() => agent.update(buffer, rng));
      const ours: number[] = [];
      const oursScore: number[] = [];
      const theirs: { update_ms: number; score_ms: number; worst_diff: number; worst_check: string }[] = [];
      for (let r = 0; r < rounds; r++) {
        ours.push(medianMs(() => agent.update(buffer, rng), perRound, 2));
        oursScore.push(medianMs(() => agent.score(z0, sequences, n), perRound * 3, 3));
        if (port)
          theirs.push(
            JSON.parse(
              execFileSync(python!, [join(import.meta.dirname, "torch_agent.py"), port], {
                encoding: "utf8",
                env: torchEnv(),
                timeout: 600_000,
              })
                .trim()
                .split("\n")
                .pop()!,
            ),
          );
      }
      const scoreMs = median(oursScore);
      agent.explore = false;
      const planMs = medianMs(() => agent.act(obs), perRound, 2);
      const figures: EnvFigures = {
        update_ms: median(ours),
        kernel_calls: counted.calls,
        tensors: counted.tensors,
        plan_ms: planMs,
        score_ms: scoreMs,
      };
      if (theirs.length) {
        figures.torch_update_ms = median(theirs.map((t) => t.update_ms));
        figures.update_ratio = figures.update_ms / figures.torch_update_ms;
        figures.torch_score_ms = median(theirs.map((t) => t.score_ms));
        figures.plan_ratio = scoreMs / figures.torch_score_ms;
        figures.torch_check = theirs[0]!.worst_diff;
        console.log(
          `# ${envId}: the port's largest relative difference from the project's first update: ${theirs[0]!.worst_diff.toExponential(2)} (${theirs[0]!.worst_check})`,
        );
      }
      envs[envId] = figures;
      if (!args.includes("--json"))
        console.log(JSON.stringify({ bench: "agent", backend: info.kind, gemm: info.gemm, env: envId, ...figures }));
      z0.dispose();
      agent.dispose();
    }
  } finally {
    if (process.env.GW_BENCH_KEEP) console.log(`# port inputs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `# agent update = one world-model step (batch 64, H 5) + one value step; ${rounds} alternating rounds of ${perRound} updates, medians; backend ${info.kind}, GEMM ${info.gemm}`,
  );
  if (!python)
    console.log('# PyTorch port skipped: `python3 -c "import torch"` fails (Debian: apt-get install python3-torch)');
  printTable(
    Object.entries(envs).map(([env, f]) => ({
      env,
      "update ms": f.update_ms,
      "torch ms": f.torch_update_ms ?? NaN,
      "update ratio": f.update_ratio ?? NaN,
      "kernel calls": f.kernel_calls,
      tensors: f.tensors,
      "plan ms/action": f.plan_ms,
      "score ms": f.score_ms,
      "torch score ms": f.torch_score_ms ?? NaN,
      "plan ratio": f.plan_ratio ?? NaN,
    })),
  );
  if (args.includes("--json")) console.log(JSON.stringify({ envs }));
}

/**
 * Writes the port's input: config, initial weights, the project's first update (its batches, Gumbel
 * noise, ensemble pair, resulting losses and weight sums) and scores, and batches to time on. Runs
 * that first update on the agent. Returns the file.
 */
function exportForPort(
  dir: string,
  envId: string,
  agent: ImaginationAgent,
  buffer: ReplayBuffer,
  rng: Rng,
  z0: tf.Tensor,
  sequences: Float32Array,
  n: number,
  repeats: number,
): string {
  const cfg = agent.config;
  const wm = agent.model.config;
  const initial = weights([
    ...agent.model.namedVariables(),
    ...agent.model.namedState(),
    ...agent.value.namedVariables(),
  ]);
  const scores = Array.from(agent.score(z0, sequences, n));
  // Record what the first update draws: its batches, its Gumbel noise, its ensemble pair.
  const batches: SequenceBatch[] = [];
  const gumbels: number[][] = [];
  let pair: [number, number] | undefined;
  const sample = buffer.sample.bind(buffer);
  const gumbel = Noise.prototype.gumbel;
  const value = agent.value as unknown as { pickTwo: () => [number, number] };
  const pickTwo = value.pickTwo.bind(agent.value);
  buffer.sample = (...a: Parameters<ReplayBuffer["sample"]>) => {
    batches.push(sample(...a));
    return batches.at(-1)!;
  };
  Noise.prototype.gumbel = function (this: Noise, shape: number[]) {
    const g = gumbel.call(this, shape);
    gumbels.push(Array.from(g.dataSync()));
    return g;
  };
  value.pickTwo = () => (pair = pickTwo());
  let stats: ReturnType<ImaginationAgent["update"]>;
  try {
    stats = agent.update(buffer, rng);
  } finally {
    buffer.sample = sample;
    Noise.prototype.gumbel = gumbel;
    value.pickTwo = pickTwo;
  }
  const sums = Object.fromEntries(
    [...agent.model.namedVariables(), ...agent.value.namedVariables()].map(([name, v]) => [
      name,
      tf.tidy(() => tf.sum(tf.abs(v)).dataSync()[0]!),
    ]),
  );
  const timingRng = new Rng(7);
  const spec = {
    env: envId,
    config: {
      latents: wm.latents,
      levels: wm.levels,
      batch: wm.batch,
      horizon: wm.horizon,
      obsSize: agent.model.obsSize,
      actions: agent.model.actionSize,
      encoderHidden: wm.encoder.hidden,
      dynamicsHidden: wm.dynamicsHidden,
      headHidden: wm.headHidden,
      lr: wm.lr,
      encoderLrScale: wm.encoderLrScale,
      rho: wm.rho,
      tau: wm.tau,
      rewardWeight: wm.rewardWeight,
      terminationWeight: wm.terminationWeight,
      inverseDynamicsWeight: wm.inverseDynamicsWeight,
      gradClip: wm.gradClip,
      ensemble: cfg.value.ensemble,
      valueHidden: cfg.value.hidden,
      valueLr: cfg.value.lr,
      valueBatch: cfg.value.batch,
      nStep: cfg.value.nStep,
      gamma: cfg.value.gamma,
      polyak: cfg.value.polyak,
      planHorizon: cfg.planner.horizon,
    },
    weights: initial,
    codebook: Array.from(agent.model.fsq.codebook.dataSync()),
    check: {
      wmBatch: plain(batches[0]!),
      tdBatch: plain(batches[1]!),
      gumbels,
      pair,
      stats: { ...stats.worldModel, td: stats.td },
      sums,
    },
    score: { z0: Array.from(z0.dataSync()), actions: Array.from(sequences), n, scores },
    timing: {
      repeats,
      wmBatches: Array.from({ length: 8 }, () =>
        plain(buffer.sample(wm.batch, wm.horizon, timingRng, cfg.eventFraction)),
      ),
      tdBatches: Array.from({ length: 8 }, () =>
        plain(buffer.sample(cfg.value.batch, cfg.value.nStep, timingRng, cfg.eventFraction)),
      ),
    },
  };
  delete (spec.check.stats as Record<string, unknown>).reconstruction;
  const file = join(dir, `${envId}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}
