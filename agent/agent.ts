// The imagination-based agent: encode the observation to codes, plan with MPPI/CEM inside the world
// model (expected codes by default, terminal value from the Q ensemble), act; learn the world model
// from replayed sequences (estimator from its config: ST Gumbel-softmax by default) and the value
// from replayed transitions, on stopped codes.
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { Rng, RngState } from "../common/rng.ts";
import type { Env, TypedArray } from "../envs/index.ts";
import type { ReplayBuffer, SequenceBatch } from "../data/replayBuffer.ts";
import { WorldModel, envShapeOf, type Heads } from "../worldmodel/model.ts";
import { WorldModelTrainer, type NamedTensor, type TrainStats } from "../worldmodel/train.ts";
import { tracedCodes } from "../worldmodel/fusedLoss.ts";
import { FlatAdam } from "../worldmodel/nn/flatAdam.ts";
import type { AgentConfig } from "./config.ts";
import { actionSpecOf, firstActions, firstAndLastObs, nStepReturns, type Learner } from "./learner.ts";
import { scoreSequences, imagineStep, type PropagationMode } from "./imagination.ts";
import { Planner, PlannerJson, type ActionSpec } from "./planner.ts";
import { NO_BOUND, ValueLearner, type TdBatch } from "./value.ts";
import { imaginedActions, imaginedBatch } from "./imaginedTargets.ts";
import { EpisodeMemory } from "./episodeMemory.ts";
import { polyak, swapIn } from "./targetNetwork.ts";
import type { Stepwise } from "../common/stepwise.ts";
import { relabeledSample, withRows } from "./hindsight.ts";
import { goalRelabelerOf, type GoalRelabeler } from "../envs/grid/goalRelabel.ts";
import { newVariable } from "../worldmodel/nn/mlp.ts";
import { type IndexStepper, SearchMemo, codeKey, searchCodes } from "./codeSearch.ts";
import { TakenSteps } from "./takenSteps.ts";
import { turnableSide, turnedSample } from "./turnAugment.ts";
import { issuesLine } from "../common/issues.ts";

/** ImaginationAgent.runState's JSON: the random streams' positions, the planner's warm start, the episode's memories. */
const AgentRunState = z
  .object({
    noise: RngState,
    worldModelNoise: RngState,
    value: RngState,
    planner: PlannerJson,
    episode: z.unknown(),
    /** Training episodes begun (planner.search.exploitEvery); absent in older checkpoints. */
    trainingEpisodes: z.number().int().min(0).optional(),
  })
  .strict();
type AgentRunState = z.infer<typeof AgentRunState>;

export class ImaginationAgent implements Learner {
  /**
   * The (neighbourhood, action) pairs an evaluation's stepper may hold before it starts afresh (its
   * outputs take about 50 B a pair): a long evaluation over many layouts stays in bounds.
   */
  static evalStepperPairs = 1 << 20;
  /** The codes an evaluation's search memo may hold before it starts afresh (a code's rows take about 2 kB). */
  static evalMemoCodes = 1 << 15;
  /** The start codes an evaluation keeps the Q of (evalRoots; a few dozen bytes each). */
  static evalRootCodes = 1 << 16;
  readonly model: WorldModel;
  readonly trainer: WorldModelTrainer;
  readonly value: ValueLearner;
  readonly planner: Planner;
  readonly spec: ActionSpec;
  /** Propagation mode of planning (can be switched for evaluation, e.g. by E3). */
  mode: PropagationMode;
  /** Exploration (training) or the deterministic plan (evaluation). */
  explore = false;
  private noiseRng: Rng;
  /** The world model's and Q heads' variables and copies trailing them (config.evalAverage). */
  private readonly average: { online: tf.Variable[]; trailing: tf.Variable[] } | undefined;
  /** Adam over the encoder's variables for the TD loss's gradient (config.value.encoderLr). */
  private readonly encoderOptimizer: FlatAdam | undefined;
  /** Hindsight goals for the value's rows (config.value.relabel). */
  private readonly relabeler: GoalRelabeler | undefined;
  /** The cell keys of the steps taken in the env, and with them their next codes (config.planner.search: untried, observed). */
  private readonly taken: TakenSteps | undefined;
  /**
   * Inside evaluating(): one index stepper for all its searches. The weights stay fixed there, so what
   * it computed for a neighbourhood holds in every later search (the same numbers, computed once).
   */
  private evalStepper: IndexStepper | undefined;
  /** Inside evaluating(): what its searches share beside the stepper, each code's rows and value (SearchMemo). */
  private evalMemo: SearchMemo | undefined;
  /**
   * Inside evaluating(): each searched start code's Q. Under fixed weights a search is a function of
   * its start code (the options and the steps shown stay fixed), so a code met again, in a loop or in
   * an episode that starts where an earlier one did (Breakout's ten resets hold two first frames), is
   * answered without searching; ties are still broken by a fresh draw, so the actions are those of a
   * search run afresh. Kept apart from evalMemo, which starts afresh every few dozen searches.
   */
  private evalRoots: Map<string, Float64Array> | undefined;
  /** Searches an evaluation answered from evalRoots. */
  searchesReused = 0;

