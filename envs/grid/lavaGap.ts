// GridLavaGap-v0 (MiniGrid LavaGap): a wall of lava with one gap between start and goal.
// Stepping into lava terminates the episode with reward 0.
import type { Rng } from "../../common/rng.ts";
import { check } from "../core/options.ts";
import { GRID_CHECKS, GRID_DEFAULTS, GridWorld, NAVIGATION, type GridOptions } from "./gridWorld.ts";
import { COLOR, OBJECT } from "./objects.ts";

export interface LavaGapOptions extends GridOptions {
  /** Side of the grid, walls included (MiniGrid: 5, 6, 7). */
  size: number;
}

export class GridLavaGap extends GridWorld<LavaGapOptions> {
  constructor(options?: Partial<LavaGapOptions>) {
    const size = options?.size ?? 7;
    const checks = { ...GRID_CHECKS, size: check.int(5, 64) };
    super(
      "GridLavaGap-v0",
      size,
      size,
      { ...GRID_DEFAULTS, size, maxSteps: 4 * size * size },
      checks,
      options,
      NAVIGATION,
    );
  }

  protected generate(rng: Rng): void {
    const s = this.options.size;
    this.wallRect(0, 0, s, s);
    [this.agentX, this.agentY, this.agentDir] = [1, 1, 0];
    this.put(s - 2, s - 2, OBJECT.goal, COLOR.green);
    const gapX = 2 + rng.int(s - 4);
    const gapY = 1 + rng.int(s - 2);
    for (let y = 1; y < s - 1; y++) if (y !== gapY) this.put(gapX, y, OBJECT.lava, COLOR.red);
  }
}
