import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../backend/init.ts";
import { FSQ } from "./fsq.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("FSQ", () => {
  it("levels [5, 3] give DC-MPC's 15 codes {-1,-.5,0,.5,1} x {-1,0,1}", () => {
    const fsq = new FSQ([5, 3]);
    expect(fsq.size).toBe(15);
    const codes = fsq.codebook.arraySync() as number[][];
    expect(new Set(codes.map((c) => c[0]))).toEqual(new Set([-1, -0.5, 0, 0.5, 1]));
    expect(new Set(codes.map((c) => c[1]))).toEqual(new Set([-1, 0, 1]));
    expect(new Set(codes.map((c) => c.join()))).toHaveProperty("size", 15);
  });
  it("round trip: index -> code -> index, for every index, odd and even levels", () => {
    for (const levels of [
      [5, 3],
      [8, 5, 5, 5],
      [2, 2],
    ]) {
      const fsq = new FSQ(levels);
      const idx = tf.range(0, fsq.size, 1, "int32");
      expect(Array.from(fsq.codesToIndices(fsq.indicesToCodes(idx)).dataSync())).toEqual(Array.from(idx.dataSync()));
    }
  });
  it("quantize lands on the grid, and its index reproduces the code", () => {
    const fsq = new FSQ([5, 3]);
    const z = tf.randomNormal([100, 2], 0, 3, "float32", 1);
    const q = fsq.quantize(z);
    const back = fsq.indicesToCodes(fsq.codesToIndices(q));
    const plain = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0); // -0 -> 0
    expect(plain(back)).toEqual(plain(q));
  });
  it("passes the gradient straight through the rounding (d code / d z = tanh' * h / floor(L/2))", () => {
    const fsq = new FSQ([5, 3]);
    const g = tf
      .grad((z: tf.Tensor) => tf.sum(fsq.quantize(z)))(tf.zeros([1, 2]))
      .dataSync();
    expect(g[0]).toBeCloseTo((2 * 1.001) / 2, 4);
    expect(g[1]).toBeCloseTo((1 * 1.001) / 1, 4);
  });
  it("expected codes are probability-weighted codebook rows", () => {
    const fsq = new FSQ([3]);
    const w = tf.tensor2d([
      [0.5, 0, 0.5],
      [0, 1, 0],
    ]);
    expect(Array.from(fsq.weightsToCodes(w).dataSync())).toEqual([0, 0]);
  });
  describe("permuted (a codebook without geometry)", () => {
    // Made in beforeAll: the backend is set up before the first tensor.
    let plain: FSQ;
    let permuted: FSQ;
    let z: tf.Tensor;
    beforeAll(() => {
      plain = new FSQ([5, 3]);
      permuted = new FSQ([5, 3], 0);
      z = tf.randomNormal([200, 2], 0, 3, "float32", 2);
    });
    const rows = (f: FSQ) => (f.codebook.arraySync() as number[][]).map((c) => c.join());

    it("carries the grid's vectors in a fixed random order", () => {
      expect(new Set(rows(permuted))).toEqual(new Set(rows(plain)));
      expect(rows(permuted)).not.toEqual(rows(plain));
      expect(rows(new FSQ([5, 3], 0))).toEqual(rows(permuted)); // the seed fixes it
      expect(rows(new FSQ([5, 3], 1))).not.toEqual(rows(permuted));
      expect([plain.isPermuted, permuted.isPermuted]).toEqual([false, true]);
    });
    it("keeps each input's code (its grid cell) and gives it the permuted vector, the gradient unchanged", () => {
      const cells = Array.from(plain.codesToIndices(plain.quantize(z)).dataSync());
      const q = permuted.quantize(z);
      expect(Array.from(permuted.codesToIndices(q).dataSync())).toEqual(cells);
      const p = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0);
      expect(p(q)).toEqual(p(permuted.indicesToCodes(tf.tensor1d(cells, "int32"))));
      expect(p(permuted.quantizeTraced(z).codes)).toEqual(p(q));
      const grad = (f: FSQ) =>
        tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f.quantize(x), tf.range(0, 400).reshape([200, 2]))))(z);
      expect(Array.from(grad(permuted).dataSync())).toEqual(Array.from(grad(plain).dataSync()));
      const idx = tf.range(0, 15, 1, "int32");
      expect(Array.from(permuted.codesToIndices(permuted.indicesToCodes(idx)).dataSync())).toEqual(
        Array.from(idx.dataSync()),
      );
    });
    it("breaks the geometry: neighbouring cells get vectors farther apart", () => {
      // Cells i and i+1 along the first channel (5 levels) are 0.5 apart on the ordered grid.
      const distance = (f: FSQ) => {
        const c = f.codebook.arraySync() as number[][];
        let sum = 0;
        let pairs = 0;
        for (let i = 0; i < 15; i++)
          if (i % 5 < 4) {
            sum += Math.hypot(c[i]![0]! - c[i + 1]![0]!, c[i]![1]! - c[i + 1]![1]!);
            pairs++;
          }
        return sum / pairs;
      };
      expect(distance(plain)).toBeCloseTo(0.5, 6);
      expect(distance(permuted)).toBeGreaterThan(0.8);
    });
  });
  it("rejects bad levels and shapes", () => {
    expect(() => new FSQ([5, 1])).toThrow(/'levels' must be integers >= 2, got \[5, 1\]/);
    expect(() => new FSQ([5, 3]).quantize(tf.zeros([2, 3]))).toThrow(
      /last axis must be 2 \(one per level\), got \[2, 3\]/,
    );
  });
});
