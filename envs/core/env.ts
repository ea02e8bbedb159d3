// The environment API, after Gymnasium: reset({seed, options}) -> [obs, info] and
// step(action) -> [obs, reward, terminated, truncated, info].
//   terminated: the MDP reached a terminal state (goal, lava, lost ball); bootstrapping must stop.
//   truncated:  the episode was cut for a reason outside the MDP (a time limit); the state is not terminal.
import type { Frame } from "../../common/frame.ts";
import { Rng, assertSeed, freshSeed } from "../../common/rng.ts";
import { formatValue, type Box, type Space, type TypedArray } from "./spaces.ts";
import { EnvError } from "./errors.ts";
import { StateReader } from "./stateReader.ts";

export type { Frame } from "../../common/frame.ts";
export type Info = Record<string, unknown>;
export type StepResult<Obs> = [obs: Obs, reward: number, terminated: boolean, truncated: boolean, info: Info];

export interface ResetArgs {
  /** Seeds the env's generator; a seed on the first reset fixes every later episode too. */
  seed?: number;
  /** Env-specific options for this episode; unknown keys throw. */
  options?: Record<string, unknown>;
}

export interface EnvMetadata {
  renderModes: readonly string[];
  renderFps: number;
}

export type RenderMode = "rgb_array";

/** What a made env knows of its registration (env.spec). */
export interface EnvSpec {
  id: string;
  /** The step limit in force (undefined: none). */
  maxEpisodeSteps: number | undefined;
  /** The options the env was built with (defaults merged with make()'s). */
  options: Record<string, unknown>;
  description: string;
}

/** The full state of an env, enough to restore it exactly (JSON-serialisable apart from typed arrays). */
export type EnvState = Record<string, unknown>;

/**
 * The same state with another random stream for the env's future draws (slips, drift, sticky
 * actions, action noise): what a planner that restores states may know of a stochastic env without
 * seeing the draws the real env will make. Deterministic envs draw nothing after reset, so their
 * transitions are unchanged.
 */
export function withRandomStream(state: EnvState, seed: number): EnvState {
  return { ...state, rng: new Rng(seed).getState() };
}

export { EnvError } from "./errors.ts";

export abstract class Env<Obs = unknown, Act = unknown> {
  abstract readonly observationSpace: Space<Obs>;
  abstract readonly actionSpace: Space<Act>;
  metadata: EnvMetadata = { renderModes: ["rgb_array"], renderFps: 10 };
  renderMode: RenderMode | undefined = "rgb_array";
  private specOfMake: EnvSpec | undefined;

  /** Set by `make`: the id and the settings the env was made with. */
  get spec(): EnvSpec | undefined {
    return this.specOfMake;
  }
  set spec(spec: EnvSpec | undefined) {
    this.specOfMake = spec;
  }

  abstract reset(args?: ResetArgs): [Obs, Info];
  abstract step(action: Act): StepResult<Obs>;
  /** The current frame when renderMode is "rgb_array", else undefined. */
  abstract render(): Frame | undefined;
  abstract getState(): EnvState;
  abstract setState(state: EnvState): void;
  close(): void {}

  /** The innermost env, below every wrapper. */
  get unwrapped(): Env<unknown, unknown> {
    return this as Env<unknown, unknown>;
  }

  /** The id the env registers under, for error messages of envs built without make(). */
  readonly defaultId?: string;

  /** A name for error messages: the id it was made with, else its default id, else the class name. */
  get label(): string {
    return this.spec?.id ?? this.defaultId ?? this.constructor.name;
  }
}

type Phase = "new" | "running" | "terminated";

/**
 * Base class of the built-in envs: typed-array observations, seeding, and input checks live here so
 * that each env only writes its dynamics. Subclasses implement resetState, transition, writeObs, draw.
 * `stepInto`/`resetInto` write the observation into a caller's buffer: the vector env's
 * allocation-free hot path.
 */
export abstract class ArrayEnv<Act = number | ArrayLike<number>> extends Env<TypedArray, Act> {
  /** The generator of all of the env's randomness (Gymnasium's np_random). */
  protected rng: Rng | undefined;
  /** True once the MDP reached a terminal state. */
  terminated = false;
  /** Steps since the last reset. */
  elapsed = 0;
  private phase: Phase = "new";
  /** Reset option names this env accepts. */
  protected readonly resetOptionKeys: readonly string[] = [];

  abstract override readonly observationSpace: Box;

  abstract readonly frameWidth: number;
  abstract readonly frameHeight: number;

