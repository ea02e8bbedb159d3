// npm run zoom -- <checkpoint> --to <step> --every <n> --out <dir>: a stretch of a run trained again
// from one of its kept checkpoints (keepCheckpoints, keepAround) with evaluations every n steps, and
// with --online both ways (averaged and online weights; evalAverage runs). Evaluations leave training
// alone, so the stretch trains as the run did (its step-N evaluation comes out the same) and shows
// what happened between two of the run's evaluations. Writes <dir>/evaluations.json, its pictures
// <dir>/zoom.png and zoom-layouts.png (and .svg; zoomPlot.ts) and the stretch's checkpoints under
// <dir>/checkpoint; refuses a <dir> that holds anything.
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { checkpointAt, verifyCheckpoint } from "../agent/checkpoint.ts";
import { parseAgentConfig } from "../agent/config.ts";
import { trainAgent, type EvalPoint } from "../agent/train.ts";
import { initBackend } from "../backend/init.ts";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import { positiveInt, runCli } from "./cli.ts";
import { renderPlot } from "./plots.ts";
import { layoutSpec, zoomSpec } from "./zoomPlot.ts";

interface Options {
  to: number;
  every: number;
  online?: boolean;
  out: string;
  allCheckpoints?: boolean;
}

const fixed = (x: number) => x.toFixed(3);
const line = (p: EvalPoint) =>
  `step ${p.step}: success ${p.success.toFixed(2)}, return ${fixed(p.return)}${p.online ? `; online weights: success ${p.online.success.toFixed(2)}, return ${fixed(p.online.return)}` : ""}`;

const program = new Command()
  .name("npm run zoom --")
  .description(
    "train a stretch of a run again from one of its checkpoints, evaluating every --every steps (training goes as it went)",
  )
  .argument("<checkpoint>", "a ckpt-N folder the run kept (or a run's checkpoint folder: its latest)")
  .requiredOption("--to <step>", "train on to this step", positiveInt("--to"))
  .requiredOption(
    "--every <n>",
    "evaluate at the multiples of n (the run's evalEvery is replaced)",
    positiveInt("--every"),
  )
  .option("--online", "evaluate with the online weights too, beside the averaged ones (a run with evalAverage)")
  .requiredOption(
    "--out <dir>",
    "write here: evaluations.json, its pictures zoom.png and zoom-layouts.png and the stretch's checkpoints (must be new or empty)",
  )
  .option("--all-checkpoints", "keep every evaluation's checkpoint of the stretch, not only the last")
  .action(async (from: string, o: Options) => {
    if (existsSync(o.out) && readdirSync(o.out).length > 0)
      throw new Error(`zoom: --out ${o.out} holds files already; give a new or empty folder`);
    const ckpt = checkpointAt(from, "zoom");
    const { state } = verifyCheckpoint(ckpt);
    const config = parseAgentConfig(state.config);
    if (o.to <= state.step || o.to > config.steps)
      throw new Error(
        `zoom: --to must be after the checkpoint's step ${state.step} and at most the run's ${config.steps}, got ${o.to}`,
      );
    // Evaluations fall on the multiples of --every (and the run's last step), as in training.
    if (Math.floor(o.to / o.every) * o.every <= state.step && o.to < config.steps)
      throw new Error(
        `zoom: no multiple of --every ${o.every} lies after step ${state.step} up to --to ${o.to}: nothing would be evaluated`,
      );
    if (o.online && config.evalAverage === undefined)
      throw new Error(
        `zoom: --online evaluates the online weights beside the averaged ones; ${ckpt}'s run has no evalAverage`,
      );
    await initBackend();
    const zoomed = { ...config, evalEvery: o.every, ...(o.online && { evalOnline: true }) };
    mkdirSync(o.out, { recursive: true });
    const { agent, result } = await trainAgent(zoomed, {
      from: ckpt,
      checkpointDir: join(o.out, "checkpoint"),
      keepCheckpoints: o.allCheckpoints,
      // Not during an evaluation: the one at --to is the stretch's last.
      shouldStop: (step, evaluating) => step >= o.to && !evaluating,
      onEval: (p) => console.log(line(p)),
    });
    agent.dispose();
    const evaluations = result.evals.filter((p) => p.step > state.step);
    writeFileAtomic(
      join(o.out, "evaluations.json"),
      `${JSON.stringify({ from: ckpt, env: config.env, seed: config.seed, fromStep: state.step, to: result.envSteps, every: o.every, evaluations }, null, 1)}\n`,
    );
    // The checkpoint's own evaluation starts the picture.
    const drawn = result.evals.filter((p) => p.step >= state.step);
    const averaged = config.evalAverage !== undefined;
    const picture = {
      env: config.env,
      envOptions: config.envOptions,
      seed: config.seed,
      averaged,
      fromStep: state.step,
    };
    const [, png] = await renderPlot(zoomSpec(drawn, picture), join(o.out, "zoom"));
    const [, layouts] = await renderPlot(layoutSpec(drawn, picture), join(o.out, "zoom-layouts"));
    console.log(
      `zoom: ${evaluations.length} evaluations from step ${state.step} to ${result.envSteps} in ${join(o.out, "evaluations.json")}, drawn in ${png}, layout by layout in ${layouts}`,
    );
  });

await runCli(program);
