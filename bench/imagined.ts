// npm run bench -- imagined: the value's imagined backups (agent/imaginedTargets.ts) on FourRooms-11
// with grid cells as codes (its per-task settings), from B replayed grids under each of the 3
// actions: the local heads on every cell of every row (heads) against once per distinct
// neighbourhood and action (expectedStepNoGrad). Checks that both give the same numbers, then alternated
// rounds, medians, the ratio.
import * as tf from "@tensorflow/tfjs";
import { imaginedActions, imaginedBatch } from "../agent/imaginedTargets.ts";
import type { LatentModel } from "../agent/imagination.ts";
import { initBackend } from "../backend/init.ts";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { median, medianMs, printTable } from "./timing.ts";

export async function benchImagined(args: string[]): Promise<void> {
  const info = await initBackend();
  const rounds = args.includes("--quick") ? 2 : 6;
  const env = makeBare("GridFourRooms-v0", { size: 11 });
  const config = parseWorldModelConfig({
    encoder: { type: "cells" },
    latents: 121,
    levels: [2, 2, 2, 2],
    dynamicsHidden: [64, 64],
    headHidden: [64],
  });
  const model = new WorldModel(config, envShapeOf(env), 0);
  // Grids of random walks over a few layouts, as a replay buffer holds them.
  const rng = new Rng(1);
  const grids: number[][] = [];
  for (let seed = 0; grids.length < 128; seed++) {
    let [obs] = env.reset({ seed });
    for (let t = 0; t < 16; t++) {
      grids.push(Array.from(obs as Uint8Array));
      [obs] = env.step(rng.int(3));
    }
  }
  const everyCell: LatentModel = {
    heads: (c, a) => model.heads(c, a),
    weightsToCodes: (w) => model.weightsToCodes(w),
    actionFeatures: (a, n) => model.actionFeatures(a, n),
  };
  const actions = imaginedActions({ kind: "discrete", n: 3 }, 0, rng);
  const rows: Record<string, string | number>[] = [];
  for (const b of [32, 128]) {
    const codes = tf.tidy(
      () => tf.reshape(model.encode(model.preprocess(grids.slice(0, b).flat(), b)), [b, -1]) as tf.Tensor2D,
    );
    const run = (m: LatentModel) => () => {
      const out = imaginedBatch(m, codes, config.latents, actions, 0.95);
      const read = [out.nextCodes, out.returns, out.terminated].map((t) => Array.from(t.dataSync()));
      for (const t of Object.values(out)) t.dispose();
      return read;
    };
    if (JSON.stringify(run(everyCell)()) !== JSON.stringify(run(model)()))
      throw new Error(`bench imagined: expectedStepNoGrad's backups differ from the heads' at batch ${b}`);
    const times: [number[], number[]] = [[], []];
    for (let r = 0; r < rounds; r++) {
      times[0].push(medianMs(run(everyCell), 5, 1));
      times[1].push(medianMs(run(model), 5, 1));
    }
    codes.dispose();
    const [a, d] = [median(times[0]), median(times[1])];
    rows.push({
      "start codes": b,
      "rows x cells": b * 3 * 121,
      "every cell (ms)": a,
      "distinct rows (ms)": d,
      ratio: a / d,
    });
  }
  model.dispose();
  console.log(`# ${rounds} alternating rounds of 5 calls, medians; backend ${info.kind}; same numbers checked`);
  printTable(rows);
}