  protected abstract resetState(rng: Rng, options: Record<string, unknown>): void;
  /** Applies a checked action; returns the reward and sets `terminated`. */
  protected abstract transition(action: Act): number;
  protected abstract writeObs(out: TypedArray, offset: number): void;
  protected abstract draw(out: Uint8Array): void;
  protected abstract saveState(): EnvState;
  /** Restores the env's own fields; reads them all through a StateReader before assigning any. */
  protected abstract loadState(state: EnvState): void;

  reset(args: ResetArgs = {}): [TypedArray, Info] {
    const obs = this.observationSpace.zeros();
    const info = this.resetInto(args, obs, 0);
    return [obs, info];
  }

  resetInto(args: ResetArgs, out: TypedArray, offset: number): Info {
    const { seed, options } = args;
    if (seed !== undefined) {
      assertSeed(seed, `${this.label}.reset`);
      this.rng = new Rng(seed);
    } else if (this.rng === undefined) {
      this.rng = new Rng(freshSeed());
    }
    this.checkResetOptions(options);
    this.terminated = false;
    this.elapsed = 0;
    this.resetState(this.rng, options ?? {});
    this.phase = "running";
    this.writeObs(out, offset);
    return {};
  }

  step(action: Act): StepResult<TypedArray> {
    const obs = this.observationSpace.zeros();
    const reward = this.stepInto(action, obs, 0);
    return [obs, reward, this.terminated, false, {}];
  }

  stepInto(action: Act, out: TypedArray, offset: number): number {
    this.checkAction(action);
    this.elapsed++;
    const reward = this.transition(action);
    if (this.terminated) this.phase = "terminated";
    this.writeObs(out, offset);
    return reward;
  }

  render(): Frame | undefined {
    if (this.renderMode !== "rgb_array") return undefined;
    const data = new Uint8Array(this.frameWidth * this.frameHeight * 3);
    this.renderInto(data);
    return { width: this.frameWidth, height: this.frameHeight, data };
  }

  /** Draws the current frame into `out` (length width*height*3). */
  renderInto(out: Uint8Array): void {
    if (this.phase === "new") throw new EnvError(`${this.label}.render: call reset() before render()`);
    this.draw(out);
  }

  getState(): EnvState {
    if (this.phase === "new") throw new EnvError(`${this.label}.getState: call reset() first`);
    return {
      rng: this.rng!.getState(),
      phase: this.phase,
      terminated: this.terminated,
      elapsed: this.elapsed,
      ...this.saveState(),
    };
  }

  /** Restores a state from getState(); a bad one is refused (EnvError naming the field) and the env keeps its own. */
  setState(state: EnvState): void {
    const where = `${this.label}.setState`;
    if (typeof state !== "object" || state === null || Array.isArray(state))
      throw new EnvError(`${where}: expected a state object from getState(), got ${formatValue(state)}`);
    if (state.phase !== "running" && state.phase !== "terminated")
      throw new EnvError(`${where}: 'phase' must be "running" or "terminated", got ${formatValue(state.phase)}`);
    const read = new StateReader(where, state);
    const rng = read.ints("rng", 4, -(2 ** 31), 2 ** 32 - 1);
    if (rng.every((x) => x === 0)) throw new EnvError(`${where}: 'rng' must not be all zeros (not a generator state)`);
    const terminated = read.bool("terminated");
    if (terminated !== (state.phase === "terminated"))
      throw new EnvError(`${where}: 'terminated' (${terminated}) contradicts 'phase' ("${state.phase}")`);
    const elapsed = read.int("elapsed", 0, Number.MAX_SAFE_INTEGER);
    this.loadState(state); // checks every field of the env's own before it changes any
    this.rng = Rng.fromState(rng);
    this.phase = state.phase;
    this.terminated = terminated;
    this.elapsed = elapsed;
  }

  /** The observation of the current state, freshly allocated. */
  observe(): TypedArray {
    const obs = this.observationSpace.zeros();
    this.writeObs(obs, 0);
    return obs;
  }

  protected checkAction(action: Act): void {
    if (this.phase !== "running") {
      throw new EnvError(
        this.phase === "new"
          ? `${this.label}.step: call reset() before step()`
          : `${this.label}.step: the episode has terminated; call reset() before stepping again`,
      );
    }
    const why = this.actionSpace.explain(action);
    if (why !== null)
      throw new EnvError(
        `${this.label}.step: invalid action ${formatValue(action)}: ${why} (action space ${this.actionSpace})`,
      );
  }

  private checkResetOptions(options: unknown): void {
    if (options === undefined) return;
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new EnvError(`${this.label}.reset: 'options' must be an object, got ${formatValue(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!this.resetOptionKeys.includes(key)) {
        const known = this.resetOptionKeys.length ? this.resetOptionKeys.join(", ") : "none";
        throw new EnvError(`${this.label}.reset: unknown option '${key}' (accepted: ${known})`);
      }
    }
  }
}
