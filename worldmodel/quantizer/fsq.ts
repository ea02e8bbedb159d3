// Finite scalar quantisation (Mentzer et al., ICLR 2024), as DC-MPC uses it: each latent has
// d = levels.length channels; channel j is bounded and rounded to one of levels[j] values:
//   bound(z) = tanh(z + shift) * h - offset,  h = (L - 1)(1 + 1e-3) / 2,  offset = 0.5 if L even else 0,
//              shift = atanh(offset / h)
//   code = round_ste(bound(z)) / floor(L / 2)         (round with a straight-through gradient)
// Levels [5, 3] give 15 codes per latent with values {-1, -.5, 0, .5, 1} x {-1, 0, 1}. A code's index
// is the mixed-radix number of its digits (round(bound) + floor(L/2)), first channel least significant.
//
// Permuted (a codebook without geometry, for the design note's interpolation claim): index i keeps
// its grid cell (the encoder's rounding decides it, gradients pass straight as before), but the
// vector that stands for it downstream is the grid point of pi(i), pi a fixed random permutation.
// Neighbouring cells then get unrelated vectors, so an expected code sum_i p_i c^(pi(i)) no longer
// interpolates between neighbours.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../common/rng.ts";
import { withGradient } from "../estimators/categorical.ts";
import { matMul } from "../nn/ops.ts";

const EPS = 1e-3;

export class FSQ {
  readonly levels: readonly number[];
  /** Channels per latent. */
  readonly dim: number;
  /** Codes per latent: the product of the levels. */
  readonly size: number;
  /** [size, dim]: the code of every index (the codebook C). */
  readonly codebook: tf.Tensor2D;
  /** Permuted codebooks: the code whose vector is each grid point (int32 [size]). */
  private readonly permutation?: { inverse: tf.Tensor1D };
  private readonly half: number[];
  private readonly offset: number[];
  private readonly shift: number[];
  private readonly basis: number[];
  /** Per-channel constants as tensors, made once. */
  private readonly perChannel: Record<
    "shift" | "twiceHalf" | "halfPlusOffset" | "widths" | "slope" | "basis",
    tf.Tensor1D
  >;

  /** `permutationSeed`: give the codes the vectors of a fixed random permutation of the grid (see above). */
  constructor(levels: readonly number[], permutationSeed?: number) {
    if (levels.length === 0 || levels.some((l) => !Number.isInteger(l) || l < 2)) {
      throw new RangeError(`FSQ: 'levels' must be integers >= 2, got [${levels.join(", ")}]`);
    }
    this.levels = [...levels];
    this.dim = levels.length;
    this.size = levels.reduce((a, b) => a * b, 1);
    this.half = levels.map((l) => ((l - 1) * (1 + EPS)) / 2);
    this.offset = levels.map((l) => (l % 2 === 0 ? 0.5 : 0));
    this.shift = levels.map((_, j) => Math.atanh(this.offset[j]! / this.half[j]!));
    this.basis = levels.map((_, j) => levels.slice(0, j).reduce((a, b) => a * b, 1));
    const forward = Array.from({ length: this.size }, (_, i) => i);
    if (permutationSeed !== undefined) {
      new Rng(permutationSeed).shuffle(forward);
      const inverse = new Int32Array(this.size);
      forward.forEach((g, i) => (inverse[g] = i));
      this.permutation = { inverse: tf.keep(tf.tensor1d(inverse, "int32")) };
    }
    const codes = new Float32Array(this.size * this.dim);
    for (let i = 0; i < this.size; i++)
      this.indexToDigits(forward[i]!).forEach((digit, j) => (codes[i * this.dim + j] = this.digitToValue(digit, j)));
    this.codebook = tf.keep(tf.tensor2d(codes, [this.size, this.dim]));
    const widths = levels.map((l) => Math.floor(l / 2));
    this.perChannel = tf.tidy(() => {
      const keep = (v: number[]) => tf.keep(tf.tensor1d(v));
      return {
        shift: keep(this.shift),
        twiceHalf: keep(this.half.map((h) => 2 * h)),
        halfPlusOffset: keep(this.half.map((h, j) => h + this.offset[j]!)),
        widths: keep(widths),
        slope: keep(this.half.map((h, j) => h / widths[j]!)),
        basis: keep(this.basis),
      };
    });
  }

  private digitToValue(digit: number, j: number): number {
    const width = Math.floor(this.levels[j]! / 2);
    return (digit - width) / width;
  }

  indexToDigits(index: number): number[] {
    return this.levels.map((l, j) => Math.floor(index / this.basis[j]!) % l);
  }

