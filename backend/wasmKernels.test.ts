// Each kernel the project registers for WASM, and its gradient, against the cpu backend.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "./init.ts";
import { loadNativeGemm } from "./nativeGemm.ts";
import {
  PROJECT_KERNELS,
  delegatedKernels,
  installWasmKernels,
  nativeGemmInstalled,
  uninstallWasmKernels,
} from "./wasmKernels.ts";
import { Rng } from "../common/rng.ts";

const rng = new Rng(0);
const randn = (shape: number[]) => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());

/** Runs f on the given backend with fresh tensors; returns the value and the gradients wrt every input. */
async function valueAndGrads(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: { data: number[]; shape: number[] }[],
) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
    const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) =>
      tf.sum(tf.mul(f(...args), tf.range(1, f(...args).size + 1).reshape(f(...args).shape))),
    )(xs);
    return {
      out: Array.from(f(...xs).dataSync()),
      value: value.dataSync()[0]!,
      grads: grads.map((g) => Array.from(g.dataSync())),
    };
  });
}

async function expectSameOnBothBackends(f: (...xs: tf.Tensor[]) => tf.Tensor, shapes: number[][], tol = 1e-4) {
  const inputs = shapes.map((shape) => ({ data: randn(shape), shape }));
  const ref = await valueAndGrads("cpu", f, inputs);
  const got = await valueAndGrads("wasm", f, inputs);
  const close = (a: number[], b: number[]) => {
    expect(a.length).toBe(b.length);
    const scale = Math.max(1, ...b.map(Math.abs));
    a.forEach((v, i) => expect(Math.abs(v - b[i]!) / scale).toBeLessThan(tol));
  };
  close(got.out, ref.out);
  got.grads.forEach((g, i) => close(g, ref.grads[i]!));
}

beforeAll(async () => {
  const info = await initBackend({ backend: "wasm" });
  expect(info.kind).toBe("wasm");
});
afterAll(async () => {
  await tf.setBackend("wasm");
});

