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
  it("rejects bad levels and shapes", () => {
    expect(() => new FSQ([5, 1])).toThrow(/'levels' must be integers >= 2, got \[5, 1\]/);
    expect(() => new FSQ([5, 3]).quantize(tf.zeros([2, 3]))).toThrow(
      /last axis must be 2 \(one per level\), got \[2, 3\]/,
    );
  });
});
