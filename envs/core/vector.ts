// A synchronous vector env (Gymnasium's SyncVectorEnv): n copies stepped in lock-step, their
// observations batched in one typed array [n, ...shape], rewards and flags in typed arrays.
//
// Autoreset modes (Gymnasium 1.x):
//   "next-step" (default): the call after an episode ends resets that env, ignoring its action:
//                          it returns the reset observation, reward 0, both flags false.
//   "same-step": the env is reset in the call that ends its episode; the last observation and
//                info are in info.final_obs / info.final_info (masks info._final_obs / _final_info).
//   "disabled":  nothing resets by itself; call reset({resetMask}) for the envs that ended.
//
// Bare built-in envs (ArrayEnv) are stepped through stepInto(), which writes straight into the
// batch: no per-step allocation when `copy` is false. Any other env is stepped through its API.
import { ArrayEnv, EnvError, type Env, type Info } from "./env.ts";
import { Box, Discrete, MultiDiscrete, allocate, formatValue, type Space, type TypedArray } from "./spaces.ts";
import { makeBare } from "../registry.ts";

export type AutoresetMode = "next-step" | "same-step" | "disabled";

export interface VectorOptions {
  autoresetMode?: AutoresetMode;
  /** Return copies of the batch buffers (safe to keep) instead of the live buffers. Default true. */
  copy?: boolean;
  /**
   * Truncate episodes of bare envs after this many steps; default: the limit of their registration
   * (envs from makeBare). Wrapped envs carry their own TimeLimit.
   */
  maxEpisodeSteps?: number;
}

export interface VectorResetArgs {
  /** One seed (env i gets seed + i) or one per env. */
  seed?: number | readonly number[];
  options?: Record<string, unknown>;
  /** With autoresetMode "disabled": reset only the envs whose entry is true. */
  resetMask?: ArrayLike<boolean | number>;
}

export type VectorStepResult = [
  obs: TypedArray,
  rewards: Float64Array,
  terminations: Uint8Array,
  truncations: Uint8Array,
  info: Info,
];

export class SyncVectorEnv<Act = number | ArrayLike<number>> {
  readonly numEnvs: number;
  readonly envs: Env<TypedArray, Act>[];
  readonly singleObservationSpace: Box;
  readonly singleActionSpace: Space<Act>;
  /** [n, ...shape] observations. */
  readonly observationSpace: Box;
  /** MultiDiscrete for Discrete sub-envs, Box [n, ...shape] for Box sub-envs. */
  readonly actionSpace: Space<unknown>;
  readonly autoresetMode: AutoresetMode;
  private readonly copy: boolean;
  private readonly maxEpisodeSteps: number | undefined;
  private readonly obs: TypedArray;
  private readonly rewards: Float64Array;
  private readonly terminations: Uint8Array;
  private readonly truncations: Uint8Array;
  private readonly needsReset: Uint8Array;
  private readonly fast: boolean;
  private readonly obsSize: number;
  private readonly actionSize: number;
  private started = false;

  constructor(envFns: readonly (() => Env<TypedArray, Act>)[], options: VectorOptions = {}) {
    if (envFns.length === 0) throw new EnvError("SyncVectorEnv: needs at least one env factory");
    this.envs = envFns.map((fn) => fn());
    this.numEnvs = this.envs.length;
    const first = this.envs[0]!;
    if (!(first.observationSpace instanceof Box)) {
      throw new EnvError(
        `SyncVectorEnv: ${first.label} must have a Box observation space, got ${first.observationSpace}`,
      );
    }
    for (const env of this.envs) {
      if (
        String(env.observationSpace) !== String(first.observationSpace) ||
        String(env.actionSpace) !== String(first.actionSpace)
      ) {
        throw new EnvError(`SyncVectorEnv: all envs must share spaces; ${env.label} differs from ${first.label}`);
      }
    }
    this.singleObservationSpace = first.observationSpace;
    this.singleActionSpace = first.actionSpace;
    const n = this.numEnvs;
    const single = this.singleObservationSpace;
    const tile = (a: Float64Array) => Array.from({ length: n }, () => Array.from(a)).flat();
    this.observationSpace = new Box(tile(single.low), tile(single.high), [n, ...single.shape], single.dtype);
    const act = this.singleActionSpace as Space<unknown>;
    if (act instanceof Discrete) {
      if (act.start !== 0)
        throw new EnvError(`SyncVectorEnv: Discrete action spaces must start at 0, got ${act.start}`);
      this.actionSpace = new MultiDiscrete(new Array(n).fill(act.n));
      this.actionSize = 1;
    } else if (act instanceof Box) {
      this.actionSpace = new Box(tile(act.low), tile(act.high), [n, ...act.shape], act.dtype);
      this.actionSize = act.size;
    } else {
      throw new EnvError(`SyncVectorEnv: action space must be Discrete or Box, got ${act}`);
    }
    this.autoresetMode = options.autoresetMode ?? "next-step";
    if (!["next-step", "same-step", "disabled"].includes(this.autoresetMode)) {
      throw new EnvError(
        `SyncVectorEnv: 'autoresetMode' must be "next-step", "same-step" or "disabled", got ${JSON.stringify(this.autoresetMode)}`,
      );
    }
    this.copy = options.copy ?? true;
    this.fast = this.envs.every((e) => e instanceof ArrayEnv);
    this.maxEpisodeSteps = options.maxEpisodeSteps ?? (this.fast ? first.spec?.maxEpisodeSteps : undefined);
    if (!this.fast && options.maxEpisodeSteps !== undefined) {
      throw new EnvError(
        "SyncVectorEnv: 'maxEpisodeSteps' applies to bare envs only; wrap the envs in TimeLimit instead",
      );
    }
    this.obsSize = single.size;
    this.obs = allocate(single.dtype, n * this.obsSize);
    this.rewards = new Float64Array(n);
    this.terminations = new Uint8Array(n);
    this.truncations = new Uint8Array(n);
    this.needsReset = new Uint8Array(n);
  }

