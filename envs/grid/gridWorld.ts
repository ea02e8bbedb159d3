// The MiniGrid-like world shared by the grid envs: a W x H grid of (object, colour, state) cells,
// an agent with a position, a direction and one carried object, MiniGrid's action semantics and
// reward `1 - 0.9 * steps / maxSteps` on reaching the goal; optionally a slippery floor (`slip`).
//
// Observation (uint8):
//   view "full"    [H, W, 3]: every cell's (object, colour, state); the agent's cell is (10, 0, dir).
//   view "partial" [V, V, 3]: MiniGrid's egocentric view, the agent at the bottom centre facing up;
//                  cells hidden behind walls and closed doors are (0, 0, 0) ("unseen").
// Rows come first (y, then x), as in an image; MiniGrid stores x first.
import type { Rng } from "../../common/rng.ts";
import { ArrayEnv, type EnvState } from "../core/env.ts";
import { StateReader } from "../core/stateReader.ts";
import { Box, Discrete, type TypedArray } from "../core/spaces.ts";
import { check, resolveOptions, type Check } from "../core/options.ts";
import { blit, type Tile } from "../render/raster.ts";
import {
  COLOR,
  DIR_DX,
  DIR_DY,
  DOOR_STATE,
  NUM_COLORS,
  NUM_STATES,
  OBJECT,
  canOverlap,
  canPickUp,
  cellFromAgent,
  drawCell,
  OUTSIDE_CELL,
  seeBehind,
} from "./objects.ts";

/** MiniGrid's actions, in its order. */
export const ACTION = { left: 0, right: 1, forward: 2, pickup: 3, drop: 4, toggle: 5, done: 6 } as const;
export type ActionName = keyof typeof ACTION;
/** Turning and moving: all that Empty, FourRooms and LavaGap need. */
export const NAVIGATION: readonly ActionName[] = ["left", "right", "forward"];
export const ALL_ACTIONS: readonly ActionName[] = ["left", "right", "forward", "pickup", "drop", "toggle", "done"];

export interface GridOptions extends Record<string, unknown> {
  /** "full": the whole grid; "partial": MiniGrid's egocentric view of viewSize x viewSize cells. */
  view: "full" | "partial";
  /** Side of the partial view (odd, >= 3). */
  viewSize: number;
  /**
   * The partial view shows what lies behind walls and closed doors (MiniGrid's see_through_walls,
   * set per env there: True for Empty, False for FourRooms, DoorKey and LavaGap).
   */
  seeThroughWalls: boolean;
  /** Pixels per cell when rendering. */
  tileSize: number;
  /** Steps allowed per episode; used by the reward formula and as make()'s time limit. */
  maxSteps: number;
  /** Expose all 7 MiniGrid actions instead of the env's minimal set. */
  fullActionSet: boolean;
  /**
   * A slippery floor (not in MiniGrid; FrozenLake's is_slippery slips with 2/3): with this
   * probability `forward` moves the agent to the cell on its left or its right instead (equally
   * likely, facing unchanged; no move when that cell is blocked). 0: deterministic.
   */
  slip: number;
}

export const GRID_DEFAULTS = {
  view: "full" as GridOptions["view"],
  viewSize: 7,
  seeThroughWalls: false,
  tileSize: 8,
  fullActionSet: false,
  slip: 0,
};

export const GRID_CHECKS: Record<keyof GridOptions, Check> = {
  view: check.oneOf(["full", "partial"]),
  viewSize: (v) =>
    typeof v === "number" && Number.isInteger(v) && v >= 3 && v % 2 === 1 ? null : "an odd integer >= 3",
  seeThroughWalls: check.bool(),
  tileSize: check.int(2, 64),
  maxSteps: check.int(1),
  fullActionSet: check.bool(),
  slip: check.number(0, 1),
};

const tileCache = new Map<number, Tile>();

export abstract class GridWorld<O extends GridOptions = GridOptions> extends ArrayEnv<number> {
  readonly options: O;
  readonly observationSpace: Box;
  readonly actionSpace: Discrete;
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** The action names behind the indices of the action space. */
  readonly actions: readonly ActionName[];
  /** Encoded cells, [H, W, 3] row-major, without the agent. */
  protected cells: Uint8Array;
  agentX = 0;
  agentY = 0;
  agentDir = 0;
  /** The carried object's (object, colour); object 0 when empty-handed. */
  carrying: [number, number] = [0, 0];
  private readonly visible: Uint8Array;

