// The discrete-latent world model: an encoder maps an observation to L latents, FSQ quantises each
// to one of |C| codes, and a dynamics *classifier* predicts the logits of every latent's next code
// from (codes, action); heads predict the reward and whether the step terminates. An optional
// decoder maps codes back to observations. Methods are named after the MDP (TD-MPC2's style).
//
// Shapes: N a batch; L latents; d = levels.length channels per latent; |C| = prod(levels) codes;
// A action features (one-hot for Discrete actions, the raw vector for Box actions).
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../common/rng.ts";
import { Box, Discrete, type Env, type TypedArray } from "../envs/index.ts";
import type { WorldModelConfig } from "./config.ts";
import { CellTokenizer } from "./nn/cellTokenizer.ts";
import { Cnn } from "./nn/cnn.ts";
import { Keypoints } from "./nn/keypoints.ts";
import {
  eventsHeads,
  localHeads,
  localInputSize,
  neighbourhoodSize,
  neighbourIndices,
  neighbourMatrix,
} from "./nn/localHeads.ts";
import { LocalStep, distinctExpectedStep } from "./nn/localStep.ts";
import { Mlp, newVariable } from "./nn/mlp.ts";
import { FSQ } from "./quantizer/fsq.ts";

/** What the model needs to know of an env: observation shape and scaling, action encoding. */
export interface EnvShape {
  obsShape: number[];
  /** Per-element affine map to roughly [0, 1]: (x - offset) * scale. */
  obsOffset: number[];
  obsScale: number[];
  action: { kind: "discrete"; n: number } | { kind: "box"; size: number };
}

export function envShapeOf(env: Env<TypedArray, unknown>): EnvShape {
  const obs = env.observationSpace;
  if (!(obs instanceof Box)) throw new Error(`envShapeOf: ${env.label} needs a Box observation space, got ${obs}`);
  const offset: number[] = [];
  const scale: number[] = [];
  for (let i = 0; i < obs.size; i++) {
    const [lo, hi] = [obs.low[i]!, obs.high[i]!];
    const bounded = Number.isFinite(lo) && Number.isFinite(hi) && hi > lo;
    offset.push(bounded ? lo : 0);
    scale.push(bounded ? 1 / (hi - lo) : 1);
  }
  const act = env.actionSpace;
  const action =
    act instanceof Discrete
      ? { kind: "discrete" as const, n: act.n }
      : act instanceof Box
        ? { kind: "box" as const, size: act.size }
        : undefined;
  if (!action) throw new Error(`envShapeOf: ${env.label} needs a Discrete or Box action space, got ${act}`);
  return { obsShape: [...obs.shape], obsOffset: compress(offset), obsScale: compress(scale), action };
}

/** One value when all are equal. */
function compress(xs: number[]): number[] {
  return xs.every((x) => x === xs[0]) ? [xs[0]!] : xs;
}

export interface Heads {
  /** [N, L, |C|]: logits of each latent's next code. */
  logits: tf.Tensor3D;
  /** [N]: predicted reward of the transition. */
  reward: tf.Tensor1D;
  /** [N]: logit of "this transition terminates". */
  terminated: tf.Tensor1D;
  /** [N]: logit of "this transition pays a reward", with encoder.eventHeads "classified" only (trains the gate). */
  rewarded?: tf.Tensor1D;
}

export class WorldModel {
  readonly fsq: FSQ;
  readonly encoder: Mlp | Cnn | Keypoints | CellTokenizer;
  readonly dynamics: Mlp;
  /** Absent with encoder "cells", whose `events` MLP gives each cell's share of them. */
  readonly rewardHead: Mlp | undefined;
  readonly terminationHead: Mlp | undefined;
  /** Encoder "cells": each cell's reward gate, reward value and termination logit (nn/localHeads.ts). */
  readonly events: Mlp | undefined;
  readonly decoder: Mlp | undefined;
  /** (code_t, code_{t+1}) -> action logits (Discrete) or action (Box); present when its weight > 0. */
  readonly inverseDynamics: Mlp | undefined;
  readonly obsSize: number;
  readonly actionSize: number;
  /** L * d: the flat code vector's length. */
  readonly codeSize: number;
  /** Bumped whenever the statistics or weights are replaced wholesale (fitNormalization, a checkpoint's load): caches of codes key on it. */
  revision = 0;
  /** Observation normalisation (x - offset) * scale: bounds from the space, then dataset statistics. */
  private readonly offset: tf.Variable;
  private readonly scale: tf.Variable;
  /** Encoder "cells" with `presence`: each cell's input also holds which codes the grid has. */
  private readonly presence: boolean;
  /** With presence: each set of codes a grid held -> its number in every index stepper's keys. */
  private readonly heldSets = new Map<number | string, number>();
  /** Encoder "cells": each cell's neighbours (3x3 unless encoder.radius; nn/localHeads.ts), for the local heads. */
  private readonly neighbours: tf.Tensor2D | undefined;
  /** The same neighbourhoods as cell indices (for indexStepper). */
  private readonly neighbourIds: Int32Array | undefined;
  /** Cells per neighbourhood. */
  private readonly window: number;