  reset(args: VectorResetArgs = {}): [TypedArray, Info] {
    const { seed, options, resetMask } = args;
    if (Array.isArray(seed) && seed.length !== this.numEnvs) {
      throw new EnvError(
        `SyncVectorEnv.reset: 'seed' must be one number or ${this.numEnvs} numbers, got ${seed.length}`,
      );
    }
    if (resetMask !== undefined && resetMask.length !== this.numEnvs) {
      throw new EnvError(`SyncVectorEnv.reset: 'resetMask' must have ${this.numEnvs} entries, got ${resetMask.length}`);
    }
    const infos: Info[] = [];
    for (let i = 0; i < this.numEnvs; i++) {
      if (resetMask !== undefined && !resetMask[i]) continue;
      const s = seed === undefined ? undefined : typeof seed === "number" ? seed + i : seed[i];
      infos[i] = this.resetOne(i, { seed: s, options });
      this.needsReset[i] = 0;
    }
    this.started = true;
    return [this.out(this.obs), mergeInfos(infos, this.numEnvs)];
  }

  /** `actions`: n integers for Discrete envs; n x actionSize numbers (flat) or n arrays for Box envs. */
  step(actions: ArrayLike<unknown>): VectorStepResult {
    if (!this.started) throw new EnvError("SyncVectorEnv.step: call reset() before step()");
    if (actions.length !== this.numEnvs && actions.length !== this.numEnvs * this.actionSize) {
      const expected =
        this.actionSize === 1
          ? `${this.numEnvs} actions`
          : `${this.numEnvs} actions or ${this.numEnvs * this.actionSize} values`;
      throw new EnvError(`SyncVectorEnv.step: expected ${expected}, got ${actions.length}`);
    }
    // Every action is checked before any env steps: a bad one leaves all of them as they were.
    for (let i = 0; i < this.numEnvs; i++) {
      if (this.autoresetMode === "next-step" && this.needsReset[i]) continue; // this env resets and ignores its action
      if (this.autoresetMode === "disabled" && this.needsReset[i]) {
        // Gymnasium asserts here; so do TimeLimit + OrderEnforcing on the make() path.
        throw new EnvError(
          `SyncVectorEnv.step: env ${i} ended (terminated or truncated) and autoresetMode is "disabled": reset it with reset({resetMask}) before stepping it again`,
        );
      }
      const action = this.actionOf(actions, i);
      const why = this.singleActionSpace.explain(action);
      if (why !== null)
        throw new EnvError(
          `SyncVectorEnv.step: invalid action for env ${i}: ${formatValue(action)}: ${why} (action space ${this.singleActionSpace}); no env was stepped`,
        );
    }
    const infos: Info[] = [];
    let final: { obs: (TypedArray | null)[]; info: (Info | null)[] } | undefined;
    for (let i = 0; i < this.numEnvs; i++) {
      if (this.autoresetMode === "next-step" && this.needsReset[i]) {
        infos[i] = this.resetOne(i, {});
        this.rewards[i] = 0;
        this.terminations[i] = this.truncations[i] = 0;
        this.needsReset[i] = 0;
        continue;
      }
      infos[i] = this.stepOne(i, this.actionOf(actions, i));
      const done = this.terminations[i]! | this.truncations[i]!;
      if (done && this.autoresetMode === "same-step") {
        final ??= { obs: new Array(this.numEnvs).fill(null), info: new Array(this.numEnvs).fill(null) };
        final.obs[i] = this.obs.slice(i * this.obsSize, (i + 1) * this.obsSize);
        final.info[i] = infos[i]!;
        infos[i] = this.resetOne(i, {});
      } else if (done) {
        this.needsReset[i] = 1; // next-step: reset on the next call; disabled: refuse to step until reset
      }
    }
    const info = mergeInfos(infos, this.numEnvs);
    if (final) {
      // Gymnasium 1.x: final_obs per env (null where unset), final_info itself a dict of arrays with `_key` masks.
      const mask = final.obs.map((o) => o !== null);
      Object.assign(info, {
        final_obs: final.obs,
        _final_obs: mask,
        final_info: mergeInfos(
          final.info.map((x) => x ?? undefined),
          this.numEnvs,
        ),
        _final_info: mask,
      });
    }
    return [this.out(this.obs), this.out(this.rewards), this.out(this.terminations), this.out(this.truncations), info];
  }