  constructor(
    override readonly defaultId: string,
    readonly width: number,
    readonly height: number,
    defaults: O,
    checks: Record<string, Check>,
    given: Partial<O> | undefined,
    minimalActions: readonly ActionName[],
  ) {
    super();
    this.options = resolveOptions(defaultId, defaults, checks as { [K in keyof O]: Check }, given);
    const { view, viewSize, tileSize } = this.options;
    const [rows, cols] = view === "full" ? [height, width] : [viewSize, viewSize];
    const high = new Float64Array(rows * cols * 3);
    for (let i = 0; i < rows * cols; i++) high.set([OBJECT.agent, NUM_COLORS - 1, NUM_STATES - 1], i * 3);
    this.observationSpace = new Box(0, high, [rows, cols, 3], "uint8");
    this.actions = this.options.fullActionSet ? ALL_ACTIONS : minimalActions;
    this.actionSpace = new Discrete(this.actions.length);
    this.frameWidth = width * tileSize;
    this.frameHeight = height * tileSize;
    this.cells = new Uint8Array(width * height * 3);
    this.visible = new Uint8Array(viewSize * viewSize);
  }

  /** Lays out the grid and places the agent for a new episode. */
  protected abstract generate(rng: Rng): void;

  protected resetState(rng: Rng): void {
    this.cells.fill(0);
    for (let i = 0; i < this.width * this.height; i++) this.cells[i * 3] = OBJECT.empty;
    this.carrying = [0, 0];
    this.generate(rng);
  }

  // --- grid helpers for generate() ---
  protected index(x: number, y: number): number {
    return (y * this.width + x) * 3;
  }
  put(x: number, y: number, obj: number, color = 0, state = 0): void {
    const i = this.index(x, y);
    this.cells[i] = obj;
    this.cells[i + 1] = color;
    this.cells[i + 2] = state;
  }
  objectAt(x: number, y: number): number {
    return this.cells[this.index(x, y)]!;
  }
  protected wallRect(x0: number, y0: number, w: number, h: number): void {
    for (let x = x0; x < x0 + w; x++) {
      this.put(x, y0, OBJECT.wall, COLOR.grey);
      this.put(x, y0 + h - 1, OBJECT.wall, COLOR.grey);
    }
    for (let y = y0; y < y0 + h; y++) {
      this.put(x0, y, OBJECT.wall, COLOR.grey);
      this.put(x0 + w - 1, y, OBJECT.wall, COLOR.grey);
    }
  }
  /** A uniformly drawn empty cell of the rectangle that the agent does not occupy (MiniGrid's place_obj). */
  protected randomEmptyCell(rng: Rng, x0: number, y0: number, w: number, h: number): [number, number] {
    for (let tries = 0; tries < 10000; tries++) {
      const x = x0 + rng.int(w);
      const y = y0 + rng.int(h);
      if (this.objectAt(x, y) === OBJECT.empty && !(x === this.agentX && y === this.agentY)) return [x, y];
    }
    throw new Error(`${this.label}: no empty cell in the rectangle (${x0}, ${y0}, ${w}, ${h})`);
  }
  protected placeAgent(rng: Rng, x0 = 1, y0 = 1, w = this.width - 2, h = this.height - 2): void {
    this.agentX = -1;
    [this.agentX, this.agentY] = this.randomEmptyCell(rng, x0, y0, w, h);
    this.agentDir = rng.int(4);
  }

