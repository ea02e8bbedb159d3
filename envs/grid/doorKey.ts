// GridDoorKey-v0 (MiniGrid DoorKey): pick up the key, unlock the door in the dividing wall, reach
// the goal. Sparse reward, so exploration is hard.
import type { Rng } from "../../common/rng.ts";
import { check } from "../core/options.ts";
import { GRID_CHECKS, GRID_DEFAULTS, GridWorld, type GridOptions } from "./gridWorld.ts";
import { COLOR, DOOR_STATE, OBJECT } from "./objects.ts";

export interface DoorKeyOptions extends GridOptions {
  /** Side of the grid, walls included (MiniGrid: 5, 6, 8, 16). */
  size: number;
}

export class GridDoorKey extends GridWorld<DoorKeyOptions> {
  constructor(options?: Partial<DoorKeyOptions>) {
    const size = options?.size ?? 8;
    const checks = { ...GRID_CHECKS, size: check.int(5, 64) };
    const actions = ["left", "right", "forward", "pickup", "drop", "toggle"] as const;
    super(
      "GridDoorKey-v0",
      size,
      size,
      { ...GRID_DEFAULTS, size, maxSteps: 10 * size * size },
      checks,
      options,
      actions,
    );
  }

  protected generate(rng: Rng): void {
    const s = this.options.size;
    this.wallRect(0, 0, s, s);
    this.put(s - 2, s - 2, OBJECT.goal, COLOR.green);
    const split = 2 + rng.int(s - 4);
    for (let y = 0; y < s; y++) this.put(split, y, OBJECT.wall, COLOR.grey);
    this.placeAgent(rng, 1, 1, split - 1, s - 2);
    this.put(split, 1 + rng.int(s - 3), OBJECT.door, COLOR.yellow, DOOR_STATE.locked);
    const [kx, ky] = this.randomEmptyCell(rng, 1, 1, split - 1, s - 2);
    this.put(kx, ky, OBJECT.key, COLOR.yellow);
  }
}
