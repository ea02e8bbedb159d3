// npm run sweep -- <spec.json | e1..e4 | all> [--quick] [--workers N] [--queue redis://host:port]
// Expands the grid, skips runs whose record exists, runs the rest, and regenerates tables and plots.
// Ctrl-C stops cleanly (running agent runs write a checkpoint first, finished records stay); the same
// command again resumes; with --status it only says where the sweep stands.
import { availableParallelism } from "node:os";
import { Command, Option } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/init.ts";
import {
  IMPORT_OPTION,
  ONLY_OPTION,
  refuseStatusWithOnly,
  STATUS_OPTION,
  addCheckpointOptions,
  applyCheckpointOptions,
  importUserModules,
  positiveInt,
  repeatable,
  runCli,
} from "../cli.ts";
import { loadSpecs } from "./jobs.ts";
import { sweepStatus } from "./status.ts";
import { runSweepCommand } from "./sweep.ts";

const program = addCheckpointOptions(new Command())
  .name("npm run sweep --")
  .description(
    "Run an experiment grid as idempotent jobs: on local worker processes, or through a Redis queue (BullMQ) served by `npm run worker`.",
  )
  .argument(
    "<spec>",
    "a preset (e1, e2, e3, e4: the committed results; all: every one) or a JSON spec file {experiment, config, grid, quick, results} (or an array of them)",
  )
  .option("--quick", "the presets' smoke versions (results/quick)", false)
  .option("--workers <n>", "local worker processes (one core each)", positiveInt("--workers"), availableParallelism())
  .option("--queue <url>", "enqueue on Redis (redis://host:port) and collect the records that workers send back")
  .addOption(new Option("--backend <name>", "tfjs backend of the local workers").choices([...BACKENDS]).default("auto"))
  .option("--no-summary", "skip regenerating tables and plots")
  .option("--allow-outside-results", "let a spec's `results` folder lie outside results/", false)
  .option(...STATUS_OPTION)
  .option(...ONLY_OPTION, repeatable)
  .option(...IMPORT_OPTION, repeatable, [])
  .option(
    "--connect-timeout <s>",
    "with --queue: seconds to wait for Redis to answer before giving up",
    positiveInt("--connect-timeout"),
    30,
  )
  .action(
    async (
      spec: string,
      o: {
        quick: boolean;
        workers: number;
        queue?: string;
        backend: BackendChoice;
        summary: boolean;
        allowOutsideResults: boolean;
        connectTimeout: number;
        import: string[];
        checkpoints: boolean;
        allCheckpoints: boolean;
        status: boolean;
        only?: string[];
      },
    ) => {
      const imports = await importUserModules(o.import);
      applyCheckpointOptions(o);
      refuseStatusWithOnly(o);
      const specs = loadSpecs(spec, o.quick, o.allowOutsideResults);
      if (o.status) return void console.log(sweepStatus(specs).join("\n"));
      await runSweepCommand(specs, {
        imports,
        workers: o.workers,
        queue: o.queue,
        queueTimeoutMs: o.connectTimeout * 1000,
        backend: o.backend,
        summary: o.summary,
        only: o.only,
      });
    },
  );

await runCli(program);