  /** z [..., dim] -> codes [..., dim] on the grid, with a straight-through gradient through the rounding. */
  quantize(z: tf.Tensor): tf.Tensor {
    this.checkLast(z, "quantize");
    return tf.tidy(() => {
      const rounded = withGradient(
        this.bound(z),
        (b) => {
          const { widths } = this.perChannel;
          const value = this.permutation ? tf.mul(this.permuted(tf.div(tf.round(b), widths)), widths) : tf.round(b);
          return { value, saved: [] };
        },
        (dy) => dy,
      );
      return tf.div(rounded, this.perChannel.widths);
    });
  }

  /**
   * quantize() for the manual backward: also returns s = sigmoid(2 (z + shift)) (tanh = 2s - 1), from which
   * quantizeBackward() forms dL/dz = dL/dcode * h / floor(L/2) * (1 - tanh^2) (rounding passes the gradient straight).
   */
  quantizeTraced(z: tf.Tensor): { codes: tf.Tensor; sigmoid: tf.Tensor } {
    this.checkLast(z, "quantizeTraced");
    const sigmoid = this.sigmoidOf(z);
    return { codes: this.permuted(tf.div(tf.round(this.boundFrom(sigmoid)), this.perChannel.widths)), sigmoid };
  }

  /** dL/dz from dL/dcode: h / floor(L/2) * (1 - tanh^2), with 1 - tanh(u)^2 = 4 s (1 - s), s = sigmoid(2u). */
  quantizeBackward(dCodes: tf.Tensor, sigmoid: tf.Tensor): tf.Tensor {
    return tf.mul(tf.mul(dCodes, this.perChannel.slope), tf.mul(sigmoid, tf.sub(4, tf.mul(sigmoid, 4))));
  }

  /** tanh(z + shift) h - offset, as sigmoid(2 (z + shift)) 2h - (h + offset): WASM's sigmoid is vectorised, its tanh ~7x slower. */
  private bound(z: tf.Tensor): tf.Tensor {
    return this.boundFrom(this.sigmoidOf(z));
  }

  /** s = sigmoid(2 (z + shift)), so tanh(z + shift) = 2s - 1. */
  private sigmoidOf(z: tf.Tensor): tf.Tensor {
    return tf.sigmoid(tf.mul(tf.add(z, this.perChannel.shift), 2));
  }

  /** The bounded value from s: s 2h - (h + offset). */
  private boundFrom(sigmoid: tf.Tensor): tf.Tensor {
    return tf.sub(tf.mul(sigmoid, this.perChannel.twiceHalf), this.perChannel.halfPlusOffset);
  }

  /** codes [..., dim] (on the grid) -> indices [...] int32. */
  codesToIndices(codes: tf.Tensor): tf.Tensor {
    this.checkLast(codes, "codesToIndices");
    return tf.tidy(() => {
      const grid = this.gridIndices(codes);
      return this.permutation ? tf.gather(this.permutation.inverse, grid) : grid;
    });
  }

  /** The mixed-radix index of grid points [..., dim] (int32 [...]). */
  private gridIndices(points: tf.Tensor): tf.Tensor {
    const { widths, basis } = this.perChannel;
    const digits = tf.round(tf.add(tf.mul(points, widths), widths));
    return tf.cast(tf.sum(tf.mul(digits, basis), -1), "int32");
  }

  /** Rounded grid points -> the vectors of their codes (themselves unless permuted). */
  private permuted(points: tf.Tensor): tf.Tensor {
    return this.permutation ? tf.gather(this.codebook, this.gridIndices(points)) : points;
  }

  /** Whether the codes' vectors are a permutation of the grid (constructor's `permutationSeed`). */
  get isPermuted(): boolean {
    return this.permutation !== undefined;
  }

  /** indices [...] int32 -> codes [..., dim]. */
  indicesToCodes(indices: tf.Tensor): tf.Tensor {
    return tf.gather(this.codebook, indices);
  }

  /** One-hot or soft weights [..., size] -> codes [..., dim] (the expected code for probabilities). */
  weightsToCodes(weights: tf.Tensor): tf.Tensor {
    if (weights.shape[weights.rank - 1] !== this.size)
      throw new RangeError(`FSQ.weightsToCodes: last axis must be ${this.size}, got [${weights.shape.join(", ")}]`);
    return tf.tidy(() =>
      tf.reshape(matMul(tf.reshape(weights, [-1, this.size]), this.codebook), [
        ...weights.shape.slice(0, -1),
        this.dim,
      ]),
    );
  }

  private checkLast(t: tf.Tensor, where: string): void {
    if (t.shape[t.rank - 1] !== this.dim)
      throw new RangeError(`FSQ.${where}: last axis must be ${this.dim} (one per level), got [${t.shape.join(", ")}]`);
  }

  dispose(): void {
    this.codebook.dispose();
    this.permutation?.inverse.dispose();
    tf.dispose(Object.values(this.perChannel));
  }
}
