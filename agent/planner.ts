// MPPI / CEM over action sequences, as in TD-MPC2 and DC-MPC: draw N sequences of H actions from a
// per-step distribution (a Gaussian for Box actions, a categorical for Discrete ones), score all of
// them in one call, refit the distribution to the k best (elites) weighted by
// w_i = exp(temperature * (score_i - max score)), and repeat. The next call starts from the plan
// shifted by one step (warm start). Scoring is the caller's: imagination in a world model
// (agent/imagination.ts) or the true simulator (agent/oracle.ts).
import { z } from "zod";
import { Rng, RngState } from "../common/rng.ts";

export const PlannerConfig = z
  .object({
    // DC-MPC: horizon 3, 6 iterations, 512 samples, 64 elites. Scaled down by measurement: planning
    // is compute-bound here (~30 ms per action at these settings on one core), and with 3-7 discrete
    // actions and H = 3 there are at most 343 distinct sequences.
    horizon: z.number().int().min(1).max(50).default(3),
    iterations: z.number().int().min(1).max(50).default(3),
    samples: z.number().int().min(2).default(64),
    elites: z.number().int().min(1).default(8),
    temperature: z.number().positive().default(0.5),
    /** Gaussian std clamp for Box actions (in units of half the action range) and its start value. */
    minStd: z.number().positive().default(0.05),
    maxStd: z.number().positive().default(2),
    /** Discrete actions: each refit mixes this much of the uniform distribution back in (keeps exploring). */
    uniformMix: z.number().min(0).max(1).default(0.1),
    /** Sequences proposed by the policy prior (value function / actor), added to every iteration's samples. */
    policySamples: z.number().int().min(0).default(8),
    /**
     * Discrete actions: plan by search over the model's codes instead (agent/codeSearch.ts): every
     * action breadth first to `depth` steps, merging codes met before, at most `maxNodes` codes
     * expanded. Unset: off (sampled sequences of `horizon` steps). `rewardOnEnding`: a step the model
     * says goes on pays nothing in the search (for tasks that pay only on the step that ends the
     * episode, as the grids: their model's small rewards elsewhere add up around cycles).
     * `untried` (models stepped on code indices: encoder "cells"): while training, a step with some
     * cell whose (neighbourhood, action) the agent never took in the env pays this much more in the
     * search (optimism where the model has only guessed; unset: 0). `exploitEvery` k: every k-th
     * training episode goes without it, as an evaluation does, to collect episodes that reach the
     * goal (unset: every episode takes it). `branch` (models stepped on code indices): a step's
     * second guess at its least sure cell is followed too where that grid's probability is at least
     * this (agent/codeSearch.ts; unset: the most likely next code only). `observed` (models stepped
     * on code indices): a cell whose (neighbourhood, action) the agent has taken in the env, always
     * to the same next code, takes that code in the search instead of the model's guess (for
     * deterministic grids; unset: off). `quiet` (with `observed`): a cell whose (neighbourhood,
     * action) was only ever part of env steps that neither paid nor ended adds no reward and no
     * ending in the search (for grids whose events are local, a goal or lava; unset: off).
     */
    search: z
      .object({
        depth: z.number().int().min(1).max(200),
        maxNodes: z.number().int().min(1).default(4000),
        rewardOnEnding: z.boolean().default(false),
        untried: z.number().min(0).optional(),
        exploitEvery: z.number().int().min(2).optional(),
        branch: z.number().gt(0).max(1).optional(),
        observed: z.boolean().optional(),
        quiet: z.boolean().optional(),
      })
      .strict()
      .refine((s) => s.exploitEvery === undefined || (s.untried ?? 0) > 0, {
        message: "exploitEvery needs an untried bonus to go without",
        path: ["exploitEvery"],
      })
      .refine((s) => !s.quiet || s.observed, {
        message: "quiet needs observed (the steps shown are what says a cell is quiet)",
        path: ["quiet"],
      })
      .optional(),
  })
  .strict()
  .refine((c) => c.elites <= c.samples, { message: "elites must be <= samples" })
  .refine((c) => c.minStd <= c.maxStd, { message: "minStd must be <= maxStd" });
