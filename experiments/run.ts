// npm run exp -- <experiment> [options]: one experiment's sweep (its preset, or a config file),
// with its tables and plots regenerated from the records. The same engine as `npm run sweep`.
import { Command, Option } from "commander";
import { readJsonObject } from "../common/configMerge.ts";
import { BACKENDS, type BackendChoice } from "../backend/init.ts";
import {
  IMPORT_OPTION,
  ONLY_OPTION,
  refuseStatusWithOnly,
  STATUS_OPTION,
  addCheckpointOptions,
  applyCheckpointOptions,
  importsInArgv,
  importUserModules,
  positiveInt,
  repeatable,
  runCli,
  runMain,
} from "./cli.ts";
import { EXPERIMENTS } from "./registry.ts";
import { confineResults, SweepSpec } from "./sweep/jobs.ts";
import { sweepStatus } from "./sweep/status.ts";
import { runSweepCommand } from "./sweep/sweep.ts";

interface ExpOptions {
  seeds?: number;
  quick: boolean;
  workers: number;
  backend: BackendChoice;
  results?: string;
  config?: string;
  summary: boolean;
  allowOutsideResults: boolean;
  checkpoints: boolean;
  allCheckpoints: boolean;
  status: boolean;
  only?: string[];
}

// User modules first: an experiment they register becomes a command below.
await runMain(() => importUserModules(importsInArgv(process.argv.slice(2))));
if (process.exitCode) process.exit(); // the error is printed: a missing file, or one that throws

const program = new Command()
  .name("npm run exp --")
  .description("gumbel-worlds experiments (`npm run sweep` runs grids of them, locally or through Redis)");
for (const def of Object.values(EXPERIMENTS)) {
  addCheckpointOptions(program.command(def.name).description(def.title))
    .option("--seeds <n>", "number of seeds (0..n-1)", positiveInt("--seeds"))
    .option("--quick", "a smoke run of about a minute (results/quick unless --results)", false)
    .option("--workers <n>", "worker processes (one core each)", positiveInt("--workers"), 1)
    .addOption(new Option("--backend <name>", "tfjs backend").choices([...BACKENDS]).default("auto"))
    .option("--results <dir>", "results folder (default results, or results/quick with --quick)")
    .option("--config <file>", "a JSON file of the experiment's settings (its zod schema documents each field)")
    .option("--no-summary", "skip regenerating tables and plots")
    .option("--allow-outside-results", "let --results lie outside results/", false)
    .option(...STATUS_OPTION)
    .option(...ONLY_OPTION, repeatable)
    .option(...IMPORT_OPTION, repeatable, [])
    .action(async (o: ExpOptions & { import: string[] }) => {
      const imports = await importUserModules(o.import);
      applyCheckpointOptions(o);
      refuseStatusWithOnly(o);
      const fromFile = o.config ? readJsonObject(o.config) : {};
      const spec = confineResults(
        SweepSpec.parse({
          experiment: def.name,
          quick: o.quick,
          results: o.results,
          config: { ...fromFile, ...(o.seeds !== undefined ? { seeds: o.seeds } : {}) },
        }),
        o.allowOutsideResults,
      );
      if (o.status) return void console.log(sweepStatus([spec]).join("\n"));
      await runSweepCommand([spec], {
        workers: o.workers,
        backend: o.backend,
        summary: o.summary,
        imports,
        only: o.only,
      });
    });
}

await runCli(program);
