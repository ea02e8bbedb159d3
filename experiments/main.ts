// npm start: the project's main job. Trains the imagination agent (world model trained with ST
// Gumbel-softmax, MPC over expected codes) on a default task, evaluates it and writes the learning
// curve, an episode APNG (real | imagined) and a JSON record under results/latest/.
// Ctrl-C (SIGINT) writes a checkpoint and stops; --resume continues from it.
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { PROPAGATION_MODES } from "../agent/imagination.ts";
import { BACKENDS, initBackend, type BackendChoice } from "../worldmodel/backend/init.ts";
import { ESTIMATOR_NAMES } from "../worldmodel/estimators/index.ts";
import { runAgentJob } from "./agentJob.ts";

/** The default task and budget: a few minutes on 2 cores. */
export const MAIN_DEFAULTS = { env: "Catch-v0", steps: 6000, evalEvery: 500, seedSteps: 500 };

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got '${v}'`);
  return n;
};
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number, got '${v}'`);
  return n;
};

interface MainOptions {
  env: string;
  algorithm: "planner" | "dqn";
  estimator: string;
  tau: number;
  steps: number;
  seed: number;
  evalEvery: number;
  mode: string;
  horizon?: number;
  samples?: number;
  iterations?: number;
  config?: string;
  out: string;
  resume: boolean;
  backend: string;
}

const program = new Command()
  .name("npm start --")
  .description("Train the imagination agent on one task and write results/latest/ (record.json, curve.png, episode.apng)")
  .option("--env <id>", "environment id", MAIN_DEFAULTS.env)
  .addOption(new Option("--algorithm <name>", "agent: planner (imagination MPC) or dqn (model-free baseline)").choices(["planner", "dqn"]).default("planner"))
  .addOption(new Option("--estimator <name>", "gradient estimator of the world model's rollouts").choices([...ESTIMATOR_NAMES]).default("st-gumbel-softmax"))
  .option("--tau <t>", "Gumbel-softmax temperature", positive("--tau"), 1)
  .option("--steps <n>", "environment steps", int("--steps"), MAIN_DEFAULTS.steps)
  .option("--seed <n>", "seed of everything random in the run", int("--seed"), 0)
  .option("--eval-every <n>", "evaluate and checkpoint every n env steps", int("--eval-every"), MAIN_DEFAULTS.evalEvery)
  .addOption(new Option("--mode <mode>", "latent propagation when planning").choices([...PROPAGATION_MODES]).default("expected"))
  .option("--horizon <n>", "planning horizon", int("--horizon"))
  .option("--samples <n>", "planner samples per iteration", int("--samples"))
  .option("--iterations <n>", "planner iterations", int("--iterations"))
  .option("--config <file>", "JSON agent config (agent/config.ts); command-line options override it")
  .option("--out <dir>", "output directory", "results/latest")
  .option("--resume", "continue from the checkpoint in the output directory", false)
  .addOption(new Option("--backend <name>", "tfjs backend").choices([...BACKENDS]).default("auto"))
  .action(async (o: MainOptions) => {
    const file = o.config ? (JSON.parse(readFileSync(o.config, "utf8")) as Record<string, unknown>) : {};
    const planner = { ...((file.planner as object) ?? {}), ...(o.horizon !== undefined && { horizon: o.horizon }), ...(o.samples !== undefined && { samples: o.samples }), ...(o.iterations !== undefined && { iterations: o.iterations }) };
    const worldModel = { ...((file.worldModel as object) ?? {}), estimator: o.estimator, tau: o.tau, decoder: { enabled: true } };
    const config = { ...MAIN_DEFAULTS, ...file, env: o.env, algorithm: o.algorithm, steps: o.steps, seed: o.seed, evalEvery: o.evalEvery, seedSteps: Math.min((file.seedSteps as number | undefined) ?? MAIN_DEFAULTS.seedSteps, o.steps), mode: o.mode, planner, worldModel };
    const backend = await initBackend({ backend: o.backend as BackendChoice });
    let stop = false;
    process.on("SIGINT", () => {
      if (stop) process.exit(130);
      stop = true;
      console.log("\ninterrupt: writing a checkpoint (Ctrl-C again to quit at once)");
    });
    const s = await runAgentJob({ config, out: o.out, resume: o.resume, backend, shouldStop: () => stop, log: (l) => console.log(l) });
    console.log(
      s.interrupted
        ? `interrupted at step ${s.envSteps}; continue with: npm start -- --resume${o.out !== "results/latest" ? ` --out ${o.out}` : ""} (same options)`
        : `${s.env} (${o.algorithm}, ${s.estimator}): return ${s.return.toFixed(3)}, success ${(100 * s.success).toFixed(0)}%, ${s.envSteps} env steps${s.stepsToSuccess90 !== null ? ` (success >= 90% from step ${s.stepsToSuccess90})` : ""}, ${s.wallSeconds.toFixed(0)} s, backend ${s.backend}; results in ${o.out}/`,
    );
    if (s.interrupted) process.exitCode = 130;
  });

await program.parseAsync();
