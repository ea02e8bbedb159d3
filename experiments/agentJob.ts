// The main job (npm start): train the imagination agent on one task, evaluate it, and write under
// the output folder: record.json (config, evaluations, summary; rewritten after every evaluation),
// curve.png/.svg (evaluation return and success vs env steps), episode.apng (an evaluation episode:
// the env's frame | the real observation | the model's open-loop imagined observation) and
// checkpoint/ (for --resume).
import { existsSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import * as tf from "@tensorflow/tfjs";
import { hstack, scaleFrame, writeApng } from "../common/png.ts";
import { fingerprint, makeRecord } from "./records.ts";
import type { Frame, TypedArray } from "../envs/index.ts";
import type { BackendInfo } from "../backend/init.ts";
import { obsToRgba } from "../worldmodel/eval.ts";
import { rgbaToFrame } from "../worldmodel/rolloutPictures.ts";
import { ImaginationAgent } from "../agent/agent.ts";
import { parseAgentConfig } from "../agent/config.ts";
import { makeAgentEnv, type AgentEnvSpec } from "../agent/agentEnv.ts";
import type { Learner } from "../agent/learner.ts";
import { actionArg } from "../agent/evaluate.ts";
import { trainAgent, type TrainResult } from "../agent/train.ts";
import { renderPlot, lineWithBand, type Row } from "./plots.ts";
import { tidyRead } from "../backend/tidyRead.ts";

export interface AgentJobOptions {
  config: Record<string, unknown>;
  out: string;
  resume: boolean;
  /** Keep every evaluation's checkpoint, not only the last. */
  keepCheckpoints?: boolean;
  backend: BackendInfo;
  /** Polled every env step; true interrupts the run after a checkpoint. */
  shouldStop?: () => boolean;
  log: (line: string) => void;
}

export interface AgentJobSummary {
  env: string;
  estimator: string;
  return: number;
  success: number;
  envSteps: number;
  wallSeconds: number;
  backend: string;
  interrupted: boolean;
  /** First evaluation step with success >= 0.9, if any. */
  stepsToSuccess90: number | null;
}

export async function runAgentJob(o: AgentJobOptions): Promise<AgentJobSummary> {
  const started = new Date();
  const writeRun = (config: unknown, result: TrainResult) => {
    const last = result.evals[result.evals.length - 1];
    const summary = {
      return: last?.return ?? NaN,
      success: last?.success ?? NaN,
      envSteps: result.envSteps,
      wallSeconds: result.wallSeconds,
      stepsToSuccess90: result.evals.find((e) => e.success >= 0.9)?.step ?? null,
    };
    const record = makeRecord({
      experiment: "agent",
      run: basename(o.out),
      config,
      seed: (config as { seed: number }).seed,
      backend: o.backend,
      started,
      metrics: { ...result, summary },
      defaults: fingerprint(parseAgentConfig({})), // the record keeps the user's settings, not the defaults below them
    });
    writeFileAtomic(join(o.out, "record.json"), JSON.stringify(record, null, 1) + "\n");
    return summary;
  };
  const logFile = join(o.out, "log.jsonl");
  if (!o.resume) rmSync(logFile, { force: true }); // a new run starts a new log; a resumed one appends
  const { agent, config, result } = await trainAgent(o.config, {
    logFile,
    checkpointDir: join(o.out, "checkpoint"),
    keepCheckpoints: o.keepCheckpoints,
    resume: o.resume,
    log: o.log,
    shouldStop: o.shouldStop,
    onEval: (_point, partial) => void writeRun(o.config, partial),
  });
  try {
    const summary = writeRun(o.config, result);
    if (!result.interrupted) {
      const who = config.algorithm === "dqn" ? "DQN" : "Imagination agent";
      await writeCurve(result, join(o.out, "curve"), `${who} on ${config.env}`);
      await writeTrainingPlot(
        logFile,
        join(o.out, "training"),
        `${who} on ${config.env}: training log (${basename(logFile)})`,
      );
      writeEpisode(agent, config, join(o.out, "episode.apng"));
    }
    return {
      env: config.env,
      estimator: config.worldModel.estimator,
      ...summary,
      backend: o.backend.kind,
      interrupted: result.interrupted,
    };
  } finally {
    agent.dispose();
  }
}

/** Panels of the training log's scalars and episode returns against env steps. */
async function writeTrainingPlot(logFile: string, path: string, title: string): Promise<void> {
  if (!existsSync(logFile)) return;
  const lines = readFileSync(logFile, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number | string | null>);
  const panels: [string, string][] = [
    ["worldModel_loss", "world-model loss"],
    ["worldModel_accuracy1", "1-step code accuracy (batch)"],
    ["worldModel_perplexity", "code perplexity (targets)"],
    ["td", "TD loss"],
    ["updates_per_s", "updates / s"],
  ];
  const rows: Row[] = [];
  const recent: number[] = [];
  for (const line of lines) {
    const step = line.step as number;
    if (line.type === "episode") {
      recent.push(line.return as number);
      if (recent.length > 20) recent.shift();
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      rows.push({ step, value: mean, lo: mean, hi: mean, metric: "training return (last 20 episodes)" });
    }
    if (line.type !== "scalars") continue;
    for (const [key, label] of panels) {
      const v = line[key];
      if (typeof v === "number" && Number.isFinite(v)) rows.push({ step, value: v, lo: v, hi: v, metric: label });
    }
  }
  if (rows.length === 0) return;
  await renderPlot(
    lineWithBand(rows, {
      title,
      x: "step",
      y: "value",
      lo: "lo",
      hi: "hi",
      color: "metric",
      facet: "metric",
      xTitle: "env steps",
      yTitle: "",
      noLegend: true,
    }),
    path,
  );
}

async function writeCurve(result: TrainResult, path: string, title: string): Promise<void> {
  const rows: Row[] = result.evals.flatMap((e) => {
    const sd = Math.sqrt(e.returns.reduce((a, r) => a + (r - e.return) ** 2, 0) / Math.max(1, e.returns.length - 1));
    const se = sd / Math.sqrt(e.returns.length);
    return [
      {
        step: e.step,
        value: e.return,
        lo: e.return - 1.96 * se,
        hi: e.return + 1.96 * se,
        metric: "return (mean, 95% CI)",
      },
      { step: e.step, value: e.success, lo: e.success, hi: e.success, metric: "success rate" },
    ];
  });
  await renderPlot(
    lineWithBand(rows, {
      title: `${title}: evaluation vs env steps`,
      x: "step",
      y: "value",
      lo: "lo",
      hi: "hi",
      color: "metric",
      xTitle: "env steps",
      yTitle: "evaluation",
    }),
    path,
  );
}

/**
 * One evaluation episode (seed 0 of the evaluation seeds) as an APNG: per step the env frame, the real
 * observation and the decoded open-loop imagination from the episode's first code under the actions
 * taken. Needs the world model's decoder (the main job enables it; it does not shape the codes).
 */
export function writeEpisode(agent: Learner, config: AgentEnvSpec, path: string, maxSteps = 100): void {
  if (!(agent instanceof ImaginationAgent) || !agent.model.decoder) return;
  const model = agent.model;
  const env = makeAgentEnv(config);
  let [obs] = env.reset({ seed: 1_000_000 }) as [TypedArray, unknown];
  agent.explore = false;
  agent.reset();
  const { lo, hi } = model.obsBounds();
  const shape = model.shape.obsShape.length === 3 ? model.shape.obsShape : [1, model.obsSize, 1];
  const scale = Math.max(1, Math.floor(env.render()!.height / shape[0]!));
  const image = (values: ArrayLike<number>): Frame =>
    rgbaToFrame(obsToRgba(values, shape, lo, hi), shape[1]!, shape[0]!, scale);
  let z = agent.codesOf(obs);
  const frames: Frame[] = [];
  try {
    for (let t = 0; t < maxSteps; t++) {
      const imagined = tidyRead(() => model.denormalize(model.decode(z)));
      frames.push(hstack([env.render()!, image(obs), image(imagined)]));
      const action = agent.act(obs);
      const next = tf.tidy(() => model.expectedNext(z, model.actionFeatures(action, 1)));
      z.dispose();
      z = next;
      const [o, , terminated, truncated] = env.step(actionArg(env.actionSpace, action));
      obs = o as TypedArray;
      if (terminated || truncated) {
        frames.push(hstack([env.render()!, image(obs), image(tidyRead(() => model.denormalize(model.decode(z))))]));
        break;
      }
    }
  } finally {
    z.dispose();
  }
  // Small envs render a few dozen pixels: scale the strip to at least 240 pixels high.
  const k = Math.max(1, Math.ceil(240 / frames[0]!.height));
  writeApng(
    path,
    frames.map((f) => scaleFrame(f, k)),
  );
}