  constructor(
    readonly config: AgentConfig,
    env: Env<TypedArray, unknown>,
    seed: number,
  ) {
    const rng = new Rng(seed);
    this.spec = actionSpecOf(env);
    this.model = new WorldModel(config.worldModel, envShapeOf(env), rng.childSeed());
    this.trainer = new WorldModelTrainer(this.model, rng.childSeed());
    this.value = new ValueLearner(this.model.codeSize, this.spec, config.value, rng.childSeed());
    this.planner = new Planner(this.spec, config.planner, rng.childSeed());
    this.noiseRng = new Rng(rng.childSeed());
    this.mode = config.mode;
    if (config.planner.search && this.spec.kind !== "discrete")
      throw new Error("agent config: planner.search needs Discrete actions");
    if (config.planner.search && (config.novelty ?? 0) > 0)
      throw new Error("agent config: planner.search and novelty cannot be combined (the search scores no novelty)");
    if (config.planner.search?.branch !== undefined && config.worldModel.encoder.type !== "cells")
      throw new Error("agent config: planner.search.branch needs encoder 'cells' (a model stepped on code indices)");
    const { untried, observed } = config.planner.search ?? {};
    if ((untried ?? 0) > 0 || observed)
      this.taken = new TakenSteps(this.model, this.spec.kind === "discrete" ? this.spec.n : 0, observed);
    this.episode = new EpisodeMemory(this.model.fsq.size);
    if (config.turnAugment) this.turnSide = turnableSide(env, config);
    if (config.evalAverage !== undefined) {
      const online = [...this.model.variables, ...this.value.critics.variables];
      this.average = { online, trailing: online.map((v) => newVariable(() => tf.clone(v), false)) };
    }
    const { encoderLr } = config.value;
    if (encoderLr !== undefined) this.encoderOptimizer = new FlatAdam(this.model.encoder.variables, { lr: encoderLr });
    if (config.value.relabel !== undefined) {
      if (encoderLr !== undefined)
        throw new Error("agent config: value.relabel and value.encoderLr cannot be combined");
      this.relabeler = goalRelabelerOf(env);
    }
  }

  /** Times this agent acted at random to break a loop (config.loopBreak). */
  loopBreaks = 0;
  /** What the agent remembers of the current episode. */
  private episode: EpisodeMemory;
  /** Plans made with at least one action barred by the no-op or revisit memory. */
  noOpsBarred = 0;

  /** Training episodes begun so far (an evaluation's do not count). */
  private trainingEpisodes = 0;
  /** config.turnAugment: the grid's side. */
  private readonly turnSide: number | undefined;
  /** Set while evaluating() runs. */
  private inEvaluation = false;

  reset(): void {
    this.planner.reset();
    this.episode = new EpisodeMemory(this.model.fsq.size);
    if (!this.inEvaluation) this.trainingEpisodes++;
  }

  /** Whether this training episode's searches take the untried bonus (planner.search: untried, exploitEvery). */
  get untriedNow(): boolean {
    const every = this.config.planner.search?.exploitEvery;
    return (
      (this.config.planner.search?.untried ?? 0) > 0 && (every === undefined || this.trainingEpisodes % every !== 0)
    );
  }

  /** Codes [1, L, d] of one observation. */
  codesOf(obs: ArrayLike<number>): tf.Tensor3D {
    return tf.tidy(() => this.model.encode(this.model.preprocess(obs, 1)));
  }

