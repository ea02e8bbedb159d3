// The env an agent acts in: make(id, options), with the last `frameStack` observations stacked
// (FrameStack: [k, ...shape], oldest first) when k > 1, and a Box action space made Discrete when
// `actionGrid` is set (BoxActionGrid). One frame of PointMass shows where the point is but not how
// fast it moves; two show both. DQN picks among discrete actions only. A grid's full view is redrawn
// around the agent (Egocentric) when `egocentric` is set, before any stacking.
import { BoxActionGrid, Egocentric, FrameStack, make, type Env, type TypedArray } from "../envs/index.ts";

/** The agent config's fields that shape its env (an AgentConfig is one). */
export interface AgentEnvSpec {
  env: string;
  envOptions?: Record<string, unknown>;
  frameStack?: number;
  actionGrid?: number;
  egocentric?: boolean;
}

/**
 * The spec's options that change what the agent observes or how it acts, each under the condition
 * makeAgentEnv applies it (`actionGrid` set, `egocentric` true, `frameStack` > 1); [] for the env's own.
 */
export function reshapingOptions(spec: Omit<AgentEnvSpec, "env">): string[] {
  return [
    ...(spec.frameStack !== undefined && spec.frameStack > 1 ? ["frameStack"] : []),
    ...(spec.actionGrid ? ["actionGrid"] : []),
    ...(spec.egocentric ? ["egocentric"] : []),
  ];
}

export function makeAgentEnv(spec: AgentEnvSpec): Env<TypedArray, unknown> {
  const made = make(spec.env, spec.envOptions ?? {}) as Env<TypedArray, unknown>;
  const acting = spec.actionGrid
    ? (new BoxActionGrid(made as Env<TypedArray, TypedArray>, spec.actionGrid) as Env<TypedArray, unknown>)
    : made;
  const env = spec.egocentric ? new Egocentric(acting) : acting;
  return (spec.frameStack ?? 1) > 1 ? new FrameStack(env, spec.frameStack!) : env;
}
