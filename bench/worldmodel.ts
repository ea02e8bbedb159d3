// npm run bench -- worldmodel: world-model training steps/s (batch 256, H = 5, default config) on
// GridFourRooms, Catch and PointMass (its CNN encoder): the tape-based loss and gradient (loss.ts)
// against the fused pass (fusedLoss.ts) and the fused pass with the encoder frozen (its backward
// skipped), alternated in one run, and the optimiser's share of a whole step; medians over repeats.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend, BACKENDS, type BackendChoice } from "../backend/init.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { collect } from "../data/collector.ts";
import type { SequenceBatch } from "../data/replayBuffer.ts";
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
  for (const envId of ["GridFourRooms-v0", "Catch-v0", "PointMass-v0"]) {
    const cfg = parseWorldModelConfig({});
    const model = new WorldModel(cfg, envShapeOf(makeBare(envId)), 0);
    const buffer = collect({ envId, steps: 5000, numEnvs: 8, seed: 0, policy: "explorer" });
    model.fitNormalization(buffer.observations());
    const trainer = new WorldModelTrainer(model, 1);
    const rng = new Rng(0);
    const noise = trainer.noiseSource;
    // Alternating per repeat: the tape-based loss and gradient (loss.ts), the fused pass (fusedLoss.ts),
    // the fused pass with the encoder frozen, a whole trainer step.
    const phases: Record<"tape" | "fused" | "frozen" | "step", number[]> = {
      tape: [],
      fused: [],
      frozen: [],
      step: [],
    };
    const fusedPass = (sample: SequenceBatch, encoder: boolean) =>
      tf.tidy(() => {
        const { grads } = fusedWorldModelGrads(model, sample, noise, { encoder });
        tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync();
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
      trainer.step(sample);
      const t4 = performance.now();
      if (r === 0) continue; // warm-up
      phases.tape.push(t1 - t0);
      phases.fused.push(t2 - t1);
      phases.frozen.push(t3 - t2);
      phases.step.push(t4 - t3);
    }
    const [tape, fused, frozen, step] = [phases.tape, phases.fused, phases.frozen, phases.step].map(median) as [
      number,
      number,
      number,
      number,
    ];
    const row = {
      env: envId,
      "batch x H": `${cfg.batch} x ${cfg.horizon}`,
      "step ms": step,
      "steps/s": 1000 / step,
      "tape loss+grad ms": tape,
      "fused loss+grad ms": fused,
      "tape/fused": tape / fused,
      "fused, encoder frozen ms": frozen,
      "fused/frozen": fused / frozen,
      "optimiser ms": step - fused,
    };
    console.log(JSON.stringify({ bench: "worldmodel", backend: info.kind, ...row }));
    rows.push(row);
    trainer.dispose();
    model.dispose();
  }
  console.log(
    `# world-model training step, median of ${repeats}, backend ${info.kind}; loss+grad includes the upload and target encoding; the tape, fused and frozen-encoder passes alternate`,
  );
  printTable(rows);
}
