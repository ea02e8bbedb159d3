import { EnvError, type Env, type Info, type ResetArgs, type StepResult } from "../core/env.ts";
import { formatValue } from "../core/spaces.ts";
import { Wrapper } from "../core/wrapper.ts";

/**
 * Checks the first reset() and step() results against the env's contract (Gymnasium's
 * PassiveEnvChecker): observation in the observation space, boolean flags, finite reward, object
 * info. Later calls pass straight through, so it costs nothing on the hot path.
 */
export class PassiveEnvChecker<Obs, Act> extends Wrapper<Obs, Act> {
  private checkedReset = false;
  private checkedStep = false;
  constructor(env: Env<Obs, Act>) {
    super(env);
  }
  override reset(args?: ResetArgs): [Obs, Info] {
    const out = super.reset(args);
    if (!this.checkedReset) {
      this.checkedReset = true;
      this.checkObs(out[0], "reset");
      this.checkInfo(out[1], "reset");
    }
    return out;
  }
  override step(action: Act): StepResult<Obs> {
    const out = super.step(action);
    if (!this.checkedStep) {
      this.checkedStep = true;
      const [obs, reward, terminated, truncated, info] = out;
      this.checkObs(obs, "step");
      if (typeof reward !== "number" || !Number.isFinite(reward))
        this.fail("step", `reward must be a finite number, got ${formatValue(reward)}`);
      if (typeof terminated !== "boolean")
        this.fail("step", `terminated must be a boolean, got ${formatValue(terminated)}`);
      if (typeof truncated !== "boolean")
        this.fail("step", `truncated must be a boolean, got ${formatValue(truncated)}`);
      this.checkInfo(info, "step");
    }
    return out;
  }
  private checkObs(obs: Obs, where: string): void {
    const why = this.observationSpace.explain(obs);
    if (why !== null) this.fail(where, `observation is not in the observation space: ${why}`);
  }
  private checkInfo(info: Info, where: string): void {
    if (typeof info !== "object" || info === null || Array.isArray(info))
      this.fail(where, `info must be an object, got ${formatValue(info)}`);
  }
  private fail(where: string, message: string): never {
    throw new EnvError(`${this.label}.${where}: ${message}`);
  }
}
