// npm run demo: the environment suite at a glance (a random-policy episode per env as an APNG, and
// a vector-env steps/s table) under results/demo/.
import { Command } from "commander";
import { nonNegativeInt as int, runCli } from "./cli.ts";
import { runDemo } from "./demo.ts";

const program = new Command()
  .name("npm run demo --")
  .description("environment-suite demo: a random-policy episode per env (APNG) and a steps/s table")
  .option("--out <dir>", "output directory", "results/demo")
  .option("--seed <n>", "seed of the env resets and the random policy", int("--seed"), 0)
  .option("--max-frames <n>", "frames per episode APNG at most", int("--max-frames"), 200)
  .action((opts: { out: string; seed: number; maxFrames: number }) => runDemo(opts));

await runCli(program);
