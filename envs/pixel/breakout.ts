// Breakout-v0 (MinAtar's Breakout, Young & Tian 2019): a 10x10 board; bounce the ball off the
// paddle to break the three rows of bricks (+1 each; a cleared wall is rebuilt). Missing the ball
// terminates. Same rules as MinAtar; sticky actions are an option (MinAtar's default is 0.1).
// Actions: 0 no-op, 1 left, 2 right. Observation: uint8 [10, 10, 4], channels paddle, ball, trail, brick.
import type { Rng } from "../../common/rng.ts";
import { ArrayEnv, type EnvState } from "../core/env.ts";
import { StateReader } from "../core/stateReader.ts";
import { check, resolveOptions } from "../core/options.ts";
import { Box, Discrete, type TypedArray } from "../core/spaces.ts";
import type { RGB } from "../render/raster.ts";
import { drawBoard } from "./cellFrame.ts";

export interface BreakoutOptions extends Record<string, unknown> {
  /** Probability of repeating the previous action instead of the given one. */
  stickyActions: number;
  cellSize: number;
}

const N = 10;
const CHANNELS = 4;
const [PADDLE, BALL, TRAIL, BRICK] = [0, 1, 2, 3];
const COLORS: readonly RGB[] = [
  [80, 160, 255],
  [255, 255, 255],
  [120, 120, 120],
  [230, 90, 60],
];
const BACKGROUND: RGB = [0, 0, 0];
// Direction after a bounce: dx = +-1, dy = +-1 encoded as MinAtar's 0..3 (up-left, up-right, down-right, down-left).
const DX = [-1, 1, 1, -1];
const DY = [-1, -1, 1, 1];
const FLIP_X = [1, 0, 3, 2];
const FLIP_Y = [3, 2, 1, 0];
const PADDLE_EDGE = [2, 3, 0, 1];

export class Breakout extends ArrayEnv<number> {
  override readonly defaultId = "Breakout-v0";
  readonly options: BreakoutOptions;
  readonly observationSpace = new Box(0, 1, [N, N, CHANNELS], "uint8");
  readonly actionSpace = new Discrete(3);
  readonly frameWidth: number;
  readonly frameHeight: number;
  private bricks = new Uint8Array(N * N);
  ballX = 0;
  ballY = 0;
  ballDir = 0;
  paddleX = 0;
  private lastX = 0;
  private lastY = 0;
  private strike = false;
  private lastAction = 0;

  constructor(options?: Partial<BreakoutOptions>) {
    super();
    this.options = resolveOptions(
      this.defaultId,
      { stickyActions: 0, cellSize: 8 },
      { stickyActions: check.number(0, 1), cellSize: check.int(1, 64) },
      options,
    );
    this.frameWidth = this.frameHeight = N * this.options.cellSize;
  }

  private buildWall(): void {
    this.bricks.fill(0);
    this.bricks.fill(1, N, 4 * N);
  }

  protected resetState(rng: Rng): void {
    const start = rng.int(2);
    this.ballY = 3;
    this.ballX = start === 0 ? 0 : N - 1;
    this.ballDir = start === 0 ? 2 : 3;
    this.paddleX = 4;
    this.buildWall();
    this.strike = false;
    this.lastX = this.ballX;
    this.lastY = this.ballY;
    this.lastAction = 0;
  }

  protected transition(action: number): number {
    if (this.options.stickyActions > 0 && this.rng!.float() < this.options.stickyActions) action = this.lastAction;
    this.lastAction = action;
    if (action === 1) this.paddleX = Math.max(0, this.paddleX - 1);
    else if (action === 2) this.paddleX = Math.min(N - 1, this.paddleX + 1);
    this.lastX = this.ballX;
    this.lastY = this.ballY;
    let x = this.ballX + DX[this.ballDir]!;
    let y = this.ballY + DY[this.ballDir]!;
    let reward = 0;
    let strikeNow = false;
    if (x < 0 || x > N - 1) {
      x = Math.min(N - 1, Math.max(0, x));
      this.ballDir = FLIP_X[this.ballDir]!;
    }
    if (y < 0) {
      y = 0;
      this.ballDir = FLIP_Y[this.ballDir]!;
    } else if (this.bricks[y * N + x] === 1) {
      strikeNow = true;
      if (!this.strike) {
        reward = 1;
        this.strike = true;
        this.bricks[y * N + x] = 0;
        y = this.lastY;
        this.ballDir = FLIP_Y[this.ballDir]!;
      }
    } else if (y === N - 1) {
      if (this.bricks.every((b) => b === 0)) this.buildWall();
      if (this.ballX === this.paddleX) {
        this.ballDir = FLIP_Y[this.ballDir]!;
        y = this.lastY;
      } else if (x === this.paddleX) {
        this.ballDir = PADDLE_EDGE[this.ballDir]!;
        y = this.lastY;
      } else {
        this.terminated = true;
      }
    }
    if (!strikeNow) this.strike = false;
    this.ballX = x;
    this.ballY = y;
    return reward;
  }

  protected writeObs(out: TypedArray, offset: number): void {
    out.fill(0, offset, offset + N * N * CHANNELS);
    for (let i = 0; i < N * N; i++) out[offset + i * CHANNELS + BRICK] = this.bricks[i]!;
    out[offset + ((N - 1) * N + this.paddleX) * CHANNELS + PADDLE] = 1;
    out[offset + (this.lastY * N + this.lastX) * CHANNELS + TRAIL] = 1;
    out[offset + (this.ballY * N + this.ballX) * CHANNELS + BALL] = 1;
  }

  /** Later channels paint over earlier ones: paddle < trail < brick < ball. */
  protected draw(out: Uint8Array): void {
    drawBoard(out, N, N, this.options.cellSize, (r, c) => {
      if (r === this.ballY && c === this.ballX) return COLORS[BALL]!;
      if (this.bricks[r * N + c]) return COLORS[BRICK]!;
      if (r === this.lastY && c === this.lastX) return COLORS[TRAIL]!;
      if (r === N - 1 && c === this.paddleX) return COLORS[PADDLE]!;
      return BACKGROUND;
    });
  }

  protected saveState(): EnvState {
    return {
      bricks: Array.from(this.bricks),
      ball: [this.ballX, this.ballY, this.ballDir],
      last: [this.lastX, this.lastY],
      paddleX: this.paddleX,
      strike: this.strike,
      lastAction: this.lastAction,
    };
  }
  protected loadState(state: EnvState): void {
    const read = new StateReader(`${this.label}.setState`, state);
    const bricks = read.ints("bricks", N * N, 0, 1);
    const ball = read.ints("ball", 3, 0, [N - 1, N - 1, 3]);
    const last = read.ints("last", 2, 0, N - 1);
    const paddleX = read.int("paddleX", 0, N - 1);
    const strike = read.bool("strike");
    const lastAction = read.int("lastAction", 0, 2);
    this.bricks.set(bricks);
    [this.ballX, this.ballY, this.ballDir] = ball as [number, number, number];
    [this.lastX, this.lastY] = last as [number, number];
    this.paddleX = paddleX;
    this.strike = strike;
    this.lastAction = lastAction;
  }
}