describe("project WASM kernels match the cpu backend, values and gradients", () => {
  it("registers the replaced and added kernels, and delegates only kernels WASM lacks", () => {
    installWasmKernels();
    for (const name of [...PROJECT_KERNELS.replaced, ...PROJECT_KERNELS.added])
      expect(tf.getKernel(name, "wasm")).toBeDefined();
    expect(delegatedKernels()).not.toContain("Add");
    expect(delegatedKernels()).toContain("DepthwiseConv2dNativeBackpropFilter");
  });
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])("BatchMatMul transposeA=%s transposeB=%s", async (ta, tb) => {
    await expectSameOnBothBackends((a, b) => tf.matMul(a!, b!, ta, tb), [ta ? [7, 5] : [5, 7], tb ? [3, 7] : [7, 3]]);
  });
  // (tfjs's own matMul gradient does not support broadcast batch dimensions, on any backend.)
  it("BatchMatMul with a batch dimension", async () => {
    await expectSameOnBothBackends(
      (a, b) => tf.matMul(a!, b!, false, true),
      [
        [4, 5, 6],
        [4, 3, 6],
      ],
    );
    await expectSameOnBothBackends(
      (a, b) => tf.matMul(a!, b!, true, false),
      [
        [3, 6, 5],
        [3, 6, 2],
      ],
    );
    await expectSameOnBothBackends(
      (a, b) => tf.matMul(a!, b!),
      [
        [5, 4, 3],
        [5, 3, 2],
      ],
    );
    await expectSameOnBothBackends(
      (a, b) => tf.matMul(tf.reshape(a!, [2, 3, 4, 3]), tf.reshape(b!, [2, 3, 3, 2])),
      [
        [24, 3],
        [18, 2],
      ],
    );
  });
  it.each([
    [false, false],
    [true, true],
  ])("_FusedMatMul with bias and relu, transposes %s/%s", async (ta, tb) => {
    await expectSameOnBothBackends(
      (a, b, bias) =>
        tf.fused.matMul({
          a: a as tf.Tensor2D,
          b: b as tf.Tensor2D,
          transposeA: ta,
          transposeB: tb,
          bias,
          activation: "relu",
        }),
      [ta ? [6, 4] : [4, 6], tb ? [5, 6] : [6, 5], [5]],
    );
  });
  it("Concat along every axis, short and long rows, and int32", async () => {
    await expectSameOnBothBackends(
      (a, b) => tf.concat([a!, b!], 1),
      [
        [4, 3],
        [4, 5],
      ],
    );
    await expectSameOnBothBackends(
      (a, b, c) => tf.concat([a!, b!, c!], 0),
      [
        [2, 3],
        [4, 3],
        [1, 3],
      ],
    );
    await expectSameOnBothBackends(
      (a, b) => tf.concat([a!, b!], 2),
      [
        [2, 3, 300],
        [2, 3, 2],
      ],
    );
    await expectSameOnBothBackends(
      (a, b) => tf.concat([a!, b!], 1),
      [
        [2, 1, 3],
        [2, 2, 3],
      ],
    );
    await tf.setBackend("wasm");
    expect(
      Array.from(
        tf.concat([tf.tensor2d([1, 2], [2, 1], "int32"), tf.tensor2d([3, 4, 5, 6], [2, 2], "int32")], 1).dataSync(),
      ),
    ).toEqual([1, 3, 4, 2, 5, 6]);
  });
  it("SplitV along every axis", async () => {
    await expectSameOnBothBackends(
      (x) =>
        tf.concat(
          tf.split(x!, [1, 3, 2], 0).map((p, i) => tf.mul(p, i + 1)),
          0,
        ),
      [[6, 4]],
    );
    await expectSameOnBothBackends(
      (x) =>
        tf.concat(
          tf.split(x!, [2, 1, 2], 1).map((p, i) => tf.mul(p, i + 1)),
          1,
        ),
      [[3, 5, 2]],
    );
    await expectSameOnBothBackends(
      (x) =>
        tf.concat(
          tf.split(x!, [300, 7], 0).map((p, i) => tf.mul(p, i + 1)),
          0,
        ),
      [[307]],
    );
  });
  it("Sum over leading axes: the stock kernel's sums bit for bit, and the gradient of a bias", async () => {
    await tf.setBackend("wasm");
    const cases: [number[], number[], boolean][] = [
      [[4096, 64], [0], false],
      [[1, 300, 7], [0, 1], false],
      [[3, 5, 2], [0, 1], true],
      [[3, 5, 2], [1, 0], false], // summed in another order: the stock kernel's
      [[6, 4], [-2], false],
      [[6, 4], [1], false], // the last axis: the stock kernel's own path
    ];
    const data = cases.map(([shape]) => randn(shape));
    const sums = () =>
      cases.map(([shape, axes, keepDims], i) =>
        tf.tidy(() => {
          const s = tf.sum(tf.tensor(data[i]!, shape), axes, keepDims);
          return { shape: s.shape, values: s.dataSync() };
        }),
      );
    const ours = sums();
    uninstallWasmKernels();
    const stock = sums();
    installWasmKernels(loadNativeGemm().gemm);
    expect(ours.map((s) => s.shape)).toEqual([[64], [7], [1, 1, 2], [2], [4], [6]]);
    ours.forEach((s, i) => expect(s.values).toEqual(stock[i]!.values));
    // A bias added to every row of a batch: its gradient is such a sum.
    await expectSameOnBothBackends((x, b) => tf.relu(tf.add(x!, b!)), [[300, 5], [5]]);
  });

  it("Tile: the stock kernel's values along every axis, int32 and bool, and its gradient", async () => {
    await tf.setBackend("wasm");
    const cases: [number[], number[], tf.DataType][] = [
      [[32, 1, 22], [1, 64, 1], "float32"],
      [[1, 5, 4], [6, 1, 1], "float32"],
      [[3, 2, 70], [2, 3, 2], "float32"],
      [[2, 3], [3, 2], "int32"],
      [[4], [1], "bool"],
      [[2, 0, 3], [2, 2, 1], "float32"],
    ];
    const data = cases.map(([shape]) => randn(shape).map((v) => Math.round(v * 3)));
    const tiles = () =>
      cases.map(([shape, reps, dtype], i) =>
        tf.tidy(() => {
          const t = tf.tile(tf.tensor(data[i]!, shape, dtype), reps);
          return { shape: t.shape, values: Array.from(t.dataSync()) };
        }),
      );
    const ours = tiles();
    uninstallWasmKernels();
    const stock = tiles();
    installWasmKernels(loadNativeGemm().gemm);
    expect(ours.map((t) => t.shape)).toEqual([[32, 64, 22], [6, 5, 4], [6, 6, 140], [6, 6], [4], [4, 0, 3]]);
    ours.forEach((t, i) => expect(t.values).toEqual(stock[i]!.values));
    await expectSameOnBothBackends((x) => tf.tile(x!, [2, 3, 1]), [[2, 2, 3]]);
  });

  it("UnsortedSegmentSum (the gradient of gather) with repeated and absent ids", async () => {
    await expectSameOnBothBackends(
      (x) => tf.unsortedSegmentSum(x!, tf.tensor1d([0, 3, 3, 1, 0], "int32"), 5),
      [[5, 4]],
    );
    await expectSameOnBothBackends((x) => tf.gather(x!, tf.tensor1d([2, 2, 0, 4], "int32")), [[5, 3]]);
  });
  it.each([
    [1, "same"],
    [2, "valid"],
    [3, "valid"],
    [2, "same"],
  ] as const)(
    "Conv2DBackpropFilter stride %s pad %s (tfjs has no conv2d gradient for dilation > 1)",
    async (stride, pad) => {
      await expectSameOnBothBackends(
        (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad),
        [
          [2, 7, 6, 3],
          [3, 3, 3, 4],
        ],
      );
    },
  );
  it("a cpu-delegated kernel: DepthwiseConv2dNativeBackpropFilter/Input", async () => {
    await expectSameOnBothBackends(
      (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, "same"),
      [
        [1, 5, 5, 2],
        [3, 3, 2, 1],
      ],
    );
  });
  it.each(["xnnpack", "auto"] as const)(
    "matmuls with gemm %s: every transpose, batches, bias, relu and elu",
    async (gemm) => {
      await initBackend({ backend: "wasm", gemm });
      expect(nativeGemmInstalled()).toBe(gemm === "auto" && loadNativeGemm().gemm !== undefined);
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        await expectSameOnBothBackends(
          (a, b) => tf.matMul(a!, b!, ta, tb),
          [ta ? [70, 9] : [9, 70], tb ? [67, 70] : [70, 67]],
        );
        await expectSameOnBothBackends(
          (a, b) => tf.matMul(a!, b!, ta, tb),
          [ta ? [3, 5, 6] : [3, 6, 5], tb ? [3, 2, 5] : [3, 5, 2]],
        );
      }
      for (const activation of ["linear", "relu", "elu"] as const) {
        await expectSameOnBothBackends(
          (a, b, bias) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation }),
          [[13, 20], [20, 130], [130]],
        );
      }
      await expectSameOnBothBackends(
        (a, b, bias) => tf.fused.matMul({ a, b, bias, activation: "elu" }),
        [
          [4, 6, 5],
          [4, 5, 19],
          [4, 1, 19],
        ],
      );
      await expectSameOnBothBackends(
        (a, b, bias) => tf.fused.matMul({ a, b, bias, activation: "relu", transposeB: true }),
        [[3, 6, 5], [3, 7, 5], [7]],
      );
      // elu near 0, where exp(x) - 1 would lose precision
      await tf.setBackend("wasm");
      const x = tf.tensor2d([-1e-4, -0.005, -0.02, -3, 2], [5, 1]);
      const got = tf.fused.matMul({ a: x, b: tf.tensor2d([1], [1, 1]), activation: "elu" }).dataSync();
      [-1e-4, -0.005, -0.02, -3, 2].forEach((v, i) =>
        expect(Math.abs(got[i]! - (v > 0 ? v : Math.expm1(v)))).toBeLessThan(Math.abs(v) * 1e-5 + 1e-8),
      );
      await initBackend({ backend: "wasm" });
    },
  );
  it("does not leak tensors", async () => {
    await tf.setBackend("wasm");
    const a = tf.randomNormal([8, 8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      tf.tidy(() => {
        tf.grads((x: tf.Tensor) =>
          tf.sum(
            tf.unsortedSegmentSum(tf.matMul(x, x, true, false), tf.tensor1d([0, 1, 1, 0, 2, 2, 3, 3], "int32"), 4),
          ),
        )([a]);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});
