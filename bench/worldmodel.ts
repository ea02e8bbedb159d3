// npm run bench -- worldmodel: world-model training steps/s (batch 256, H = 5, default config) on
// GridFourRooms and Catch, and the split of a step into forward (loss), backward (gradients) and
// optimiser (clip + AdamW), each a median over repeats; the baseline is the forward pass of the same run.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../common/rng.ts";
import { makeBare } from "../envs/index.ts";
import { initBackend, BACKENDS, type BackendChoice } from "../worldmodel/backend/init.ts";
import { parseWorldModelConfig } from "../worldmodel/config.ts";
import { collect } from "../worldmodel/data/collector.ts";
import { disposeBatch, toTensorBatch, worldModelLoss } from "../worldmodel/loss.ts";
import { WorldModel, envShapeOf } from "../worldmodel/model.ts";
import { WorldModelTrainer } from "../worldmodel/train.ts";
import { median, printTable } from "./timing.ts";

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
    const noise = trainer.noiseSource;
    // Each repeat times the phases of one real training step; an extra forward pass gives the split.
    const phases: Record<"data" | "forward" | "forwardBackward" | "optimiser", number[]> = { data: [], forward: [], forwardBackward: [], optimiser: [] };
    for (let r = 0; r < repeats + 1; r++) {
      const t0 = performance.now();
      const b = toTensorBatch(model, buffer.sample(cfg.batch, cfg.horizon, rng));
      const t1 = performance.now();
      tf.tidy(() => worldModelLoss(model, b, noise).dataSync());
      const t2 = performance.now();
      let t3 = 0;
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => worldModelLoss(model, b, noise), model.variables);
        tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync();
        t3 = performance.now();
        trainer.applyGradients(grads);
      });
      const t4 = performance.now();
      disposeBatch(b);
      if (r === 0) continue; // warm-up
      phases.data.push(t1 - t0);
      phases.forward.push(t2 - t1);
      phases.forwardBackward.push(t3 - t2);
      phases.optimiser.push(t4 - t3);
    }
    const [data, forward, fb, optimiser] = [phases.data, phases.forward, phases.forwardBackward, phases.optimiser].map(median) as [number, number, number, number];
    const full = data + fb + optimiser;
    const row = {
      env: envId,
      "batch x H": `${cfg.batch} x ${cfg.horizon}`,
      "step ms": full,
      "steps/s": 1000 / full,
      "data ms": data,
      "forward ms": forward,
      "backward ms": fb - forward,
      "optimiser ms": optimiser,
      "step/forward": full / forward,
    };
    console.log(JSON.stringify({ bench: "worldmodel", backend: info.kind, ...row }));
    rows.push(row);
    trainer.dispose();
    model.dispose();
  }
  console.log(`# world-model training step, median of ${repeats}, backend ${info.kind}; data = sampling + upload + target encoding`);
  printTable(rows);
}