  close(): void {
    for (const env of this.envs) env.close();
  }

  private actionOf(actions: ArrayLike<unknown>, i: number): Act {
    if (this.actionSize === 1) return actions[i] as Act;
    if (actions.length === this.numEnvs) return actions[i] as Act;
    const flat = actions as unknown as TypedArray | number[];
    return flat.slice(i * this.actionSize, (i + 1) * this.actionSize) as unknown as Act;
  }

  private resetOne(i: number, args: { seed?: number; options?: Record<string, unknown> }): Info {
    const env = this.envs[i]!;
    if (this.fast) return (env as unknown as ArrayEnv<Act>).resetInto(args, this.obs, i * this.obsSize);
    const [obs, info] = env.reset(args);
    this.obs.set(obs, i * this.obsSize);
    return info;
  }

  private stepOne(i: number, action: Act): Info {
    const env = this.envs[i]!;
    if (this.fast) {
      const bare = env as unknown as ArrayEnv<Act>;
      this.rewards[i] = bare.stepInto(action, this.obs, i * this.obsSize);
      this.terminations[i] = +bare.terminated;
      // As Gymnasium's TimeLimit: truncated at the limit step even when that step also terminates.
      this.truncations[i] = +(this.maxEpisodeSteps !== undefined && bare.elapsed >= this.maxEpisodeSteps);
      return EMPTY_INFO;
    }
    const [obs, reward, terminated, truncated, info] = env.step(action);
    this.obs.set(obs, i * this.obsSize);
    this.rewards[i] = reward;
    this.terminations[i] = +terminated;
    this.truncations[i] = +truncated;
    return info;
  }

  private out<T extends TypedArray | Float64Array | Uint8Array>(a: T): T {
    return this.copy ? (a.slice() as T) : a;
  }
}

const EMPTY_INFO: Info = Object.freeze({}) as Info;

/** Per-env infos as Gymnasium's dict of arrays: info[key][i], with mask info[`_${key}`][i]. */
function mergeInfos(infos: (Info | undefined)[], n: number): Info {
  const merged: Info = {};
  for (let i = 0; i < n; i++) {
    const info = infos[i];
    if (info === undefined) continue;
    for (const key in info) {
      if (!(key in merged)) {
        merged[key] = new Array(n).fill(null);
        merged[`_${key}`] = new Array(n).fill(false);
      }
      (merged[key] as unknown[])[i] = info[key];
      (merged[`_${key}`] as boolean[])[i] = true;
    }
  }
  return merged;
}

/** n bare copies of a registered env in a vector env (fast path), truncated at the registered step limit. */
export function makeVec(
  id: string,
  numEnvs: number,
  options: Record<string, unknown> = {},
  vectorOptions: VectorOptions = {},
): SyncVectorEnv {
  if (!Number.isInteger(numEnvs) || numEnvs < 1)
    throw new EnvError(`makeVec: 'numEnvs' must be a positive integer, got ${numEnvs}`);
  const fns = Array.from(
    { length: numEnvs },
    () => () => makeBare(id, options) as Env<TypedArray, number | ArrayLike<number>>,
  );
  return new SyncVectorEnv(fns, vectorOptions);
}
