import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "./init.ts";
import { tidyRead, tidyReadAll } from "./tidyRead.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("tidyRead", () => {
  it("reads a scope's results and disposes them and every intermediate tensor", () => {
    const x = tf.tensor2d([
      [1, -2],
      [3, -4],
    ]);
    const before = tf.memory().numTensors;
    expect(Array.from(tidyRead(() => tf.relu(tf.mul(x, 2))))).toEqual([2, 0, 6, 0]);
    expect(
      tidyRead(
        () => tf.sum(x, 1),
        (t) => t.arraySync(),
      ),
    ).toEqual([-1, -1]);
    const [sums, maxes] = tidyReadAll(() => [tf.sum(x, 0), tf.max(x, 0)]);
    expect([Array.from(sums!), Array.from(maxes!)]).toEqual([
      [4, -6],
      [3, -2],
    ]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("disposes the result when reading it throws", () => {
    const before = tf.memory().numTensors;
    expect(() =>
      tidyRead(
        () => tf.ones([2]),
        () => {
          throw new Error("bad read");
        },
      ),
    ).toThrow("bad read");
    expect(tf.memory().numTensors).toBe(before);
  });
});
