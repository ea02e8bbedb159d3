// GridFourRooms-v0 (MiniGrid FourRooms, Sutton et al. 1999): four rooms joined by one gap in each
// inner wall, all placed at random, with a random start and goal.
import type { Rng } from "../../common/rng.ts";
import { check } from "../core/options.ts";
import { GRID_CHECKS, GRID_DEFAULTS, GridWorld, NAVIGATION, type GridOptions } from "./gridWorld.ts";
import { COLOR, OBJECT } from "./objects.ts";

export interface FourRoomsOptions extends GridOptions {
  /** Side of the grid, walls included (MiniGrid: 19). */
  size: number;
}

export class GridFourRooms extends GridWorld<FourRoomsOptions> {
  constructor(options?: Partial<FourRoomsOptions>) {
    const size = options?.size ?? 19;
    const checks = { ...GRID_CHECKS, size: check.int(7, 64) };
    super("GridFourRooms-v0", size, size, { ...GRID_DEFAULTS, size, maxSteps: 100 }, checks, options, NAVIGATION);
  }

  protected generate(rng: Rng): void {
    const s = this.options.size;
    this.wallRect(0, 0, s, s);
    const room = Math.floor(s / 2);
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < 2; i++) {
        const [left, top] = [i * room, j * room];
        const [right, bottom] = [left + room, top + room];
        if (i === 0) {
          for (let y = top; y < bottom; y++) this.put(right, y, OBJECT.wall, COLOR.grey);
          this.put(right, top + 1 + rng.int(room - 1), OBJECT.empty);
        }
        if (j === 0) {
          for (let x = left; x < right; x++) this.put(x, bottom, OBJECT.wall, COLOR.grey);
          this.put(left + 1 + rng.int(room - 1), bottom, OBJECT.empty);
        }
      }
    }
    this.placeAgent(rng);
    const [gx, gy] = this.randomEmptyCell(rng, 1, 1, s - 2, s - 2);
    this.put(gx, gy, OBJECT.goal, COLOR.green);
  }
}
