// npm run bench -- worldmodel: world-model training steps/s (batch 256, H = 5, default config) on
// GridFourRooms, Catch and PointMass (the CNN encoder; and the agent's world model with the keypoint
// encoder of PointMass's efficiency setting, batch 128): the tape-based loss and gradient (loss.ts) against the fused pass (fusedLoss.ts), the
// fused pass with the encoder frozen (its backward skipped) and the frozen pass with the codes kept
// per replay slot (FrozenCodes, filled with every stored observation first: a run adds one per
// update), alternated in one run, and the optimiser's own time (clipping and AdamW on the fused
// pass's gradients, timed alone); medians over repeats.
import * as tf from "@tensorflow/tfjs";
import { AGENT_WORLD_MODEL } from "../agent/config.ts";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend, BACKENDS, type BackendChoice } from "../backend/init.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { collect } from "../data/collector.ts";
import type { ReplayBuffer, SequenceBatch } from "../data/replayBuffer.ts";
import { FrozenCodes } from "../worldmodel/frozenCodes.ts";
import { fusedWorldModelGrads } from "../worldmodel/fusedLoss.ts";
import { disposeBatch, toTensorBatch, worldModelLoss } from "../worldmodel/loss.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { WorldModelTrainer } from "../worldmodel/train.ts";
import { median, printTable } from "./timing.ts";

export async function benchWorldModel(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const backendArg = args.find((a) => a.startsWith("--backend="))?.split("=")[1] ?? "auto";
  if (!(BACKENDS as readonly string[]).includes(backendArg))
    throw new Error(`bench worldmodel: --backend must be one of ${BACKENDS.join(", ")}, got '${backendArg}'`);
  const info = await initBackend({ backend: backendArg as BackendChoice });
  const repeats = quick ? 3 : 10;
  const rows: Record<string, string | number>[] = [];
  const cases: [string, string, Record<string, unknown>][] = [
    ["GridFourRooms-v0", "GridFourRooms-v0", {}],
    ["Catch-v0", "Catch-v0", {}],
    ["PointMass-v0", "PointMass-v0", {}],
    // The agent's world model on PointMass in the efficiency runs (its per-task keypoint encoder).
    [
      "PointMass-v0 agent keypoints",
      "PointMass-v0",
      {
        ...AGENT_WORLD_MODEL,
        encoder: { ...AGENT_WORLD_MODEL.encoder, type: "keypoints", keypoints: 8 },
        normalization: "channel",
      },
    ],
  ];
  for (const [label, envId, settings] of cases) {
    const cfg = parseWorldModelConfig(settings);
    const model = new WorldModel(cfg, envShapeOf(makeBare(envId)), 0);
    const buffer = collect({ envId, steps: 5000, numEnvs: 8, seed: 0, policy: "explorer" });
    model.fitNormalization(buffer.observations());
    const cache = new FrozenCodes(model);
    cache.of(everyObservation(buffer));
    const trainer = new WorldModelTrainer(model, 1);
    const rng = new Rng(0);
    const noise = trainer.noiseSource;
    // Alternating per repeat: the tape-based loss and gradient (loss.ts), the fused pass (fusedLoss.ts),
    // the fused pass with the encoder frozen, the same with known codes, a whole trainer step, and the
    // optimiser alone on the fused pass's gradients (timed apart: a difference of two medians goes
    // negative on a busy machine).
    const phases: Record<"tape" | "fused" | "frozen" | "known" | "step" | "optimiser", number[]> = {
      tape: [],
      fused: [],
      frozen: [],
      known: [],
      step: [],
      optimiser: [],
    };
    const fusedPass = (sample: SequenceBatch, encoder: boolean, known = false, apply = false) =>
      tf.tidy(() => {
        const codes = known ? cache.of(sample) : undefined;
        const { grads } = fusedWorldModelGrads(model, sample, noise, { encoder, codes });
        tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync();
        if (!apply) return 0;
        const t = performance.now();
        trainer.applyGradients(grads);
        return performance.now() - t;
      });
    for (let r = 0; r < repeats + 1; r++) {
      const sample = buffer.sample(cfg.batch, cfg.horizon, rng);
      const t0 = performance.now();
      const b = toTensorBatch(model, sample);
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => worldModelLoss(model, b, noise), model.variables);
        tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync();
      });
      disposeBatch(b);
      const t1 = performance.now();
      fusedPass(sample, true);
      const t2 = performance.now();
      fusedPass(sample, false);
      const t3 = performance.now();
      fusedPass(sample, false, true);
      const t4 = performance.now();
      trainer.step(sample);
      const t5 = performance.now();
      const optimiser = fusedPass(sample, true, false, true);
      if (r === 0) continue; // warm-up
      phases.tape.push(t1 - t0);
      phases.fused.push(t2 - t1);
      phases.frozen.push(t3 - t2);
      phases.known.push(t4 - t3);
      phases.step.push(t5 - t4);
      phases.optimiser.push(optimiser);
    }
    const [tape, fused, frozen, known, step, optimiser] = [
      phases.tape,
      phases.fused,
      phases.frozen,
      phases.known,
      phases.step,
      phases.optimiser,
    ].map(median) as [number, number, number, number, number, number];
    const row = {
      env: label,
      "batch x H": `${cfg.batch} x ${cfg.horizon}`,
      "step ms": step,
      "steps/s": 1000 / step,
      "tape loss+grad ms": tape,
      "fused loss+grad ms": fused,
      "tape/fused": tape / fused,
      "fused, encoder frozen ms": frozen,
      "fused/frozen": fused / frozen,
      "frozen, codes known ms": known,
      "frozen/known": frozen / known,
      "optimiser ms": optimiser,
    };
    console.log(JSON.stringify({ bench: "worldmodel", backend: info.kind, ...row }));
    rows.push(row);
    trainer.dispose();
    model.dispose();
  }
  console.log(
    `# world-model training step, median of ${repeats}, backend ${info.kind}; loss+grad includes the upload and target encoding; the tape, fused, frozen-encoder and known-codes passes alternate`,
  );
  printTable(rows);
}

/** A batch naming every stored observation once (to fill a FrozenCodes cache). */
function everyObservation(buffer: ReplayBuffer): SequenceBatch {
  const n = buffer.size;
  return {
    batch: n,
    horizon: 0,
    obs: buffer.observations(),
    actions: new Float32Array(0),
    rewards: new Float32Array(0),
    terminated: new Uint8Array(0),
    mask: new Float32Array(0),
    source: { buffer: buffer.id, slots: Int32Array.from({ length: n }, (_, i) => i) },
  };
}
