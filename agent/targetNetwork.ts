// Target networks, shared by the value ensemble and DQN: a copy of a network's weights that trails
// the online one by Polyak averaging, target <- (1 - rate) target + rate online.
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
