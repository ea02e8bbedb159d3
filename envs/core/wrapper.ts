// A wrapper is an env around an env (Gymnasium's Wrapper): by default it forwards everything.
// Wrappers that keep state (counters, stacked frames) add it to getState() under `wrapper`.
import { Env, type EnvState, type Frame, type Info, type ResetArgs, type StepResult } from "./env.ts";
import type { Space } from "./spaces.ts";
import type { EnvSpec } from "./env.ts";

export class Wrapper<Obs = unknown, Act = unknown, InnerObs = Obs, InnerAct = Act> extends Env<Obs, Act> {
  constructor(readonly env: Env<InnerObs, InnerAct>) {
    super();
    this.metadata = env.metadata;
    this.renderMode = env.renderMode;
  }

  get observationSpace(): Space<Obs> {
    return this.env.observationSpace as unknown as Space<Obs>;
  }
  get actionSpace(): Space<Act> {
    return this.env.actionSpace as unknown as Space<Act>;
  }
  override get spec(): EnvSpec | undefined {
    return this.env.spec;
  }
  override set spec(_: EnvSpec | undefined) {
    // The spec belongs to the innermost env.
  }
  override get unwrapped(): Env<unknown, unknown> {
    return this.env.unwrapped;
  }

  reset(args?: ResetArgs): [Obs, Info] {
    return this.env.reset(args) as unknown as [Obs, Info];
  }
  step(action: Act): StepResult<Obs> {
    return this.env.step(action as unknown as InnerAct) as unknown as StepResult<Obs>;
  }
  render(): Frame | undefined {
    return this.env.render();
  }
  override close(): void {
    this.env.close();
  }
  getState(): EnvState {
    const own = this.saveWrapperState();
    return own === undefined ? this.env.getState() : { inner: this.env.getState(), wrapper: own };
  }
  setState(state: EnvState): void {
    if (this.saveWrapperState() === undefined) {
      this.env.setState(state);
      return;
    }
    if (!("inner" in state) || !("wrapper" in state)) {
      throw new Error(
        `${this.constructor.name}.setState: expected a state saved through this wrapper (keys inner, wrapper)`,
      );
    }
    this.env.setState(state.inner as EnvState);
    this.loadWrapperState(state.wrapper);
  }
  /** A wrapper's own state, or undefined when it has none. */
  protected saveWrapperState(): unknown {
    return undefined;
  }
  protected loadWrapperState(_state: unknown): void {}

  override toString(): string {
    return `${this.constructor.name}<${String(this.env)}>`;
  }
}
