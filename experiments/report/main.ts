// npm run report [-- --results <dir>] [--import <file>]: regenerates <dir>/README.md and <dir>/index.html (default results/).
import { existsSync, statSync } from "node:fs";
import { Command } from "commander";
import { IMPORT_OPTION, importUserModules, repeatable, runCli } from "../cli.ts";
import { writeReport } from "./report.ts";

const program = new Command()
  .name("npm run report --")
  .description(
    "Write results/README.md and results/index.html from the records, summaries, plots and episodes in results/",
  )
  .option("--results <dir>", "results folder", "results")
  .option(...IMPORT_OPTION, repeatable, [])
  .action(async (o: { results: string; import: string[] }) => {
    await importUserModules(o.import); // experiments they register get their sections too
    if (!existsSync(o.results) || !statSync(o.results).isDirectory())
      throw new Error(`--results: '${o.results}' is not a folder`);
    for (const f of writeReport(o.results)) console.log(`wrote ${f}`);
  });

await runCli(program);
