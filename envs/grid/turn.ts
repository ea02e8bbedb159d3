// A grid turned a quarter clockwise, k times. The grids' rules do not depend on which way a layout
// faces: every action is relative to the agent's heading (left, right, forward; pickup, drop and
// toggle act on the cell ahead), so a transition turned with its grid is a transition of the turned
// layout, with the same action and reward. A model can then learn a step from all four headings
// from one of them (agent config `turnAugment`; DoorKey-8x8: a goal only ever entered from the left
// was never predicted from above, docs/efficiency-investigations.md).
import { OBJECT } from "./objects.ts";

type Cells = { [i: number]: number; readonly length: number };

/**
 * Writes the full-grid observation at src[from..] ([n, n, 3] (object, colour, state) cells, row-major)
 * into dst[to..] turned k quarter turns clockwise: cell (x, y) moves to (n-1-y, x) per turn, and the
 * agent's heading (its state) d becomes d + k (0 right, 1 down, 2 left, 3 up).
 */
export function turnGrid(src: Cells, n: number, k: number, dst: Cells, from = 0, to = 0): void {
  const turns = ((k % 4) + 4) % 4;
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const [tx, ty] = [
        [x, y],
        [n - 1 - y, x],
        [n - 1 - x, n - 1 - y],
        [y, n - 1 - x],
      ][turns]!;
      const s = from + (y * n + x) * 3;
      const d = to + (ty! * n + tx!) * 3;
      dst[d] = src[s]!;
      dst[d + 1] = src[s + 1]!;
      dst[d + 2] = src[s]! === OBJECT.agent ? (src[s + 2]! + turns) % 4 : src[s + 2]!;
    }
}