  // --- dynamics ---
  protected transition(action: number): number {
    const act = this.actions[action]!;
    const fx = this.agentX + DIR_DX[this.agentDir]!;
    const fy = this.agentY + DIR_DY[this.agentDir]!;
    const fi = this.index(fx, fy);
    const fObj = this.cells[fi]!;
    const fState = this.cells[fi + 2]!;
    switch (act) {
      case "left":
        this.agentDir = (this.agentDir + 3) & 3;
        break;
      case "right":
        this.agentDir = (this.agentDir + 1) & 3;
        break;
      case "forward": {
        // The draw only with a slippery floor, so that deterministic runs keep their random stream.
        if (this.options.slip > 0 && this.rng!.float() < this.options.slip) return this.slide();
        if (!canOverlap(fObj, fState)) break;
        return this.enter(fx, fy);
      }
      case "pickup":
        if (this.carrying[0] === 0 && canPickUp(fObj)) {
          this.carrying = [fObj, this.cells[fi + 1]!];
          this.put(fx, fy, OBJECT.empty);
        }
        break;
      case "drop":
        if (this.carrying[0] !== 0 && fObj === OBJECT.empty) {
          this.put(fx, fy, this.carrying[0], this.carrying[1]);
          this.carrying = [0, 0];
        }
        break;
      case "toggle":
        if (fObj === OBJECT.door) {
          const color = this.cells[fi + 1]!;
          if (fState === DOOR_STATE.locked) {
            if (this.carrying[0] === OBJECT.key && this.carrying[1] === color) this.cells[fi + 2] = DOOR_STATE.open;
          } else {
            this.cells[fi + 2] = fState === DOOR_STATE.open ? DOOR_STATE.closed : DOOR_STATE.open;
          }
        }
        break;
      case "done":
        break;
    }
    return 0;
  }

  /** Moves the agent onto (x, y) (which it can overlap): the goal rewards and ends, lava ends. */
  private enter(x: number, y: number): number {
    const obj = this.cells[this.index(x, y)]!;
    this.agentX = x;
    this.agentY = y;
    if (obj === OBJECT.goal) {
      this.terminated = true;
      return 1 - (0.9 * this.elapsed) / this.options.maxSteps;
    }
    if (obj === OBJECT.lava) this.terminated = true;
    return 0;
  }

  /** A slip: one cell to the agent's left or right (equally likely), if that cell can be entered. */
  private slide(): number {
    const side = (this.agentDir + (this.rng!.float() < 0.5 ? 3 : 1)) & 3;
    const x = this.agentX + DIR_DX[side]!;
    const y = this.agentY + DIR_DY[side]!;
    const i = this.index(x, y);
    return canOverlap(this.cells[i]!, this.cells[i + 2]!) ? this.enter(x, y) : 0;
  }

  // --- observation ---
  protected writeObs(out: TypedArray, offset: number): void {
    if (this.options.view === "full") {
      out.set(this.cells, offset);
      const a = offset + this.index(this.agentX, this.agentY);
      out[a] = OBJECT.agent;
      out[a + 1] = COLOR.red;
      out[a + 2] = this.agentDir;
      return;
    }
    const v = this.options.viewSize;
    this.computeVisibility();
    for (let j = 0; j < v; j++) {
      for (let i = 0; i < v; i++) {
        const o = offset + (j * v + i) * 3;
        if (!this.visible[j * v + i]) {
          out[o] = out[o + 1] = out[o + 2] = OBJECT.unseen;
        } else if (i === v >> 1 && j === v - 1) {
          // The agent's own cell shows what it carries (MiniGrid).
          out[o] = this.carrying[0] || OBJECT.empty;
          out[o + 1] = this.carrying[1];
          out[o + 2] = 0;
        } else {
          this.readViewCell(i, j, out, o);
        }
      }
    }
  }

  /** World coordinates of view cell (i, j): forward is up, right is right. */
  private viewToWorld(i: number, j: number): number {
    const v = this.options.viewSize;
    const cell = cellFromAgent(
      this.agentX,
      this.agentY,
      this.agentDir,
      v - 1 - j,
      i - (v >> 1),
      this.width,
      this.height,
    );
    return cell < 0 ? -1 : cell * 3;
  }

  /** Cells outside the world read as walls (MiniGrid's slice). */
  private readViewCell(i: number, j: number, out: TypedArray, o: number): void {
    const w = this.viewToWorld(i, j);
    if (w < 0) {
      out[o] = OUTSIDE_CELL[0];
      out[o + 1] = OUTSIDE_CELL[1];
      out[o + 2] = OUTSIDE_CELL[2];
    } else {
      out[o] = this.cells[w]!;
      out[o + 1] = this.cells[w + 1]!;
      out[o + 2] = this.cells[w + 2]!;
    }
  }

