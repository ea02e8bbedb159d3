// Probing an imagination agent on every state its env can reach from the evaluation resets, for
// deterministic envs with getState/setState (the grids): breadth-first search with the true
// dynamics gives each state's transitions and its distance to a rewarded ending; the probe then
// asks, state by state, what the agent believes:
// - the world model: is the whole next code right (argmax of every latent = the encoder's code of
//   the real next observation)? does the termination head call the steps that end the episode
//   (d_hat > 0.5), with and without a reward (a goal; lava, a missed ball), and not the steps that don't?
//   what reward does it predict for each kind of ending (the plan scores an ending by it)?
// - the value: is the Q ensemble's greedy action on a shortest path to a rewarded ending, and is
//   the plan's first action (the agent's deterministic evaluation plan, memories reset)? how high is
//   the value the plan bootstraps from (max_a mean_e Q) against the best discounted return, with
//   the rewards the search met (V*(s) = max_a [ending ? r : gamma V*(next)])?
// On a random walk's data a model can be right (the world-model probe) and still wrong on the
// states an evaluation visits; this reads the states themselves.
import * as tf from "@tensorflow/tfjs";
import type { Env, EnvState, TypedArray } from "../envs/index.ts";
import { makeAgentEnv, type AgentEnvSpec } from "./agentEnv.ts";
import type { ImaginationAgent } from "./agent.ts";
import { tidyRead } from "../backend/tidyRead.ts";

/** A step that ends the episode, and what it paid. */
export interface Ending {
  reward: number;
}

export interface Reachable {
  /** Each state's observation, in breadth-first order from the resets. */
  obs: TypedArray[];
  /** Each state's outcome per action: the next state's index, or the episode's end. */
  next: (number | Ending)[][];
  /** Steps from each state to a rewarded ending along a shortest path (Infinity: none). */
  toGoal: number[];
  /** Distinct reset states (on the grids, layouts); a reset that repeats one adds nothing. */
  starts: number;
  /** Each state's agent heading (the grids' agent [x, y, dir], dir 0 right .. 3 up); absent where the env has none. */
  headings?: number[];
}

const HEADINGS = ["right", "down", "left", "up"];

/** The agent's heading on a grid (its state's agent [x, y, dir]), undefined elsewhere. */
function headingOf(env: Env<unknown, unknown>): number | undefined {
  const agent = (env.unwrapped.getState() as { agent?: unknown }).agent;
  return Array.isArray(agent) && typeof agent[2] === "number" ? agent[2] : undefined;
}

/** The state that identifies a position: the innermost env's, without its clock and generator. */
function positionKey(env: Env<unknown, unknown>): string {
  const { rng: _rng, elapsed: _elapsed, phase: _phase, terminated: _terminated, ...rest } = env.unwrapped.getState();
  return JSON.stringify(rest);
}

/**
 * Every state reachable from the resets of `seeds` (the evaluation's: EVAL_SEED_BASE + e), by
 * breadth-first search with the true dynamics of the agent's env (makeAgentEnv). Discrete actions
 * only; a time-limit cut counts as a step that goes on. Throws past `maxStates`.
 */
export function reachableStates(spec: AgentEnvSpec, seeds: readonly number[], maxStates = 50_000): Reachable {
  // Stacked frames make an observation depend on the way there, not only on the position.
  if ((spec.frameStack ?? 1) > 1)
    throw new Error(`reachableStates: frameStack ${spec.frameStack}: observations depend on the path, not the state`);
  const env = makeAgentEnv(spec);
  const n = (env.actionSpace as unknown as { n?: number }).n;
  if (n === undefined) throw new Error(`reachableStates: ${spec.env} needs a Discrete action space`);
  const index = new Map<string, number>();
  const obs: TypedArray[] = [];
  const saved: EnvState[] = [];
  const headings: (number | undefined)[] = [];
  const next: (number | Ending)[][] = [];
  const starts = new Set<string>();
  const add = (o: TypedArray): number => {
    const key = positionKey(env);
    const known = index.get(key);
    if (known !== undefined) return known;
    if (obs.length >= maxStates) throw new Error(`reachableStates: ${spec.env} has more than ${maxStates} states`);
    index.set(key, obs.length);
    obs.push(o.slice() as TypedArray);
    saved.push(structuredClone(env.getState()));
    headings.push(headingOf(env));
    return obs.length - 1;
  };
  for (const seed of seeds) {
    const [o] = env.reset({ seed }) as [TypedArray, unknown];
    if (starts.has(positionKey(env))) continue;
    starts.add(positionKey(env));
    add(o);
  }
  for (let s = 0; s < obs.length; s++) {
    const outcomes: (number | Ending)[] = [];
    for (let a = 0; a < n; a++) {
      env.setState(structuredClone(saved[s]!));
      const [o, reward, terminated] = env.step(a as never) as [TypedArray, number, boolean, boolean, unknown];
      outcomes.push(terminated ? { reward } : add(o));
    }
    next.push(outcomes);
  }
  env.close?.();
  const headed = headings.every((h) => h !== undefined) ? { headings: headings as number[] } : {};
  return { obs, next, toGoal: distancesToGoal(next), starts: starts.size, ...headed };
}

