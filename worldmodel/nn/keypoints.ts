// A keypoint encoder for images of objects (a spatial soft-argmax, as in Levine et al.'s deep
// spatial autoencoders): K feature maps from a 1x1 convolution of the pixels' channels, each turned
// into the expected (x, y) of a softmax over the image, then a dense MLP on the 2K coordinates.
//   f_k(p) = x(p) . w_k + b_k,  kp_k = sum_p softmax_p(f_k)(p) * coord(p)  (coords in [-1, 1])
// The coordinates move with the object wherever it is, so an object seen at a new place gives a
// new coordinate rather than an input the MLP never saw. Observations [H, W, C] or stacked frames
// [k, H, W, C] (each frame's channels become channels of one image).
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";
import { Mlp, newVariable } from "./mlp.ts";

export class Keypoints {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly head: Mlp;
  private readonly height: number;
  private readonly width: number;
  private readonly channels: number;
  private readonly frames: number;
  /** [H W, 2]: each pixel's (x, y) in [-1, 1]. */
  private readonly grid: tf.Tensor2D;

  /** input [H, W, C] or [k, H, W, C]; `keypoints` feature maps; hidden sizes then `out` for the head. */
  constructor(
    input: readonly number[],
    readonly keypoints: number,
    hidden: readonly number[],
    out: number,
    seed: number,
    readonly name = "keypoints",
  ) {
    if (input.length !== 3 && input.length !== 4)
      throw new Error(`Keypoints: needs [H, W, C] or [k, H, W, C] observations, got [${input.join(", ")}]`);
    const [frames, h, w, c] = input.length === 3 ? [1, ...input] : input;
    [this.frames, this.height, this.width, this.channels] = [frames!, h!, w!, frames! * c!];
    const rng = new Rng(seed);
    const bound = 1 / Math.sqrt(this.channels);
    this.weight = newVariable(() =>
      tf.tensor2d(
        Float32Array.from({ length: this.channels * keypoints }, () => rng.uniform(-bound, bound)),
        [this.channels, keypoints],
      ),
    );
    this.bias = newVariable(() =>
      tf.tensor1d(Float32Array.from({ length: keypoints }, () => rng.uniform(-bound, bound))),
    );
    const coords = new Float32Array(h! * w! * 2);
    for (let r = 0; r < h!; r++)
      for (let q = 0; q < w!; q++) {
        coords[(r * w! + q) * 2] = w! > 1 ? (2 * q) / (w! - 1) - 1 : 0;
        coords[(r * w! + q) * 2 + 1] = h! > 1 ? (2 * r) / (h! - 1) - 1 : 0;
      }
    this.grid = tf.tensor2d(coords, [h! * w!, 2]);
    this.head = new Mlp([2 * keypoints, ...hidden, out], rng.childSeed(), "relu", `${name}/head`);
  }

  /** x [B, ...input] -> [B, out]. */
  apply(x: tf.Tensor): tf.Tensor2D {
    return this.head.apply(this.points(x));
  }

  /** x [B, ...input] -> the keypoints' coordinates [B, 2K] (x_1, y_1, x_2, y_2, ...). */
  points(x: tf.Tensor): tf.Tensor2D {
    const n = x.shape[0]!;
    const hw = this.height * this.width;
    // Channels first, [C, B H W] (stacked frames [B, k, H, W, c]: channel f c + j is frame f's j), so
    // that the feature maps come out [K, B H W] and the softmax runs along the last axis untransposed.
    const perFrame = this.channels / this.frames;
    const channelsFirst = tf.reshape(tf.transpose(tf.reshape(x, [n, this.frames, hw, perFrame]), [1, 3, 0, 2]), [
      this.channels,
      n * hw,
    ]);
    const features = tf.add(tf.matMul(this.weight, channelsFirst, true), tf.reshape(this.bias, [this.keypoints, 1]));
    const attention = tf.softmax(tf.reshape(features, [this.keypoints * n, hw])); // over each image's pixels
    const points = tf.reshape(tf.matMul(attention, this.grid), [this.keypoints, n, 2]);
    return tf.reshape(tf.transpose(points, [1, 0, 2]), [n, 2 * this.keypoints]) as tf.Tensor2D;
  }

  get variables(): tf.Variable[] {
    return [this.weight, this.bias, ...this.head.variables];
  }

  /** Variables with stable names for checkpoints. */
  namedVariables(): [string, tf.Variable][] {
    return [[`${this.name}/w`, this.weight], [`${this.name}/b`, this.bias], ...this.head.namedVariables()];
  }

  dispose(): void {
    tf.dispose([this.weight, this.bias, this.grid]);
    this.head.dispose();
  }
}
