// npm run inspect -- <checkpoint>...: what a trained imagination agent believes on every state its
// grid env can reach from the evaluation resets (agent/stateProbe.ts), one block per checkpoint
// (a run's checkpoint folder or one ckpt-N in it); --json prints the figures as JSON lines.
// --evaluation replays the checkpoint's evaluation instead (any env, any agent): one line per
// episode, its outcome and how many distinct observations it visited; with --online, as the online
// weights play it, for a run that evaluated with averaged ones (evalAverage).
import { Command } from "commander";
import { ImaginationAgent } from "../agent/agent.ts";
import { loadAgent } from "../agent/load.ts";
import { evaluationSeeds } from "../agent/evaluate.ts";
import { traceEvaluation, type EpisodeTrace } from "../agent/evaluationTrace.ts";
import { probeAgentStates, reachableStates, type StateProbe } from "../agent/stateProbe.ts";
import { initBackend } from "../backend/init.ts";
import { nonNegativeInt, positiveInt, runCli } from "./cli.ts";

const pct = (x: number) => (Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`);
const num = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(2));
const num3 = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(3));

function describe(p: StateProbe): string[] {
  return [
    `  ${p.states} states reachable from ${p.starts} distinct evaluation resets (breadth-first, true dynamics)`,
    `  world model: whole next code right on ${pct(p.wholeCode)} of ${p.live} steps that go on; called an ending on ${pct(p.liveCalledEnding)} of them`,
    `  reward predicted on those steps (they pay 0): mean ${num3(p.liveReward.mean)}, 90th percentile ${num3(p.liveReward.p90)}, 99th ${num3(p.liveReward.p99)}`,
    `  endings called (termination > 0.5): ${pct(p.rewardedCalled)} of ${p.rewardedEndings} rewarded, ${pct(p.unrewardedCalled)} of ${p.unrewardedEndings} without`,
    `  reward predicted for them: ${num(p.rewardedPredicted)} on the rewarded (paid ${num(p.rewardedPaid)}), ${num(p.unrewardedPredicted)} on those without (paid 0)`,
    ...(p.rewardedByHeading
      ? [
          `  rewarded endings by the agent's heading: ${Object.entries(p.rewardedByHeading)
            .map(([h, e]) => `${h} ${e.endings} (called ${pct(e.called)}, reward ${num(e.predicted)})`)
            .join(", ")}`,
        ]
      : []),
    `  on a shortest path to a rewarded ending, over ${p.solvable} states: Q's greedy action ${pct(p.greedyOptimal)}, the plan's first action ${pct(p.planOptimal)}`,
    `  value the plan bootstraps from (max_a Q), mean over them: ${num(p.value)}; best discounted return: ${num(p.optimalValue)}`,
  ];
}

const episodeLine = (t: EpisodeTrace) =>
  `  reset ${t.seed}: ${t.success ? "success" : "failure"}, return ${t.return.toFixed(3)} in ${t.length} steps, ${t.distinct} distinct observations, ${t.mostVisits > 1 ? `one of them ${t.mostVisits} times` : "each once"}`;

interface Options {
  episodes?: number;
  reset: number[];
  maxStates: number;
  evaluation?: boolean;
  online?: boolean;
  json?: boolean;
}

const program = new Command()
  .name("npm run inspect --")
  .description("probe imagination-agent checkpoints on every state of a grid env reachable from the evaluation resets")
  .argument("<checkpoint...>", "checkpoint folders (a run's checkpoint/ or one ckpt-N in it)")
  .option(
    "--episodes <n>",
    "evaluation resets to start from (default: the run's evalEpisodes)",
    positiveInt("--episodes"),
  )
  .option(
    "--reset <i>",
    "probe from evaluation episode i's reset only (0-based; repeatable; instead of --episodes)",
    (v: string, previous: number[]) => [...previous, nonNegativeInt("--reset")(v)],
    [],
  )
  .option("--max-states <n>", "refuse envs with more states than this", positiveInt("--max-states"), 50_000)
  .option("--evaluation", "replay the checkpoint's evaluation instead: one line per episode (any env, any agent)")
  .option(
    "--online",
    "with --evaluation: the online weights play it, for a run that evaluated with averaged ones (evalAverage)",
  )
  .option("--json", "print one JSON line per checkpoint instead")
  .action(async (dirs: string[], o: Options) => {
    if (o.evaluation && (o.episodes !== undefined || o.reset.length > 0))
      throw new Error(
        "inspect: --episodes and --reset choose the probe's resets; --evaluation replays all of the checkpoint's evaluation",
      );
    if (o.online && !o.evaluation)
      throw new Error("inspect: --online goes with --evaluation (it replays the evaluation)");
    await initBackend();
    for (const dir of dirs) {
      const { agent, config, step } = await loadAgent(dir);
      try {
        if (o.evaluation) {
          if (o.online && config.evalAverage === undefined)
            throw new Error(
              `inspect: ${dir}'s run evaluated with its online weights (no evalAverage); --online replays those of a run that averaged them`,
            );
          const trace = traceEvaluation(agent, config, o.online);
          const success = trace.filter((t) => t.success).length / trace.length;
          if (o.json)
            console.log(
              JSON.stringify({ checkpoint: dir, env: config.env, step, online: !!o.online, episodes: trace }),
            );
          else
            console.log(
              [
                `${dir}: ${config.env}, step ${step}, evaluation${o.online ? " with the online weights" : ""} success ${success.toFixed(2)}`,
                ...trace.map(episodeLine),
              ].join("\n"),
            );
          continue;
        }
        if (!(agent instanceof ImaginationAgent))
          throw new Error(`inspect: ${dir} holds a ${config.algorithm} agent; the probe reads an imagination agent`);
        const seeds = evaluationSeeds(Math.max(o.episodes ?? config.evalEpisodes, ...o.reset.map((i) => i + 1)));
        const reach = reachableStates(config, o.reset.length ? o.reset.map((i) => seeds[i]!) : seeds, o.maxStates);
        // The weights its evaluations act with (config.evalAverage: the averaged ones).
        const started = performance.now();
        const every = Math.max(1000, Math.ceil(reach.obs.length / 10));
        const progress = (done: number, total: number) => {
          if (done % every !== 0 || done === total) return;
          const seconds = (performance.now() - started) / 1000;
          console.error(
            `inspect: ${done} of ${total} states in ${seconds.toFixed(0)} s, about ${((seconds * (total - done)) / done / 60).toFixed(1)} min to go`,
          );
        };
        const probe = agent.evaluating(() => probeAgentStates(agent, reach, progress));
        if (o.json) console.log(JSON.stringify({ checkpoint: dir, env: config.env, step, ...probe }));
        else console.log([`${dir}: ${config.env}, step ${step}`, ...describe(probe)].join("\n"));
      } finally {
        agent.dispose();
      }
    }
  });

await runCli(program);
