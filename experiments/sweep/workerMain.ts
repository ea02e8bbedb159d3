// npm run worker -- --queue redis://host:port [--concurrency N]: serves sweep jobs from Redis on this
// machine until Ctrl-C (or SIGTERM). Run it on every machine that joins, from the same commit.
import { availableParallelism } from "node:os";
import { Command, Option } from "commander";
import { BACKENDS, type BackendChoice } from "../../backend/init.ts";
import { IMPORT_OPTION, importUserModules, positiveInt, repeatable, runCli } from "../cli.ts";
import { startQueueWorker, waitForRedis } from "./queue.ts";

const program = new Command()
  .name("npm run worker --")
  .description("Run sweep jobs from a Redis queue (see `npm run sweep -- --help`).")
  .requiredOption("--queue <url>", "Redis URL, redis://host:port")
  .option(
    "--concurrency <n>",
    "jobs at a time (one process each)",
    positiveInt("--concurrency"),
    availableParallelism(),
  )
  .addOption(new Option("--backend <name>", "tfjs backend").choices([...BACKENDS]).default("auto"))
  .option(
    "--lock-ms <ms>",
    "job lock duration: a killed worker's job is retried after about this long",
    positiveInt("--lock-ms"),
    60_000,
  )
  .option("--stalled-ms <ms>", "how often to look for stalled jobs", positiveInt("--stalled-ms"), 30_000)
  .option(...IMPORT_OPTION, repeatable, [])
  .option(
    "--connect-timeout <s>",
    "seconds to wait for Redis to answer before giving up",
    positiveInt("--connect-timeout"),
    30,
  )
  .action(
    async (o: {
      queue: string;
      concurrency: number;
      backend: BackendChoice;
      lockMs: number;
      stalledMs: number;
      connectTimeout: number;
      import: string[];
    }) => {
      const imports = await importUserModules(o.import);
      await waitForRedis(o.queue, o.connectTimeout * 1000);
      const w = startQueueWorker({
        imports,
        url: o.queue,
        concurrency: o.concurrency,
        backend: o.backend,
        lockDurationMs: o.lockMs,
        stalledIntervalMs: o.stalledMs,
      });
      console.log(`worker: serving ${o.queue} with ${o.concurrency} process(es); Ctrl-C to stop`);
      const stop = async () => {
        console.log(
          "worker: closing (the running jobs finish first; Ctrl-C again to abandon them, they will be retried elsewhere)",
        );
        process.once("SIGINT", () => process.exit(130));
        await w.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
  );

await runCli(program);
