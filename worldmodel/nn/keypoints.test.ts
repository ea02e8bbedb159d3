import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../backend/init.ts";
import { Keypoints } from "./keypoints.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

/** Keypoint coordinates of one observation, with the 1x1 convolution's weights set by hand. */
function pointsOf(input: number[], weight: number[][], pixels: number[]): number[] {
  const kp = new Keypoints(input, weight[0]!.length, [], 2, 0);
  kp.weight.assign(tf.tensor2d(weight));
  kp.bias.assign(tf.zeros([weight[0]!.length]));
  const out = tf.tidy(() => Array.from(kp.points(tf.tensor([pixels], [1, ...input])).dataSync()));
  kp.dispose();
  return out;
}

describe("Keypoints (spatial soft-argmax)", () => {
  it("a sharp feature map's keypoint is the lit pixel's (x, y) in [-1, 1]", () => {
    const pixels = new Array(16).fill(0);
    pixels[1 * 4 + 3] = 1; // row 1, column 3 of a 4x4 image
    const [x, y] = pointsOf([4, 4, 1], [[30]], pixels);
    expect(x).toBeCloseTo(1, 4);
    expect(y).toBeCloseTo(-1 / 3, 4);
    // A flat map: the image's centre.
    const [cx, cy] = pointsOf([4, 4, 1], [[0]], pixels);
    expect([cx, cy].map((v) => Math.abs(v!))).toEqual([0, 0]);
  });

  it("stacked frames [k, H, W, C]: each frame's channels are channels of one image", () => {
    const pixels = new Array(2 * 16).fill(0);
    pixels[0 * 16 + 0] = 1; // frame 0: top left
    pixels[1 * 16 + 15] = 1; // frame 1: bottom right
    // Keypoint 0 reads frame 0's channel, keypoint 1 frame 1's.
    const p = pointsOf(
      [2, 4, 4, 1],
      [
        [30, 0],
        [0, 30],
      ],
      pixels,
    );
    expect(p.map((v) => Number(v.toFixed(3)))).toEqual([-1, -1, 1, 1]);
  });

  it("refuses observations that are not images", () => {
    expect(() => new Keypoints([6], 4, [], 2, 0)).toThrow(
      /needs \[H, W, C\] or \[k, H, W, C\] observations, got \[6\]/,
    );
  });
});
