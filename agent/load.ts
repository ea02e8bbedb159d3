// Loading a trained agent in one call: the config is read from the checkpoint, the env and the agent
// are rebuilt from it, and the weights, optimiser state, replay buffer and the agent's run state
// (Learner.runState) are loaded and verified: it acts as the run's agent did at that step.
import type { ReplayBuffer } from "../data/replayBuffer.ts";
import type { Env, TypedArray } from "../envs/index.ts";
import { makeAgentEnv } from "./agentEnv.ts";
import { ImaginationAgent } from "./agent.ts";
import { checkpointAt, loadAgentCheckpoint, verifyCheckpoint } from "./checkpoint.ts";
import { parseAgentConfig, type AgentConfig } from "./config.ts";
import { DqnAgent } from "./dqn.ts";
import type { Learner } from "./learner.ts";

/** An agent built from its config, as trainAgent builds it (same seeds, same initial weights). */
export function buildAgent(config: AgentConfig, env: Env<TypedArray, unknown> = makeAgentEnv(config)): Learner {
  return config.algorithm === "dqn"
    ? new DqnAgent(config.dqn, config.worldModel, env, config.seed)
    : new ImaginationAgent(config, env, config.seed);
}

/**
 * The agent of a checkpoint: `dir` is a run's checkpoint folder (the one holding latest.json, e.g.
 * results/latest/checkpoint) or one ckpt-N folder in it.
 */
export async function loadAgent(
  dir: string,
): Promise<{ agent: Learner; config: AgentConfig; step: number; buffer: ReplayBuffer }> {
  const ckpt = checkpointAt(dir, "loadAgent");
  const json = verifyCheckpoint(ckpt);
  const config = parseAgentConfig(json.state.config);
  const agent = buildAgent(config);
  try {
    const { buffer, state } = await loadAgentCheckpoint<{ step: number; agent?: unknown }>(
      ckpt,
      agent,
      2 * config.steps + 2,
      json,
    );
    // Its random streams, planner warm start and memories too: an evaluation draws from them.
    agent.resumed?.(state.agent, buffer);
    return { agent, config, step: state.step, buffer };
  } catch (err) {
    agent.dispose();
    throw err;
  }
}