  /**
   * Scores n sequences [n, H, width] from the codes z0 under the agent's propagation mode; with
   * `visited` (the episode's codes), the novelty bonus of config.novelty as well.
   */
  score(
    z0: tf.Tensor,
    actions: Float32Array,
    n: number,
    mode: PropagationMode = this.mode,
    visited?: tf.Tensor1D,
  ): Float32Array {
    const weight = this.config.novelty ?? 0;
    return scoreSequences(this.model, z0, actions, n, this.config.planner.horizon, {
      mode,
      gamma: this.config.value.gamma,
      value: (z) => this.value.value(z),
      rng: this.noiseRng,
      samples: this.config.modeSamples,
      novelty: visited && weight > 0 ? { weight, visited } : undefined,
    });
  }

  act(obs: TypedArray): number[] {
    const discrete = this.spec.kind === "discrete";
    const memory = discrete && this.config.noOpMemory;
    const revisits = discrete && this.config.revisitMemory;
    const key =
      memory || revisits || this.config.loopBreak > 0
        ? Buffer.from(obs.buffer, obs.byteOffset, obs.byteLength).toString("base64")
        : "";
    if (memory && this.episode.last?.key === key) {
      const barred = this.episode.noOps.get(key) ?? new Set<number>();
      this.episode.noOps.set(key, barred.add(this.episode.last.action));
    }
    // The observation's codes, once: for the revisit memory's ending check and for the plan.
    const z0 = this.codesOf(obs);
    let visited: tf.Tensor1D | undefined;
    let action: number[];
    try {
      if ((this.config.novelty ?? 0) > 0) {
        const indices = this.model.indices(z0);
        this.episode.codes.add(indices.dataSync());
        indices.dispose();
        visited = this.episode.codes.tensor();
      }
      action = this.choose(z0, key, this.barred(z0, key, memory, revisits), visited);
    } finally {
      z0.dispose();
      visited?.dispose();
    }
    if (memory) this.episode.last = { key, action: action[0]! };
    if (revisits) {
      const counts = this.episode.tried.get(key) ?? new Array<number>(this.spec.n).fill(0);
      counts[action[0]!]!++;
      this.episode.tried.set(key, counts);
    }
    return action;
  }

  /** The no-op and revisit memories' barred set in this observation (see `barredActions`). */
  private barred(z0: tf.Tensor, key: string, memory: boolean, revisits: boolean): ReadonlySet<number> | undefined {
    const noOps = memory ? this.episode.noOps.get(key) : undefined;
    const counts = revisits ? this.episode.tried.get(key) : undefined;
    if (!counts) return noOps;
    const { ending, rewarded } = this.endingActions(z0, counts);
    return barredActions(counts, noOps ?? new Set(), ending, this.config.revisitGoals ? rewarded : undefined);
  }

  /** The model's heads for every Discrete action from the codes z0 [1, L, d], row a for action a (call inside tf.tidy). */
  actionHeads(z0: tf.Tensor): Heads {
    if (this.spec.kind !== "discrete") throw new Error("ImaginationAgent.actionHeads: needs Discrete actions");
    const n = this.spec.n;
    const actions = Array.from({ length: n }, (_, a) => a);
    return this.model.heads(tf.tile(z0, [n, 1, 1]), this.model.actionFeatures(actions, n));
  }

  /**
   * Discrete actions the model confidently predicts to end the episode from the codes z0 [1, L, d]
   * (d_hat > 0.9) and not yet tried here (one that was tried here did not end it: we are back), and
   * those of them it predicts to pay a reward (r_hat > 0.1).
   */
  private endingActions(z0: tf.Tensor, counts: readonly number[]): { ending: Set<number>; rewarded: Set<number> } {
    const n = counts.length;
    const actions = counts.map((_, a) => a);
    // One read: each action's termination probability, then its reward.
    const read = tf.tidy(() => {
      const h = this.actionHeads(z0);
      return tf.concat([tf.sigmoid(h.terminated), h.reward]).dataSync();
    });
    const ending = new Set(actions.filter((a) => read[a]! > 0.9 && counts[a] === 0));
    return { ending, rewarded: new Set([...ending].filter((a) => read[n + a]! > 0.1)) };
  }

