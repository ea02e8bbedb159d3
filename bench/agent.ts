// npm run bench -- agent: planning latency per action of the default planner (median ms), the time
// of one batched imagined step (the planner does iterations x horizon of them, plus the value) as
// its baseline, and training updates/s of the agent (world model + value) against DQN's update.
import { Rng } from "../common/rng.ts";
import { make } from "../envs/index.ts";
import { ImaginationAgent } from "../agent/agent.ts";
import { parseAgentConfig } from "../agent/config.ts";
import { DqnAgent } from "../agent/dqn.ts";
import { imagineStep } from "../agent/imagination.ts";
import * as tf from "@tensorflow/tfjs";
import { initBackend, BACKENDS, type BackendChoice } from "../worldmodel/backend/init.ts";
import { collect } from "../worldmodel/data/collector.ts";
import { medianMs, printTable } from "./timing.ts";

export async function benchAgent(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const backendArg = args.find((a) => a.startsWith("--backend="))?.split("=")[1] ?? "auto";
  if (!(BACKENDS as readonly string[]).includes(backendArg)) throw new Error(`bench agent: --backend must be one of ${BACKENDS.join(", ")}, got '${backendArg}'`);
  const info = await initBackend({ backend: backendArg as BackendChoice });
  const repeats = quick ? 5 : 30;
  const rows: Record<string, string | number>[] = [];
  for (const envId of ["GridEmpty-v0", "Catch-v0", "PointMass-v0"]) {
    const env = make(envId);
    const cfg = parseAgentConfig({ env: envId });
    const agent = new ImaginationAgent(cfg, cfg.worldModelConfig, env, 0);
    const buffer = collect({ envId, steps: 2000, numEnvs: 4, seed: 0 });
    agent.model.fitNormalization(buffer.observations());
    const rng = new Rng(0);
    agent.update(buffer, rng); // the value's first update turns on the policy prior
    const [obs] = env.reset({ seed: 0 });
    const { samples, horizon, iterations } = cfg.planner;
    const planMs = medianMs(() => agent.act(obs), repeats);
    const z0 = agent.codesOf(obs);
    const n = samples + cfg.planner.policySamples;
    const stepMs = medianMs(() => tf.tidy(() => {
      const z = tf.tile(z0, [n, 1, 1]);
      imagineStep(agent.model, z, agent.model.actionFeatures(agent.spec.kind === "discrete" ? new Float32Array(n) : new Float32Array(n * agent.spec.size), n), "expected").next.dataSync();
    }), repeats);
    z0.dispose();
    const updateMs = medianMs(() => agent.update(buffer, rng), quick ? 3 : 10, 2);
    let dqnMs = NaN;
    if (agent.spec.kind === "discrete") {
      const dqn = new DqnAgent(cfg.dqn, cfg.worldModelConfig, env, 0);
      dqn.model.fitNormalization(buffer.observations());
      dqnMs = medianMs(() => dqn.update(buffer, rng), quick ? 3 : 10, 2);
      dqn.dispose();
    }
    rows.push({ env: envId, planner: `${iterations} it x ${samples} samples x H ${horizon}`, "plan ms": planMs, "imagined step ms": stepMs, "plan/step": planMs / stepMs, "update ms": updateMs, "updates/s": 1000 / updateMs, "DQN update ms": dqnMs, "update/DQN": updateMs / dqnMs });
    console.log(JSON.stringify({ bench: "agent", backend: info.kind, ...rows[rows.length - 1] }));
    agent.dispose();
  }
  console.log(`# agent: median of ${repeats} plans; update = one world-model step (batch ${parseAgentConfig({}).worldModelConfig.batch}, H 5) + one value step; backend ${info.kind}`);
  printTable(rows);
}
