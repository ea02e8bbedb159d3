// The agent's training loop: random seed steps, a pretraining burst, then plan-act-store with one
// world-model and one value update every `updateEvery` env steps; evaluation on fixed seeds every
// `evalEvery` steps (and at the end), each followed by a checkpoint when a folder is given.
// Interrupting (shouldStop) writes a checkpoint and returns; `resume` continues from the latest one.
// A resumed run goes on as the uninterrupted one would: the checkpoint keeps the episode under way
// (replayed in the env from its reset seed) and the agent's run state (Learner.runState); evaluation
// records are never lost. `from` goes on from any kept checkpoint, evaluated otherwise (npm run zoom).
import { rmSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";
import { Rng, RngState } from "../common/rng.ts";
import type { TypedArray } from "../envs/index.ts";
import { makeAgentEnv } from "./agentEnv.ts";
import { ReplayBuffer } from "../data/replayBuffer.ts";
import type { Learner } from "./learner.ts";
import { buildAgent } from "./load.ts";
import { cutLogAfter, TrainingLog } from "./trainingLog.ts";
import {
  checkpointAt,
  latestCheckpoint,
  loadAgentCheckpoint,
  saveAgentCheckpoint,
  verifyCheckpoint,
  type StateJson,
} from "./checkpoint.ts";
import { parseAgentConfig, type AgentConfig } from "./config.ts";
import { actionArg, policyEvaluation, type EvalResult, type EvalScore } from "./evaluate.ts";
import { drain, type Stepwise } from "../common/stepwise.ts";
import { issuesLine } from "../common/issues.ts";

export interface EvalPoint extends EvalScore {
  step: number;
  updates: number;
  returns: number[];
  wallSeconds: number;
  /** With config.evalOnline: the same evaluation with the online weights. */
  online?: EvalScore & { returns: number[] };
}

export interface TrainResult {
  evals: EvalPoint[];
  /** Return of every finished training episode, by the env step it ended at. */
  episodes: { step: number; return: number }[];
  envSteps: number;
  updates: number;
  wallSeconds: number;
  /** True when the run stopped early (shouldStop) after writing a checkpoint. */
  interrupted: boolean;
  resumedFrom?: number;
}

export interface TrainOptions {
  /** Checkpoints go here (at every evaluation and on interruption). */
  checkpointDir?: string;
  /** Keep every checkpoint (ckpt-<step>, about 8 MB each on DoorKey-8x8), not only the latest: to load the agent as it was at any evaluation. */
  keepCheckpoints?: boolean;
  /**
   * Asked after every evaluation with the evaluations so far: true keeps that evaluation's checkpoint
   * and the one before it for good (e.g. where a run falls back, to load the agent on both sides).
   */
  keepAround?: (evals: readonly EvalPoint[]) => boolean;
  /**
   * true: continue from the latest checkpoint (an error if it is another config's or unreadable).
   * "if-same": continue from it when it is this config's and unfinished, else start from scratch with a new training
   * log (what an experiment's runs do, so that a killed sweep goes on where its runs stopped).
   */
  resume?: boolean | "if-same";
  /**
   * Start from this checkpoint (a ckpt-N folder, e.g. one keepCheckpoints or keepAround kept, or a
   * run's checkpoint folder) instead of checkpointDir's latest, writing on into checkpointDir. The
   * config may differ from the checkpoint's in how it evaluates (EVALUATION_SETTINGS) only: those
   * leave training alone, so the run goes on as it went, evaluated more often or both ways.
   */
  from?: string;
  log?: (line: string) => void;
  /**
   * Polled after every training step and every 8 steps of an evaluation (`evaluating`), with the
   * run's step; the loop turns the event loop every 8 steps so that signal handlers can set it. True
   * stops the run after a checkpoint; an evaluation stopped part-way (all but the last can be) is
   * made when the run resumes.
   */
  shouldStop?: (step: number, evaluating: boolean) => boolean;
  /** Append the training log (JSON lines, agent/trainingLog.ts) to this file while the run goes. */
  logFile?: string;
  /** Env steps between the log's scalar lines (default 100). */
  logEvery?: number;
  /** Called after every evaluation (e.g. to write a partial record). */
  onEval?: (point: EvalPoint, result: TrainResult, agent: Learner) => void;
}

/**
 * One evaluation as training makes it (an agent loaded from a checkpoint gives that evaluation's numbers):
 * greedy, on the evaluation seeds, in the env the config shapes; `online` with config.evalOnline.
 * `onlineOnly`: the online weights' evaluation alone, as `offline` (for replaying it; evalAverage).
 */
export function evaluateAgent(
  agent: Learner,
  config: AgentConfig,
  /** Sees every step of the offline evaluation's episodes, in order. */
  onStep?: (obs: TypedArray, action: number[]) => void,
  onlineOnly = false,
): { offline: EvalResult; online?: EvalResult } {
  return drain(agentEvaluation(agent, config, onStep, onlineOnly));
}

/** evaluateAgent, pausing after every env step (policyEvaluation). */
function* agentEvaluation(
  agent: Learner,
  config: AgentConfig,
  onStep?: (obs: TypedArray, action: number[]) => void,
  onlineOnly = false,
): Stepwise<{ offline: EvalResult; online?: EvalResult }> {
  agent.explore = false;
  const evaluate = (watch?: typeof onStep) => () =>
    policyEvaluation(config.env, agent, config.evalEpisodes, { ...config, onStep: watch });
  const offline = agent.evaluation ? yield* agent.evaluation(evaluate(onStep), onlineOnly) : yield* evaluate(onStep)();
  if (!config.evalOnline || onlineOnly) return { offline };
  return { offline, online: yield* agent.evaluation!(evaluate(), true) };
}

/** What a checkpoint keeps of the loop, validated on load. */
const LoopState = z
  .object({
    step: z.number().int().min(0),
    updates: z.number().int().min(0),
    evals: z.array(
      z
        .object({
          step: z.number().int().min(0),
          updates: z.number().int().min(0),
          return: z.number(),
          success: z.number().min(0).max(1),
          returns: z.array(z.number()),
          wallSeconds: z.number().min(0),
          online: z
            .object({ return: z.number(), success: z.number().min(0).max(1), returns: z.array(z.number()) })
            .strict()
            .optional(),
        })
        .strict(),
    ),
    episodes: z.array(z.object({ step: z.number().int().min(0), return: z.number() }).strict()),
    rng: RngState,
    wallSeconds: z.number().min(0),
    /** The episode under way (absent in checkpoints before it was kept: a resumed run then starts a new one). */
    episode: z
      .object({ seed: z.number().int().min(0), return: z.number(), length: z.number().int().min(0) })
      .strict()
      .optional(),
    /** Learner.runState's JSON. */
    agent: z.unknown().optional(),
    /** Checkpoints kept for good (TrainOptions.keepAround), by name. */
    kept: z.array(z.string().regex(/^ckpt-\d+$/)).optional(),
    config: z.unknown(),
  })
  .strict();
type LoopState = Omit<z.infer<typeof LoopState>, "config">;

export async function trainAgent(
  input: unknown,
  opts: TrainOptions = {},
): Promise<{ agent: Learner; config: ReturnType<typeof parseAgentConfig>; result: TrainResult }> {
  const config = parseAgentConfig(input);
  const log = opts.log ?? (() => {});
  const env = makeAgentEnv(config);
  const agent = buildAgent(config, env);
  const spec = env.observationSpace as unknown as { shape: number[]; dtype: "uint8" | "float32" };
  const capacity = 2 * config.steps + 2;
  let buffer = new ReplayBuffer({
    obsShape: spec.shape,
    obsDtype: spec.dtype,
    actionSize: agent.spec.kind === "discrete" ? 1 : agent.spec.size,
    capacity,
  });
  let rng = new Rng(config.seed + 1);
  const state: LoopState = { step: 0, updates: 0, evals: [], episodes: [], rng: [], wallSeconds: 0 };
  let resumedFrom: number | undefined;
  const restorable = findCheckpoint(opts, config, log);
  if (restorable) {
    const { dir, manifest, restored } = restorable;
    const loaded = await loadAgentCheckpoint<unknown>(dir, agent, capacity, manifest);
    buffer = loaded.buffer;
    const { config: _, ...loop } = restored;
    Object.assign(state, loop);
    rng = Rng.fromState(state.rng);
    resumedFrom = state.step;
    if (opts.logFile) cutLogAfter(opts.logFile, state.step);
    log(`resumed from ${dir} at step ${state.step} (${state.evals.length} evaluations kept)`);
  } else if (opts.resume === "if-same" && opts.logFile) rmSync(opts.logFile, { force: true });
  const started = performance.now() - state.wallSeconds * 1000;
  const result = (): TrainResult => ({
    evals: state.evals,
    episodes: state.episodes,
    envSteps: state.step,
    updates: state.updates,
    wallSeconds: (performance.now() - started) / 1000,
    interrupted: false,
    resumedFrom,
  });
  // The checkpoint written last (a resumed run's: the one it resumed from): keepAround's "one before".
  let lastSaved = restorable ? basename(restorable.dir) : undefined;
  const save = async () => {
    if (!opts.checkpointDir) return;
    state.rng = rng.getState();
    state.episode = { ...episode };
    const agentState = agent.runState?.();
    if (agentState !== undefined) state.agent = agentState;
    state.wallSeconds = (performance.now() - started) / 1000;
    const dir = await saveAgentCheckpoint(
      opts.checkpointDir,
      agent,
      buffer,
      { ...state, config: asJson(config) },
      opts.keepCheckpoints || (state.kept ?? []),
    );
    lastSaved = basename(dir);
  };
  /**
   * The evaluation at this step, then (`checkpoint`) its checkpoint; false if a stop ended it part-way
   * (nothing recorded).
   */
  const evaluateNow = async (checkpoint = true): Promise<boolean> => {
    const steps = agentEvaluation(agent, config);
    let next = steps.next();
    // The last evaluation is not stopped: its checkpoint would be a finished run's, with no record.
    const stoppable = opts.shouldStop && state.step < config.steps;
    for (let n = 1; !next.done; n++) {
      if (stoppable && n % 8 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (opts.shouldStop!(state.step, true)) {
          steps.return(undefined as never);
          return false;
        }
      }
      next = steps.next();
    }
    const { offline: e, online } = next.value;
    const point: EvalPoint = {
      step: state.step,
      updates: state.updates,
      return: e.return,
      success: e.success,
      returns: e.returns,
      wallSeconds: (performance.now() - started) / 1000,
      ...(online ? { online: { return: online.return, success: online.success, returns: online.returns } } : {}),
    };
    state.evals.push(point);
    trainingLog?.evaluation(
      point.step,
      point.return,
      point.success,
      online && { return: online.return, success: online.success },
    );
    log(
      `step ${state.step}: eval return ${e.return.toFixed(3)} success ${e.success.toFixed(2)}${online ? ` (online weights: return ${online.return.toFixed(3)} success ${online.success.toFixed(2)})` : ""} (${state.updates} updates, ${point.wallSeconds.toFixed(0)} s)`,
    );
    opts.onEval?.(point, result(), agent);
    if (opts.keepAround?.(state.evals)) {
      const around = [lastSaved, `ckpt-${state.step}`].filter((n): n is string => n !== undefined);
      state.kept = [...new Set([...(state.kept ?? []), ...around])];
      log(`step ${state.step}: keeping ${around.join(" and ")} for good (keepAround)`);
    }
    if (checkpoint) await save();
    return true;
  };

  const trainingLog = opts.logFile ? new TrainingLog(opts.logFile, opts.logEvery) : undefined;
  const update = () => {
    const stats = agent.update(buffer, rng);
    trainingLog?.update(stats);
  };
  // The episode under way: its reset seed, return and length so far (a checkpoint keeps them).
  let episode = { seed: 0, return: 0, length: 0 };
  const startEpisode = (): TypedArray => {
    episode = { seed: rng.childSeed(), return: 0, length: 0 };
    const [first] = env.reset({ seed: episode.seed }) as [TypedArray, unknown];
    buffer.addFirst(first);
    agent.reset?.();
    return first;
  };
  const stopped = (when = "", checkpoint = "checkpoint written") => {
    log(
      `interrupted at step ${state.step}${when}: ${checkpoint}${opts.checkpointDir ? ` in ${opts.checkpointDir}` : " (no folder given: nothing saved)"}`,
    );
    return { agent, config, result: { ...result(), interrupted: true } };
  };
  const resumed = restorable && goOn(env, buffer, agent, restorable.restored, log);
  let obs: TypedArray;
  if (resumed) [obs, episode] = [resumed.obs, resumed.episode];
  else obs = startEpisode();
  const evaluatesAt = (step: number) => step % config.evalEvery === 0 || step === config.steps;
  // A run stopped during an evaluation owes it (evaluations leave training alone: it comes out as it
  // would have). Its record goes into the next checkpoint: rewriting this one would put the only
  // checkpoint at risk while it is written.
  if (resumed && state.step > 0 && evaluatesAt(state.step) && state.evals.at(-1)?.step !== state.step)
    if (!(await evaluateNow(false))) return stopped(" during its evaluation", "its checkpoint kept");
  while (state.step < config.steps) {
    let action: number[];
    if (state.step < config.seedSteps || rng.float() < epsilonAt(config, state.step)) action = randomAction(agent, rng);
    else {
      agent.explore = true;
      const t0 = performance.now();
      action = agent.act(obs, env);
      trainingLog?.plan(performance.now() - t0);
    }
    const [next, reward, terminated, truncated] = env.step(actionArg(env.actionSpace, action));
    buffer.addStep(action, reward, terminated, next as TypedArray);
    state.step++;
    episode.return += reward;
    episode.length++;
    obs = next as TypedArray;
    if (terminated || truncated) {
      if (!terminated) buffer.endEpisode();
      state.episodes.push({ step: state.step, return: episode.return });
      trainingLog?.episode(state.step, episode.return, episode.length);
      obs = startEpisode();
    }
    if (state.step === config.seedSteps) {
      // Normalisation statistics come from the seed data; a checkpoint carries them afterwards.
      agent.model.fitNormalization(buffer.observations());
      const modelOnly = agent.updateModel ? config.modelPretrainUpdates : 0;
      for (let i = 0; i < modelOnly; i++) {
        const stats = agent.updateModel!(buffer, rng);
        trainingLog?.update(stats);
      }
      for (let i = 0; i < config.pretrainUpdates; i++) update();
      state.updates += modelOnly + config.pretrainUpdates;
      log(
        `step ${state.step}: pretrained on the seed data (${modelOnly ? `${modelOnly} world-model updates, then ` : ""}${config.pretrainUpdates} updates)`,
      );
    } else if (state.step > config.seedSteps && state.step % config.updateEvery === 0) {
      update();
      state.updates++;
    }
    trainingLog?.step(state.step, state.updates);
    const evaluated = evaluatesAt(state.step);
    if (evaluated && !(await evaluateNow())) {
      await save();
      return stopped(" during its evaluation");
    }
    // Let signal handlers (Ctrl-C) run: without a turn of the event loop they wait for the whole run.
    if (opts.shouldStop && state.step % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (opts.shouldStop?.(state.step, false) && state.step < config.steps) {
      if (!evaluated) await save();
      return stopped();
    }
  }
  env.close();
  return { agent, config, result: result() };
}

type Restorable = { dir: string; manifest: StateJson; restored: z.infer<typeof LoopState> };

/**
 * The checkpoint to resume from, with its verified manifest and loop state; undefined to start from
 * scratch. Checked before any weight is loaded: another config's weights may not even fit.
 */
function findCheckpoint(opts: TrainOptions, config: AgentConfig, log: (line: string) => void): Restorable | undefined {
  if (opts.from !== undefined) {
    const dir = checkpointAt(opts.from, "trainAgent from");
    try {
      return restorableAt(dir, config, { mayDiffer: EVALUATION_SETTINGS, refuseFinished: true });
    } catch (err) {
      throw new Error(`trainAgent from: ${(err as Error).message}`);
    }
  }
  if (!opts.resume) return undefined;
  // "if-same" (experiments' runs) starts over, saying why, where strict resume stops; it also runs a
  // finished run again (its record was moved aside for that), where strict resume just ends it.
  const lenient = opts.resume === "if-same";
  try {
    const dir = opts.checkpointDir ? latestCheckpoint(opts.checkpointDir) : undefined;
    if (dir) return restorableAt(dir, config, { mayDiffer: [], refuseFinished: lenient });
  } catch (err) {
    const why = (err as Error).message;
    if (!lenient) throw new Error(`trainAgent --resume: ${why}`);
    log(`not resuming: ${why}; starting from scratch`);
    return undefined;
  }
  if (!lenient) log(`no checkpoint in ${opts.checkpointDir ?? "(no folder given)"}: starting from scratch`);
  return undefined;
}

/**
 * The config fields that only say how a run is evaluated: evaluations leave training alone (the
 * agent sets its training aside while one runs), so a run resumed with others trains as it would have.
 */
const EVALUATION_SETTINGS = ["evalEvery", "evalEpisodes", "evalOnline"] as const;

/**
 * `dir`'s checkpoint, verified, with its loop state; throws naming the problem where the loop state is
 * invalid, its config differs from `config` in a field outside `mayDiffer`, or (`refuseFinished`) its
 * run has ended.
 */
function restorableAt(
  dir: string,
  config: AgentConfig,
  { mayDiffer, refuseFinished }: { mayDiffer: readonly string[]; refuseFinished: boolean },
): Restorable {
  const manifest = verifyCheckpoint(dir);
  const parsed = LoopState.safeParse(manifest.state);
  if (!parsed.success) throw new Error(`the loop state in ${dir} is invalid: ${issuesLine(parsed.error)}`);
  const compared = (c: unknown) => {
    const fields = { ...(c as Record<string, unknown>) };
    for (const k of mayDiffer) delete fields[k];
    return JSON.stringify(fields);
  };
  if (compared(parsed.data.config) !== compared(asJson(config)))
    throw new Error(
      `the checkpoint in ${dir} was written with another config` +
        (mayDiffer.length > 0
          ? ` (only ${mayDiffer.join(", ")} may differ)`
          : "; resume with the same options or start a new output folder"),
    );
  if (refuseFinished && parsed.data.step >= config.steps)
    throw new Error(`${dir} is a finished run's (step ${parsed.data.step})`);
  return { dir, manifest, restored: parsed.data };
}

/**
 * Epsilon-greedy exploration for both agents, decaying linearly over a fraction of the run. Sparse
 * goals need it: a planner whose value is still flat repeats one plan (GridEmpty-8x8: spinning in
 * place for whole episodes), so without it the goal is hardly ever reached after the seed steps.
 */
export function epsilonAt(config: AgentConfig, step: number): number {
  const { epsilonStart, epsilonEnd, epsilonFraction } = config.exploration;
  const progress = Math.min(1, step / Math.max(1, epsilonFraction * config.steps));
  return epsilonStart + (epsilonEnd - epsilonStart) * progress;
}

function randomAction(agent: Learner, rng: Rng): number[] {
  const s = agent.spec;
  return s.kind === "discrete" ? [rng.int(s.n)] : s.low.map((lo, j) => rng.uniform(lo, s.high[j]!));
}

/** The parsed config as JSON (checkpoints keep it; a resume must match it). */
function asJson(config: AgentConfig): unknown {
  return JSON.parse(JSON.stringify(config));
}

/**
 * A resumed run's episode: the checkpoint's agent state put back, and the episode under way replayed
 * in the env from its reset seed through the buffer's actions, so the run goes on as an uninterrupted
 * one would. Undefined (start a new episode, saying why) where the checkpoint predates the episode's
 * keeping or the replay does not end on the stored observation.
 */
function goOn(
  env: ReturnType<typeof makeAgentEnv>,
  buffer: ReplayBuffer,
  agent: Learner,
  saved: z.infer<typeof LoopState>,
  log: (line: string) => void,
): { obs: TypedArray; episode: { seed: number; return: number; length: number } } | undefined {
  agent.resumed?.(saved.agent, buffer);
  const fresh = (why: string) => {
    log(`resumed with a new episode: ${why}`);
    return undefined;
  };
  if (!saved.episode) return fresh("the checkpoint does not keep the episode under way");
  if (!buffer.continueEpisode()) return fresh("the buffer's last episode has ended");
  const actions = buffer.openEpisodeActions();
  if (actions.length !== saved.episode.length) {
    buffer.endEpisode();
    return fresh(
      `the buffer holds ${actions.length} steps of the episode, the checkpoint says ${saved.episode.length}`,
    );
  }
  let [obs] = env.reset({ seed: saved.episode.seed }) as [TypedArray, unknown];
  for (const a of actions) [obs] = env.step(actionArg(env.actionSpace, Array.from(a))) as [TypedArray, ...unknown[]];
  const stored = buffer.observations().subarray((buffer.size - 1) * buffer.obsSize);
  if (obs.length !== stored.length || obs.some((x, i) => x !== stored[i])) {
    buffer.endEpisode();
    return fresh("replaying the episode's actions did not reach its stored observation");
  }
  return { obs, episode: { ...saved.episode } };
}