  private choose(
    z0: tf.Tensor,
    key: string,
    forbidFirst: ReadonlySet<number> | undefined,
    visited?: tf.Tensor1D,
  ): number[] {
    if (this.config.loopBreak > 0) {
      const seen = (this.episode.visits.get(key) ?? 0) + 1;
      this.episode.visits.set(key, seen);
      if (seen > this.config.loopBreak) {
        this.loopBreaks++;
        const s = this.spec;
        return s.kind === "discrete"
          ? [this.noiseRng.int(s.n)]
          : s.low.map((lo, j) => this.noiseRng.uniform(lo, s.high[j]!));
      }
    }
    if (forbidFirst) this.noOpsBarred++;
    if (this.config.planner.search) return [this.searchAction(z0, forbidFirst)];
    const prior = this.priorSequences(z0);
    return this.planner.plan((actions, n) => this.score(z0, actions, n, this.mode, visited), {
      explore: this.explore,
      prior,
      forbidFirst,
    }).action;
  }

  /**
   * The first action of the best path found by search over the model's codes (config.planner.search),
   * none of `forbidFirst` unless it bars every action; ties (a flat value) broken at random, as the
   * sampling planner's are.
   */
  private searchAction(z0: tf.Tensor, forbidFirst: ReadonlySet<number> | undefined): number {
    const n = (this.spec as { n: number }).n;
    const roots = this.evalRoots;
    const root = roots && this.rootKey(z0);
    let q = root === undefined ? undefined : roots!.get(root);
    if (q) this.searchesReused++;
    else {
      q = this.search(z0, n);
      if (root !== undefined && roots!.size < ImaginationAgent.evalRootCodes) roots!.set(root, q);
    }
    const all = Array.from({ length: n }, (_, a) => a);
    const allowed = all.filter((a) => !forbidFirst?.has(a));
    const candidates = allowed.length > 0 ? allowed : all;
    const best = Math.max(...candidates.map((a) => q[a]!));
    const ties = candidates.filter((a) => q[a]! >= best - 1e-6 * Math.max(1, Math.abs(best)));
    return ties[ties.length > 1 ? this.noiseRng.int(ties.length) : 0]!;
  }

  /** The start code z0 [1, L, d]'s key (its code indices, codeKey's). */
  private rootKey(z0: tf.Tensor): string {
    const ids = tf.tidy(() => this.model.indices(z0));
    const key = codeKey(ids.dataSync() as Int32Array, 0, ids.shape[1]);
    ids.dispose();
    return key;
  }

  /** Q(z0, a) for each of the n actions by search over the model's codes (config.planner.search). */
  private search(z0: tf.Tensor, n: number): Float64Array {
    const { depth, maxNodes, rewardOnEnding, untried, branch, quiet } = this.config.planner.search!;
    if (
      (this.evalStepper?.size ?? 0) > ImaginationAgent.evalStepperPairs ||
      (this.evalMemo?.size ?? 0) > ImaginationAgent.evalMemoCodes
    ) {
      this.evalStepper = this.model.indexStepper();
      this.evalMemo = new SearchMemo();
    }
    return searchCodes(this.model, z0, n, {
      depth,
      maxNodes,
      rewardOnEnding,
      gamma: this.config.value.gamma,
      value: (z) => this.value.value(z),
      stepper: this.evalStepper,
      memo: this.evalMemo,
      branch,
      ...(this.taken?.shown && { shown: this.taken.shown, quiet }),
      // Optimism is for training: evaluations exploit.
      ...(this.explore && this.untriedNow ? { untried: { seen: this.taken!.seen, bonus: untried! } } : {}),
    }).q;
  }

  /**
   * Policy-prior sequences [P, H, width], rolled out in the model with expected codes: the greedy Q
   * action per step (Discrete, one sequence), or the actor's action with small Gaussian noise (Box).
   */
  private priorSequences(z0: tf.Tensor): Float32Array | undefined {
    const { horizon: h, policySamples } = this.config.planner;
    if (policySamples === 0 || this.value.updates === 0) return undefined;
    const p = this.spec.kind === "discrete" ? 1 : policySamples;
    const width = this.spec.kind === "discrete" ? 1 : this.spec.size;
    const out = new Float32Array(p * h * width);
    tf.tidy(() => {
      let z: tf.Tensor = tf.tile(z0, [p, 1, 1]);
      for (let t = 0; t < h; t++) {
        let a = this.value.greedy(z);
        const values = a.dataSync();
        if (this.spec.kind === "discrete") {
          out[t] = Math.max(0, values.indexOf(1));
        } else {
          const { size, low, high } = this.spec;
          const noisy = Float32Array.from(values, (v, q) => {
            const half = (high[q % size]! - low[q % size]!) / 2;
            const x = q < size ? v : v + 0.1 * half * this.noiseRng.normal(); // sequence 0 is the actor's own
            return Math.min(high[q % size]!, Math.max(low[q % size]!, x));
          });
          for (let i = 0; i < p; i++) out.set(noisy.subarray(i * size, (i + 1) * size), (i * h + t) * size);
          a = tf.tensor2d(noisy, [p, size]);
        }
        z = imagineStep(this.model, z, a, "expected").next;
      }
    });
    return out;
  }

