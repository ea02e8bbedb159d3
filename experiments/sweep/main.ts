// npm run sweep -- <spec.json | e1..e4 | all> [--quick] [--workers N] [--queue redis://host:port]
// Expands the grid, skips runs whose record exists, runs the rest, and regenerates tables and plots.
// Ctrl-C stops cleanly (finished records stay); the same command again resumes.
import { availableParallelism } from "node:os";
import { Command, InvalidArgumentError, Option } from "commander";
import { BACKENDS, type BackendChoice } from "../../worldmodel/backend/init.ts";
import { loadSpecs } from "./jobs.ts";
import { runSweep } from "./sweep.ts";

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a positive integer, got '${v}'`);
  return n;
};

const program = new Command()
  .name("npm run sweep --")
  .description("Run an experiment grid as idempotent jobs: on local worker processes, or through a Redis queue (BullMQ) served by `npm run worker`.")
  .argument("<spec>", "a preset (e1, e2, e3, e4: the committed results; all: every one) or a JSON spec file {experiment, config, grid, quick, results} (or an array of them)")
  .option("--quick", "the presets' smoke versions (results/quick)", false)
  .option("--workers <n>", "local worker processes (one core each)", positiveInt, availableParallelism())
  .option("--queue <url>", "enqueue on Redis (redis://host:port) and collect the records that workers send back")
  .addOption(new Option("--backend <name>", "tfjs backend of the local workers").choices([...BACKENDS]).default("auto"))
  .option("--no-summary", "skip regenerating tables and plots")
  .action(async (spec: string, o: { quick: boolean; workers: number; queue?: string; backend: BackendChoice; summary: boolean }) => {
    const specs = loadSpecs(spec, o.quick);
    const abort = new AbortController();
    process.once("SIGINT", () => {
      console.log("\nstopping: finished records are kept; run the same command again to resume");
      abort.abort();
    });
    const report = await runSweep(specs, { workers: o.workers, queue: o.queue, backend: o.backend, summary: o.summary, signal: abort.signal });
    console.log(`sweep: ${report.done.length} done, ${report.failed.length} failed, ${report.skipped} skipped (records existed)${report.interrupted ? `, ${report.left.length} left` : ""}`);
    process.exitCode = report.failed.length > 0 || report.interrupted ? 1 : 0;
  });

try {
  await program.parseAsync();
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