  constructor(
    readonly config: WorldModelConfig,
    readonly shape: EnvShape,
    readonly seed: number,
  ) {
    const rng = new Rng(seed);
    this.fsq = new FSQ(config.levels, config.codebook === "permuted" ? config.permutationSeed : undefined);
    this.obsSize = shape.obsShape.reduce((a, b) => a * b, 1);
    this.actionSize = shape.action.kind === "discrete" ? shape.action.n : shape.action.size;
    this.codeSize = config.latents * this.fsq.dim;
    const { type, hidden, channels, keypoints } = config.encoder;
    const image = shape.obsShape.length === 3 && shape.obsShape[0]! * shape.obsShape[1]! >= 256;
    if (type === "cnn" && shape.obsShape.length !== 3)
      throw new Error(
        `WorldModel: encoder type 'cnn' needs [H, W, C] observations, got shape [${shape.obsShape.join(", ")}] (use 'mlp')`,
      );
    for (const option of ["presence", "eventHeads", "radius", "presenceInEvents"] as const)
      if (config.encoder[option] && type !== "cells")
        throw new Error(`WorldModel: encoder.${option} is for encoder type 'cells', not '${type}'`);
    const cells = type === "cells" ? this.checkCells(shape.obsShape, config.latents) : undefined;
    this.encoder =
      type === "cells"
        ? new CellTokenizer(shape.obsShape, this.fsq.size, "encoder")
        : type === "keypoints"
          ? new Keypoints(shape.obsShape, keypoints ?? 16, hidden, this.codeSize, rng.childSeed(), "encoder")
          : type === "cnn" || (type === "auto" && image)
            ? new Cnn(
                shape.obsShape as [number, number, number],
                channels,
                hidden,
                this.codeSize,
                rng.childSeed(),
                "encoder",
              )
            : new Mlp([this.obsSize, ...hidden, this.codeSize], rng.childSeed(), "elu", "encoder");
    // Local heads see one cell's neighbourhood; the others see the whole code.
    this.presence = cells !== undefined && config.encoder.presence === true;
    const radius = config.encoder.radius ?? 1;
    this.window = neighbourhoodSize(radius);
    const input = cells
      ? localInputSize(this.fsq.dim, this.actionSize, this.presence ? this.fsq.size : 0, radius)
      : this.codeSize + this.actionSize;
    this.neighbours = cells && neighbourMatrix(cells[0], cells[1], radius);
    this.neighbourIds = cells && neighbourIndices(cells[0], cells[1], radius);
    // The local MLP learns its rule about twice as fast with ReLU and He's initialisation (FourRooms-7
    // random walks: held-out whole-code accuracy 0.80 after 600 updates, against 0.35 with ELU and PyTorch's).
    this.dynamics = cells
      ? new Mlp([input, ...config.dynamicsHidden, this.fsq.size], rng.childSeed(), "relu", "dynamics", "he")
      : new Mlp([input, ...config.dynamicsHidden, config.latents * this.fsq.size], rng.childSeed(), "elu", "dynamics");
    if (config.encoder.presenceInEvents === false && !this.presence)
      throw new Error(
        "WorldModel: encoder.presenceInEvents false keeps presence flags out of the events heads: it needs encoder.presence",
      );
    // Without the flags the events heads read the inputs' first columns (the flags end every row).
    const eventsInput = this.presence && config.encoder.presenceInEvents === false ? input - this.fsq.size : input;
    this.events = cells && eventsHeads(eventsInput, config.headHidden, config.latents, rng.childSeed());
    this.rewardHead = cells ? undefined : new Mlp([input, ...config.headHidden, 1], rng.childSeed(), "elu", "reward");
    this.terminationHead = cells
      ? undefined
      : new Mlp([input, ...config.headHidden, 1], rng.childSeed(), "elu", "terminated");
    this.decoder = config.decoder.enabled
      ? new Mlp([this.codeSize, ...config.decoder.hidden, this.obsSize], rng.childSeed(), "elu", "decoder")
      : undefined;
    this.inverseDynamics =
      config.inverseDynamicsWeight > 0
        ? new Mlp([2 * this.codeSize, ...config.headHidden, this.actionSize], rng.childSeed(), "elu", "inverse")
        : undefined;
    this.offset = newVariable(() => tf.tensor1d(this.perElement(shape.obsOffset)), false);
    this.scale = newVariable(() => tf.tensor1d(this.perElement(shape.obsScale)), false);
  }

