// Target networks, shared by the value ensemble and DQN: a copy of a network's weights that trails
// the online one by Polyak averaging, target <- (1 - rate) target + rate online; `swapped` runs a
// function with such a copy in the online weights' place (DQN's target encoder, the agent's averaged
// evaluation weights).
import * as tf from "@tensorflow/tfjs";
import { Mlp } from "../worldmodel/nn/mlp.ts";

/** A new Mlp with the same sizes and weights. */
export function copyOf(m: Mlp, name: string): Mlp {
  const copy = new Mlp(m.sizes, 0, m.activation, name);
  copy.variables.forEach((v, i) => v.assign(m.variables[i]!));
  return copy;
}

/** target_i <- (1 - rate) target_i + rate online_i, for variables paired by position. */
export function polyak(online: tf.Variable[], target: tf.Variable[], rate: number): void {
  tf.tidy(() => online.forEach((v, i) => target[i]!.assign(tf.add(tf.mul(target[i]!, 1 - rate), tf.mul(v, rate)))));
}

/** Runs f with `vars` temporarily holding the values of `others` (no gradient flows through it). */
export function swapped<T>(vars: tf.Variable[], others: tf.Variable[], f: () => T): T {
  const back = swapIn(vars, others);
  try {
    return f();
  } finally {
    back();
  }
}

/**
 * Puts the values of `others` into `vars` and returns what puts theirs back: for work that holds
 * the swap across pauses (swapped() for a call).
 */
export function swapIn(vars: tf.Variable[], others: tf.Variable[]): () => void {
  const saved = vars.map((v) => tf.keep(v.clone()));
  vars.forEach((v, i) => v.assign(others[i]!));
  return () => {
    vars.forEach((v, i) => v.assign(saved[i]!));
    tf.dispose(saved);
  };
}
