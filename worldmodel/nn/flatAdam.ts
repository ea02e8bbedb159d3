// AdamW over one flat buffer per moment instead of a dozen ops per variable (tfjs's Adam): the
// gradients are concatenated once, the moments and the step are a handful of ops on the whole
// vector, and the step is split back into the variables. The arithmetic is tfjs's Adam's:
//   m <- b1 m + (1 - b1) s g,  v <- b2 v + (1 - b2) (s g)^2        (s: the clipping factor)
//   x <- x - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),  then x <- x (1 - lr wd)  (decoupled decay)
// with a learning rate per variable (the world model's slower encoder). With updateClip, each
// variable's lr is divided by max(1, sqrt(mean(g^2 / v_hat))) over its elements (StableAdamW's update
// clipping, Wortsman et al. 2023): a gradient far above what the second moments have seen (tiny
// gradients for a long time, then an error) would otherwise step every weight by up to 3 lr at once.
import * as tf from "@tensorflow/tfjs";
import { newVariable } from "./mlp.ts";

/** A tensor with a name, as optimisers' getWeights() returns them. */
export type NamedTensor = { name: string; tensor: tf.Tensor };

export interface FlatAdamOptions {
  /** One learning rate, or one per variable. */
  lr: number | number[];
  beta1?: number;
  beta2?: number;
  weightDecay?: number;
  /** Update clipping (StableAdamW): each variable's step shortened where g^2 outruns its second moments. */
  updateClip?: boolean;
}

export class FlatAdam {
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  /** Per-element learning rates, when they differ between variables. */
  private lrVector: tf.Tensor1D | undefined;
  private lr: number[];
  private readonly sizes: number[];
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  /** With updateClip: each element's variable index, and the variables' sizes. */
  private readonly segments: { ids: tf.Tensor1D; sizes: tf.Tensor1D } | undefined;
  /** Steps taken (Adam's t). */
  iterations = 0;

  constructor(
    readonly variables: tf.Variable[],
    options: FlatAdamOptions,
  ) {
    this.sizes = variables.map((v) => v.size);
    this.lr = typeof options.lr === "number" ? variables.map(() => options.lr as number) : options.lr;
    if (this.lr.length !== variables.length)
      throw new RangeError(`FlatAdam: ${this.lr.length} learning rates for ${variables.length} variables`);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = newVariable(() => tf.zeros([total]), false);
    this.v = newVariable(() => tf.zeros([total]), false);
    this.lrVector = this.perElement(this.lr);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = tf.backend().epsilon();
    this.weightDecay = options.weightDecay ?? 0;
    this.segments = options.updateClip
      ? {
          ids: tf.keep(
            tf.tensor1d(Int32Array.from(this.sizes.flatMap((s, i) => new Array<number>(s).fill(i))), "int32"),
          ),
          sizes: tf.keep(tf.tensor1d(this.sizes)),
        }
      : undefined;
  }

  /** Per-element learning rates, when they differ between variables. */
  private perElement(lr: number[]): tf.Tensor1D | undefined {
    if (lr.every((x) => x === lr[0])) return undefined;
    return tf.keep(tf.tensor1d(Float32Array.from(this.sizes.flatMap((s, i) => new Array<number>(s).fill(lr[i]!)))));
  }

  /** Replaces the learning rates, one per variable (0 freezes a variable: no step, no decay). */
  setLearningRates(lr: number[]): void {
    if (lr.length !== this.variables.length)
      throw new RangeError(`FlatAdam: ${lr.length} learning rates for ${this.variables.length} variables`);
    this.lrVector?.dispose();
    this.lr = [...lr];
    this.lrVector = this.perElement(this.lr);
  }

  /** The gradients (aligned with `variables`) as one flat vector. */
  flatten(grads: tf.Tensor[]): tf.Tensor1D {
    if (grads.length !== this.variables.length)
      throw new RangeError(`FlatAdam: ${grads.length} gradients for ${this.variables.length} variables`);
    return tf.concat(grads.map((x) => tf.reshape(x, [-1]))) as tf.Tensor1D;
  }

  /** One step with `grads` aligned with `variables`, each scaled by `scale` (e.g. a clipping factor). */
  apply(grads: tf.Tensor[], scale = 1): void {
    tf.tidy(() => this.applyFlat(this.flatten(grads), scale));
  }

  /** One step with the gradients already flattened (see flatten()). */
  applyFlat(g: tf.Tensor1D, scale = 1): void {
    this.iterations++;
    const { beta1: b1, beta2: b2 } = this;
    const t = this.iterations;
    tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, b1), tf.mul(g, (1 - b1) * scale));
      const v = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(g), (1 - b2) * scale * scale));
      this.m.assign(m);
      this.v.assign(v);
      const vHat = tf.div(v, 1 - b2 ** t);
      const damp = this.segments && this.staleness(tf.mul(g, scale), vHat, this.segments);
      const direction = tf.div(m, tf.add(tf.sqrt(vHat), this.eps));
      const lr0 = this.lr[0]! / (1 - b1 ** t);
      const plain = this.lrVector ? tf.mul(direction, tf.div(this.lrVector, 1 - b1 ** t)) : tf.mul(direction, lr0);
      const step = damp ? tf.div(plain, damp) : plain;
      const parts = tf.split(step, this.sizes);
      const damps = damp && tf.split(damp, this.sizes);
      this.variables.forEach((x, i) => {
        const updated = tf.sub(x, tf.reshape(parts[i]!, x.shape));
        if (this.weightDecay <= 0) x.assign(updated);
        else if (!damps) x.assign(tf.mul(updated, 1 - this.lr[i]! * this.weightDecay));
        else
          x.assign(tf.mul(updated, tf.reshape(tf.sub(1, tf.div(this.lr[i]! * this.weightDecay, damps[i]!)), x.shape)));
      });
    });
  }

  /** Per element, its variable's max(1, sqrt(mean(g^2 / v_hat))) (updateClip). */
  private staleness(g: tf.Tensor1D, vHat: tf.Tensor, segments: { ids: tf.Tensor1D; sizes: tf.Tensor1D }): tf.Tensor1D {
    const ratio = tf.div(tf.square(g), tf.maximum(vHat, this.eps * this.eps));
    const mean = tf.div(tf.unsortedSegmentSum(ratio, segments.ids, this.sizes.length), segments.sizes);
    return tf.gather(tf.maximum(tf.sqrt(mean), 1), segments.ids) as tf.Tensor1D;
  }

  /** Step count and moments, for checkpoints. */
  getWeights(): NamedTensor[] {
    return [
      { name: "iterations", tensor: tf.scalar(this.iterations) },
      { name: "m", tensor: this.m },
      { name: "v", tensor: this.v },
    ];
  }

  setWeights(weights: NamedTensor[]): void {
    const [it, m, v] = weights;
    if (weights.length !== 3 || m!.tensor.size !== this.m.size || v!.tensor.size !== this.v.size) {
      throw new RangeError(
        `FlatAdam.setWeights: expected [iterations, m[${this.m.size}], v[${this.v.size}]], got ${weights.length} tensors of sizes ${weights.map((w) => w.tensor.size).join(", ")}`,
      );
    }
    this.iterations = it!.tensor.dataSync()[0]!;
    this.m.assign(tf.reshape(m!.tensor, [-1]));
    this.v.assign(tf.reshape(v!.tensor, [-1]));
  }

  dispose(): void {
    tf.dispose([
      this.m,
      this.v,
      ...(this.lrVector ? [this.lrVector] : []),
      ...(this.segments ? [this.segments.ids, this.segments.sizes] : []),
    ]);
  }
}
