// Pictures of imagined rollouts: decode the model's open-loop predictions for an image observation
// and show them beside the real frames with pixelmatch's diff: a PNG strip (rows real | imagined |
// diff, one column per step) and an APNG that plays the three side by side.
import * as tf from "@tensorflow/tfjs";
import pixelmatch from "pixelmatch";
import type { Frame } from "../envs/core/env.ts";
import { hstack, writeApng, writePng } from "../common/png.ts";
import type { SequenceBatch } from "../data/replayBuffer.ts";
import { obsToRgba } from "./eval.ts";
import { disposeBatch, toTensorBatch } from "./loss.ts";
import type { WorldModel } from "./model.ts";

/** Nearest-neighbour upscaling of an RGBA image to an RGB frame. */
export function rgbaToFrame(rgba: Uint8Array, width: number, height: number, scale: number): Frame {
  const w = width * scale;
  const h = height * scale;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 4;
      data.set(rgba.subarray(s, s + 3), (y * w + x) * 3);
    }
  }
  return { width: w, height: h, data };
}

function vstack(frames: Frame[], gap = 2): Frame {
  const width = Math.max(...frames.map((f) => f.width));
  const height = frames.reduce((a, f) => a + f.height, 0) + gap * (frames.length - 1);
  const data = new Uint8Array(width * height * 3);
  let y0 = 0;
  for (const f of frames) {
    for (let y = 0; y < f.height; y++)
      data.set(f.data.subarray(y * f.width * 3, (y + 1) * f.width * 3), (y0 + y) * width * 3);
    y0 += f.height + gap;
  }
  return { width, height, data };
}

/**
 * For the first sequence of `sample`: real, imagined (decoded open-loop, expected codes) and diff
 * frames for t = 1..H. Writes `${path}.png` (strip) and `${path}.apng` (animation).
 */
export function writeImaginedRollout(model: WorldModel, sample: SequenceBatch, path: string, scale = 8): void {
  const shape = model.shape.obsShape;
  if (!model.decoder || shape.length !== 3)
    throw new Error("writeImaginedRollout: needs image observations and an enabled decoder");
  const [h, w] = shape as [number, number, number];
  const size = model.obsSize;
  const { lo, hi } = model.obsBounds();
  const b = toTensorBatch(model, {
    ...sample,
    batch: 1,
    obs: sample.obs.subarray(0, (sample.horizon + 1) * size) as typeof sample.obs,
    actions: sample.actions,
    rewards: sample.rewards,
    terminated: sample.terminated,
    mask: sample.mask,
  });
  const columns: Frame[][] = [];
  tf.tidy(() => {
    let code: tf.Tensor = model.encode(b.obs0);
    for (let t = 0; t < b.horizon; t++) {
      if (!sample.mask[t]) break;
      code = model.fsq.weightsToCodes(tf.softmax(model.next(code, b.actions[t]!)));
      const imagined = obsToRgba(model.denormalize(model.decode(code)).dataSync(), shape, lo, hi);
      const real = obsToRgba(sample.obs.subarray((t + 1) * size, (t + 2) * size), shape, lo, hi);
      const diff = new Uint8Array(w * h * 4);
      pixelmatch(real, imagined, diff, w, h, { threshold: 0.1 });
      columns.push([real, imagined, diff].map((img) => rgbaToFrame(img, w, h, scale)));
    }
  });
  disposeBatch(b);
  if (columns.length === 0) throw new Error("writeImaginedRollout: the first sequence has no transition");
  writePng(`${path}.png`, hstack(columns.map((c) => vstack(c))));
  writeApng(
    `${path}.apng`,
    columns.map((c) => hstack(c)),
    300,
  );
}