  /**
   * Standardises each observation element with the mean and standard deviation of `observations`
   * (N x obsSize). Without it a grid's few informative cells (the agent's) are drowned by the
   * constant ones, the encoder's outputs barely differ and FSQ maps every state to one code.
   * The standard deviation is floored at `minStd` of the element's range. With config
   * `normalization: "channel"` the statistics are pooled over every element of a channel (last axis).
   */
  fitNormalization(observations: ArrayLike<number>, minStd = 0.05): void {
    // Cell tokens compare each cell's symbol with those met before: per-element statistics would
    // give one symbol other values at another place.
    if (this.encoder instanceof CellTokenizer) return;
    const n = observations.length / this.obsSize;
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(
        `WorldModel.fitNormalization: expected N x ${this.obsSize} values, got ${observations.length}`,
      );
    const baseOffset = this.perElement(this.shape.obsOffset);
    const baseScale = this.perElement(this.shape.obsScale);
    const mean = new Float64Array(this.obsSize);
    const sq = new Float64Array(this.obsSize);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < this.obsSize; j++) {
        const x = (observations[i * this.obsSize + j]! - baseOffset[j]!) * baseScale[j]!;
        mean[j]! += x / n;
        sq[j]! += (x * x) / n;
      }
    }
    if (this.config.normalization === "channel") {
      const channels = this.shape.obsShape[this.shape.obsShape.length - 1]!;
      for (const moments of [mean, sq]) {
        const pooled = new Float64Array(channels);
        moments.forEach((v, j) => (pooled[j % channels]! += (v * channels) / this.obsSize));
        moments.forEach((_, j) => (moments[j] = pooled[j % channels]!));
      }
    }
    const offset = new Float32Array(this.obsSize);
    const scale = new Float32Array(this.obsSize);
    for (let j = 0; j < this.obsSize; j++) {
      const std = Math.sqrt(Math.max(0, sq[j]! - mean[j]! ** 2));
      // (x - base) * baseScale standardised: x -> ((x - base) * baseScale - mean) / std
      scale[j] = baseScale[j]! / Math.max(std, minStd);
      offset[j] = baseOffset[j]! + mean[j]! / baseScale[j]!;
    }
    this.offset.assign(tf.tensor1d(offset));
    this.scale.assign(tf.tensor1d(scale));
    this.revision++;
  }

  /** A compressed per-element list (one value when all are equal) at full length. */
  private perElement(v: readonly number[]): number[] {
    return v.length === 1 ? new Array<number>(this.obsSize).fill(v[0]!) : [...v];
  }

  /** The observation space's bounds per element, [lo, hi]. */
  obsBounds(): { lo: number[]; hi: number[] } {
    const lo = this.perElement(this.shape.obsOffset);
    const hi = this.perElement(this.shape.obsScale).map((scale, i) => lo[i]! + 1 / scale);
    return { lo, hi };
  }

  /** Non-trainable state saved with the weights. */
  namedState(): [string, tf.Variable][] {
    return [
      ["normalization/offset", this.offset],
      ["normalization/scale", this.scale],
      ...(this.encoder instanceof CellTokenizer ? this.encoder.namedState() : []),
    ];
  }

  /** Encoder "cells" holds one latent per cell of a grid observation [H, W, C]: returns [H, W]. */
  private checkCells(obsShape: readonly number[], latents: number): [number, number] {
    if (obsShape.length !== 3)
      throw new Error(
        `WorldModel: encoder type 'cells' needs [H, W, C] grid observations, got [${obsShape.join(", ")}]`,
      );
    const [h, w] = obsShape as [number, number];
    if (latents !== h * w)
      throw new Error(
        `WorldModel: encoder type 'cells' needs latents = H x W = ${h * w} (one per cell), got ${latents}`,
      );
    return [h, w];
  }

  /** Normalised observations [N, obsSize] (e.g. decoded) -> raw units. */
  denormalize(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.div(tf.reshape(x, [-1, this.obsSize]), this.scale), this.offset) as tf.Tensor2D);
  }

  /** Raw observations (typed array, N x obsSize) -> normalised floats [N, ...obsShape]. */
  preprocess(obs: ArrayLike<number>, n: number): tf.Tensor {
    if (obs.length !== n * this.obsSize)
      throw new RangeError(`WorldModel.preprocess: expected ${n} x ${this.obsSize} values, got ${obs.length}`);
    return tf.tidy(() =>
      tf.reshape(
        tf.mul(
          tf.sub(tf.reshape(tf.tensor(Float32Array.from(obs), [n, this.obsSize]), [n, this.obsSize]), this.offset),
          this.scale,
        ),
        [n, ...this.shape.obsShape],
      ),
    );
  }

  /** Actions (N x actionValues: an index per step for Discrete) -> features [N, A]. */
  actionFeatures(actions: ArrayLike<number>, n: number): tf.Tensor2D {
    if (this.shape.action.kind === "discrete") {
      if (actions.length !== n)
        throw new RangeError(`WorldModel.actionFeatures: expected ${n} action indices, got ${actions.length}`);
      // One-hot rows built in JS: uploading them costs no kernel call (tf.oneHot + cast cost two).
      const rows = new Float32Array(n * this.actionSize);
      for (let i = 0; i < n; i++) {
        const a = actions[i]!;
        if (!Number.isInteger(a) || a < 0 || a >= this.actionSize)
          throw new RangeError(
            `WorldModel.actionFeatures: action ${i} is ${a}, expected an integer in [0, ${this.actionSize})`,
          );
        rows[i * this.actionSize + a] = 1;
      }
      return tf.tensor2d(rows, [n, this.actionSize]);
    }
    if (actions.length !== n * this.actionSize)
      throw new RangeError(
        `WorldModel.actionFeatures: expected ${n} x ${this.actionSize} action values, got ${actions.length}`,
      );
    return tf.tensor2d(Float32Array.from(actions), [n, this.actionSize]);
  }

  /** Observations [N, ...obsShape] (preprocessed) -> continuous latents [N, L, d] before quantisation. */
  embed(obs: tf.Tensor): tf.Tensor3D {
    const n = obs.shape[0]!;
    // Cells: the codes themselves (on the FSQ grid already; quantize() would move them).
    if (this.encoder instanceof CellTokenizer) return this.fsq.indicesToCodes(this.encoder.indices(obs)) as tf.Tensor3D;
    const z =
      this.encoder instanceof Mlp
        ? this.encoder.apply(tf.reshape(obs, [n, this.obsSize]) as tf.Tensor2D)
        : this.encoder.apply(obs as tf.Tensor4D);
    return tf.reshape(z, [n, this.config.latents, this.fsq.dim]) as tf.Tensor3D;
  }

  /** Observations -> codes [N, L, d] on the FSQ grid (straight-through gradient into the encoder). */
  encode(obs: tf.Tensor): tf.Tensor3D {
    if (this.encoder instanceof CellTokenizer) return this.embed(obs); // already codes
    return this.fsq.quantize(this.embed(obs)) as tf.Tensor3D;
  }

  /** Codes [N, L, d] -> code indices [N, L] (int32, no gradient). */
  indices(codes: tf.Tensor): tf.Tensor2D {
    return this.fsq.codesToIndices(codes) as tf.Tensor2D;
  }

  /** (codes [N, L, d], action features [N, A]) -> next-code logits, reward and termination. */
  heads(codes: tf.Tensor, action: tf.Tensor2D): Heads {
    const n = codes.shape[0]!;
    if (this.neighbours)
      return localHeads(
        this.dynamics,
        this.events!,
        codes,
        action,
        this.neighbours,
        this.fsq.codebook,
        this.presence,
        this.config.encoder.eventHeads === "classified",
      );
    const x = tf.concat([tf.reshape(codes, [n, this.codeSize]), action], 1) as tf.Tensor2D;
    return {
      logits: tf.reshape(this.dynamics.apply(x), [n, this.config.latents, this.fsq.size]) as tf.Tensor3D,
      reward: tf.reshape(this.rewardHead!.apply(x), [n]) as tf.Tensor1D,
      terminated: tf.reshape(this.terminationHead!.apply(x), [n]) as tf.Tensor1D,
    };
  }

  /**
   * With encoder "cells": the local heads stepped on code indices, each distinct neighbourhood computed
   * once (nn/localStep.ts; for searches, which expand many nearly alike grids). Make one per search:
   * it caches what the current weights predict. Its cell keys (markSeen's) mean the same in every
   * stepper of this model.
   */
  indexStepper(): LocalStep | undefined {
    if (!this.neighbourIds || this.shape.action.kind !== "discrete") return undefined;
    const features = (a: number) => {
      const row = new Float32Array(this.actionSize);
      row[a] = 1;
      return row;
    };
    return new LocalStep(
      this.dynamics,
      this.events!,
      this.fsq.codebook.dataSync() as Float32Array,
      this.fsq.dim,
      this.neighbourIds,
      this.window,
      features,
      this.presence,
      this.heldSets,
    );
  }

  /**
   * With encoder "cells": one expected step without a gradient, the expected next codes
   * sum_i p_i c^(i) [N, L, d], reward and termination logit [N] (call inside tf.tidy), from codes
   * that are codebook entries (replayed codes, not expected ones). The local heads run once per
   * distinct neighbourhood and action (nn/localStep.ts): heads()' numbers at a fraction of the work.
   * Undefined for other encoders.
   */
  expectedStepNoGrad(
    codes: tf.Tensor,
    action: tf.Tensor2D,
  ): { next: tf.Tensor; reward: tf.Tensor1D; terminated: tf.Tensor1D } | undefined {
    if (!this.neighbourIds) return undefined; // no faster way than heads()
    return distinctExpectedStep(
      this.dynamics,
      this.events!,
      tf.reshape(this.indices(codes), [-1]).dataSync() as Int32Array,
      action.dataSync() as Float32Array,
      this.fsq.codebook.dataSync() as Float32Array,
      this.fsq.dim,
      this.neighbourIds,
      this.window,
      (w) => this.weightsToCodes(w),
      this.presence,
    );
  }

  /** Next-code logits [N, L, |C|]. */
  next(codes: tf.Tensor, action: tf.Tensor2D): tf.Tensor3D {
    return this.heads(codes, action).logits;
  }

  /** The expected next code sum_i p_i c^(i): [N, L, d], deterministic (for planning). */
  expectedNext(codes: tf.Tensor, action: tf.Tensor2D): tf.Tensor3D {
    return this.fsq.weightsToCodes(tf.softmax(this.next(codes, action))) as tf.Tensor3D;
  }

  /** Weights over the codebook [N, L, |C|] (probabilities or one-hot rows) -> codes [N, L, d]. */
  weightsToCodes(weights: tf.Tensor): tf.Tensor {
    return this.fsq.weightsToCodes(weights);
  }

  /** Codes [N, L, d] -> reconstructed (preprocessed) observations [N, obsSize]. */
  decode(codes: tf.Tensor): tf.Tensor2D {
    if (!this.decoder) throw new Error("WorldModel.decode: the decoder is disabled (config.decoder.enabled)");
    return this.decoder.apply(tf.reshape(codes, [codes.shape[0]!, this.codeSize]) as tf.Tensor2D);
  }

  /** (codes_t, codes_{t+1}) [N, L, d] each -> action logits or values [N, A]. */
  inverse(codes: tf.Tensor, nextCodes: tf.Tensor): tf.Tensor2D {
    if (!this.inverseDynamics)
      throw new Error("WorldModel.inverse: inverse dynamics is off (config.inverseDynamicsWeight = 0)");
    const n = codes.shape[0]!;
    return this.inverseDynamics.apply(
      tf.concat([tf.reshape(codes, [n, this.codeSize]), tf.reshape(nextCodes, [n, this.codeSize])], 1) as tf.Tensor2D,
    );
  }

  private get parts() {
    return [
      this.encoder,
      this.dynamics,
      this.rewardHead,
      this.terminationHead,
      this.events,
      this.decoder,
      this.inverseDynamics,
    ];
  }

  /** Every trainable variable with a stable name (checkpoints key on these names). */
  namedVariables(): [string, tf.Variable][] {
    return this.parts.flatMap((part) => part?.namedVariables() ?? []);
  }

  get variables(): tf.Variable[] {
    return this.namedVariables().map(([, v]) => v);
  }

  dispose(): void {
    for (const part of this.parts) part?.dispose();
    this.fsq.dispose();
    tf.dispose([this.offset, this.scale, ...(this.neighbours ? [this.neighbours] : [])]);
  }
}
