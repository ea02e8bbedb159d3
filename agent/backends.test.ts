// The backend-sensitive checks on every backend that loads here, so that `npm test` on a user's
// machine exercises what `auto` picks there (tfjs-node where its install could download
// libtensorflow): exact gradients of the estimators, a leak check of the agent's update and planner,
// and a short learning run. WASM with the native GEMM is the default of the other test files;
// worldmodel/fusedLoss.test.ts runs the fused update's equivalence test on the same list.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { make } from "../envs/index.ts";
import { OTHER_BACKENDS, onBackend } from "../backend/otherBackends.ts";
import { collect } from "../data/collector.ts";
import { exactGradient, estimateGradient } from "../worldmodel/exactGradient.ts";
import { Noise } from "../worldmodel/estimators/index.ts";
import { ImaginationAgent } from "./agent.ts";
import { parseAgentConfig } from "./config.ts";
import { RandomPolicy } from "./baselines.ts";
import { evaluatePolicy } from "./evaluate.ts";
import { trainAgent } from "./train.ts";

for (const { name, options, fast } of OTHER_BACKENDS) {
  describe(`on ${name} (skipped where it does not load)`, () => {
    const backend = onBackend(options);

    it("REINFORCE and plain ST at tau 1 are unbiased where the theory says so", (ctx) => {
      if (!backend.loaded()) ctx.skip();
      const theta = tf.tensor([
        [0.5, -0.3, 0.1],
        [-0.7, 0.2, 0.4],
      ]);
      const w = tf.tensor([
        [1, -2, 0.5],
        [0.3, 1.5, -1],
      ]);
      const linear = (z: tf.Tensor) => tf.sum(tf.mul(z, w), [1, 2]);
      const nonlinear = (z: tf.Tensor) => tf.sin(tf.mul(tf.sum(tf.mul(z, w), [1, 2]), 2));
      for (const [estimator, f] of [
        ["reinforce", nonlinear],
        ["straight-through", linear],
      ] as const) {
        const exact = exactGradient(theta, f).grad;
        const est = estimateGradient(estimator, theta, f, { samples: 8000, tau: 1, noise: new Noise(3) });
        est.mean.forEach((m, i) =>
          expect(Math.abs(m - exact[i]!), `${estimator} coordinate ${i}`).toBeLessThan(
            5 * Math.sqrt(est.variance[i]! / 8000) + 1e-4,
          ),
        );
      }
      tf.dispose([theta, w]);
    });

    it("the agent's update and planner keep the tensor count constant", (ctx) => {
      if (!backend.loaded()) ctx.skip();
      const env = make("Catch-v0");
      const cfg = parseAgentConfig({
        env: "Catch-v0",
        worldModel: { batch: 8 },
        value: { batch: 8 },
        planner: { samples: 8, elites: 2 },
      });
      const agent = new ImaginationAgent(cfg, env, 0);
      const buffer = collect({ envId: "Catch-v0", steps: 200, numEnvs: 2, seed: 0 });
      agent.model.fitNormalization(buffer.observations());
      const rng = new Rng(0);
      const [obs] = env.reset({ seed: 0 });
      agent.update(buffer, rng);
      agent.act(obs as Uint8Array);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) {
        agent.update(buffer, rng);
        agent.act(obs as Uint8Array);
      }
      expect(tf.memory().numTensors).toBe(before);
      agent.dispose();
    });

    // The JS cpu backend is 20-100x slower than the others: there the learning run is a benchmark.
    it.runIf(fast)(
      "learns Catch in a short run",
      async (ctx) => {
        if (!backend.loaded()) ctx.skip();
        const random = evaluatePolicy("Catch-v0", new RandomPolicy({ kind: "discrete", n: 3 }, 0), 20);
        const { agent, result } = await trainAgent({
          env: "Catch-v0",
          steps: 2000,
          seedSteps: 300,
          pretrainUpdates: 100,
          modelPretrainUpdates: 0,
          evalEvery: 1000,
          evalEpisodes: 20,
        });
        agent.dispose();
        expect(result.evals.at(-1)!.return).toBeGreaterThan(random.return + 0.25);
      },
      240_000,
    );
  });
}
