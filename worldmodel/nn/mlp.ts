// A multilayer perceptron on plain tf.Variables, initialised from the project's seeded Rng
// (PyTorch's default: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
// Each hidden layer is one fused matmul + bias + activation: small models are dispatch-bound, so
// fewer, larger ops are faster.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";

export type Activation = "relu" | "elu" | "linear";

/** A variable holding `make()`'s values; the initial tensor is freed (tf.variable alone would keep it alive). */
export function newVariable(make: () => tf.Tensor, trainable = true): tf.Variable {
  return tf.tidy(() => tf.variable(make(), trainable));
}

export class Mlp {
  readonly weights: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];

  /** sizes: [in, hidden..., out]; the last layer is linear. */
  constructor(readonly sizes: readonly number[], seed: number, readonly activation: Activation = "relu", readonly name = "mlp") {
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new RangeError(`Mlp: 'sizes' must be >= 2 positive integers, got [${sizes.join(", ")}]`);
    }
    const rng = new Rng(seed);
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [fanIn, fanOut] = [sizes[i]!, sizes[i + 1]!];
      const bound = 1 / Math.sqrt(fanIn);
      const w = Float32Array.from({ length: fanIn * fanOut }, () => rng.uniform(-bound, bound));
      const b = Float32Array.from({ length: fanOut }, () => rng.uniform(-bound, bound));
      // tfjs variable names are global; checkpoints use namedVariables() instead.
      this.weights.push(newVariable(() => tf.tensor2d(w, [fanIn, fanOut])));
      this.biases.push(newVariable(() => tf.tensor1d(b)));
    }
  }

  /** x [B, in] -> [B, out]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D = x;
    const last = this.weights.length - 1;
    for (let i = 0; i <= last; i++) {
      const activation = i < last && this.activation !== "linear" ? this.activation : undefined;
      h = tf.fused.matMul({ a: h, b: this.weights[i] as tf.Tensor2D, bias: this.biases[i], activation }) as tf.Tensor2D;
    }
    return h;
  }

  get variables(): tf.Variable[] {
    return [...this.weights, ...this.biases];
  }

  /** Variables with stable names for checkpoints: `${name}/w0`, `${name}/b0`, ... */
  namedVariables(): [string, tf.Variable][] {
    return [...this.weights.map((w, i) => [`${this.name}/w${i}`, w] as [string, tf.Variable]), ...this.biases.map((b, i) => [`${this.name}/b${i}`, b] as [string, tf.Variable])];
  }

  /** Multiply-adds of one forward pass per example. */
  get macsPerExample(): number {
    let macs = 0;
    for (let i = 0; i + 1 < this.sizes.length; i++) macs += this.sizes[i]! * this.sizes[i + 1]!;
    return macs;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