export type PlannerConfig = z.infer<typeof PlannerConfig>;

export type ActionSpec = { kind: "discrete"; n: number } | { kind: "box"; size: number; low: number[]; high: number[] };

/** Values per action in a sequence array: 1 (an index) for Discrete, `size` for Box. */
export const actionWidth = (spec: ActionSpec): number => (spec.kind === "discrete" ? 1 : spec.size);

/** Scores n sequences laid out [n, H, width] (row-major); returns n scores (higher is better). */
export type SequenceScorer = (actions: Float32Array, n: number) => ArrayLike<number>;

export interface Plan {
  /** The action to take: an index (Discrete) or a vector (Box). */
  action: number[];
  /** Score of the best sequence of the last iteration. */
  bestScore: number;
  /** The last iteration's elites [elites, H, width] and their scores. */
  elites: Float32Array;
  eliteScores: Float64Array;
}

/** A planner's warm start and random stream (Planner.save). */
export interface PlannerState {
  probs: Float64Array | undefined;
  mean: Float64Array | undefined;
  std: Float64Array | undefined;
  rng: number[];
}

const floats = z.array(z.number().finite()).optional();
/** PlannerState as JSON (a checkpoint's run state). */
export const PlannerJson = z.object({ probs: floats, mean: floats, std: floats, rng: RngState }).strict();
export type PlannerJson = z.infer<typeof PlannerJson>;

export class Planner {
  readonly width: number;
  /** Discrete: probabilities [H, n]. Box: mean and std [H, size] (in action units). */
  private probs: Float64Array | undefined;
  private mean: Float64Array | undefined;
  private std: Float64Array | undefined;
  private rng: Rng;

  constructor(
    readonly spec: ActionSpec,
    readonly config: PlannerConfig,
    seed: number,
  ) {
    this.width = actionWidth(spec);
    this.rng = new Rng(seed);
    this.reset();
  }

  /** The warm start and the random stream's position, for restore(). */
  save(): PlannerState {
    return { probs: this.probs?.slice(), mean: this.mean?.slice(), std: this.std?.slice(), rng: this.rng.getState() };
  }

  /** Puts back what save() returned (planning in between leaves no trace). */
  restore(state: PlannerState): void {
    const fits = (a: Float64Array | undefined, b: Float64Array | undefined) => (a?.length ?? -1) === (b?.length ?? -1);
    if (!fits(state.probs, this.probs) || !fits(state.mean, this.mean) || !fits(state.std, this.std))
      throw new Error("Planner.restore: the warm start is for another horizon or action space");
    this.probs = state.probs?.slice();
    this.mean = state.mean?.slice();
    this.std = state.std?.slice();
    this.rng = Rng.fromState(state.rng);
  }

  /** save() as JSON, for a checkpoint. */
  toJson(): PlannerJson {
    const { probs, mean, std, rng } = this.save();
    const list = (a: Float64Array | undefined) => (a ? Array.from(a) : undefined);
    return { probs: list(probs), mean: list(mean), std: list(std), rng };
  }

  /** Puts back what toJson() returned. */
  restoreJson(json: PlannerJson): void {
    const array = (a: number[] | undefined) => (a ? Float64Array.from(a) : undefined);
    this.restore({ probs: array(json.probs), mean: array(json.mean), std: array(json.std), rng: json.rng });
  }

