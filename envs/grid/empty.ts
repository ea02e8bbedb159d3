// GridEmpty-v0 (MiniGrid Empty): an empty room; reach the green goal in the far corner.
import type { Rng } from "../../common/rng.ts";
import { check } from "../core/options.ts";
import { GRID_CHECKS, GRID_DEFAULTS, GridWorld, NAVIGATION, type GridOptions } from "./gridWorld.ts";
import { COLOR, OBJECT } from "./objects.ts";

export interface EmptyOptions extends GridOptions {
  /** Side of the room, walls included. */
  size: number;
  /** Start at a random cell and direction instead of (1, 1) facing right (MiniGrid's Empty-Random). */
  randomStart: boolean;
}

export class GridEmpty extends GridWorld<EmptyOptions> {
  constructor(options?: Partial<EmptyOptions>) {
    const size = options?.size ?? 8;
    const checks = { ...GRID_CHECKS, size: check.int(4, 64), randomStart: check.bool() };
    // MiniGrid builds Empty with see_through_walls=True.
    super(
      "GridEmpty-v0",
      size,
      size,
      { ...GRID_DEFAULTS, seeThroughWalls: true, size, randomStart: false, maxSteps: 4 * size * size },
      checks,
      options,
      NAVIGATION,
    );
  }

  protected generate(rng: Rng): void {
    const s = this.options.size;
    this.wallRect(0, 0, s, s);
    this.put(s - 2, s - 2, OBJECT.goal, COLOR.green);
    if (this.options.randomStart) this.placeAgent(rng);
    else [this.agentX, this.agentY, this.agentDir] = [1, 1, 0];
  }
}