  private transparent(i: number, j: number): boolean {
    const w = this.viewToWorld(i, j);
    return w >= 0 && seeBehind(this.cells[w]!, this.cells[w + 2]!);
  }

  /** MiniGrid's process_vis: light spreads from the agent through cells that can be seen behind. */
  private computeVisibility(): void {
    const v = this.options.viewSize;
    const vis = this.visible;
    if (this.options.seeThroughWalls) return void vis.fill(1);
    vis.fill(0);
    vis[(v - 1) * v + (v >> 1)] = 1;
    for (let j = v - 1; j >= 0; j--) {
      for (let i = 0; i < v - 1; i++) {
        if (!vis[j * v + i] || !this.transparent(i, j)) continue;
        vis[j * v + i + 1] = 1;
        if (j > 0) vis[(j - 1) * v + i + 1] = vis[(j - 1) * v + i] = 1;
      }
      for (let i = v - 1; i > 0; i--) {
        if (!vis[j * v + i] || !this.transparent(i, j)) continue;
        vis[j * v + i - 1] = 1;
        if (j > 0) vis[(j - 1) * v + i - 1] = vis[(j - 1) * v + i] = 1;
      }
    }
  }

  // --- rendering ---
  /**
   * The env keeps its last frame and the tile key of every cell in it: a step redraws only the cells
   * whose key changed (the agent's old and new cell, a door, a key), then copies the frame out. A full
   * redraw of a 256x256 frame at 32-px tiles costs ~2k row copies; this costs two tiles and one copy.
   */
  private frame: Uint8Array | undefined;
  private frameKeys: Int32Array | undefined;

  protected draw(out: Uint8Array): void {
    const t = this.options.tileSize;
    this.frame ??= new Uint8Array(this.frameWidth * this.frameHeight * 3);
    this.frameKeys ??= new Int32Array(this.width * this.height).fill(-1);
    const highlighted = this.options.view === "partial" ? this.highlightedCells() : undefined;
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const i = this.index(x, y);
        const dir = x === this.agentX && y === this.agentY ? this.agentDir : -1;
        const hl = highlighted?.has(y * this.width + x) ?? false;
        const key =
          this.cells[i]! |
          (this.cells[i + 1]! << 4) |
          (this.cells[i + 2]! << 8) |
          ((dir + 1) << 10) |
          (+hl << 13) |
          (t << 14);
        if (this.frameKeys[y * this.width + x] === key) continue;
        this.frameKeys[y * this.width + x] = key;
        let tile = tileCache.get(key);
        if (tile === undefined) {
          tile = drawCell(t, this.cells[i]!, this.cells[i + 1]!, this.cells[i + 2]!, dir, hl);
          tileCache.set(key, tile);
        }
        blit(this.frame, this.frameWidth, tile, x * t, y * t);
      }
    }
    out.set(this.frame);
  }

  private highlightedCells(): Set<number> {
    const v = this.options.viewSize;
    this.computeVisibility();
    const cells = new Set<number>();
    for (let j = 0; j < v; j++) {
      for (let i = 0; i < v; i++) {
        const w = this.viewToWorld(i, j);
        if (this.visible[j * v + i] && w >= 0) cells.add(w / 3);
      }
    }
    return cells;
  }

  // --- state ---
  protected saveState(): EnvState {
    return {
      cells: Array.from(this.cells),
      agent: [this.agentX, this.agentY, this.agentDir],
      carrying: [...this.carrying],
    };
  }
  protected loadState(state: EnvState): void {
    const read = new StateReader(`${this.label}.setState`, state);
    const cells = read.ints("cells", this.cells.length, 0, 255); // [H, W, 3] of this grid
    const agent = read.ints("agent", 3, 0, [this.width - 1, this.height - 1, 3]);
    const carrying = read.ints("carrying", 2, 0, 255);
    this.cells.set(cells);
    [this.agentX, this.agentY, this.agentDir] = agent as [number, number, number];
    this.carrying = [carrying[0]!, carrying[1]!];
  }
}