  /** Forgets the warm start (call at the start of an episode). */
  reset(): void {
    const { horizon: h } = this.config;
    if (this.spec.kind === "discrete") {
      this.probs = new Float64Array(h * this.spec.n).fill(1 / this.spec.n);
    } else {
      this.mean = new Float64Array(h * this.spec.size);
      for (let t = 0; t < h; t++)
        for (let j = 0; j < this.spec.size; j++)
          this.mean[t * this.spec.size + j] = (this.spec.low[j]! + this.spec.high[j]!) / 2;
      this.std = new Float64Array(h * this.spec.size);
    }
  }

  /**
   * Plans from the current state. `explore`: the action is the first step of an elite drawn with
   * probability proportional to its weight (DC-MPC's training behaviour); otherwise the first step
   * of the best-scoring sequence. `prior`: [P, H, width] sequences to score alongside the samples.
   * `forbidFirst` (Discrete): first actions not to take (sampled sequences never start with one; prior
   * sequences that do score -Infinity); ignored if it would forbid every action.
   */
  plan(
    score: SequenceScorer,
    opts: { explore: boolean; prior?: Float32Array; forbidFirst?: ReadonlySet<number> } = { explore: false },
  ): Plan {
    const { horizon: h, iterations, samples, elites: k, temperature } = this.config;
    const w = this.width;
    const stride = h * w;
    const priorCount = opts.prior ? opts.prior.length / stride : 0;
    if (!Number.isInteger(priorCount))
      throw new RangeError(
        `Planner.plan: prior has ${opts.prior!.length} values, not a multiple of H x width = ${stride}`,
      );
    const n = samples + priorCount;
    const actions = new Float32Array(n * stride);
    if (opts.prior) actions.set(opts.prior, samples * stride);
    const forbid =
      this.spec.kind === "discrete" && opts.forbidFirst && opts.forbidFirst.size < this.spec.n
        ? opts.forbidFirst
        : undefined;
    this.startFromWarm();
    let eliteIdx: number[] = [];
    let scores: ArrayLike<number> = [];
    let weights: number[] = [];
    for (let it = 0; it < iterations; it++) {
      if (forbid) this.forbidFirst(forbid);
      this.sample(actions, samples);
      if (forbid) {
        // Rounding can leave a draw on a zero-probability last action: move it to the likeliest allowed one.
        const p = this.probs!;
        const likeliest = p.indexOf(Math.max(...p.subarray(0, (this.spec as { n: number }).n)));
        for (let i = 0; i < samples; i++) if (forbid.has(actions[i * stride]!)) actions[i * stride] = likeliest;
      }
      scores = score(actions, n);
      if (scores.length !== n)
        throw new RangeError(`Planner.plan: the scorer returned ${scores.length} scores for ${n} sequences`);
      for (let i = 0; i < n; i++)
        if (Number.isNaN(scores[i]!))
          throw new Error(`Planner.plan: the scorer returned NaN for sequence ${i} (model diverged?)`);
      if (forbid) {
        const masked = Float64Array.from(scores);
        for (let i = samples; i < n; i++) if (forbid.has(actions[i * stride]!)) masked[i] = -Infinity;
        scores = masked;
      }
      eliteIdx = topK(scores, Math.min(k, n));
      const best = scores[eliteIdx[0]!]!;
      weights = eliteIdx.map((i) => Math.exp(temperature * (scores[i]! - best)));
      this.refit(actions, eliteIdx, weights);
    }
    const eliteActions = new Float32Array(eliteIdx.length * stride);
    eliteIdx.forEach((i, e) => eliteActions.set(actions.subarray(i * stride, (i + 1) * stride), e * stride));
    const eliteScores = Float64Array.from(eliteIdx, (i) => scores[i]!);
    // Exploring: an elite drawn by weight (DC-MPC). Otherwise the best sequence's first action; its
    // ties fall to the earliest sample, i.e. at random, where a fixed argmax would loop (e.g. always
    // turn left while the value is still flat).
    const e = opts.explore ? this.rng.categorical(weights) : 0;
    const action = Array.from(eliteActions.subarray(e * stride, e * stride + w));
    return { action, bestScore: eliteScores[0]!, elites: eliteActions, eliteScores };
  }