/** Steps to a rewarded ending through outcome o, given each state's distance `dist`. */
const stepsVia = (o: number | Ending, dist: readonly number[]) =>
  typeof o === "number" ? 1 + dist[o]! : o.reward > 0 ? 1 : Infinity;

/** Steps to a rewarded ending along a shortest path, by backward relaxation (Bellman-Ford on unit steps). */
function distancesToGoal(next: (number | Ending)[][]): number[] {
  const dist = next.map(() => Infinity);
  for (let changed = true; changed; ) {
    changed = false;
    next.forEach((outcomes, s) => {
      for (const o of outcomes) {
        const d = stepsVia(o, dist);
        if (d < dist[s]!) {
          dist[s] = d;
          changed = true;
        }
      }
    });
  }
  return dist;
}

/** The best discounted return from each state, rewards as the search met them (value iteration). */
export function optimalValues(r: Reachable, gamma: number): number[] {
  const v = r.obs.map(() => 0);
  for (let sweep = 0, changed = true; changed && sweep < 10_000; sweep++) {
    changed = false;
    r.next.forEach((outcomes, s) => {
      const best = Math.max(...outcomes.map((o) => (typeof o === "number" ? gamma * v[o]! : o.reward)));
      if (Math.abs(best - v[s]!) > 1e-9) {
        v[s] = best;
        changed = true;
      }
    });
  }
  return v;
}

/** The actions of state s on a shortest path to a rewarded ending ([] when none is reachable). */
export function optimalActions(r: Reachable, s: number): number[] {
  const cost = r.next[s]!.map((o) => stepsVia(o, r.toGoal));
  const best = Math.min(...cost);
  return best === Infinity ? [] : cost.flatMap((c, a) => (c === best ? [a] : []));
}

export interface StateProbe {
  states: number;
  starts: number;
  /** Steps that go on, and the share of them whose whole next code the model predicts. */
  live: number;
  wholeCode: number;
  /** Share of the steps that go on that the termination head calls an ending (d_hat > 0.5). */
  liveCalledEnding: number;
  /**
   * The reward predicted for the steps that go on (the grids pay only at an ending): its mean and its
   * 90th and 99th percentiles. A search sums them along its paths, around its cycles too.
   */
  liveReward: { mean: number; p90: number; p99: number };
  /** Steps that end the episode with a reward (goal) / without (lava), and the share called an ending. */
  rewardedEndings: number;
  rewardedCalled: number;
  unrewardedEndings: number;
  unrewardedCalled: number;
  /** Mean reward predicted for the steps into rewarded endings (and what they paid), and into the others (which paid 0). */
  rewardedPredicted: number;
  rewardedPaid: number;
  /**
   * The rewarded endings by the agent's heading as it takes the step (grids): how many, the share
   * called, the mean reward predicted. A goal learnt from arrivals from one side only is called from
   * that side only (DoorKey-8x8: from the left, never from above; docs/efficiency-investigations.md).
   */
  rewardedByHeading?: Record<string, { endings: number; called: number; predicted: number }>;
  unrewardedPredicted: number;
  /** States from which a rewarded ending is reachable, and the share where Q's greedy action / the plan's first action is on a shortest path. */
  solvable: number;
  greedyOptimal: number;
  planOptimal: number;
  /** Over the same states: the mean of the value the plan bootstraps from, and of the best discounted return (optimalValues). */
  value: number;
  optimalValue: number;
}

const share = (hits: number, of: number) => (of > 0 ? hits / of : NaN);

/** The q-quantile of `values` (the nearest rank below), NaN when empty. */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/**
 * What the agent believes on every state of `r` (see the file's comment). Deterministic plans:
 * explore off. `onState(done, total)` after each state: a plan per state makes a large grid slow
 * (DoorKey-8x8: about 40 ms a state, 9152 states per layout).
 */
