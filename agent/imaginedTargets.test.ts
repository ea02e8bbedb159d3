import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../common/rng.ts";
import { initBackend } from "../backend/init.ts";
import { cells, corridor } from "./corridor.fixture.ts";
import { imaginedActions, imaginedBatch } from "./imaginedTargets.ts";
import { NO_BOUND, ValueConfig, ValueLearner, type TdBatch } from "./value.ts";

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

const read = (t: tf.Tensor) => Array.from(t.dataSync());

describe("imaginedBatch", () => {
  it("gives the model's reward, termination and next code for every action from every start code", () => {
    const model = corridor();
    const b = imaginedBatch(model, cells(1, 3), 1, imaginedActions({ kind: "discrete", n: 2 }, 4, new Rng(0)), 0.9);
    // Rows: (cell 1, left), (cell 1, right), (cell 3, left), (cell 3, right).
    expect(read(b.returns)).toEqual([0.2, 0, 0, 1].map((x) => expect.closeTo(x, 5)));
    expect(read(b.terminated).map((p) => Math.round(p))).toEqual([1, 0, 0, 1]);
    expect(read(tf.argMax(b.nextCodes, 1))).toEqual([0, 2, 2, 4]);
    expect(read(tf.argMax(b.codes, 1))).toEqual([1, 1, 3, 3]);
    expect(read(tf.argMax(b.actions, 1))).toEqual([0, 1, 0, 1]);
    expect(read(b.discount)).toEqual([0.9, 0.9, 0.9, 0.9].map((x) => expect.closeTo(x, 6)));
  });

  it("draws Box actions uniformly within the bounds, from the given generator", () => {
    const spec = { kind: "box" as const, size: 2, low: [-1, 0], high: [1, 0.5] };
    const a = imaginedActions(spec, 50, new Rng(3));
    expect(a).toHaveLength(50);
    for (const [x, y] of a) expect(x! >= -1 && x! <= 1 && y! >= 0 && y! <= 0.5).toBe(true);
    expect(imaginedActions(spec, 50, new Rng(3))).toEqual(a);
  });
});

describe("ValueLearner with imagined backups", () => {
  // Real data only ever moves left (cells 1-3); the right-hand actions are learned from the model
  // alone. The true values with gamma 0.95: Q(3, right) = 1, Q(2, right) = 0.95, Q(1, right) = 0.9025
  // (better than Q(1, left) = 0.2).
  const gamma = 0.95;
  const realBatch = (): TdBatch =>
    tf.tidy(() => ({
      codes: cells(1, 2, 3),
      nextCodes: cells(0, 1, 2),
      actions: tf.tensor2d([1, 0, 1, 0, 1, 0], [3, 2]),
      returns: tf.tensor1d([0.2, 0, 0]),
      terminated: tf.tensor1d([1, 0, 0]),
      discount: tf.fill([3], gamma) as tf.Tensor1D,
    }));
  const train = (weight: number) => {
    const model = corridor();
    const config = ValueConfig.parse({ ensemble: 2, hidden: [32], lr: 1e-2, gamma, polyak: 0.2 });
    const learner = new ValueLearner(5, { kind: "discrete", n: 2 }, config, 7);
    const actions = imaginedActions({ kind: "discrete", n: 2 }, 1, new Rng(0));
    const counts: number[] = [];
    for (let u = 0; u < 600; u++) {
      const real = realBatch();
      const imagined = weight > 0 ? imaginedBatch(model, real.codes, 1, actions, gamma) : undefined;
      learner.update(real, imagined && { batch: imagined, weight });
      tf.dispose([real, imagined] as unknown as tf.TensorContainer);
      if (u >= 590) counts.push(tf.memory().numTensors);
    }
    const q = tf.tidy(() => tf.mean(learner.critics.apply(cells(1, 2, 3)), 0).arraySync() as number[][]);
    learner.dispose();
    return { q, counts };
  };

  it("learns the values of actions never taken from the model's one-step backups", () => {
    const { q, counts } = train(1);
    expect(q[2]![1]).toBeCloseTo(1, 1);
    expect(q[1]![1]).toBeCloseTo(0.95, 1);
    expect(q[0]![1]).toBeCloseTo(0.9025, 1);
    expect(q[0]![0]).toBeCloseTo(0.2, 1);
    expect(new Set(counts).size).toBe(1); // no tensor kept across updates
  });

  it("without them the untaken action's value is untrained (the backups are what teach it)", () => {
    const { q } = train(0);
    expect(q[0]![0]).toBeCloseTo(0.2, 1);
    expect(Math.abs(q[0]![1]! - 0.9025)).toBeGreaterThan(0.3);
  });
});

