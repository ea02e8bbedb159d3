// npm start: the project's main job. Trains the imagination agent (world model trained with ST
// Gumbel-softmax, MPC over expected codes) on a default task, evaluates it and writes the learning
// curve, an episode APNG (real | imagined) and a JSON record under results/latest/.
// Ctrl-C (SIGINT) writes a checkpoint and stops; --resume continues from it.
import { Command, Option } from "commander";
import { PROPAGATION_MODES } from "../agent/imagination.ts";
import { readJsonObject } from "../common/configMerge.ts";
import { BACKENDS, describeBackend, initBackend, type BackendChoice } from "../backend/init.ts";
import { ESTIMATOR_NAMES } from "../worldmodel/estimators/index.ts";
import { runAgentJob } from "./agentJob.ts";
import {
  IMPORT_OPTION,
  importUserModules,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  repeatable,
  runCli,
} from "./cli.ts";
import { MAIN_DEFAULTS, mainConfig, type MainOptions } from "./mainConfig.ts";

const program = new Command()
  .name("npm start --")
  .description(
    "Train the imagination agent on one task and write results/latest/ (record.json, curve.png, episode.apng)",
  )
  .option("--env <id>", `environment id (default ${MAIN_DEFAULTS.env})`)
  .addOption(
    new Option(
      "--algorithm <name>",
      "agent: planner (imagination MPC) or dqn (model-free baseline) (default planner)",
    ).choices(["planner", "dqn"]),
  )
  .addOption(
    new Option(
      "--estimator <name>",
      "gradient estimator of the world model's rollouts (default st-gumbel-softmax)",
    ).choices([...ESTIMATOR_NAMES]),
  )
  .option("--tau <t>", "Gumbel-softmax temperature (default 1)", positiveNumber("--tau"))
  .option("--steps <n>", `environment steps (default ${MAIN_DEFAULTS.steps})`, positiveInt("--steps"))
  .option("--seed <n>", "seed of everything random in the run (default 0)", nonNegativeInt("--seed"))
  .option(
    "--eval-every <n>",
    `evaluate and checkpoint every n env steps (default ${MAIN_DEFAULTS.evalEvery})`,
    positiveInt("--eval-every"),
  )
  .addOption(
    new Option("--mode <mode>", "latent propagation when planning (default expected)").choices([...PROPAGATION_MODES]),
  )
  .option("--horizon <n>", "planning horizon", positiveInt("--horizon"))
  .option("--samples <n>", "planner samples per iteration", positiveInt("--samples"))
  .option("--iterations <n>", "planner iterations", positiveInt("--iterations"))
  .option(
    "--config <file>",
    "JSON agent config (any field of agent/config.ts): over the defaults, under the options typed here",
  )
  .option(...IMPORT_OPTION, repeatable, [])
  .option("--out <dir>", "output directory", "results/latest")
  .option("--resume", "continue from the checkpoint in the output directory", false)
  .option("--all-checkpoints", "keep every evaluation's checkpoint (checkpoint/ckpt-<step>), not only the last", false)
  .addOption(new Option("--backend <name>", "tfjs backend").choices([...BACKENDS]).default("auto"))
  .action(async (o: MainOptions & { import: string[] }) => {
    await importUserModules(o.import);
    const config = mainConfig(o, o.config ? readJsonObject(o.config) : {});
    const backend = await initBackend({ backend: o.backend as BackendChoice });
    console.log(describeBackend(backend));
    // Under `npm start` one Ctrl-C arrives twice (from the terminal, and relayed by tsx): a second
    // SIGINT quits at once only when it comes more than a second after the first.
    let stop = false;
    let firstAt = 0;
    process.on("SIGINT", () => {
      if (stop && Date.now() - firstAt > 1000) process.exit(130);
      if (stop) return;
      stop = true;
      firstAt = Date.now();
      console.log("\ninterrupt: writing a checkpoint (Ctrl-C again to quit at once)");
    });
    const s = await runAgentJob({
      config,
      out: o.out,
      resume: o.resume,
      keepCheckpoints: o.allCheckpoints,
      backend,
      shouldStop: () => stop,
      log: (l) => console.log(l),
    });
    console.log(
      s.interrupted
        ? `interrupted at step ${s.envSteps}; continue with: npm start -- --resume${o.out !== "results/latest" ? ` --out ${o.out}` : ""} (same options)`
        : `${s.env} (${config.algorithm}, ${s.estimator}): return ${s.return.toFixed(3)}, success ${(100 * s.success).toFixed(0)}%, ${s.envSteps} env steps${s.stepsToSuccess90 !== null ? ` (success >= 90% from step ${s.stepsToSuccess90})` : ""}, ${s.wallSeconds.toFixed(0)} s, backend ${s.backend}; results in ${o.out}/`,
    );
    if (s.interrupted) process.exitCode = 130;
  });

await runCli(program);