  /** One world-model step on a batch of the buffer's sequences, turned with their grids under config.turnAugment. */
  private stepModel(buffer: ReplayBuffer, rng: Rng): TrainStats {
    const { eventFraction } = this.config;
    if (this.turnSide === undefined) return this.trainer.stepOnBuffer(buffer, rng, eventFraction);
    const { batch, horizon } = this.model.config;
    return this.trainer.step(turnedSample(buffer, this.turnSide, rng, batch, horizon, eventFraction));
  }

  /** One world-model step on sequences from the buffer. */
  updateModel(buffer: ReplayBuffer, rng: Rng): { worldModel: TrainStats } {
    const worldModel = this.stepModel(buffer, rng);
    this.trail();
    return { worldModel };
  }

  /** The averaged weights' step (config.evalAverage). */
  private trail(): void {
    if (this.average) polyak(this.average.online, this.average.trailing, this.config.evalAverage!);
  }

  /**
   * Runs fn (an evaluation) with the averaged weights in place of the online ones (config.evalAverage;
   * `online`: with the online weights all the same), then puts them back. The training episode goes on afterwards as if no evaluation had run: its
   * memories, the planner's warm start and the random streams are set aside and given back, so an
   * evaluation's settings (evalAverage, evalEpisodes, evalEvery) cannot change what training does.
   */
  evaluating<T>(fn: () => T, online = false): T {
    const leave = this.enterEvaluation(online);
    try {
      return fn();
    } finally {
      leave();
    }
  }

  /** evaluating() for an evaluation that pauses between its steps; ended part-way, it leaves training as it found it. */
  *evaluation<T>(steps: () => Stepwise<T>, online = false): Stepwise<T> {
    const leave = this.enterEvaluation(online);
    try {
      return yield* steps();
    } finally {
      leave();
    }
  }

  /** Sets training aside and the evaluation's weights in place; returns what puts both back. */
  private enterEvaluation(online: boolean): () => void {
    const training = { episode: this.episode, planner: this.planner.save(), noise: this.noiseRng.getState() };
    this.inEvaluation = true;
    const back = this.average && !online ? swapIn(this.average.online, this.average.trailing) : undefined;
    const leave = () => {
      this.evalStepper = undefined;
      this.evalMemo = undefined;
      this.evalRoots = undefined;
      back?.();
      this.episode = training.episode;
      this.planner.restore(training.planner);
      this.noiseRng = Rng.fromState(training.noise);
      this.inEvaluation = false;
    };
    try {
      // Built on the weights it evaluates with (a stepper reads them once).
      this.evalStepper = this.config.planner.search ? this.model.indexStepper() : undefined;
      this.evalMemo = this.evalStepper ? new SearchMemo() : undefined;
      this.evalRoots = this.config.planner.search ? new Map() : undefined;
    } catch (err) {
      leave();
      throw err;
    }
    return leave;
  }

  /**
   * One world-model step on sequences, then `value.updatesPerStep` value steps (one unless set), each
   * on its own batch of transitions from the buffer; returns the last value step's TD loss.
   */
  update(buffer: ReplayBuffer, rng: Rng): { worldModel: TrainStats; td: number } {
    this.taken?.read(buffer);
    const worldModel = this.stepModel(buffer, rng);
    let td = 0;
    for (let i = 0; i < (this.config.value.updatesPerStep ?? 1); i++) td = this.updateValue(buffer, rng);
    this.trail();
    return { worldModel, td };
  }

  /**
   * One value step on a batch of transitions from the buffer (with its imagined backups); with
   * value.encoderLr, while the encoder learns, the TD loss's gradient steps the encoder too.
   */
  private updateValue(buffer: ReplayBuffer, rng: Rng): number {
    const joint = this.encoderOptimizer && !this.trainer.isEncoderFrozen ? this.encoderOptimizer : undefined;
    if (!joint) return this.valueStep(buffer, rng);
    return tf.tidy(() => this.valueStep(buffer, rng, joint));
  }

