// The env registry, after Gymnasium: register(id, factory, defaults) and make(id, options).
// make() wraps as Gymnasium does: env -> PassiveEnvChecker -> OrderEnforcing -> TimeLimit.
import { EnvError, type Env } from "./core/env.ts";
import { PassiveEnvChecker } from "./wrappers/passiveEnvChecker.ts";
import { OrderEnforcing } from "./wrappers/orderEnforcing.ts";
import { TimeLimit } from "./wrappers/timeLimit.ts";

export type EnvFactory = (options: Record<string, unknown>) => Env<any, any>;

/** A fixed step limit, or one read off the built env (e.g. a grid's maxSteps option). */
export type StepLimit = number | ((env: Env<any, any>) => number);

export interface RegisterDefaults {
  /** Episode step limit applied by make() through TimeLimit; undefined for none. */
  maxEpisodeSteps?: StepLimit;
  /** Default env options, overridable in make(). */
  options?: Record<string, unknown>;
  /** One line for listings and the README table. */
  description?: string;
}

interface Registration {
  id: string;
  factory: EnvFactory;
  maxEpisodeSteps: StepLimit | undefined;
  options: Record<string, unknown>;
  description: string;
}

export type { EnvSpec } from "./core/env.ts";

export interface MakeArgs {
  /** Overrides the registered step limit; null for none. */
  maxEpisodeSteps?: number | null;
  /** Skips the PassiveEnvChecker wrapper. */
  disableEnvChecker?: boolean;
  [option: string]: unknown;
}

const registry = new Map<string, Registration>();

const ID_PATTERN = /^[A-Za-z][\w.-]*-v\d+$/;

export function register(id: string, factory: EnvFactory, defaults: RegisterDefaults = {}): void {
  if (!ID_PATTERN.test(id)) throw new EnvError(`register: id must look like 'Name-v0', got '${id}'`);
  if (registry.has(id)) throw new EnvError(`register: '${id}' is already registered`);
  registry.set(id, {
    id,
    factory,
    maxEpisodeSteps: defaults.maxEpisodeSteps,
    options: { ...defaults.options },
    description: defaults.description ?? "",
  });
}

/** The registration of an id; unknown ids throw, listing the known ones. */
export function registration(id: string): Readonly<Registration> {
  const found = registry.get(id);
  if (found === undefined) {
    throw new EnvError(`make: unknown env id '${id}'. Registered ids: ${[...registry.keys()].join(", ")}`);
  }
  return found;
}

export function registeredIds(): string[] {
  return [...registry.keys()];
}

/** Builds the bare env of an id (no wrappers) with the given options merged over the defaults. */
export function makeBare(id: string, options: Record<string, unknown> = {}): Env<any, any> {
  const reg = registration(id);
  const merged = { ...reg.options, ...options };
  const env = reg.factory(merged);
  const limit = typeof reg.maxEpisodeSteps === "function" ? reg.maxEpisodeSteps(env) : reg.maxEpisodeSteps;
  env.spec = { id, maxEpisodeSteps: limit, options: merged, description: reg.description };
  return env;
}

export function make(id: string, args: MakeArgs = {}): Env<any, any> {
  const { maxEpisodeSteps, disableEnvChecker = false, ...options } = args;
  let env = makeBare(id, options);
  const limit = maxEpisodeSteps === undefined ? env.spec!.maxEpisodeSteps : (maxEpisodeSteps ?? undefined);
  env.spec = { ...env.spec!, maxEpisodeSteps: limit };
  if (!disableEnvChecker) env = new PassiveEnvChecker(env);
  env = new OrderEnforcing(env);
  if (limit !== undefined) env = new TimeLimit(env, limit);
  return env;
}
