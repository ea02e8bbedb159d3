// checkEnv: Gymnasium's env checker as small named checks. Each check gets a fresh env from the
// factory, so a failing check cannot poison the next. runEnvChecks returns every result;
// checkEnv throws one error listing the failures.
import { type Env, EnvError } from "./env.ts";
import { Box, Discrete, Space, spaceFromJSON } from "./spaces.ts";

type AnyEnv = Env<any, any>;
export interface CheckResult {
  name: string;
  passed: boolean;
  message?: string;
}

const SEED = 42;
const STEPS = 30;

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new EnvError(message);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}
function normalise(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  if (Array.isArray(x)) return x.map(normalise);
  if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normalise(v)]));
  return x;
}

/** Steps through `actions`, resetting (unseeded) when an episode ends; records what step returns. */
function play(env: AnyEnv, actions: unknown[]): unknown[] {
  const trace: unknown[] = [];
  for (const a of actions) {
    const [obs, r, term, trunc] = env.step(a);
    trace.push([obs, r, term, trunc]);
    if (term || trunc) trace.push(env.reset()[0]);
  }
  return trace;
}

/** reset({seed}) then play(actions). */
function rollout(env: AnyEnv, seed: number, actions: unknown[]): unknown[] {
  return [env.reset({ seed })[0], ...play(env, actions)];
}

function sampleActions(env: AnyEnv, n: number): unknown[] {
  env.actionSpace.seed(SEED);
  return Array.from({ length: n }, () => env.actionSpace.sample());
}

/** An action the space must refuse. */
function invalidAction(space: Space<unknown>): unknown {
  if (space instanceof Discrete) return space.start + space.n;
  if (space instanceof Box) return new Float32Array(space.size).fill(NaN);
  return Symbol("invalid");
}

const CHECKS: Record<string, (make: () => AnyEnv) => void> = {
  "spaces are valid and describe themselves"(make) {
    const env = make();
    for (const [name, space] of [
      ["observationSpace", env.observationSpace],
      ["actionSpace", env.actionSpace],
    ] as const) {
      assert(space instanceof Space, `${name} must be a Space, got ${String(space)}`);
      assert(
        same(spaceFromJSON(space.toJSON()).toJSON(), space.toJSON()),
        `${name} JSON does not round-trip: ${space}`,
      );
      space.seed(SEED);
      assert(space.contains(space.sample()), `${name}.sample() is not contained in the space`);
    }
  },
  "reset returns [obs in space, info object] and accepts seed and options"(make) {
    const env = make();
    const out = env.reset({ seed: SEED, options: {} });
    assert(Array.isArray(out) && out.length === 2, `reset must return [obs, info], got ${String(out)}`);
    const why = env.observationSpace.explain(out[0]);
    assert(why === null, `reset observation not in observation space: ${why}`);
    assert(typeof out[1] === "object" && out[1] !== null && !Array.isArray(out[1]), "reset info must be an object");
  },
  "reset with a seed is deterministic"(make) {
    const env = make();
    const actions = sampleActions(env, STEPS);
    assert(
      same(rollout(env, SEED, actions), rollout(env, SEED, actions)),
      "two rollouts from reset({seed}) with the same actions differ",
    );
    assert(
      same(rollout(env, SEED, actions), rollout(make(), SEED, actions)),
      "two envs reset with the same seed differ",
    );
  },
  "step returns the 5-tuple with obs in space, finite reward, boolean flags"(make) {
    const env = make();
    env.reset({ seed: SEED });
    for (const a of sampleActions(env, 200)) {
      const out = env.step(a);
      assert(Array.isArray(out) && out.length === 5, "step must return [obs, reward, terminated, truncated, info]");
      const [obs, reward, terminated, truncated, info] = out;
      const why = env.observationSpace.explain(obs);
      assert(why === null, `step observation not in observation space: ${why}`);
      assert(typeof reward === "number" && Number.isFinite(reward), `reward must be a finite number, got ${reward}`);
      assert(
        typeof terminated === "boolean" && typeof truncated === "boolean",
        "terminated and truncated must be booleans",
      );
      assert(typeof info === "object" && info !== null, "info must be an object");
      if (terminated || truncated) env.reset();
    }
  },
  "an action outside the action space throws"(make) {
    const env = make();
    env.reset({ seed: SEED });
    let threw = false;
    try {
      env.step(invalidAction(env.actionSpace));
    } catch {
      threw = true;
    }
    assert(threw, "step accepted an action outside the action space");
  },
  "rgb_array rendering gives a uint8 HxWx3 frame"(make) {
    const env = make();
    env.reset({ seed: SEED });
    const frame = env.render();
    assert(frame !== undefined, 'render() returned nothing with renderMode "rgb_array"');
    assert(frame.data instanceof Uint8Array, "frame data must be a Uint8Array");
    assert(
      frame.width > 0 && frame.height > 0 && frame.data.length === frame.width * frame.height * 3,
      `frame must be HxWx3, got ${frame.width}x${frame.height} with ${frame.data.length} values`,
    );
  },
  "getState/setState restores the env exactly"(make) {
    const env = make();
    const actions = sampleActions(env, STEPS);
    rollout(env, SEED, actions.slice(0, 5));
    const saved = structuredClone(env.getState());
    const first = play(env, actions.slice(5));
    env.setState(saved);
    assert(
      same(first, play(env, actions.slice(5))),
      "stepping after setState(getState()) differs from the original continuation",
    );
  },
  "close can be called twice"(make) {
    const env = make();
    env.reset({ seed: SEED });
    env.close();
    env.close();
  },
};

export function runEnvChecks(make: () => AnyEnv): CheckResult[] {
  return Object.entries(CHECKS).map(([name, run]) => {
    try {
      run(make);
      return { name, passed: true };
    } catch (err) {
      return { name, passed: false, message: err instanceof Error ? err.message : String(err) };
    }
  });
}

/** Throws an EnvError listing every failed check. `make` builds a fresh env per check. */
export function checkEnv(make: () => AnyEnv): void {
  const failed = runEnvChecks(make).filter((r) => !r.passed);
  if (failed.length)
    throw new EnvError(
      `checkEnv: ${failed.length} check(s) failed:\n${failed.map((f) => `- ${f.name}: ${f.message}`).join("\n")}`,
    );
}