  /** The value step; with `encoder`, the real codes are traced and the TD gradient steps it (call inside tf.tidy then). */
  private valueStep(buffer: ReplayBuffer, rng: Rng, encoder?: FlatAdam): number {
    const { batch: size, nStep, gamma } = this.config.value;
    const sample = buffer.sample(size, nStep, rng, this.config.eventFraction);
    const traced =
      encoder && tracedCodes(this.model, this.model.preprocess(firstAndLastObs(sample, this.model.obsSize)[0], size));
    let batch = tdBatch(this.model, sample, gamma, this.trainer.codesOf(sample), traced?.codes);
    if (this.config.value.returnBound) batch.lower = returnBounds(buffer, sample, gamma);
    if (this.config.value.returnCap) batch.upper = bestReturn(buffer, gamma);
    if (this.relabeler) {
      const rows = Math.max(1, Math.round(size * this.config.value.relabel!));
      const hindsight = relabeledSample(buffer, this.relabeler, rows, nStep, rng, this.config.eventFraction);
      batch = withRows(batch, tdBatch(this.model, hindsight, gamma));
    }
    const { weight, after, boxActions } = this.config.value.imagined;
    const imagined =
      weight > 0 && this.value.updates >= after
        ? imaginedBatch(
            this.model,
            batch.codes,
            this.model.config.latents,
            imaginedActions(this.spec, boxActions, rng),
            gamma,
          )
        : undefined;
    try {
      return this.value.update(
        batch,
        imagined && { batch: imagined, weight },
        traced && ((dCodes) => encoder!.apply(traced.encoderGrads(dCodes))),
      );
    } finally {
      tf.dispose([batch, imagined] as unknown as tf.TensorContainer);
    }
  }

  runState(): AgentRunState {
    return {
      noise: this.noiseRng.getState(),
      worldModelNoise: this.trainer.noiseState,
      value: this.value.rngState,
      planner: this.planner.toJson(),
      episode: this.episode.toJson(),
      trainingEpisodes: this.trainingEpisodes,
    };
  }

  resumed(json: unknown, buffer: ReplayBuffer): void {
    // The steps taken so far, which the live agent read at its last update: its first search after
    // the resume, before any update, counts them as taken too.
    this.taken?.read(buffer);
    if (json === undefined) return;
    const parsed = AgentRunState.safeParse(json);
    if (!parsed.success) throw new Error(`agent run state: ${issuesLine(parsed.error)}`);
    const s = parsed.data;
    this.episode = EpisodeMemory.fromJson(s.episode, this.model.fsq.size);
    this.planner.restoreJson(s.planner);
    this.noiseRng = Rng.fromState(s.noise);
    this.trainer.noiseState = s.worldModelNoise;
    this.value.rngState = s.value;
    if (s.trainingEpisodes !== undefined) this.trainingEpisodes = s.trainingEpisodes;
  }

  extraVariables(): [string, tf.Variable][] {
    const trailing = this.average?.trailing ?? [];
    return [
      ...this.value.namedVariables(),
      ...trailing.map((v, i) => [`average/${String(i).padStart(3, "0")}`, v] as [string, tf.Variable]),
    ];
  }

  async optimizerWeights(): Promise<Record<string, NamedTensor[]>> {
    const groups: Record<string, NamedTensor[]> = {};
    for (const [k, ws] of Object.entries(await this.trainer.optimizerWeights()))
      groups[k === "model" ? "worldModel" : `worldModel-${k}`] = ws;
    for (const [k, ws] of Object.entries(await this.value.optimizerWeights())) groups[`value-${k}`] = ws;
    if (this.encoderOptimizer) groups["value-encoder"] = this.encoderOptimizer.getWeights();
    return groups;
  }

  async setOptimizerWeights(groups: Record<string, NamedTensor[]>): Promise<void> {
    await this.trainer.setOptimizerWeights({
      model: groups.worldModel ?? [],
      encoder: groups["worldModel-encoder"] ?? [],
    });
    await this.value.setOptimizerWeights({ critic: groups["value-critic"] ?? [], actor: groups["value-actor"] ?? [] });
    if (this.encoderOptimizer && groups["value-encoder"]?.length)
      this.encoderOptimizer.setWeights(groups["value-encoder"]);
  }

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
    this.value.dispose();
    this.encoderOptimizer?.dispose();
    tf.dispose(this.average?.trailing ?? []);
  }
}

