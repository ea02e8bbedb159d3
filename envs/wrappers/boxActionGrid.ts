// Discrete actions for an env with a bounded Box action space: each element takes `values` evenly
// spaced values from low to high, bounds included (3: low, middle, high — bang-bang plus zero, which
// Seyde et al. 2021 found enough for value-based agents on continuous control), and one Discrete
// index names a point of that grid, row-major (the last element fastest). Unlike Gymnasium's
// DiscretizeAction, which steps with bin centres and so never applies a bound, the extremes are kept.
import { EnvError, type Env, type StepResult } from "../core/env.ts";
import { Box, Discrete, formatValue, type TypedArray } from "../core/spaces.ts";
import { Wrapper } from "../core/wrapper.ts";

/** Above this many grid points a Q head would be larger than anything the suite needs. */
const MAX_ACTIONS = 4096;

export class BoxActionGrid<Obs> extends Wrapper<Obs, number, Obs, TypedArray> {
  private readonly grid: Discrete;
  private readonly box: Box;

  constructor(
    env: Env<Obs, TypedArray>,
    readonly values: number,
  ) {
    super(env);
    const box = env.actionSpace;
    if (!(box instanceof Box) || !box.isBounded())
      throw new EnvError(`BoxActionGrid: ${env.label} must have a bounded Box action space, got ${box}`);
    if (!Number.isInteger(values) || values < 2)
      throw new EnvError(`BoxActionGrid: 'values' must be an integer >= 2, got ${values}`);
    const n = values ** box.size;
    if (n > MAX_ACTIONS)
      throw new EnvError(
        `BoxActionGrid: ${values} values on each of ${box.size} action elements make ${n} actions (at most ${MAX_ACTIONS})`,
      );
    this.box = box;
    this.grid = new Discrete(n);
  }

  override get actionSpace(): Discrete {
    return this.grid;
  }

  /** The Box action that index `k` stands for. */
  boxAction(k: number): TypedArray {
    const why = this.grid.explain(k);
    if (why) throw new EnvError(`${this.label}.step: invalid action ${formatValue(k)}: ${why}`);
    const out = this.box.zeros();
    for (let j = this.box.size - 1; j >= 0; j--) {
      const digit = k % this.values;
      k = (k - digit) / this.values;
      const lo = this.box.low[j]!;
      out[j] = lo + ((this.box.high[j]! - lo) * digit) / (this.values - 1);
    }
    return out;
  }

  override step(action: number): StepResult<Obs> {
    return this.env.step(this.boxAction(action));
  }
}
