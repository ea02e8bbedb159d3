// npm run bench -- worldmodel: world-model training steps/s (batch 256, H = 5, default config) on
// GridFourRooms and Catch, and the split of a step into forward (loss), backward (gradients) and
// optimiser (clip + AdamW), each a median over repeats; the baseline is the forward pass of the same run.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend, BACKENDS, type BackendChoice } from "../worldmodel/backend/init.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { collect } from "../worldmodel/data/collector.ts";
import { Noise } from "../worldmodel/estimators/index.ts";
import { disposeBatch, toTensorBatch, worldModelLoss } from "../worldmodel/loss.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { WorldModelTrainer } from "../worldmodel/train.ts";
import { medianMs, printTable } from "./timing.ts";

export async function benchWorldModel(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const backendArg = args.find((a) => a.startsWith("--backend="))?.split("=")[1] ?? "auto";
  if (!(BACKENDS as readonly string[]).includes(backendArg)) throw new Error(`bench worldmodel: --backend must be one of ${BACKENDS.join(", ")}, got '${backendArg}'`);
  const info = await initBackend({ backend: backendArg as BackendChoice });
  const repeats = quick ? 3 : 10;
  const rows: Record<string, string | number>[] = [];
  for (const envId of ["GridFourRooms-v0", "Catch-v0"]) {
    const cfg = parseWorldModelConfig({});
    const model = new WorldModel(cfg, envShapeOf(makeBare(envId)), 0);
    const buffer = collect({ envId, steps: 5000, numEnvs: 8, seed: 0, policy: "explorer" });
    model.fitNormalization(buffer.observations());
    const trainer = new WorldModelTrainer(model, 1);
    const rng = new Rng(0);
    const noise = new Noise(2);
    const sample = () => buffer.sample(cfg.batch, cfg.horizon, rng);
    const prepare = medianMs(() => disposeBatch(toTensorBatch(model, sample())), repeats, 1);
    const forward = medianMs(() => {
      const b = toTensorBatch(model, sample());
      tf.tidy(() => worldModelLoss(model, b, noise).dataSync());
      disposeBatch(b);
    }, repeats, 1);
    const forwardBackward = medianMs(() => {
      const b = toTensorBatch(model, sample());
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => worldModelLoss(model, b, noise), model.variables);
        Object.values(grads)[0]!.dataSync();
      });
      disposeBatch(b);
    }, repeats, 1);
    const full = medianMs(() => trainer.stepOnBuffer(buffer, rng), repeats, 1);
    const row = {
      env: envId,
      "batch x H": `${cfg.batch} x ${cfg.horizon}`,
      "step ms": full,
      "steps/s": 1000 / full,
      "data ms": prepare,
      "forward ms": forward - prepare,
      "backward ms": forwardBackward - forward,
      "optimiser ms": full - forwardBackward,
      "step/forward": full / (forward - prepare),
    };
    console.log(JSON.stringify({ bench: "worldmodel", backend: info.kind, ...row }));
    rows.push(row);
    trainer.dispose();
    model.dispose();
  }
  console.log(`# world-model training step, median of ${repeats}, backend ${info.kind}; data = sampling + upload + target encoding`);
  printTable(rows);
}
