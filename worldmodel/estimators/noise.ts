// Seeded noise for the estimators, drawn in JS from the project's Rng and uploaded as a tensor: the
// same seed gives the same numbers on every backend (tfjs's own random ops differ between backends).
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";

export class Noise {
  private rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** The stream's position (a checkpoint keeps it: a resumed run draws what an uninterrupted one would). */
  getState(): number[] {
    return this.rng.getState();
  }

  setState(state: readonly number[]): void {
    this.rng = Rng.fromState(state);
  }

  private fill(shape: number[], draw: () => number): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = draw();
    return tf.tensor(data, shape, "float32");
  }

  /** U(0, 1), open interval. */
  uniform(shape: number[]): tf.Tensor {
    return this.fill(shape, () => this.rng.floatOpen());
  }
  /** Standard Gumbel: -log(-log u). */
  gumbel(shape: number[]): tf.Tensor {
    return this.fill(shape, () => this.rng.gumbel());
  }
  /** Exp(1): -log u. */
  exponential(shape: number[]): tf.Tensor {
    return this.fill(shape, () => -Math.log(this.rng.floatOpen()));
  }
}
