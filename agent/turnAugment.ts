// World-model batches turned with their grids (config.turnAugment): each sequence of a batch is
// turned by its own random number of quarter turns, 0-3 (envs/grid/turn.ts says why that keeps it a
// transition). The grid env is checked once, when the agent is built.
import type { Rng } from "../common/rng.ts";
import type { ReplayBuffer, SequenceBatch } from "../data/replayBuffer.ts";
import type { Env, TypedArray } from "../envs/index.ts";
import { GridWorld } from "../envs/grid/gridWorld.ts";
import { turnGrid } from "../envs/grid/turn.ts";

/** The grid's side, or a one-line error naming why `env`'s observations cannot be turned. */
export function turnableSide(
  env: Env<TypedArray, unknown>,
  config: { egocentric?: boolean; frameStack?: number },
): number {
  const why = (what: string) => new Error(`agent config: turnAugment needs ${what}`);
  const grid = env.unwrapped;
  if (!(grid instanceof GridWorld)) throw why("a grid env (GridEmpty, GridFourRooms, GridDoorKey, GridLavaGap)");
  if (grid.options.view !== "full") throw why(`the full view, not '${grid.options.view}'`);
  if (config.egocentric || (config.frameStack ?? 1) > 1)
    throw why("the env's own observation (no egocentric, no frameStack)");
  const shape = (env.observationSpace as { shape?: readonly number[] }).shape ?? [];
  const [h, w, c] = shape;
  if (shape.length !== 3 || h !== w || c !== 3)
    throw why(`a square grid observation [n, n, 3], got [${shape.join(", ")}]`);
  return h!;
}

/** A batch from `buffer` with each sequence turned a random number of quarter turns; its codes are recomputed (no `source`). */
export function turnedSample(
  buffer: ReplayBuffer,
  side: number,
  rng: Rng,
  batch: number,
  horizon: number,
  eventFraction: number,
): SequenceBatch {
  const sample = buffer.sample(batch, horizon, rng, eventFraction);
  const cells = side * side * 3;
  const obs = sample.obs.slice() as TypedArray;
  for (let b = 0; b < sample.batch; b++) {
    const k = rng.int(4);
    for (let t = 0; t <= sample.horizon; t++) {
      const at = (b * (sample.horizon + 1) + t) * cells;
      turnGrid(sample.obs, side, k, obs, at, at);
    }
  }
  const { source: _cachedBySlot, ...rest } = sample;
  return { ...rest, obs };
}