  /** Discrete: takes the first step's probability off the forbidden actions (renormalised over the rest). */
  private forbidFirst(forbid: ReadonlySet<number>): void {
    const n = (this.spec as { n: number }).n;
    const p = this.probs!;
    let total = 0;
    for (let a = 0; a < n; a++) {
      if (forbid.has(a)) p[a] = 0;
      total += p[a]!;
    }
    for (let a = 0; a < n; a++) p[a] = total > 0 ? p[a]! / total : forbid.has(a) ? 0 : 1 / (n - forbid.size);
  }

  /** Shifts the last plan by one step; the new last step starts uninformed. Box stds restart at maxStd. */
  private startFromWarm(): void {
    const { horizon: h, maxStd } = this.config;
    if (this.spec.kind === "discrete") {
      const { n } = this.spec;
      const p = this.probs!;
      p.copyWithin(0, n);
      p.fill(1 / n, (h - 1) * n);
    } else {
      const { size, low, high } = this.spec;
      const m = this.mean!;
      m.copyWithin(0, size);
      for (let j = 0; j < size; j++) m[(h - 1) * size + j] = (low[j]! + high[j]!) / 2;
      for (let t = 0; t < h; t++)
        for (let j = 0; j < size; j++) this.std![t * size + j] = (maxStd * (high[j]! - low[j]!)) / 2;
    }
  }

  /** Fills rows [0, count) of `out` with sequences drawn from the current distribution. */
  private sample(out: Float32Array, count: number): void {
    const h = this.config.horizon;
    if (this.spec.kind === "discrete") {
      const { n } = this.spec;
      const p = this.probs!;
      for (let i = 0; i < count; i++) {
        for (let t = 0; t < h; t++) {
          let u = this.rng.float();
          let a = 0;
          while (a < n - 1 && (u -= p[t * n + a]!) >= 0) a++;
          out[i * h + t] = a;
        }
      }
    } else {
      const { size, low, high } = this.spec;
      const m = this.mean!;
      const s = this.std!;
      for (let i = 0; i < count; i++) {
        for (let t = 0; t < h; t++) {
          for (let j = 0; j < size; j++) {
            const x = m[t * size + j]! + s[t * size + j]! * this.rng.normal();
            out[(i * h + t) * size + j] = Math.min(high[j]!, Math.max(low[j]!, x));
          }
        }
      }
    }
  }

  private refit(actions: Float32Array, eliteIdx: number[], weights: number[]): void {
    const { horizon: h, uniformMix, minStd, maxStd } = this.config;
    const total = weights.reduce((a, b) => a + b, 0);
    if (this.spec.kind === "discrete") {
      const { n } = this.spec;
      const p = this.probs!.fill(0);
      eliteIdx.forEach((i, e) => {
        for (let t = 0; t < h; t++) p[t * n + actions[i * h + t]!]! += weights[e]! / total;
      });
      for (let j = 0; j < p.length; j++) p[j] = (1 - uniformMix) * p[j]! + uniformMix / n;
    } else {
      const { size, low, high } = this.spec;
      const m = this.mean!.fill(0);
      const s = this.std!.fill(0);
      eliteIdx.forEach((i, e) => {
        for (let q = 0; q < h * size; q++) m[q]! += (weights[e]! / total) * actions[i * h * size + q]!;
      });
      eliteIdx.forEach((i, e) => {
        for (let q = 0; q < h * size; q++) s[q]! += (weights[e]! / total) * (actions[i * h * size + q]! - m[q]!) ** 2;
      });
      for (let q = 0; q < h * size; q++) {
        const half = (high[q % size]! - low[q % size]!) / 2;
        s[q] = Math.min(maxStd * half, Math.max(minStd * half, Math.sqrt(s[q]!)));
      }
    }
  }
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b]! - values[a]! || a - b);
  return idx.slice(0, k);
}
