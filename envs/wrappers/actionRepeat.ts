import { EnvError, type Env, type StepResult } from "../core/env.ts";
import { Wrapper } from "../core/wrapper.ts";

/** Repeats each action `repeats` times, summing the rewards; stops early when the episode ends. */
export class ActionRepeat<Obs, Act> extends Wrapper<Obs, Act> {
  constructor(
    env: Env<Obs, Act>,
    readonly repeats: number,
  ) {
    super(env);
    if (!Number.isInteger(repeats) || repeats < 1)
      throw new EnvError(`ActionRepeat: 'repeats' must be a positive integer, got ${repeats}`);
  }
  override step(action: Act): StepResult<Obs> {
    let out = super.step(action);
    let total = out[1];
    for (let k = 1; k < this.repeats && !out[2] && !out[3]; k++) {
      out = super.step(action);
      total += out[1];
    }
    out[1] = total;
    return out;
  }
}
