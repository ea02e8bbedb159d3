import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../backend/init.ts";
import { Rng } from "../../common/rng.ts";
import {
  anyCellLogit,
  cellOutputs,
  eventsHeads,
  gridPresence,
  localInputs,
  localHeads,
  localInputSize,
  neighbourIndices,
  neighbourMatrix,
} from "./localHeads.ts";
import { Mlp } from "./mlp.ts";

/** The codes of FSQ levels [2, 2] (a codebook of 4 codes of 2 values). */
const BINARY = [
  [-1, -1],
  [1, -1],
  [-1, 1],
  [1, 1],
];

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("local heads (each cell from its 3x3 neighbourhood)", () => {
  it("gathers each cell's neighbours row by row, one past the last cell outside the grid", () => {
    const idx = Array.from(neighbourIndices(2, 3)); // cells 0 1 2 / 3 4 5
    expect(idx.slice(0, 9)).toEqual([-1, -1, -1, -1, 0, 1, -1, 3, 4]); // top-left corner
    expect(idx.slice(4 * 9, 5 * 9)).toEqual([0, 1, 2, 3, 4, 5, -1, -1, -1]); // bottom middle
    // The matrix picks the same cells (row 9 c + k), a zero row outside.
    const m = neighbourMatrix(2, 3);
    const rows = m.arraySync();
    idx.forEach((c, r) => expect(rows[r]!.map((v, j) => (v ? j : -1)).filter((j) => j >= 0)).toEqual(c < 0 ? [] : [c]));
    m.dispose();
    // Radius 2: 5x5 (25 per cell), row by row. Cell 7 of a 3x4 grid (row 1, column 3): columns 1-5,
    // rows -1 to 3.
    const wide = Array.from(neighbourIndices(3, 4, 2));
    expect(wide.length).toBe(12 * 25);
    expect(wide.slice(7 * 25, 8 * 25)).toEqual([
      ...[-1, -1, -1, -1, -1],
      ...[1, 2, 3, -1, -1],
      ...[5, 6, 7, -1, -1],
      ...[9, 10, 11, -1, -1],
      ...[-1, -1, -1, -1, -1],
    ]);
    const wideMatrix = neighbourMatrix(3, 4, 2);
    expect(wideMatrix.shape).toEqual([12 * 25, 12]);
    wideMatrix.dispose();
  });

  it("the termination logit is noisy-OR's: some cell ends the episode", () => {
    const logit = (cells: number[]) => tf.tidy(() => anyCellLogit(tf.tensor2d([cells])).dataSync()[0]!);
    // Two cells at p = 0.5: d = 1 - 0.25, logit ln 3.
    expect(logit([0, 0])).toBeCloseTo(Math.log(3), 5);
    // One sure cell among unsure ones decides; all quiet cells give a small d.
    expect(logit([12, -12, -12])).toBeGreaterThan(11.9);
    const quiet = 3 * (1 / (1 + Math.exp(9))); // d ~ sum of the cells' p when all are small
    expect(logit([-9, -9, -9])).toBeCloseTo(Math.log(quiet / (1 - quiet)), 3);
    // Finite where no cell can end it (S floored).
    expect(Number.isFinite(logit([-80, -80]))).toBe(true);
  });

  it("the noisy-OR with keepGradient: the same logit, and a gradient where the floor took it", () => {
    const read = (cells: number[], keep: boolean) =>
      tf.tidy(() => {
        const x = tf.tensor2d([cells]);
        // Cross-entropy against "it ends": what a first ending asks of cells that never ended before.
        const { value, grad } = tf.valueAndGrad(
          (l: tf.Tensor) => tf.softplus(tf.neg(anyCellLogit(l as tf.Tensor2D, keep))).sum() as tf.Scalar,
        )(x);
        return {
          logit: anyCellLogit(x, keep).dataSync()[0]!,
          loss: value.dataSync()[0]!,
          grad: Array.from(grad.dataSync()),
        };
      });
    for (const cells of [
      [0, 0],
      [-3, -5, 2],
      [-6.5, -7],
    ])
      expect(read(cells, true).logit).toBeCloseTo(read(cells, false).logit, 3);
    // Two cells at -20: S = 2 softplus(-20) = 4.1e-9, below the floor of 1e-7.
    const floored = read([-20, -20], false);
    const kept = read([-20, -20], true);
    expect(floored.grad.map(Math.abs)).toEqual([0, 0]);
    expect(kept.logit).toBeCloseTo(Math.log(2 * Math.log1p(Math.exp(-20))), 4);
    for (const g of kept.grad) expect(g).toBeCloseTo(-0.5, 3); // each cell's share of the ending
    expect(kept.loss).toBeGreaterThan(floored.loss);
    // Finite where every cell is far below (S underflows to 0).
    expect(Number.isFinite(read([-120, -120], true).logit)).toBe(true);
    expect(read([-120, -120], true).grad.every(Number.isFinite)).toBe(true);
  });

  it("one rule everywhere: a pattern moved across the grid moves its prediction with it", () => {
    const [h, w, d, codes, a] = [4, 5, 2, 4, 3];
    const mlp = new Mlp([localInputSize(d, a), 16, codes], 1, "relu");
    const events = eventsHeads(localInputSize(d, a), [8], h * w, 2);
    const neighbours = neighbourMatrix(h, w);
    const rng = new Rng(3);
    const grid = Array.from({ length: h * w * d }, () => (rng.int(2) ? 1 : -1));
    // The same grid one column to the right (a new column 0): interior cells see the same neighbourhoods.
    const shifted = new Array<number>(h * w * d).fill(0);
    for (let y = 0; y < h; y++)
      for (let x = 1; x < w; x++)
        for (let k = 0; k < d; k++) shifted[(y * w + x) * d + k] = grid[(y * w + x - 1) * d + k]!;
    const logitsOf = (g: number[]) =>
      tf.tidy(() => {
        const action = tf.tensor2d([[0, 1, 0]]);
        const codebook = tf.tensor2d(BINARY);
        return localHeads(
          mlp,
          events,
          tf.tensor3d(g, [1, h * w, d]),
          action,
          neighbours,
          codebook,
        ).logits.arraySync()[0]!;
      });
    const [before, after] = [logitsOf(grid), logitsOf(shifted)];
    for (let y = 1; y < h - 1; y++)
      for (let x = 2; x < w - 1; x++) {
        const b = before[y * w + x - 1]!;
        after[y * w + x]!.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
      }
    mlp.dispose();
    neighbours.dispose();
  });

  it("presence: every cell's input ends with which codes its grid holds, after the action", () => {
    const [h, w] = [2, 2];
    const neighbours = neighbourMatrix(h, w);
    const rows = tf.tidy(() => {
      // Grid 0 holds codes 0 and 2 (of BINARY's 4), grid 1 only code 3.
      const codes = tf.tensor3d(
        [0, 2, 2, 0, 3, 3, 3, 3].flatMap((c) => BINARY[c]!),
        [2, 4, 2],
      );
      const own = tf.oneHot(tf.tensor1d([0, 2, 2, 0, 3, 3, 3, 3], "int32"), 4).reshape([2, 4, 4]) as tf.Tensor3D;
      const action = tf.tensor2d([
        [1, 0, 0],
        [0, 0, 1],
      ]);
      return localInputs(codes, action, neighbours, gridPresence(own)).arraySync();
    });
    expect(rows).toHaveLength(8);
    expect(rows[0]!.length).toBe(localInputSize(2, 3, 4));
    for (const [i, row] of rows.entries())
      expect(row.slice(-7)).toEqual(i < 4 ? [1, 0, 0, 1, 0, 1, 0] : [0, 0, 1, 0, 0, 0, 1]);
    neighbours.dispose();
  });

  it("an events MLP narrower than the rows reads them without their presence flags (presenceInEvents false)", () => {
    const [width, codes] = [10, 4];
    const dynamics = new Mlp([width, 8, codes], 1, "relu", "dynamics", "he");
    const events = new Mlp([width - codes, 8, 3], 2, "relu", "events", "he");
    const rng = new Rng(3);
    const x = Array.from({ length: 2 * width }, () => rng.normal());
    // The same rows with other presence flags (their last |C| columns).
    const flagged = x.map((v, i) => (i % width >= width - codes ? 1 - v : v));
    const [a, b] = [x, flagged].map((rows) =>
      tf.tidy(() => {
        const out = cellOutputs(dynamics, events, tf.tensor2d(rows, [2, width]));
        return [out.logits.arraySync(), out.events.arraySync()];
      }),
    );
    expect(b![1]).toEqual(a![1]); // the events: the flags are not read
    expect(b![0]).not.toEqual(a![0]); // the dynamics read them
    // What the events read: the rows' first columns, as an MLP given only those computes them.
    const first = tf.tidy(() =>
      events.apply(tf.tensor2d(x, [2, width]).slice([0, 0], [-1, width - codes]) as tf.Tensor2D).arraySync(),
    );
    expect(a![1]).toEqual(first);
    dynamics.dispose();
    events.dispose();
  });

  it("starts quiet: reward 0 and the episode's ending about 5% likely, whatever the cells", () => {
    const cells = 20;
    const mlp = new Mlp([localInputSize(2, 3), 8, 4], 2, "relu");
    const events = eventsHeads(localInputSize(2, 3), [8], cells, 3);
    const neighbours = neighbourMatrix(4, 5);
    const rng = new Rng(1);
    const { reward, ending } = tf.tidy(() => {
      const z = tf.tensor3d(
        Array.from({ length: 3 * cells * 2 }, () => rng.uniform(-1, 1)),
        [3, cells, 2],
      );
      const acts = tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3]);
      const out = localHeads(mlp, events, z, acts, neighbours, tf.tensor2d(BINARY));
      return { reward: Array.from(out.reward.dataSync()), ending: Array.from(tf.sigmoid(out.terminated).dataSync()) };
    });
    expect(reward).toEqual([0, 0, 0]);
    // At most d = 1 - (1 - sigmoid(-ln 20 - 3))^20, about 1 - exp(-e^-3) (each cell's share scaled
    // by its chance to change); the reward's gates as small, its values 0.
    for (const p of ending) {
      expect(p).toBeGreaterThan(0.005);
      expect(p).toBeLessThanOrEqual(1 - (1 - 1 / (1 + 20 * Math.exp(3))) ** 20 + 1e-6);
    }
    for (const m of [mlp, events]) m.dispose();
    neighbours.dispose();
  });

  it("the reward and ending do not pull on the codes they read (no gradient back into a rollout)", () => {
    const mlp = new Mlp([localInputSize(2, 3), 8, 4], 2, "relu");
    const events = eventsHeads(localInputSize(2, 3), [8], 20, 3);
    events.weights[1]!.assign(tf.ones([8, 3]));
    const neighbours = neighbourMatrix(4, 5);
    const rng = new Rng(4);
    const z = tf.tensor3d(
      Array.from({ length: 40 }, () => rng.uniform(-1, 1)),
      [1, 20, 2],
    );
    const action = tf.tensor2d([[1, 0, 0]]);
    const codebook = tf.tensor2d(BINARY);
    const [eventsPull, logitsPull] = tf.tidy(() => {
      const eventsGrad = tf.grad((c: tf.Tensor) => {
        const h = localHeads(mlp, events, c, action, neighbours, codebook);
        return tf.add(tf.sum(h.reward), tf.sum(h.terminated));
      })(z);
      const logitsGrad = tf.grad((c: tf.Tensor) =>
        tf.sum(localHeads(mlp, events, c, action, neighbours, codebook).logits),
      )(z);
      return [tf.sum(tf.abs(eventsGrad)).dataSync()[0]!, tf.sum(tf.abs(logitsGrad)).dataSync()[0]!];
    });
    expect(eventsPull).toBe(0);
    expect(logitsPull).toBeGreaterThan(0);
    for (const m of [mlp, events]) m.dispose();
    tf.dispose([neighbours, z, action, codebook]);
  });

  it("a cell's reward and ending count only as far as the cell is predicted to change", () => {
    const mlp = new Mlp([localInputSize(2, 3), 8, 4], 2, "relu");
    // The dynamics predict code 0 for every cell, surely: a cell whose code is 0 stays.
    mlp.weights[1]!.assign(tf.zerosLike(mlp.weights[1]!));
    mlp.biases[1]!.assign(tf.tensor1d([30, 0, 0, 0]));
    const events = eventsHeads(localInputSize(2, 3), [8], 20, 3);
    events.biases[1]!.assign(tf.tensor1d([5, 1, 5])); // every cell would fire, paying 1 and ending
    const neighbours = neighbourMatrix(4, 5);
    const heads = (codes: number[]) =>
      tf.tidy(() => {
        const z = tf.tensor3d(
          codes.flatMap((c) => BINARY[c]!),
          [1, 20, 2],
        );
        const h = localHeads(mlp, events, z, tf.tensor2d([[1, 0, 0]]), neighbours, tf.tensor2d(BINARY));
        return [h.reward.dataSync()[0]!, tf.sigmoid(h.terminated).dataSync()[0]!];
      });
    // Every cell at code 0: nothing changes, so nothing pays or ends.
    const [still, stillEnds] = heads(new Array(20).fill(0));
    expect(still).toBeLessThan(0.01);
    expect(stillEnds).toBeLessThan(0.01);
    // One cell at code 2 will change: it alone pays (sigmoid(5) x 1) and ends the episode.
    const [moved, movedEnds] = heads([2, ...new Array(19).fill(0)]);
    expect(moved).toBeCloseTo(1 / (1 + Math.exp(-5)), 2);
    expect(movedEnds).toBeCloseTo(1 / (1 + Math.exp(-5)), 2);
    for (const m of [mlp, events]) m.dispose();
    neighbours.dispose();
  });
});
