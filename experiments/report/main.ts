// npm run report [-- --results <dir>]: regenerates <dir>/README.md and <dir>/index.html (default results/).
import { existsSync, statSync } from "node:fs";
import { Command } from "commander";
import { runCli } from "../cli.ts";
import { writeReport } from "./report.ts";

const program = new Command()
  .name("npm run report --")
  .description(
    "Write results/README.md and results/index.html from the records, summaries, plots and episodes in results/",
  )
  .option("--results <dir>", "results folder", "results")
  .action((o: { results: string }) => {
    if (!existsSync(o.results) || !statSync(o.results).isDirectory())
      throw new Error(`--results: '${o.results}' is not a folder`);
    for (const f of writeReport(o.results)) console.log(`wrote ${f}`);
  });

await runCli(program);
