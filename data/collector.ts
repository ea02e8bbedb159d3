// Collects episodes into a ReplayBuffer by running a policy on a vector env. Each sub-env's episode
// is staged and appended whole when it ends, so episodes stay contiguous in the buffer.
import { Rng } from "../common/rng.ts";
import { type Box, Discrete, makeVec, type TypedArray } from "../envs/index.ts";
import { ReplayBuffer } from "./replayBuffer.ts";

/** Maps a batch of observations [n, ...] to n actions (flat, n x actionSize); agents implement agent/evaluate.ts's Policy. */
export type BatchPolicy = (obs: TypedArray, numEnvs: number, rng: Rng) => ArrayLike<number>;

export interface CollectOptions {
  envId: string;
  envOptions?: Record<string, unknown>;
  /** Transitions to collect (whole episodes are kept; the last may be cut at the budget). */
  steps: number;
  numEnvs?: number;
  seed: number;
  policy?: BatchPolicy | "random" | "explorer";
}

/** Uniform random actions from the action space. */
export function randomPolicy(actionSpace: Discrete | Box): BatchPolicy {
  return (_obs, n, rng) => {
    if (actionSpace instanceof Discrete) return Int32Array.from({ length: n }, () => rng.int(actionSpace.n));
    const out = new Float32Array(n * actionSpace.size);
    for (let i = 0; i < out.length; i++)
      out[i] = rng.uniform(actionSpace.low[i % actionSpace.size]!, actionSpace.high[i % actionSpace.size]!);
    return out;
  };
}

/**
 * A scripted explorer for the grid envs (actions left, right, forward, then pickup/drop/toggle):
 * forward half the time, so the agent crosses rooms instead of turning on the spot as uniform
 * random actions mostly do; the other actions share the rest.
 */
export function explorerPolicy(actionSpace: Discrete, forward = 0.5): BatchPolicy {
  const n = actionSpace.n;
  const weights = Array.from({ length: n }, (_, a) => (a === 2 ? forward : (1 - forward) / (n - 1)));
  return (_obs, count, rng) =>
    Int32Array.from({ length: count }, () => {
      let u = rng.float();
      for (let a = 0; a < n; a++) if ((u -= weights[a]!) < 0) return a;
      return n - 1;
    });
}

export function collect(opts: CollectOptions): ReplayBuffer {
  const numEnvs = opts.numEnvs ?? 8;
  const vec = makeVec(opts.envId, numEnvs, opts.envOptions ?? {}, { autoresetMode: "same-step", copy: false });
  const single = vec.singleActionSpace as unknown as Discrete | Box;
  const actionSize = single instanceof Discrete ? 1 : single.size;
  const rng = new Rng(opts.seed);
  const policy =
    typeof opts.policy === "function"
      ? opts.policy
      : opts.policy === "explorer" && single instanceof Discrete
        ? explorerPolicy(single)
        : randomPolicy(single);
  const obsShape = vec.singleObservationSpace.shape;
  const obsSize = vec.singleObservationSpace.size;
  const buffer = new ReplayBuffer({
    obsShape,
    obsDtype: vec.singleObservationSpace.dtype,
    actionSize,
    capacity: 2 * opts.steps + numEnvs + 2,
  }); // observations = transitions + episodes
  type Staged = { obs: TypedArray[]; actions: number[][]; rewards: number[]; terminated: boolean };
  const fresh = (): Staged => ({ obs: [], actions: [], rewards: [], terminated: false });
  const staged: Staged[] = Array.from({ length: numEnvs }, fresh);
  const flush = (s: Staged) => {
    if (s.actions.length === 0) return;
    buffer.addFirst(s.obs[0]!);
    for (let t = 0; t < s.actions.length; t++)
      buffer.addStep(s.actions[t]!, s.rewards[t]!, t === s.actions.length - 1 && s.terminated, s.obs[t + 1]!);
    buffer.endEpisode();
  };
  let [obs] = vec.reset({ seed: rng.childSeed() });
  staged.forEach((s, i) => s.obs.push(obs.slice(i * obsSize, (i + 1) * obsSize) as TypedArray));
  let collected = 0;
  while (collected < opts.steps) {
    const actions = policy(obs, numEnvs, rng);
    const [next, rewards, terms, truncs, info] = vec.step(actions);
    for (let i = 0; i < numEnvs && collected < opts.steps; i++) {
      const s = staged[i]!;
      const done = terms[i]! || truncs[i]!;
      const finalObs = done ? (info.final_obs as TypedArray[])[i]! : next.slice(i * obsSize, (i + 1) * obsSize);
      s.obs.push(finalObs as TypedArray);
      s.actions.push(Array.from({ length: actionSize }, (_, k) => Number(actions[i * actionSize + k])));
      s.rewards.push(rewards[i]!);
      collected++;
      if (done) {
        s.terminated = terms[i] === 1;
        flush(s);
        staged[i] = fresh();
        staged[i]!.obs.push(next.slice(i * obsSize, (i + 1) * obsSize) as TypedArray);
      }
    }
    obs = next;
  }
  staged.forEach(flush);
  return buffer;
}