/**
 * Revisit memory's rule at an observation seen before this episode (`counts`: how often each action
 * was taken there). The plan may start only with one of the actions tried least often there, so a
 * deterministic cycle leaves on its next turn and each action gets a turn before one repeats. The
 * no-op memory's actions go after the others. Actions the model predicts to end the episode
 * (`ending`) are left to the planner's score: they neither count as the least tried nor are barred,
 * so a cycle is never broken by forcing a step into lava (LavaGap), and a step onto the goal stays
 * open. With `rewarded` (config.revisitGoals: the untried endings predicted to pay a reward) not
 * empty, those are the only ones open: being back means the plan preferred a detour to the goal.
 * Never all barred.
 */
export function barredActions(
  counts: readonly number[],
  noOps: ReadonlySet<number>,
  ending: ReadonlySet<number>,
  rewarded: ReadonlySet<number> = new Set(),
): Set<number> {
  const all = counts.map((_, a) => a);
  if (rewarded.size) return new Set(all.filter((a) => !rewarded.has(a)));
  const open = all.filter((a) => !noOps.has(a));
  const lasting = all.filter((a) => !ending.has(a));
  const safe = open.filter((a) => !ending.has(a));
  const pool = [safe, lasting, open, all].find((p) => p.length)!;
  const least = Math.min(...pool.map((a) => counts[a]!));
  const allowed = (a: number) => (pool.includes(a) && counts[a] === least) || (ending.has(a) && !noOps.has(a));
  return new Set(all.filter((a) => !allowed(a)));
}

/** Each sampled sequence's episode return from its first step (value.returnBound), NO_BOUND where none. */
export function returnBounds(buffer: ReplayBuffer, b: SequenceBatch, gamma: number): tf.Tensor1D {
  if (!b.source) throw new Error("returnBounds: the batch does not say which slots it came from");
  const g = buffer.discountedReturns(gamma);
  const slots = b.source.slots;
  return tf.tensor1d(
    Float32Array.from({ length: b.batch }, (_, i) => {
      const x = g[slots[i * (b.horizon + 1)]!]!;
      return Number.isNaN(x) ? NO_BOUND : x;
    }),
  );
}

/** The largest discounted return of any step in the buffer (value.returnCap); undefined while no episode has ended by termination. */
export function bestReturn(buffer: ReplayBuffer, gamma: number): number | undefined {
  let best = Number.NEGATIVE_INFINITY;
  for (const g of buffer.discountedReturns(gamma)) if (g > best) best = g; // NaN compares false
  return best === Number.NEGATIVE_INFINITY ? undefined : best;
}

/**
 * n-step TD inputs from sampled sequences of n transitions: stopped codes of o_0 and of the last
 * live observation o_k (k = live steps; the buffer repeats the last observation after an episode's
 * end), the first action, R = sum_t gamma^t r_t, whether the episode terminated, and gamma^k.
 * `known`: the batch's codes [B * (n+1) * codeSize] from a frozen encoder (WorldModelTrainer.codesOf).
 * `first`: the codes of o_0 [B, codeSize] already encoded by the caller (traced for value.encoderLr).
 */
export function tdBatch(
  model: WorldModel,
  b: SequenceBatch,
  gamma: number,
  known?: Float32Array,
  first?: tf.Tensor2D,
): TdBatch {
  const { batch: n, horizon: h } = b;
  const size = model.obsSize;
  const width = model.shape.action.kind === "discrete" ? 1 : model.actionSize;
  const ends = known ? undefined : firstAndLastObs(b, size);
  const actions = firstActions(b, width);
  const { returns, terminated, discount } = nStepReturns(b, gamma);
  const K = model.codeSize;
  const knownAt = (t: number) => {
    const out = new Float32Array(n * K);
    for (let i = 0; i < n; i++) out.set(known!.subarray((i * (h + 1) + t) * K, (i * (h + 1) + t + 1) * K), i * K);
    return tf.tensor2d(out, [n, K]);
  };
  return tf.tidy(() => {
    const codes = (o: Float32Array) => tf.reshape(model.encode(model.preprocess(o, n)), [n, K]) as tf.Tensor2D;
    return {
      codes: first ?? (ends ? codes(ends[0]) : knownAt(0)),
      nextCodes: ends ? codes(ends[1]) : knownAt(h),
      actions: model.actionFeatures(actions, n),
      returns: tf.tensor1d(returns),
      terminated: tf.tensor1d(terminated),
      discount: tf.tensor1d(discount),
    };
  }) as TdBatch;
}