describe("ValueLearner with a lower bound on its targets (value.returnBound)", () => {
  // One step from cell 1 that goes on to cell 0, whose value nobody teaches (the target net's ~0):
  // with a bound of 0.6 from the episode's return the target is max(~0, 0.6), without it ~0.
  const batch = (lower?: number): TdBatch =>
    tf.tidy(() => ({
      codes: cells(1),
      nextCodes: cells(0),
      actions: tf.tensor2d([1, 0], [1, 2]),
      returns: tf.tensor1d([0]),
      terminated: tf.tensor1d([0]),
      discount: tf.tensor1d([0.95]),
      ...(lower === undefined ? {} : { lower: tf.tensor1d([lower]) }),
    }));
  const train = (lower?: number) => {
    const config = ValueConfig.parse({ ensemble: 2, hidden: [16], lr: 1e-2, polyak: 0.2 });
    const learner = new ValueLearner(5, { kind: "discrete", n: 2 }, config, 3);
    for (let u = 0; u < 300; u++) {
      const b = batch(lower);
      learner.update(b);
      tf.dispose(b as unknown as tf.TensorContainer);
    }
    const q = tf.tidy(() => tf.mean(learner.critics.apply(cells(1)), 0).arraySync() as number[][])[0]![0]!;
    learner.dispose();
    return q;
  };

  it("lifts a step to the return its episode got, and only where the bound is above the TD target", () => {
    expect(train(0.6)).toBeCloseTo(0.6, 1);
    expect(Math.abs(train())).toBeLessThan(0.15);
    expect(Math.abs(train(NO_BOUND))).toBeLessThan(0.15);
  });
});

describe("ValueLearner with a cap on its targets (value.returnCap)", () => {
  // Cell 1 steps back to itself paying 0.1 (Q* = 0.1 / (1 - 0.95) = 2). An imagined row from cell 3
  // does the same. With the cap at 0.5 on the real batch, both rows' targets stop there.
  const loop = (cell: number): TdBatch =>
    tf.tidy(() => ({
      codes: cells(cell),
      nextCodes: cells(cell),
      actions: tf.tensor2d([1, 0], [1, 2]),
      returns: tf.tensor1d([0.1]),
      terminated: tf.tensor1d([0]),
      discount: tf.tensor1d([0.95]),
    }));
  const train = (upper?: number) => {
    const config = ValueConfig.parse({ ensemble: 2, hidden: [16], lr: 1e-2, polyak: 0.2 });
    const learner = new ValueLearner(5, { kind: "discrete", n: 2 }, config, 3);
    for (let u = 0; u < 600; u++) {
      const real = loop(1);
      if (upper !== undefined) real.upper = upper;
      const imagined = loop(3);
      learner.update(real, { batch: imagined, weight: 1 });
      tf.dispose([real, imagined] as unknown as tf.TensorContainer);
    }
    const q = tf.tidy(() => tf.mean(learner.critics.apply(cells(1, 3)), 0).arraySync() as number[][]);
    learner.dispose();
    return [q[0]![0]!, q[1]![0]!];
  };

  it("holds real and imagined targets at the cap, and without one lets them climb past it", () => {
    for (const q of train(0.5)) expect(q).toBeCloseTo(0.5, 1);
    for (const q of train()) expect(q).toBeGreaterThan(0.9);
  });
});

describe("ValueLearner anchoring terminal codes at zero (value.terminalZero)", () => {
  // Phase 1 teaches Q = 1 at cells 0 and 2 (as an untrained net could read anything there). Phase 2
  // replays a step from cell 1 that ends the episode in cell 0, one from cell 3 that goes on to
  // cell 2, and cell 2's own rewarded endings (in cell 4): TD never bootstraps from cell 0, so only
  // the anchor brings Q there to 0, while cell 2, the next code of a live step, keeps its value.
  const rows = (codes: number[], acts: number[], next: number[], returns: number[], done: number[]): TdBatch =>
    tf.tidy(() => ({
      codes: cells(...codes),
      nextCodes: cells(...next),
      actions: tf.tensor2d(
        acts.flatMap((a) => [a === 0 ? 1 : 0, a === 1 ? 1 : 0]),
        [acts.length, 2],
      ),
      returns: tf.tensor1d(returns),
      terminated: tf.tensor1d(done),
      discount: tf.fill([codes.length], 0.95) as tf.Tensor1D,
    }));
  const train = (terminalZero: boolean) => {
    const config = ValueConfig.parse({ ensemble: 2, hidden: [16], lr: 1e-2, polyak: 0.2, terminalZero });
    const learner = new ValueLearner(5, { kind: "discrete", n: 2 }, config, 5);
    const counts: number[] = [];
    const step = (b: TdBatch) => {
      learner.update(b);
      tf.dispose(b as unknown as tf.TensorContainer);
    };
    for (let u = 0; u < 300; u++) step(rows([0, 0, 2, 2], [0, 1, 0, 1], [4, 4, 4, 4], [1, 1, 1, 1], [1, 1, 1, 1]));
    for (let u = 0; u < 300; u++) {
      step(rows([1, 3, 2, 2], [1, 0, 0, 1], [0, 2, 4, 4], [0, 0, 1, 1], [1, 0, 1, 1]));
      if (u >= 290) counts.push(tf.memory().numTensors);
    }
    const q = tf.tidy(() => tf.mean(learner.critics.apply(cells(0, 2)), 0).arraySync() as number[][]);
    learner.dispose();
    return { q, counts };
  };

  it("brings Q to 0 for every action at the codes a real episode ended in, and only there", () => {
    const { q, counts } = train(true);
    for (const v of q[0]!) expect(Math.abs(v)).toBeLessThan(0.1);
    for (const v of q[1]!) expect(v).toBeCloseTo(1, 1); // cell 2 followed a live step: not anchored
    expect(new Set(counts).size).toBe(1);
  });

  it("without it the terminal codes keep (most of) whatever Q they had", () => {
    const { q } = train(false);
    for (const v of q[0]!) expect(v).toBeGreaterThan(0.7);
  });
});
