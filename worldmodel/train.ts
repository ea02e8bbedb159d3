// One optimiser step of the world model: the loss and its gradient from the fused pass
// (fusedLoss.ts: the backward written out, tested against the tape-based loss.ts; the tape itself
// for the local heads of encoder "cells"), global-norm clipping, then AdamW over flat buffers, all
// inside tf.tidy so that no tensor outlives the step.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../common/rng.ts";
import type { ReplayBuffer, SequenceBatch } from "../data/replayBuffer.ts";
import { Noise } from "./estimators/index.ts";
import { FrozenCodes } from "./frozenCodes.ts";
import { fusedWorldModelGrads, type CodeUsage } from "./fusedLoss.ts";
import { tapeWorldModelGrads, type LossStats } from "./loss.ts";
import type { WorldModel } from "./model.ts";
import { CellTokenizer } from "./nn/cellTokenizer.ts";
import { FlatAdam, type NamedTensor } from "./nn/flatAdam.ts";

export type { NamedTensor } from "./nn/flatAdam.ts";

export interface TrainStats extends LossStats, Partial<CodeUsage> {
  /** Gradient global norm before clipping. */
  gradNorm: number;
}

export class WorldModelTrainer {
  /** AdamW over every variable; the encoder's learning rate is lr x encoderLrScale. */
  private readonly optimizer: FlatAdam;
  private readonly noise: Noise;
  /** Which of model.variables belong to the encoder. */
  private readonly isEncoder: boolean[];
  private encoderFrozen = false;
  /** Past config.lrDrop's update: every rate scaled. */
  private lrDropped = false;
  /** A frozen encoder's codes per replay slot. */
  private readonly frozenCodes: FrozenCodes;
  steps = 0;

  /** The noise stream's position (Noise.getState), for checkpoints. */
  get noiseState(): number[] {
    return this.noise.getState();
  }

  set noiseState(state: readonly number[]) {
    this.noise.setState(state);
  }

  constructor(
    readonly model: WorldModel,
    noiseSeed: number,
  ) {
    const { lr, encoderLrScale, weightDecay, updateClip } = model.config;
    const encoder = new Set(model.encoder.variables);
    this.isEncoder = model.variables.map((v) => encoder.has(v));
    this.optimizer = new FlatAdam(model.variables, {
      lr: this.isEncoder.map((e) => (e ? lr * encoderLrScale : lr)),
      weightDecay,
      updateClip,
    });
    this.noise = new Noise(noiseSeed);
    this.frozenCodes = new FrozenCodes(model);
    // Cell tokens have nothing to train: their codes never move, so replayed ones are cached from the start.
    this.encoderFrozen = model.encoder instanceof CellTokenizer;
  }

  /** Samples a batch from the buffer (see ReplayBuffer.sample for `eventFraction`) and takes one step. */
  stepOnBuffer(buffer: ReplayBuffer, rng: Rng, eventFraction = 0): TrainStats {
    return this.step(buffer.sample(this.model.config.batch, this.model.config.horizon, rng, eventFraction));
  }

  step(sample: SequenceBatch): TrainStats {
    this.freezeEncoderWhenDue();
    this.dropLrWhenDue();
    let result: TrainStats | undefined;
    tf.tidy(() => {
      // A frozen encoder's gradient is zero, so it leaves the clipping norm too (it would shrink every other step).
      const { grads, stats } =
        this.model.encoder instanceof CellTokenizer
          ? tapeWorldModelGrads(this.model, sample, this.noise, this.codesOf(sample))
          : fusedWorldModelGrads(this.model, sample, this.noise, {
              encoder: !this.encoderFrozen,
              codes: this.codesOf(sample),
            });
      result = { ...stats, gradNorm: this.applyGradients(grads) };
    });
    this.steps++;
    return result!;
  }

  /** Freezes the encoder once the optimiser has taken `encoderFreezeAfter` steps (restored checkpoints included). */
  private freezeEncoderWhenDue(): void {
    const after = this.model.config.encoderFreezeAfter;
    if (this.encoderFrozen || after === null || this.optimizer.iterations < after) return;
    this.encoderFrozen = true;
    this.setRates();
  }

  /** Scales every rate once the optimiser has taken `lrDrop.after` steps (restored checkpoints included). */
  private dropLrWhenDue(): void {
    const drop = this.model.config.lrDrop;
    if (this.lrDropped || drop === undefined || this.optimizer.iterations < drop.after) return;
    this.lrDropped = true;
    this.setRates();
  }

  /** The optimiser's rates for where training stands: the encoder's slower or frozen, all scaled once dropped. */
  private setRates(): void {
    const { lr, encoderLrScale, lrDrop } = this.model.config;
    const scale = this.lrDropped ? lrDrop!.scale : 1;
    this.optimizer.setLearningRates(
      this.isEncoder.map((e) => (e ? (this.encoderFrozen ? 0 : lr * encoderLrScale) : lr) * scale),
    );
  }

  /**
   * The codes [B * (H+1) * codeSize] of a replayed batch's observations once the encoder is frozen,
   * each stored observation encoded once (FrozenCodes); undefined while it learns.
   */
  codesOf(b: SequenceBatch): Float32Array | undefined {
    return this.encoderFrozen ? this.frozenCodes.of(b) : undefined;
  }

  /** Whether the encoder has stopped learning (config.encoderFreezeAfter). */
  get isEncoderFrozen(): boolean {
    return this.encoderFrozen;
  }

  /** Clips by global norm and applies AdamW (grads aligned with model.variables); returns the norm before clipping. Call inside tf.tidy. */
  applyGradients(grads: tf.Tensor[]): number {
    const flat = this.optimizer.flatten(grads);
    const gradNorm = Math.sqrt(tf.sum(tf.square(flat)).dataSync()[0]!);
    if (!Number.isFinite(gradNorm))
      throw new Error(
        `WorldModelTrainer.step: the gradient norm is ${gradNorm} at step ${this.steps} (loss diverged; lower lr or check the data)`,
      );
    this.optimizer.applyFlat(flat, Math.min(1, this.model.config.gradClip / (gradNorm + 1e-6)));
    return gradNorm;
  }

  /** The optimiser's state (step count and flat moments), for checkpoints that resume training. */
  async optimizerWeights(): Promise<Record<string, NamedTensor[]>> {
    return { model: this.optimizer.getWeights() };
  }

  async setOptimizerWeights(groups: Record<string, NamedTensor[]>): Promise<void> {
    if (groups.model?.length) this.optimizer.setWeights(groups.model);
  }

  /** The noise source of training samples (shared with benchmarks that time the phases of a step). */
  get noiseSource(): Noise {
    return this.noise;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
