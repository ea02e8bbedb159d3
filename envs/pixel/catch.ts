// Catch-v0 (bsuite's catch): a ball falls one row per step from a random column of the top row;
// move the paddle on the bottom row under it. The episode terminates when the ball reaches the
// bottom row: reward +1 for a catch, -1 for a miss. With `drift` > 0 the ball also moves sideways at
// random (a stochastic variant).
// Actions: 0 left, 1 stay, 2 right. Observation: uint8 [rows, columns, 1], 1 on the ball and the paddle.
import type { Rng } from "../../common/rng.ts";
import { ArrayEnv, type EnvState } from "../core/env.ts";
import { StateReader } from "../core/stateReader.ts";
import { check, resolveOptions } from "../core/options.ts";
import { Box, Discrete, type TypedArray } from "../core/spaces.ts";
import type { RGB } from "../render/raster.ts";
import { drawBoard } from "./cellFrame.ts";

export interface CatchOptions extends Record<string, unknown> {
  rows: number;
  columns: number;
  /** Pixels per cell when rendering. */
  cellSize: number;
  /**
   * Each step, with this probability the falling ball also moves one column sideways (left or right
   * equally likely; away from the wall at an edge). 0: deterministic (bsuite's catch).
   */
  drift: number;
}

const BACKGROUND: RGB = [0, 0, 0];
const BALL: RGB = [255, 255, 255];
const PADDLE: RGB = [80, 160, 255];

export class Catch extends ArrayEnv<number> {
  override readonly defaultId = "Catch-v0";
  readonly options: CatchOptions;
  readonly observationSpace: Box;
  readonly actionSpace = new Discrete(3);
  readonly frameWidth: number;
  readonly frameHeight: number;
  ballX = 0;
  ballY = 0;
  paddleX = 0;

  constructor(options?: Partial<CatchOptions>) {
    super();
    this.options = resolveOptions(
      this.defaultId,
      { rows: 10, columns: 5, cellSize: 8, drift: 0 },
      { rows: check.int(3, 64), columns: check.int(2, 64), cellSize: check.int(1, 64), drift: check.number(0, 1) },
      options,
    );
    const { rows, columns, cellSize } = this.options;
    this.observationSpace = new Box(0, 1, [rows, columns, 1], "uint8");
    this.frameWidth = columns * cellSize;
    this.frameHeight = rows * cellSize;
  }

  protected resetState(rng: Rng): void {
    this.ballX = rng.int(this.options.columns);
    this.ballY = 0;
    this.paddleX = this.options.columns >> 1;
  }

  protected transition(action: number): number {
    this.paddleX = Math.min(this.options.columns - 1, Math.max(0, this.paddleX + action - 1));
    this.ballY++;
    const { drift, columns } = this.options;
    // The draws only when drifting, so that deterministic runs keep their random stream.
    if (drift > 0 && this.rng!.float() < drift) {
      const step = this.ballX === 0 ? 1 : this.ballX === columns - 1 ? -1 : this.rng!.float() < 0.5 ? -1 : 1;
      this.ballX += step;
    }
    if (this.ballY < this.options.rows - 1) return 0;
    this.terminated = true;
    return this.ballX === this.paddleX ? 1 : -1;
  }

  protected writeObs(out: TypedArray, offset: number): void {
    const { rows, columns } = this.options;
    out.fill(0, offset, offset + rows * columns);
    out[offset + this.ballY * columns + this.ballX] = 1;
    out[offset + (rows - 1) * columns + this.paddleX] = 1;
  }

  protected draw(out: Uint8Array): void {
    const { rows, columns, cellSize } = this.options;
    drawBoard(out, rows, columns, cellSize, (r, c) =>
      r === this.ballY && c === this.ballX ? BALL : r === rows - 1 && c === this.paddleX ? PADDLE : BACKGROUND,
    );
  }

  protected saveState(): EnvState {
    return { ball: [this.ballX, this.ballY], paddleX: this.paddleX };
  }
  protected loadState(state: EnvState): void {
    const read = new StateReader(`${this.label}.setState`, state);
    const { rows, columns } = this.options;
    const ball = read.ints("ball", 2, 0, [columns - 1, rows - 1]);
    const paddleX = read.int("paddleX", 0, columns - 1);
    [this.ballX, this.ballY] = ball as [number, number];
    this.paddleX = paddleX;
  }
}
