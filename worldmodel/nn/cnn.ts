// A small convolutional encoder for image observations: 3x3 stride-2 "same" convolutions with ReLU,
// then a dense MLP on the flattened features. Variables are initialised from the seeded Rng
// (PyTorch's default uniform bound 1/sqrt(fan_in)).
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";
import { Mlp, newVariable } from "./mlp.ts";

export class Cnn {
  readonly filters: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];
  readonly head: Mlp;
  readonly outShape: [number, number, number];

  /** input [H, W, C]; channels per conv layer; hidden sizes then `out` for the dense head. */
  constructor(
    readonly input: readonly [number, number, number],
    channels: readonly number[],
    hidden: readonly number[],
    out: number,
    seed: number,
    readonly name = "cnn",
  ) {
    const rng = new Rng(seed);
    let [h, w, c] = input;
    for (const oc of channels) {
      const bound = 1 / Math.sqrt(9 * c);
      this.filters.push(
        newVariable(() =>
          tf.tensor4d(
            Float32Array.from({ length: 9 * c * oc }, () => rng.uniform(-bound, bound)),
            [3, 3, c, oc],
          ),
        ),
      );
      this.biases.push(
        newVariable(() => tf.tensor1d(Float32Array.from({ length: oc }, () => rng.uniform(-bound, bound)))),
      );
      [h, w, c] = [Math.ceil(h / 2), Math.ceil(w / 2), oc];
    }
    this.outShape = [h, w, c];
    this.head = new Mlp([h * w * c, ...hidden, out], rng.childSeed(), "relu", `${name}/head`);
  }

  /** x [B, H, W, C] -> [B, out]. */
  apply(x: tf.Tensor4D): tf.Tensor2D {
    let h = x;
    for (let i = 0; i < this.filters.length; i++) {
      h = tf.relu(tf.add(tf.conv2d(h, this.filters[i] as tf.Tensor4D, 2, "same"), this.biases[i]!)) as tf.Tensor4D;
    }
    return this.head.apply(tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D);
  }

  get variables(): tf.Variable[] {
    return [...this.filters, ...this.biases, ...this.head.variables];
  }

  /** Variables with stable names for checkpoints. */
  namedVariables(): [string, tf.Variable][] {
    return [
      ...this.filters.map((k, i) => [`${this.name}/k${i}`, k] as [string, tf.Variable]),
      ...this.biases.map((c, i) => [`${this.name}/c${i}`, c] as [string, tf.Variable]),
      ...this.head.namedVariables(),
    ];
  }

  dispose(): void {
    tf.dispose([...this.filters, ...this.biases]);
    this.head.dispose();
  }
}
