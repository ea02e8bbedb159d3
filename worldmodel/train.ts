// One optimiser step of the world model: AdamW (Adam plus decoupled weight decay, Loshchilov &
// Hutter 2019) with global-norm gradient clipping, all inside tf.tidy so that no tensor outlives
// the step.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../common/rng.ts";
import type { ReplayBuffer } from "./data/replayBuffer.ts";
import { Noise } from "./estimators/index.ts";
import { disposeBatch, toTensorBatch, worldModelLoss, type LossStats } from "./loss.ts";
import type { WorldModel } from "./model.ts";

/** A tensor with a name, as optimisers' getWeights() returns them. */
export type NamedTensor = { name: string; tensor: tf.Tensor };

export interface TrainStats extends LossStats {
  /** Gradient global norm before clipping. */
  gradNorm: number;
}

export class WorldModelTrainer {
  private readonly optimizer: tf.AdamOptimizer;
  /** The encoder's optimiser when its learning rate is scaled (Adam ignores a gradient's scale, so it needs its own lr). */
  private readonly encoderOptimizer: tf.AdamOptimizer | undefined;
  private readonly encoderNames: Set<string>;
  private readonly noise: Noise;
  steps = 0;

  constructor(readonly model: WorldModel, noiseSeed: number) {
    this.optimizer = tf.train.adam(model.config.lr);
    const scale = model.config.encoderLrScale;
    this.encoderOptimizer = scale < 1 ? tf.train.adam(model.config.lr * scale) : undefined;
    this.encoderNames = new Set(this.encoderOptimizer ? model.encoder.variables.map((v) => v.name) : []);
    this.noise = new Noise(noiseSeed);
  }

  /** Samples a batch from the buffer (see ReplayBuffer.sample for `eventFraction`) and takes one step. */
  stepOnBuffer(buffer: ReplayBuffer, rng: Rng, eventFraction = 0): TrainStats {
    return this.step(buffer.sample(this.model.config.batch, this.model.config.horizon, rng, eventFraction));
  }

  step(sample: Parameters<typeof toTensorBatch>[1]): TrainStats {
    const { model } = this;
    const batch = toTensorBatch(model, sample);
    const parts: Partial<Record<keyof LossStats, tf.Scalar>> = {};
    let gradNorm = 0;
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => worldModelLoss(model, batch, this.noise, parts), model.variables);
      gradNorm = this.applyGradients(grads);
    });
    disposeBatch(batch);
    const stats = Object.fromEntries(Object.entries(parts).map(([k, t]) => [k, t!.dataSync()[0]!])) as unknown as LossStats;
    tf.dispose(Object.values(parts));
    this.steps++;
    return { ...stats, gradNorm };
  }

  /** Clips by global norm, applies AdamW; returns the norm before clipping. Call inside tf.tidy. */
  applyGradients(grads: tf.NamedTensorMap): number {
    const cfg = this.model.config;
    const names = Object.keys(grads);
    const gradNorm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]!))))).dataSync()[0]!;
    if (!Number.isFinite(gradNorm)) throw new Error(`WorldModelTrainer.step: the gradient norm is ${gradNorm} at step ${this.steps} (loss diverged; lower lr or check the data)`);
    const factor = Math.min(1, cfg.gradClip / (gradNorm + 1e-6));
    const clipped = (name: string) => ({ name, tensor: factor < 1 ? tf.mul(grads[name]!, factor) : grads[name]! });
    this.optimizer.applyGradients(names.filter((n) => !this.encoderNames.has(n)).map(clipped));
    this.encoderOptimizer?.applyGradients(names.filter((n) => this.encoderNames.has(n)).map(clipped));
    if (cfg.weightDecay > 0) for (const v of this.model.variables) v.assign(tf.mul(v, 1 - (this.encoderNames.has(v.name) ? cfg.lr * cfg.encoderLrScale : cfg.lr) * cfg.weightDecay));
    return gradNorm;
  }

  /**
   * The optimisers' states (Adam's step count and moments), for checkpoints that resume training:
   * `model`, and `encoder` when the encoder has its own optimiser (encoderLrScale < 1). Slots are positional.
   */
  async optimizerWeights(): Promise<Record<string, NamedTensor[]>> {
    return { model: await this.optimizer.getWeights(), ...(this.encoderOptimizer ? { encoder: await this.encoderOptimizer.getWeights() } : {}) };
  }

  async setOptimizerWeights(groups: Record<string, NamedTensor[]>): Promise<void> {
    if (groups.model?.length) await this.optimizer.setWeights(groups.model);
    if (groups.encoder?.length && this.encoderOptimizer) await this.encoderOptimizer.setWeights(groups.encoder);
  }

  /** The noise source of training samples (shared with benchmarks that time the phases of a step). */
  get noiseSource(): Noise {
    return this.noise;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.encoderOptimizer?.dispose();
  }
}
