// A multilayer perceptron on plain tf.Variables, initialised from the project's seeded Rng
// (PyTorch's default: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); or He's).
// Each hidden layer is one fused matmul + bias + activation: small models are dispatch-bound, so
// fewer, larger ops are faster.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";
import { dense, matMul, type Activation } from "./ops.ts";

export type { Activation } from "./ops.ts";

/** What one forward call keeps for the manual backward: each layer's input (a hidden layer's input is the previous layer's activated output). */
export interface MlpTrace {
  inputs: tf.Tensor2D[];
}

/**
 * Column sums of x [N, k] as [k]: a [1, N] x [N, k] matmul, several times faster than tf.sum(x, 0)
 * on WASM (whose Sum reduces inner axes only and transposes first).
 */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]) as tf.Tensor1D;
}

/** dL/d(pre-activation) from dL/d(output) and the activated output y. */
function activationGrad(activation: Activation, dy: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  if (activation === "elu") return tf.engine().runKernel("EluGrad", { dy, y }) as tf.Tensor2D;
  if (activation === "relu") return tf.mul(dy, tf.step(y)) as tf.Tensor2D;
  return dy;
}

/** A variable holding `make()`'s values; the initial tensor is freed (tf.variable alone would keep it alive). */
export function newVariable(make: () => tf.Tensor, trainable = true): tf.Variable {
  return tf.tidy(() => tf.variable(make(), trainable));
}

export class Mlp {
  readonly weights: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];

  /**
   * sizes: [in, hidden..., out]; the last layer is linear. `init` "he": weights ~ N(0, 2 / fan_in)
   * and zero biases (He et al. 2015, for ReLU layers), instead of PyTorch's default.
   */
  constructor(
    readonly sizes: readonly number[],
    seed: number,
    readonly activation: Activation = "relu",
    readonly name = "mlp",
    init: "torch" | "he" = "torch",
  ) {
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new RangeError(`Mlp: 'sizes' must be >= 2 positive integers, got [${sizes.join(", ")}]`);
    }
    const rng = new Rng(seed);
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [fanIn, fanOut] = [sizes[i]!, sizes[i + 1]!];
      const bound = 1 / Math.sqrt(fanIn);
      const std = Math.sqrt(2 / fanIn);
      const w = Float32Array.from({ length: fanIn * fanOut }, () =>
        init === "he" ? std * rng.normal() : rng.uniform(-bound, bound),
      );
      const b = Float32Array.from({ length: fanOut }, () => (init === "he" ? 0 : rng.uniform(-bound, bound)));
      // tfjs variable names are global; checkpoints use namedVariables() instead.
      this.weights.push(newVariable(() => tf.tensor2d(w, [fanIn, fanOut])));
      this.biases.push(newVariable(() => tf.tensor1d(b)));
    }
  }

  /** x [B, in] -> [B, out]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D = x;
    const last = this.weights.length - 1;
    for (let i = 0; i <= last; i++)
      h = dense(h, this.weights[i]!, this.biases[i]!, i < last ? this.activation : "linear") as tf.Tensor2D;
    return h;
  }

  /** apply() that also returns what backward() needs. */
  applyTraced(x: tf.Tensor2D): { out: tf.Tensor2D; trace: MlpTrace } {
    const inputs: tf.Tensor2D[] = [x];
    const last = this.weights.length - 1;
    let h = x;
    for (let i = 0; i <= last; i++) {
      h = dense(h, this.weights[i]!, this.biases[i]!, i < last ? this.activation : "linear") as tf.Tensor2D;
      if (i < last) inputs.push(h);
    }
    return { out: h, trace: { inputs } };
  }

  /** The weights transposed, formed once per update for every backward() of that update. */
  transposedWeights(): tf.Tensor2D[] {
    return this.weights.map((w) => tf.transpose(w) as tf.Tensor2D);
  }

  /**
   * The manual backward of one traced call: dL/d(pre-activation) of every layer (for gradients()),
   * and dL/dx when `inputGrad` (wT from transposedWeights()).
   */
  backward(
    trace: MlpTrace,
    dOut: tf.Tensor2D,
    wT: tf.Tensor2D[],
    inputGrad = true,
  ): { dx: tf.Tensor2D | undefined; dPre: tf.Tensor2D[] } {
    const last = this.weights.length - 1;
    const dPre: tf.Tensor2D[] = new Array(last + 1);
    dPre[last] = dOut;
    for (let i = last; i > 0; i--)
      dPre[i - 1] = activationGrad(this.activation, matMul(dPre[i]!, wT[i]!) as tf.Tensor2D, trace.inputs[i]!);
    return { dx: inputGrad ? (matMul(dPre[0]!, wT[0]!) as tf.Tensor2D) : undefined, dPre };
  }

  /**
   * Gradients of the variables (in `variables` order) summed over several traced calls: per layer,
   * one matmul of the calls' stacked inputs with their stacked dPre, dW = X^T dPre, db = colsum(dPre).
   * `firstInputs` may pass the layer-0 inputs already stacked (shared by several MLPs).
   */
  gradients(traces: MlpTrace[], dPres: tf.Tensor2D[][], firstInputs?: tf.Tensor2D): tf.Tensor[] {
    const stack = (xs: tf.Tensor2D[]) => (xs.length === 1 ? xs[0]! : (tf.concat(xs, 0) as tf.Tensor2D));
    const dW: tf.Tensor[] = [];
    const db: tf.Tensor[] = [];
    for (let i = 0; i < this.weights.length; i++) {
      const x = i === 0 && firstInputs ? firstInputs : stack(traces.map((t) => t.inputs[i]!));
      const d = stack(dPres.map((p) => p[i]!));
      dW.push(matMul(x, d, true, false));
      db.push(columnSums(d));
    }
    return [...dW, ...db];
  }

  get variables(): tf.Variable[] {
    return [...this.weights, ...this.biases];
  }

  /** Variables with stable names for checkpoints: `${name}/w0`, `${name}/b0`, ... */
  namedVariables(): [string, tf.Variable][] {
    return [
      ...this.weights.map((w, i) => [`${this.name}/w${i}`, w] as [string, tf.Variable]),
      ...this.biases.map((b, i) => [`${this.name}/b${i}`, b] as [string, tf.Variable]),
    ];
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
