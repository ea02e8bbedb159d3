// The env an agent acts in: make(id, options), with the last `frameStack` observations stacked
// (FrameStack: [k, ...shape], oldest first) when k > 1. One frame of PointMass shows where the point
// is but not how fast it moves; two show both.
import { FrameStack, make, type Env, type TypedArray } from "../envs/index.ts";

export function makeAgentEnv(
  id: string,
  envOptions: Record<string, unknown> = {},
  frameStack = 1,
): Env<TypedArray, unknown> {
  const env = make(id, envOptions) as Env<TypedArray, unknown>;
  return frameStack > 1 ? new FrameStack(env, frameStack) : env;
}
