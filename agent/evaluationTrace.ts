// What each episode of an evaluation did, for reading why one failed: a greedy plan that cycles
// visits few distinct observations many times; one that wanders to the time limit visits many.
// (DoorKey-8x8: the record runs' failed evaluation episodes wandered, mostly on the layouts whose
// goal can only be entered from above, which their model had not learnt; docs/efficiency-investigations.md.)
import type { TypedArray } from "../envs/index.ts";
import type { AgentConfig } from "./config.ts";
import { evaluationSeeds } from "./evaluate.ts";
import type { Learner } from "./learner.ts";
import { evaluateAgent } from "./train.ts";

export interface EpisodeTrace {
  /** The episode's reset seed. */
  seed: number;
  success: boolean;
  return: number;
  length: number;
  /** Distinct observations the agent acted on. */
  distinct: number;
  /** How often it acted on the one it met most. */
  mostVisits: number;
}

/**
 * The evaluation training makes (evaluateAgent: an agent loaded from ckpt-N repeats step N's), episode
 * by episode; `online`: with the online weights where the run evaluated with averaged ones (evalAverage).
 */
export function traceEvaluation(agent: Learner, config: AgentConfig, online = false): EpisodeTrace[] {
  const seen: string[] = [];
  const watch = (obs: TypedArray) => void seen.push(obs.join(","));
  const { offline } = evaluateAgent(agent, config, watch, online);
  const seeds = evaluationSeeds(config.evalEpisodes);
  let at = 0;
  return offline.lengths.map((length, i) => {
    const visits = new Map<string, number>();
    for (const key of seen.slice(at, at + length)) visits.set(key, (visits.get(key) ?? 0) + 1);
    at += length;
    return {
      seed: seeds[i]!,
      success: offline.successes[i]!,
      return: offline.returns[i]!,
      length,
      distinct: visits.size,
      mostVisits: Math.max(...visits.values()),
    };
  });
}
