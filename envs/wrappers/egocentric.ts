import { EnvError, type Env, type Info, type ResetArgs, type StepResult } from "../core/env.ts";
import { Box, type TypedArray } from "../core/spaces.ts";
import { Wrapper } from "../core/wrapper.ts";
import { cellFromAgent, OBJECT, OUTSIDE_CELL } from "../grid/objects.ts";

/**
 * A grid's full view [H, W, 3] redrawn around the agent: [S, S, 3] with S = 2 max(H, W) - 1, the
 * agent's cell at the centre and its facing up (forward is up, right is right, as in MiniGrid's
 * partial view), so every cell of the grid stays in view wherever the agent stands; cells beyond
 * the grid read as walls. Nothing is lost but the absolute position and facing: "the door is two
 * cells ahead" is the same input in every layout, where the full view spells it as a different
 * conjunction of agent and door cells in each. The agent's own cell reads (agent, red, 0).
 */
export class Egocentric<Act> extends Wrapper<TypedArray, Act> {
  private readonly view: Box;
  private readonly rows: number;
  private readonly cols: number;
  readonly side: number;

  constructor(env: Env<TypedArray, Act>) {
    super(env);
    const inner = env.observationSpace;
    if (!(inner instanceof Box) || inner.shape.length !== 3 || inner.shape[2] !== 3)
      throw new EnvError(`Egocentric: ${env.label} must have a grid's full view [H, W, 3], got ${inner}`);
    [this.rows, this.cols] = inner.shape as [number, number];
    this.side = 2 * Math.max(this.rows, this.cols) - 1;
    // Per channel, the grid's own bound or the wall's value drawn beyond it (every cell shares the bounds).
    const high = Array.from(inner.high.subarray(0, 3), (h, c) => Math.max(h, OUTSIDE_CELL[c]!));
    const tile = (v: number[]) => Array.from({ length: this.side * this.side }, () => v).flat();
    this.view = new Box(tile([0, 0, 0]), tile(high), [this.side, this.side, 3], inner.dtype);
  }

  override get observationSpace(): Box {
    return this.view;
  }

  override reset(args?: ResetArgs): [TypedArray, Info] {
    const [obs, info] = super.reset(args);
    return [this.redraw(obs), info];
  }

  override step(action: Act): StepResult<TypedArray> {
    const out = super.step(action);
    out[0] = this.redraw(out[0]);
    return out;
  }

  /** The full view seen from the agent's cell (the one cell holding OBJECT.agent; its state is the facing). */
  redraw(full: TypedArray): TypedArray {
    let at = -1;
    for (let i = 0; i < full.length; i += 3) if (full[i] === OBJECT.agent) at = i / 3;
    if (at < 0) throw new EnvError(`Egocentric: ${this.env.label}'s observation shows no agent cell`);
    const ax = at % this.cols;
    const ay = Math.floor(at / this.cols);
    const d = full[at * 3 + 2]!;
    const c = this.side >> 1;
    const out = this.view.zeros();
    for (let j = 0; j < this.side; j++)
      for (let i = 0; i < this.side; i++) {
        const cell = cellFromAgent(ax, ay, d, c - j, i - c, this.cols, this.rows);
        const o = (j * this.side + i) * 3;
        out.set(cell < 0 ? OUTSIDE_CELL : full.subarray(cell * 3, cell * 3 + 3), o);
      }
    out[(c * this.side + c) * 3 + 2] = 0;
    return out;
  }
}