export function probeAgentStates(
  agent: ImaginationAgent,
  r: Reachable,
  onState?: (done: number, total: number) => void,
): StateProbe {
  let live = 0;
  let whole = 0;
  let liveCalled = 0;
  const liveRewards: number[] = [];
  // Per kind of ending: steps, called, sum of predicted rewards, sum of paid rewards.
  const endings = { rewarded: [0, 0, 0, 0], unrewarded: [0, 0, 0, 0] };
  // Per heading: rewarded endings, called, sum of predicted rewards.
  const byHeading = new Map<number, number[]>();
  const optimal = optimalValues(r, agent.config.value.gamma);
  let value = 0;
  let optimalValue = 0;
  let solvable = 0;
  let greedy = 0;
  let plan = 0;
  const explore = agent.explore;
  agent.explore = false;
  // Each state's code indices, once: a state's own and the truth for every step into it.
  const codes = r.obs.map((obs) =>
    tidyRead(
      () => agent.model.indices(agent.codesOf(obs)),
      (t) => (t.arraySync() as number[][])[0]!,
    ),
  );
  try {
    r.obs.forEach((obs, s) => {
      const read = tf.tidy(() => {
        const z0 = agent.codesOf(obs);
        const h = agent.actionHeads(z0);
        return {
          predicted: tf.argMax(h.logits, 2).arraySync() as number[][],
          ending: tf.sigmoid(h.terminated).dataSync(),
          reward: h.reward.dataSync(),
          value: agent.value.value(z0).dataSync()[0]!,
          greedy: agent.value.greedy(z0).dataSync().indexOf(1),
        };
      });
      r.next[s]!.forEach((o, a) => {
        const called = read.ending[a]! > 0.5 ? 1 : 0;
        if (typeof o !== "number") {
          const kind = o.reward > 0 ? endings.rewarded : endings.unrewarded;
          kind[0]!++;
          kind[1]! += called;
          kind[2]! += read.reward[a]!;
          kind[3]! += o.reward;
          const heading = r.headings?.[s];
          if (o.reward > 0 && heading !== undefined) {
            const h = byHeading.get(heading) ?? [0, 0, 0];
            byHeading.set(heading, [h[0]! + 1, h[1]! + called, h[2]! + read.reward[a]!]);
          }
          return;
        }
        live++;
        liveCalled += called;
        liveRewards.push(read.reward[a]!);
        if (codes[o]!.every((c, l) => c === read.predicted[a]![l])) whole++;
      });
      const best = optimalActions(r, s);
      if (!best.length) return void onState?.(s + 1, r.obs.length);
      solvable++;
      value += read.value;
      optimalValue += optimal[s]!;
      if (best.includes(read.greedy)) greedy++;
      agent.reset();
      if (best.includes(agent.act(obs)[0]!)) plan++;
      onState?.(s + 1, r.obs.length);
    });
  } finally {
    agent.explore = explore;
    agent.reset();
  }
  return {
    states: r.obs.length,
    starts: r.starts,
    live,
    wholeCode: share(whole, live),
    liveCalledEnding: share(liveCalled, live),
    liveReward: {
      mean: share(
        liveRewards.reduce((x, y) => x + y, 0),
        live,
      ),
      p90: quantile(liveRewards, 0.9),
      p99: quantile(liveRewards, 0.99),
    },
    rewardedEndings: endings.rewarded[0]!,
    rewardedCalled: share(endings.rewarded[1]!, endings.rewarded[0]!),
    unrewardedEndings: endings.unrewarded[0]!,
    unrewardedCalled: share(endings.unrewarded[1]!, endings.unrewarded[0]!),
    rewardedPredicted: share(endings.rewarded[2]!, endings.rewarded[0]!),
    rewardedPaid: share(endings.rewarded[3]!, endings.rewarded[0]!),
    unrewardedPredicted: share(endings.unrewarded[2]!, endings.unrewarded[0]!),
    ...(r.headings
      ? {
          rewardedByHeading: Object.fromEntries(
            [...byHeading.entries()]
              .sort(([x], [y]) => x - y)
              .map(([h, [n, called, predicted]]) => [
                HEADINGS[h] ?? String(h),
                { endings: n!, called: share(called!, n!), predicted: share(predicted!, n!) },
              ]),
          ),
        }
      : {}),
    solvable,
    greedyOptimal: share(greedy, solvable),
    planOptimal: share(plan, solvable),
    value: share(value, solvable),
    optimalValue: share(optimalValue, solvable),
  };
}
