// E multilayer perceptrons of the same sizes evaluated as one network (the value's Q ensemble):
// the members' first layers side by side in one matrix [in, E * h1] (one matmul for all members),
// later layers stacked [E, h_i, h_{i+1}] and applied as one batched matmul over the member axis.
// A call costs the ops of one MLP instead of E; the backward is written out (no tape). Member e is
// initialised as Mlp(sizes, seeds[e]) would be (PyTorch's uniform bound 1/sqrt(fan_in)).
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";
import { columnSums, newVariable, type Activation } from "./mlp.ts";
import { dense, matMul } from "./ops.ts";

/** What applyTraced() keeps for backward(): the input and every hidden layer's activated output. */
export interface EnsembleTrace {
  x: tf.Tensor2D;
  /** [E, N, h_i] per hidden layer. */
  hidden: tf.Tensor3D[];
}

export class MlpEnsemble {
  /** w0 [in, E*h1], then [E, h_i, h_{i+1}] per later layer. */
  readonly weights: tf.Variable[] = [];
  /** b0 [E*h1], then [E, 1, h_{i+1}]. */
  readonly biases: tf.Variable[] = [];

  constructor(
    readonly sizes: readonly number[],
    readonly seeds: readonly number[],
    readonly activation: Activation = "elu",
    readonly name = "ensemble",
  ) {
    if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1))
      throw new RangeError(`MlpEnsemble: 'sizes' must be >= 2 positive integers, got [${sizes.join(", ")}]`);
    if (seeds.length < 1) throw new RangeError("MlpEnsemble: needs at least one member seed");
    const e = seeds.length;
    // Draw each member's layers in Mlp's order, then lay them out.
    const members = seeds.map((seed) => {
      const rng = new Rng(seed);
      return sizes.slice(1).map((fanOut, i) => {
        const bound = 1 / Math.sqrt(sizes[i]!);
        const w = Float32Array.from({ length: sizes[i]! * fanOut }, () => rng.uniform(-bound, bound));
        const b = Float32Array.from({ length: fanOut }, () => rng.uniform(-bound, bound));
        return { w, b };
      });
    });
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [fanIn, fanOut] = [sizes[i]!, sizes[i + 1]!];
      if (i === 0) {
        const w = new Float32Array(fanIn * e * fanOut);
        for (let m = 0; m < e; m++)
          for (let r = 0; r < fanIn; r++)
            w.set(members[m]![0]!.w.subarray(r * fanOut, (r + 1) * fanOut), r * e * fanOut + m * fanOut);
        this.weights.push(newVariable(() => tf.tensor2d(w, [fanIn, e * fanOut])));
        this.biases.push(
          newVariable(() => tf.tensor1d(Float32Array.from(members.flatMap((layers) => Array.from(layers[0]!.b))))),
        );
      } else {
        this.weights.push(
          newVariable(() =>
            tf.tensor3d(Float32Array.from(members.flatMap((layers) => Array.from(layers[i]!.w))), [e, fanIn, fanOut]),
          ),
        );
        this.biases.push(
          newVariable(() =>
            tf.tensor3d(Float32Array.from(members.flatMap((layers) => Array.from(layers[i]!.b))), [e, 1, fanOut]),
          ),
        );
      }
    }
  }

  get members(): number {
    return this.seeds.length;
  }

  /** x [N, in] -> every member's output [E, N, out]. */
  apply(x: tf.Tensor2D): tf.Tensor3D {
    return this.applyTraced(x).out;
  }

  applyTraced(x: tf.Tensor2D): { out: tf.Tensor3D; trace: EnsembleTrace } {
    const n = x.shape[0];
    const e = this.members;
    const last = this.weights.length - 1;
    const first = dense(x, this.weights[0]!, this.biases[0]!, last > 0 ? this.activation : "linear");
    let h = tf.transpose(tf.reshape(first, [n, e, this.sizes[1]!]), [1, 0, 2]) as tf.Tensor3D;
    const hidden: tf.Tensor3D[] = [];
    for (let i = 1; i <= last; i++) {
      hidden.push(h);
      h = dense(h, this.weights[i]!, this.biases[i]!, i < last ? this.activation : "linear") as tf.Tensor3D;
    }
    return { out: h, trace: { x, hidden } };
  }

  /** Gradients of the variables (in `variables` order) from dL/d(output) [E, N, out]; dL/dx too when asked. */
  backward(trace: EnsembleTrace, dOut: tf.Tensor3D, inputGrad = false): { grads: tf.Tensor[]; dx?: tf.Tensor2D } {
    const n = trace.x.shape[0];
    const last = this.weights.length - 1;
    const dW: tf.Tensor[] = new Array(last + 1);
    const db: tf.Tensor[] = new Array(last + 1);
    let dPre: tf.Tensor3D = dOut;
    for (let i = last; i >= 1; i--) {
      const input = trace.hidden[i - 1]!;
      dW[i] = matMul(input, dPre, true, false);
      db[i] = matMul(tf.ones([dPre.shape[0], 1, dPre.shape[1]]), dPre); // per member: column sums, [E, 1, h]
      const dInput = matMul(dPre, this.weights[i]!, false, true) as tf.Tensor3D;
      dPre = (
        this.activation === "linear"
          ? dInput
          : this.activation === "elu"
            ? tf.engine().runKernel("EluGrad", { dy: dInput, y: input })
            : tf.mul(dInput, tf.step(input))
      ) as tf.Tensor3D;
    }
    const dFirst = tf.reshape(tf.transpose(dPre, [1, 0, 2]), [n, -1]) as tf.Tensor2D;
    dW[0] = matMul(trace.x, dFirst, true, false);
    db[0] = columnSums(dFirst);
    const dx = inputGrad ? (matMul(dFirst, this.weights[0]!, false, true) as tf.Tensor2D) : undefined;
    return { grads: [...dW, ...db], dx };
  }

  get variables(): tf.Variable[] {
    return [...this.weights, ...this.biases];
  }

  /** Variables with stable names for checkpoints: `${name}/w0`, ..., `${name}/b0`, ... */
  namedVariables(): [string, tf.Variable][] {
    return [
      ...this.weights.map((w, i) => [`${this.name}/w${i}`, w] as [string, tf.Variable]),
      ...this.biases.map((b, i) => [`${this.name}/b${i}`, b] as [string, tf.Variable]),
    ];
  }

  /** A new ensemble with the same sizes and weights (a target network). */
  copy(name: string): MlpEnsemble {
    const twin = new MlpEnsemble(this.sizes, this.seeds, this.activation, name);
    twin.variables.forEach((v, i) => v.assign(this.variables[i]!));
    return twin;
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
