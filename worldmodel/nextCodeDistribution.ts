// The predicted next-code distribution against the empirical one, for stochastic envs where the
// support is enumerable. Held-out transitions are grouped by (code of o_t, action); within a group
// the model predicts one distribution over whole next codes, p_m(x) = prod_l p_l(x_l) (the latents
// are predicted independently). Per group with at least `minCount` transitions:
//   TV = 1/2 sum_x |p_m(x) - p_e(x)|,  computed over the empirical support S with the model's mass
//        outside it counted in full: 1/2 (sum_{x in S} |p_m(x) - p_e(x)| + 1 - sum_{x in S} p_m(x))
// averaged over groups weighted by their size, next to its noise floor (the TV between the
// empirical distributions of the group's two halves: what sampling alone gives) and the NLL
// -mean log p_m(x) of every transition (nats per transition, whole code).
import * as tf from "@tensorflow/tfjs";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { disposeBatch, toTensorBatch } from "./loss.ts";
import type { WorldModel } from "./model.ts";

/** One (code, action) group: the model's log-probabilities [L][|C|] and the observed next codes [count][L]. */
export interface TransitionGroup {
  logProbs: readonly (readonly number[])[];
  next: readonly (readonly number[])[];
}

export interface DistributionGap {
  /** Size-weighted mean TV over groups with >= minCount transitions (NaN if none). */
  tv: number;
  /** The same for the split halves of each group's empirical distribution. */
  tvFloor: number;
  /** -mean log p_m(next) over all transitions, in nats. */
  nll: number;
  /** Groups that entered the TV, and the transitions in them. */
  groups: number;
  transitions: number;
}

const key = (x: readonly number[]) => x.join(",");

function empirical(next: readonly (readonly number[])[]): Map<string, { x: readonly number[]; p: number }> {
  const out = new Map<string, { x: readonly number[]; p: number }>();
  for (const x of next) {
    const e = out.get(key(x)) ?? { x, p: 0 };
    e.p += 1 / next.length;
    out.set(key(x), e);
  }
  return out;
}

const logProbOf = (logProbs: TransitionGroup["logProbs"], x: readonly number[]) =>
  x.reduce((s, c, l) => s + logProbs[l]![c]!, 0);

/** TV between the model's factorised distribution and the empirical one of `next`. */
export function totalVariation(logProbs: TransitionGroup["logProbs"], next: readonly (readonly number[])[]): number {
  let diff = 0;
  let modelMass = 0;
  for (const { x, p } of empirical(next).values()) {
    const q = Math.exp(logProbOf(logProbs, x));
    diff += Math.abs(q - p);
    modelMass += q;
  }
  return 0.5 * (diff + Math.max(0, 1 - modelMass));
}

/** TV between two empirical distributions (from counts, so disjoint samples give exactly 1). */
export function empiricalTv(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  const counts = new Map<string, [number, number]>();
  const count = (x: readonly number[], side: 0 | 1) => {
    const c = counts.get(key(x)) ?? [0, 0];
    c[side]++;
    counts.set(key(x), c);
  };
  for (const x of a) count(x, 0);
  for (const x of b) count(x, 1);
  let d = 0;
  for (const [ca, cb] of counts.values()) d += Math.abs(ca * b.length - cb * a.length);
  return d / (2 * a.length * b.length);
}

export function distributionGap(groups: readonly TransitionGroup[], minCount = 20): DistributionGap {
  let nll = 0;
  let all = 0;
  let tv = 0;
  let floor = 0;
  let used = 0;
  let inTv = 0;
  for (const g of groups) {
    for (const x of g.next) nll -= logProbOf(g.logProbs, x);
    all += g.next.length;
    if (g.next.length < minCount) continue;
    const half = g.next.length >> 1;
    tv += g.next.length * totalVariation(g.logProbs, g.next);
    floor += g.next.length * empiricalTv(g.next.slice(0, half), g.next.slice(half, 2 * half));
    used++;
    inTv += g.next.length;
  }
  return {
    tv: inTv ? tv / inTv : NaN,
    tvFloor: inTv ? floor / inTv : NaN,
    nll: all ? nll / all : NaN,
    groups: used,
    transitions: inTv,
  };
}

/**
 * The gap on held-out data: the first transition of every live sequence, grouped by the model's
 * code of o_0 and the action (Discrete actions only; Box actions have no enumerable groups).
 */
export function nextCodeDistributionGap(model: WorldModel, sample: SequenceBatch, minCount = 20): DistributionGap {
  if (model.shape.action.kind !== "discrete")
    throw new Error(
      "nextCodeDistributionGap: needs Discrete actions (Box actions give no repeated (code, action) pairs)",
    );
  const b = toTensorBatch(model, sample);
  try {
    const [codes, logProbs, targets, live] = tf.tidy(() => {
      const code = model.encode(b.obs0);
      const lp = tf.logSoftmax(model.heads(code, b.actions[0]!).logits);
      return [
        model.indices(code).arraySync() as number[][],
        lp.arraySync() as number[][][],
        b.targets[0]!.arraySync() as number[][],
        b.mask[0]!.arraySync() as number[],
      ];
    });
    const groups = new Map<string, { logProbs: number[][]; next: number[][] }>();
    for (let i = 0; i < b.batch; i++) {
      if (!(live[i]! > 0)) continue;
      const k = `${key(codes[i]!)}|${sample.actions[i * sample.horizon]}`;
      const g = groups.get(k) ?? { logProbs: logProbs[i]!, next: [] };
      g.next.push(targets[i]!);
      groups.set(k, g);
    }
    return distributionGap([...groups.values()], minCount);
  } finally {
    disposeBatch(b);
  }
}
