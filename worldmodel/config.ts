// The world model's configuration: one object, validated at the edge (zod), every field documented.
// Sizes are scaled to this suite's small tasks (DC-MPC uses 512 latents of levels [5, 3] and
// 512-wide MLPs on harder control tasks).
import { z } from "zod";
import { ESTIMATOR_NAMES, type EstimatorName } from "./estimators/index.ts";
import { issuesLine } from "../common/issues.ts";

export const WorldModelConfig = z
  .object({
    /** Latents per state (L); each is one FSQ code. */
    latents: z.number().int().min(1).max(1024).default(16),
    /** FSQ levels per latent channel: [5, 3] gives 15 codes of 2 channels. */
    levels: z.array(z.number().int().min(2).max(64)).min(1).max(8).default([5, 3]),
    /**
     * `fsq`: FSQ's ordered grid, whose expected codes interpolate between neighbouring codes.
     * `permuted`: the same codes carried by the vectors of a fixed random permutation of the grid
     * (seeded by `permutationSeed`): a codebook without geometry (worldmodel/quantizer/fsq.ts).
     */
    codebook: z.enum(["fsq", "permuted"]).default("fsq"),
    permutationSeed: z.number().int().min(0).default(0),
    encoder: z
      .object({
        /**
         * "auto": a CNN for images of at least 16x16 pixels, an MLP otherwise. "keypoints": a spatial
         * soft-argmax (nn/keypoints.ts), for images of a few objects. "cells": for grid observations
         * [H, W, C], one latent per cell, the code of its symbol (nn/cellTokenizer.ts: fixed once
         * met, nothing to train; needs latents = H x W), with heads that predict each cell from its
         * 3x3 neighbourhood (nn/localHeads.ts): rules that hold in every layout of a procedurally
         * generated grid.
         */
        type: z.enum(["auto", "mlp", "cnn", "keypoints", "cells"]).default("auto"),
        /** MLP hidden sizes (and the CNN's dense layer). */
        hidden: z.array(z.number().int().min(1)).default([256]),
        /** CNN channels per 3x3 stride-2 convolution. */
        channels: z.array(z.number().int().min(1)).default([16, 32]),
        /** Keypoint encoder: feature maps, each giving one (x, y). Unset: 16 (optional, for the defaults' fingerprint). */
        keypoints: z.number().int().min(1).max(256).optional(),
        /**
         * "cells": each cell's input also holds which codes the whole grid has (one flag per code),
         * what no 3x3 neighbourhood shows: on DoorKey whether the agent carries the key is the key's
         * absence from the grid, and a toggle at the locked door opens it only then. Unset: off.
         */
        presence: z.boolean().optional(),
        /**
         * "cells" with `presence`: false keeps the flags out of the events heads' inputs (the dynamics
         * still read them). A goal's reward and ending are local, but through the flags a goal cell's
         * head reads the agent's heading and the key carried wherever the agent stands, and can call
         * the goal reached from across the grid (DoorKey-8x8, docs/efficiency-investigations.md).
         * Unset: the events heads read them too.
         */
        presenceInEvents: z.boolean().optional(),
        /**
         * "cells": how far each cell's neighbourhood reaches, a square of side 2 radius + 1. Unset: 1
         * (3x3). Breakout's ball moves diagonally with its trail one cell behind it, so the cell it
         * enters sees the trail only at radius 2.
         */
        radius: z.number().int().min(1).max(3).optional(),
        /**
         * "cells": how the events heads learn (nn/localHeads.ts). "product" (unset): each cell's reward
         * gate through the reward's squared error, gate x value, and the ending's noisy-OR floored.
         * "classified": the gate as a classifier of "this step pays" (BCE, like the ending), the value
         * alone through the squared error, and both noisy-ORs unfloored. Thousands of updates without
         * a reward or an ending shut the gates; the first one then still opens them.
         */
        eventHeads: z.enum(["product", "classified"]).optional(),
      })
      .strict()
      .default({ type: "auto", hidden: [256], channels: [16, 32] }),
    /** Dynamics MLP hidden sizes: (codes ++ action) -> hidden -> L x |C| logits. */
    dynamicsHidden: z.array(z.number().int().min(1)).default([256, 256]),
    /** Reward and termination heads: (codes ++ action) -> hidden -> 1. */
    headHidden: z.array(z.number().int().min(1)).default([128]),
    decoder: z
      .object({
        /** Train a decoder from codes to observations (to look at imagined rollouts). */
        enabled: z.boolean().default(false),
        hidden: z.array(z.number().int().min(1)).default([256]),
        /** Let the reconstruction loss shape the codes (an auxiliary loss against collapse); else codes are stopped. */
        shapeCodes: z.boolean().default(false),
        weight: z.number().min(0).default(1),
      })
      .strict()
      .default({ enabled: false, hidden: [256], shapeCodes: false, weight: 1 }),
    /** Training rollout length H. */
    horizon: z.number().int().min(1).max(50).default(5),
    /** Per-step loss weight rho^t. */
    rho: z.number().min(0).max(1).default(0.9),
    rewardWeight: z.number().min(0).default(1),
    /**
     * Inverse dynamics: predict a_0 from (code_0, code_1), both with gradient into the encoder. An
     * auxiliary loss against codebook collapse on sparse-reward grids (0 turns it off): without it
     * GridFourRooms collapses to one code and PointMass nearly so; weight 1 is too weak, 10 prevents
     * collapse on every env of the suite (results/e2-collapse).
     */
    inverseDynamicsWeight: z.number().min(0).default(10),
    /**
     * Stop the dynamics, reward and termination losses from training the encoder (it then learns from
     * the auxiliary losses only). The CE target moves with the encoder, so on sparse-reward grids the
     * encoder can otherwise drift to one code for every state, where the CE is trivially 0.
     */
    detachEncoder: z.boolean().default(false),
    terminationWeight: z.number().min(0).default(1),
    /** How each predicted code is sampled during training (any name from worldmodel/estimators). */
    estimator: z.enum(ESTIMATOR_NAMES as [EstimatorName, ...EstimatorName[]]).default("st-gumbel-softmax"),
    tau: z.number().positive().default(1),
    /** Gumbel-Rao's K. */
    draws: z.number().int().min(2).default(10),
    /** AdamW. */
    lr: z.number().positive().max(1).default(3e-4),
    /**
     * The encoder's learning rate is lr x this (TD-MPC2's enc_lr_scale, 0.3 there). Every step of the
     * encoder moves the codes that a value function trained on codes has to follow; the agent lowers it.
     */
    encoderLrScale: z.number().positive().max(1).default(1),
    /**
     * Every learning rate x `scale` from update `after` on. Once the model predicts its replay
     * nearly always right, its gradients are tiny and so are Adam's second moments; the first batch
     * with an error then steps every weight it reaches by about 3 lr at once. At the agent's lr 3e-3
     * one such step took FourRooms-11's cells model (seed 1, update 6903) from 0.998 of a batch's
     * cells right to 0.615, at 1e-3 the same step kept 0.999 (efficiency-investigations.md).
     * Unset: lr throughout; optional for the defaults' fingerprint.
     */
    lrDrop: z
      .object({ after: z.number().int().min(0), scale: z.number().positive().max(1) })
      .strict()
      .optional(),
    /**
     * Adam's update clipping (StableAdamW, Wortsman et al. 2023; worldmodel/nn/flatAdam.ts): each
     * variable's step divided by max(1, sqrt(mean(g^2 / v_hat))), which exceeds 1 only where a
     * gradient outruns what the second moments have seen. Taken again from FourRooms-11 seed 1's
     * update 6903 it kept 0.999 of the batch's cells right where the plain step left 0.615, yet a run
     * of that seed with it broke at another update (step 8800; efficiency-investigations.md). Unset
     * (as false): optional for the defaults' fingerprint.
     */
    updateClip: z.boolean().optional(),
    /**
     * Stop training the encoder after this many updates: codes that no longer move give the dynamics
     * a constant target and the value constant inputs (Dedieu et al. 2025: code words that never move
     * once created). null: the encoder trains throughout. On GridEmpty random walks (agent's
     * settings of 846671d, batch 64) frozen at 1000: one-step whole-code accuracy 0.66 at update
     * 3000, against 0.48 learning throughout; with the agent's settings now, frozen at 1500: 5-step
     * 0.94, at 1000: 0.86 (results/probe.md, 3 seeds).
     */
    encoderFreezeAfter: z.number().int().min(0).nullable().default(null),
    /**
     * Observation standardisation, fitted once on the first data (the agent's seed steps). Unset:
     * per element. `channel`: one mean and standard deviation per channel (last axis), pooled over
     * the positions of an image. Per element, a pixel that the first data seldom lit (PointMass: 10
     * episodes show 10 targets, so 80% of the target channel's pixels never change) gets 20x the
     * scale of a common one, and a target elsewhere later reaches the encoder 20x too loud. Optional
     * so that the defaults' fingerprint, and with it every record made before it, stays the same.
     */
    normalization: z.enum(["element", "channel"]).optional(),
    weightDecay: z.number().min(0).default(0),
    /** Global gradient-norm clip (DC-MPC: 20). */
    gradClip: z.number().positive().default(20),
    batch: z.number().int().min(2).default(256),
  })
  .strict();

export type WorldModelConfig = z.infer<typeof WorldModelConfig>;
export type WorldModelConfigInput = z.input<typeof WorldModelConfig>;

/** Parses a config, throwing one error that names every bad field. */
export function parseWorldModelConfig(input: unknown): WorldModelConfig {
  const parsed = WorldModelConfig.safeParse(input ?? {});
  if (!parsed.success) {
    throw new Error(`WorldModelConfig: ${issuesLine(parsed.error)}`);
  }
  return parsed.data;
}
