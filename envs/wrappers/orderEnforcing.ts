import { EnvError, type Env, type Frame, type Info, type ResetArgs, type StepResult } from "../core/env.ts";
import { Wrapper } from "../core/wrapper.ts";

/**
 * Throws on step() or render() before the first reset(), and on step() after an episode ended
 * (terminated or truncated) until the next reset(). Gymnasium's wrappers let the latter pass
 * silently (only its CartPole warns); stepping a finished episode is always a bug in the caller's
 * loop, so here it is an error.
 */
export class OrderEnforcing<Obs, Act> extends Wrapper<Obs, Act> {
  private hasReset = false;
  private ended = false;
  constructor(env: Env<Obs, Act>) {
    super(env);
  }
  override reset(args?: ResetArgs): [Obs, Info] {
    const out = super.reset(args);
    this.hasReset = true;
    this.ended = false;
    return out;
  }
  override step(action: Act): StepResult<Obs> {
    if (!this.hasReset) throw new EnvError(`${this.label}.step: call reset() before step()`);
    if (this.ended)
      throw new EnvError(`${this.label}.step: the episode has ended (terminated or truncated); call reset() first`);
    const out = super.step(action);
    this.ended = out[2] || out[3];
    return out;
  }
  override render(): Frame | undefined {
    if (!this.hasReset) throw new EnvError(`${this.label}.render: call reset() before render()`);
    return super.render();
  }
  protected override saveWrapperState(): unknown {
    return { hasReset: this.hasReset, ended: this.ended };
  }
  protected override loadWrapperState(state: unknown): void {
    ({ hasReset: this.hasReset, ended: this.ended } = state as { hasReset: boolean; ended: boolean });
  }
}
