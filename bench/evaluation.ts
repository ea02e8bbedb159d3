// npm run bench -- evaluation [--checkpoint=DIR] [--rounds=N] [--episodes=N] [--quick]: one evaluation
// (evaluateAgent, as training makes it, with the weights the run evaluates with; evalOnline's second
// pass left out) of a searching agent, answering the start codes it has searched already from their
// Q (the agent's evalRoots) against a search on every act. Rounds alternate which goes first; every
// round's actions must be the same. Without a checkpoint: a fresh agent with DoorKey-8x8's
// settings, whose greedy plan at its initial weights walks the grid to the step limit, as a young
// agent's failed evaluation episodes do.
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ImaginationAgent } from "../agent/agent.ts";
import { parseAgentConfig, type AgentConfig } from "../agent/config.ts";
import { buildAgent, loadAgent } from "../agent/load.ts";
import { evaluateAgent } from "../agent/train.ts";
import type { Learner } from "../agent/learner.ts";
import { initBackend } from "../backend/init.ts";
import { PER_TASK } from "../experiments/efficiency/efficiency.ts";
import { median, printTable } from "./timing.ts";

export async function benchEvaluation(args: string[]): Promise<void> {
  const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = args.includes("--quick");
  const checkpoint = option("checkpoint");
  const rounds = Number(option("rounds") ?? (quick ? 1 : 3));
  const episodes = option("episodes") === undefined ? undefined : Number(option("episodes"));
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error("bench evaluation: --rounds must be a whole number >= 1");
  if (episodes !== undefined && (!Number.isInteger(episodes) || episodes < 1))
    throw new Error("bench evaluation: --episodes must be a whole number >= 1");
  const info = await initBackend();
  const { agent, config, about } = checkpoint ? await fromCheckpoint(checkpoint) : freshDoorKey(quick);
  if (!(agent instanceof ImaginationAgent) || !config.planner.search) {
    agent.dispose();
    throw new Error(`bench evaluation: ${checkpoint} is not a searching imagination agent's (planner.search)`);
  }
  if (episodes !== undefined) config.evalEpisodes = episodes;
  config.evalOnline = false;
  const bound = ImaginationAgent.evalRootCodes;
  const variants = [
    { name: "a search every act", roots: 0, ms: [] as number[], acts: 0, reused: 0 },
    { name: "searched start codes kept", roots: bound, ms: [] as number[], acts: 0, reused: 0 },
  ];
  const actions = new Set<string>();
  console.log(`bench evaluation: ${about}, ${config.evalEpisodes} episodes, ${rounds} rounds, backend ${info.kind}`);
  try {
    for (let r = 0; r < rounds; r++)
      for (const v of r % 2 ? [...variants].reverse() : variants) {
        ImaginationAgent.evalRootCodes = v.roots;
        const reused = agent.searchesReused;
        const hash = createHash("sha256");
        let acts = 0;
        const t0 = performance.now();
        evaluateAgent(agent, config, (_obs, action) => {
          hash.update(Int32Array.from(action));
          acts++;
        });
        v.ms.push(performance.now() - t0);
        v.acts = acts;
        v.reused = agent.searchesReused - reused;
        actions.add(hash.digest("hex"));
      }
  } finally {
    ImaginationAgent.evalRootCodes = bound;
    agent.dispose();
  }
  if (actions.size !== 1)
    throw new Error(`bench evaluation: the evaluations took ${actions.size} different action sequences, not one`);
  const base = median(variants[0]!.ms);
  printTable(
    variants.map((v) => ({
      evaluation: v.name,
      "ms (median)": median(v.ms),
      range: `${Math.round(Math.min(...v.ms))}-${Math.round(Math.max(...v.ms))}`,
      acts: v.acts,
      "searches answered": `${v.reused}`,
      "ms/act": median(v.ms) / v.acts,
      ratio: median(v.ms) / base,
    })),
  );
  console.log("every round took the same actions");
}

async function fromCheckpoint(dir: string): Promise<{ agent: Learner; config: AgentConfig; about: string }> {
  const { agent, config, step } = await loadAgent(dir);
  return { agent, config, about: `${config.env} agent at step ${step} (${dir})` };
}

/** A fresh agent with DoorKey-8x8's per-task settings (initial weights). */
function freshDoorKey(quick: boolean): { agent: Learner; config: AgentConfig; about: string } {
  const config = parseAgentConfig({
    env: "GridDoorKey-v0",
    envOptions: { size: 8 },
    ...PER_TASK["GridDoorKey-v0-8x8"],
    evalEpisodes: quick ? 1 : 2,
  });
  return { agent: buildAgent(config), config, about: "DoorKey-8x8 agent at its initial weights" };
}
