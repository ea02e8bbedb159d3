// MiniGrid's encoding of cells as (object, colour, state) and how each object looks.
import { Tile, inCircle, inRect, inTriangle, rotated, type RGB } from "../render/raster.ts";

export const OBJECT = {
  unseen: 0,
  empty: 1,
  wall: 2,
  floor: 3,
  door: 4,
  key: 5,
  ball: 6,
  box: 7,
  goal: 8,
  lava: 9,
  agent: 10,
} as const;
export const COLOR = { red: 0, green: 1, blue: 2, purple: 3, yellow: 4, grey: 5 } as const;
export const DOOR_STATE = { open: 0, closed: 1, locked: 2 } as const;
export const NUM_OBJECTS = 11;
export const NUM_COLORS = 6;
export const NUM_STATES = 4; // door states 0..2, agent direction 0..3

export const COLOR_RGB: readonly RGB[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [112, 39, 195],
  [255, 255, 0],
  [100, 100, 100],
];

/** Directions as MiniGrid: 0 right, 1 down, 2 left, 3 up (screen coordinates, y grows downwards). */
export const DIR_DX = [1, 0, -1, 0] as const;
export const DIR_DY = [0, 1, 0, -1] as const;

/** What a cell beyond the grid reads in an agent-centred view (MiniGrid's slice): a grey wall. */
export const OUTSIDE_CELL = [OBJECT.wall, COLOR.grey, 0] as const;

/**
 * The cell `fwd` ahead of and `right` to the right of (x, y) for an agent facing `dir`, as its
 * number y * width + x in a width x height grid, or -1 beyond the grid: the rotation of every
 * agent-centred view (forward is up, right is right).
 */
export function cellFromAgent(
  x: number,
  y: number,
  dir: number,
  fwd: number,
  right: number,
  width: number,
  height: number,
): number {
  const wx = x + fwd * DIR_DX[dir]! - right * DIR_DY[dir]!;
  const wy = y + fwd * DIR_DY[dir]! + right * DIR_DX[dir]!;
  return wx >= 0 && wy >= 0 && wx < width && wy < height ? wy * width + wx : -1;
}

/** Can the agent stand on this cell? */
export function canOverlap(obj: number, state: number): boolean {
  return (
    obj === OBJECT.empty ||
    obj === OBJECT.floor ||
    obj === OBJECT.goal ||
    obj === OBJECT.lava ||
    (obj === OBJECT.door && state === DOOR_STATE.open)
  );
}

/** Does this cell let the agent see past it (partial view)? */
export function seeBehind(obj: number, state: number): boolean {
  return obj !== OBJECT.wall && !(obj === OBJECT.door && state !== DOOR_STATE.open);
}

export function canPickUp(obj: number): boolean {
  return obj === OBJECT.key || obj === OBJECT.ball || obj === OBJECT.box;
}

const GRID_LINE: RGB = [100, 100, 100];
const LAVA_RGB: RGB = [255, 128, 0];
const scale = (c: RGB, f: number): RGB => [Math.round(c[0] * f), Math.round(c[1] * f), Math.round(c[2] * f)];

/** Draws one cell; `agentDir` >= 0 draws the agent (a red triangle) on top. */
export function drawCell(
  size: number,
  obj: number,
  color: number,
  state: number,
  agentDir: number,
  highlight: boolean,
): Tile {
  const tile = new Tile(size);
  const c = COLOR_RGB[color] ?? GRID_LINE;
  switch (obj) {
    case OBJECT.wall:
      tile.fill(() => true, c);
      break;
    case OBJECT.goal:
      tile.fill(() => true, c);
      break;
    case OBJECT.floor:
      tile.fill(inRect(0.031, 1, 0.031, 1), scale(c, 0.5));
      break;
    case OBJECT.lava:
      tile.fill(() => true, LAVA_RGB);
      for (const y0 of [0.3, 0.5, 0.7]) {
        tile.fill(
          (x, y) => x >= 0.1 && x <= 0.9 && Math.abs(y - y0 - 0.03 * Math.sin(x * 4 * Math.PI)) <= 0.03,
          [0, 0, 0],
        );
      }
      break;
    case OBJECT.door:
      if (state === DOOR_STATE.open) {
        tile.fill(inRect(0.88, 1, 0, 1), c).fill(inRect(0.92, 0.96, 0.04, 0.96), [0, 0, 0]);
      } else if (state === DOOR_STATE.locked) {
        tile
          .fill(() => true, c)
          .fill(inRect(0.06, 0.94, 0.06, 0.94), scale(c, 0.45))
          .fill(inRect(0.52, 0.75, 0.5, 0.56), c);
      } else {
        tile
          .fill(() => true, c)
          .fill(inRect(0.04, 0.96, 0.04, 0.96), [0, 0, 0])
          .fill(inRect(0.08, 0.92, 0.08, 0.92), c);
        tile.fill(inRect(0.12, 0.88, 0.12, 0.88), [0, 0, 0]).fill(inCircle(0.75, 0.5, 0.08), c);
      }
      break;
    case OBJECT.key:
      tile
        .fill(inRect(0.5, 0.63, 0.31, 0.88), c)
        .fill(inRect(0.38, 0.5, 0.59, 0.66), c)
        .fill(inRect(0.38, 0.5, 0.81, 0.88), c);
      tile.fill(inCircle(0.56, 0.28, 0.19), c).fill(inCircle(0.56, 0.28, 0.064), [0, 0, 0]);
      break;
    case OBJECT.ball:
      tile.fill(inCircle(0.5, 0.5, 0.31), c);
      break;
    case OBJECT.box:
      tile
        .fill(inRect(0.12, 0.88, 0.12, 0.88), c)
        .fill(inRect(0.18, 0.82, 0.18, 0.82), [0, 0, 0])
        .fill(inRect(0.16, 0.84, 0.47, 0.53), c);
      break;
  }
  if (obj !== OBJECT.wall && obj !== OBJECT.goal) {
    tile.fill(inRect(0, 0.031, 0, 1), GRID_LINE).fill(inRect(0, 1, 0, 0.031), GRID_LINE);
  }
  if (agentDir >= 0) {
    tile.fill(rotated(inTriangle([0.12, 0.19], [0.87, 0.5], [0.12, 0.81]), agentDir), COLOR_RGB[COLOR.red]!);
  }
  return highlight ? tile.highlight(0.3) : tile;
}
