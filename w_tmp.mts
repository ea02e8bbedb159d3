import { Rng } from "./common/rng.ts";
import { initBackend } from "./worldmodel/backend/init.ts";
import { parseWorldModelConfig } from "./worldmodel/config.ts";
import { collect } from "./worldmodel/data/collector.ts";
import { evaluate } from "./worldmodel/eval.ts";
import { WorldModel, envShapeOf } from "./worldmodel/model.ts";
import { WorldModelTrainer } from "./worldmodel/train.ts";
import { makeBare } from "./envs/index.ts";
await initBackend({ backend: "wasm" });
const env = process.argv[2] ?? "GridEmpty-v0";
const est = process.argv[3] ?? "st-gumbel-softmax";
const cfg = parseWorldModelConfig({ batch: 64, estimator: est, lr: 1e-3, dynamicsHidden: [256, 256], inverseDynamicsWeight: Number(process.argv[4] ?? 1) });
const model = new WorldModel(cfg, envShapeOf(makeBare(env)), 0);
const train = collect({ envId: env, steps: 20000, numEnvs: 8, seed: 0, policy: "explorer" });
const test = collect({ envId: env, steps: 3000, numEnvs: 8, seed: 1, policy: "explorer" });
model.fitNormalization(train.observations());
const trainer = new WorldModelTrainer(model, 1);
const rng = new Rng(2);
const t0 = performance.now();
for (let i = 0; i <= 600; i++) {
  const s = trainer.stepOnBuffer(train, rng);
  if (i % 200 === 0) {
    const e = evaluate(model, test.sample(256, 10, new Rng(3)));
    console.log(i, `${((performance.now() - t0) / (i + 1)).toFixed(1)}ms/step`, `loss ${s.loss.toFixed(3)} ce ${s.ce.toFixed(3)} acc1 ${e.accuracy[0]!.toFixed(3)} acc5 ${e.accuracy[4]!.toFixed(3)} acc10 ${e.accuracy[9]!.toFixed(3)} base ${e.frequencyBaseline.toFixed(3)} usage ${e.codeUsage.toFixed(1)} ppl ${e.perplexity.toFixed(2)} rmse ${e.rewardMse.toFixed(4)} term ${e.terminationAccuracy.toFixed(3)}`);
  }
}
