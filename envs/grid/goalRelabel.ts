// Goal relabelling for the grids' full view (hindsight experience replay, Andrychowicz et al. 2017):
// where the agent stands in an observation, the observation redrawn with the goal on another cell,
// and what reaching that goal pays. A replayed step of any episode then also teaches how to reach
// the cells that episode went through, on tasks whose goal moves every episode (FourRooms).
import type { Env } from "../core/env.ts";
import { Box, type TypedArray } from "../core/spaces.ts";
import { GridWorld } from "./gridWorld.ts";
import { COLOR, OBJECT } from "./objects.ts";

export interface GoalRelabeler {
  /** Values per observation ([H, W, 3]). */
  readonly obsSize: number;
  /** The agent's cell (y * W + x) in the observation at `offset`. */
  agentCell(obs: TypedArray, offset: number): number;
  /** Copies the observation at `offset` into `out` at `outOffset` with its goals cleared and one at `cell` (under the agent, none shows: MiniGrid draws the agent on top). */
  withGoalAt(obs: TypedArray, offset: number, cell: number, out: TypedArray, outOffset: number): void;
  /** The env's reward for reaching the goal at the episode's `elapsed`-th step. */
  reward(elapsed: number): number;
}

/** The relabeler of a grid env with the full view and a goal, or why it has none. */
export function gridGoalRelabeler(env: GridWorld): GoalRelabeler {
  const { width, height, options } = env;
  if (options.view !== "full")
    throw new Error(`goal relabelling: ${env.defaultId} must use the full view (view: "full"), got "${options.view}"`);
  const cells = width * height;
  return {
    obsSize: cells * 3,
    agentCell(obs, offset) {
      for (let c = 0; c < cells; c++) if (obs[offset + c * 3] === OBJECT.agent) return c;
      throw new Error("goal relabelling: an observation shows no agent");
    },
    withGoalAt(obs, offset, cell, out, outOffset) {
      out.set(obs.subarray(offset, offset + cells * 3), outOffset);
      for (let c = 0; c < cells; c++) {
        const o = outOffset + c * 3;
        if (out[o] === OBJECT.goal) out.set([OBJECT.empty, 0, 0], o);
      }
      const o = outOffset + cell * 3;
      if (out[o] !== OBJECT.agent) out.set([OBJECT.goal, COLOR.green, 0], o);
    },
    reward: (elapsed) => 1 - (0.9 * elapsed) / options.maxSteps,
  };
}

/** The relabeler of an env whose innermost env is a full-view grid, checking that no wrapper reshapes its observation. */
export function goalRelabelerOf(env: Env<unknown, unknown>): GoalRelabeler {
  const inner = env.unwrapped;
  if (!(inner instanceof GridWorld))
    throw new Error("goal relabelling: needs a grid env (GridEmpty, GridFourRooms, GridDoorKey, GridLavaGap)");
  const relabeler = gridGoalRelabeler(inner);
  const space = env.observationSpace;
  if (!(space instanceof Box) || space.shape.reduce((a, b) => a * b, 1) !== relabeler.obsSize)
    throw new Error("goal relabelling: the agent's observation is not the grid's own (egocentric or frameStack)");
  return relabeler;
}
