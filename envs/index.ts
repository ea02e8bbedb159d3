// The environment suite: the Gymnasium-style API and every built-in env, registered by id.
import { register } from "./registry.ts";
import type { Env } from "./core/env.ts";
import { GridEmpty } from "./grid/empty.ts";
import { GridFourRooms } from "./grid/fourRooms.ts";
import { GridDoorKey } from "./grid/doorKey.ts";
import { GridLavaGap } from "./grid/lavaGap.ts";
import type { GridWorld } from "./grid/gridWorld.ts";
import { Catch } from "./pixel/catch.ts";
import { Breakout } from "./pixel/breakout.ts";
import { PointMass } from "./pixel/pointMass.ts";

export * from "./core/env.ts";
export * from "./core/spaces.ts";
export * from "./registry.ts";
export * from "./core/vector.ts";
export * from "./core/checker.ts";
export { Wrapper } from "./core/wrapper.ts";
export { TimeLimit } from "./wrappers/timeLimit.ts";
export { OrderEnforcing } from "./wrappers/orderEnforcing.ts";
export { PassiveEnvChecker } from "./wrappers/passiveEnvChecker.ts";
export { RecordEpisodeStatistics, type EpisodeStatistics } from "./wrappers/recordEpisodeStatistics.ts";
export { PixelObservation, resizeFrame } from "./wrappers/pixelObservation.ts";
export { FrameStack } from "./wrappers/frameStack.ts";
export { Egocentric } from "./wrappers/egocentric.ts";
export { FlattenObservation } from "./wrappers/flattenObservation.ts";
export { ActionRepeat } from "./wrappers/actionRepeat.ts";
export { BoxActionGrid } from "./wrappers/boxActionGrid.ts";
export { GridEmpty, GridFourRooms, GridDoorKey, GridLavaGap, Catch, Breakout, PointMass };
export { OBJECT, COLOR, DOOR_STATE } from "./grid/objects.ts";
export { ACTION } from "./grid/gridWorld.ts";
export { StateReader } from "./core/stateReader.ts";

const gridLimit = (env: Env<any, any>) => (env as GridWorld).options.maxSteps;

register("GridEmpty-v0", (o) => new GridEmpty(o), {
  maxEpisodeSteps: gridLimit,
  description: "MiniGrid Empty: reach the goal in an empty room (size 8)",
});
register("GridFourRooms-v0", (o) => new GridFourRooms(o), {
  maxEpisodeSteps: gridLimit,
  description: "MiniGrid FourRooms: four rooms, random start and goal (19x19)",
});
register("GridDoorKey-v0", (o) => new GridDoorKey(o), {
  maxEpisodeSteps: gridLimit,
  description: "MiniGrid DoorKey: fetch the key, unlock the door, reach the goal (8x8)",
});
register("GridLavaGap-v0", (o) => new GridLavaGap(o), {
  maxEpisodeSteps: gridLimit,
  description: "MiniGrid LavaGap: cross the lava wall through its gap (7x7)",
});
register("Catch-v0", (o) => new Catch(o), {
  description: "bsuite Catch: move the paddle under the falling ball (10x5)",
});
register("Breakout-v0", (o) => new Breakout(o), {
  maxEpisodeSteps: 1000,
  description: "MinAtar Breakout: bounce the ball to break bricks (10x10x4)",
});
register("PointMass-v0", (o) => new PointMass(o), {
  maxEpisodeSteps: 100,
  description: "steer a point mass to a target with a continuous 2-D force (32x32x2 pixels)",
});

// Stochastic variants: the same envs with their randomness option on (overridable in make()).
register("CatchDrift-v0", (o) => new Catch(o), {
  options: { drift: 0.2 },
  description: "Catch whose ball moves one column sideways with probability 0.2 per step",
});
register("GridEmptySlippery-v0", (o) => new GridEmpty(o), {
  maxEpisodeSteps: gridLimit,
  options: { slip: 0.2 },
  description: "GridEmpty on a slippery floor: forward goes to a side cell with probability 0.2",
});
register("BreakoutSticky-v0", (o) => new Breakout(o), {
  maxEpisodeSteps: 1000,
  options: { stickyActions: 0.1 },
  description: "Breakout with MinAtar's sticky actions (the previous action repeats with probability 0.1)",
});
register("PointMassNoisy-v0", (o) => new PointMass(o), {
  maxEpisodeSteps: 100,
  options: { actionNoise: 0.2 },
  description: "PointMass with Gaussian action noise (sd 0.2, clipped)",
});
