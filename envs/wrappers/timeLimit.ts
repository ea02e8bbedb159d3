import { EnvError, type Env, type Info, type ResetArgs, type StepResult } from "../core/env.ts";
import { Wrapper } from "../core/wrapper.ts";

/**
 * Truncates episodes after `maxEpisodeSteps` steps: `truncated` becomes true, `terminated` is
 * untouched. Stepping on past the limit throws (Gymnasium lets it pass; it is always a loop bug).
 */
export class TimeLimit<Obs, Act> extends Wrapper<Obs, Act> {
  private elapsed = 0;
  constructor(
    env: Env<Obs, Act>,
    readonly maxEpisodeSteps: number,
  ) {
    super(env);
    if (!Number.isInteger(maxEpisodeSteps) || maxEpisodeSteps < 1) {
      throw new EnvError(`TimeLimit: 'maxEpisodeSteps' must be a positive integer, got ${maxEpisodeSteps}`);
    }
  }
  override reset(args?: ResetArgs): [Obs, Info] {
    this.elapsed = 0;
    return super.reset(args);
  }
  override step(action: Act): StepResult<Obs> {
    if (this.elapsed >= this.maxEpisodeSteps) {
      throw new EnvError(
        `${this.label}.step: the episode was truncated at ${this.maxEpisodeSteps} steps; call reset() first`,
      );
    }
    const result = super.step(action);
    this.elapsed++;
    if (this.elapsed >= this.maxEpisodeSteps) result[3] = true;
    return result;
  }
  protected override saveWrapperState(): unknown {
    return { elapsed: this.elapsed };
  }
  protected override loadWrapperState(state: unknown): void {
    this.elapsed = (state as { elapsed: number }).elapsed;
  }
}
