// Kernels the project registers for TensorFlow.js's WASM backend, which is ~5x faster than the JS
// `cpu` backend but was built for inference:
//   - BatchMatMul / _FusedMatMul with a transposed operand (every backward pass of a matmul) run a
//     naive loop (~1.5 GFLOP/s) instead of XNNPACK (~13): transpose explicitly, then call the fast path;
//     BatchMatMul with a batch dimension (the value ensemble) likewise: one XNNPACK call per entry.
//   - UnsortedSegmentSum (the gradient of gather) is missing: a one-hot matrix times the data.
//   - Conv2DBackpropFilter (the weight gradient of conv2d) is missing: im2col, then one matmul.
//   - with the native GEMM built (nativeGemm.ts), BatchMatMul / _FusedMatMul (bias, relu, elu) run
//     it on the WASM heap in place instead, transposes included; anything else takes the paths above.
//   - Concat and SplitV copy with one subarray() per row (stock): at this suite's sizes (rows of
//     3-128 values) those allocations cost 20-30 us per call; here short rows are copied by a plain loop.
//   - Sum over leading axes (a bias's gradient: all rows of [rows, n] into [n]) transposes its input
//     first (stock, ~3 ms at [4096, 64]); here one pass in memory order, the same sums bit for bit.
//   - Tile runs ~120 ns per output value (stock, 5 ms at [32, 64, 22]): here block copies, one axis at a time.
//   - every other kernel that the `cpu` backend has and WASM lacks runs on a private `cpu` backend
//     (inputs copied out of the WASM heap, results copied back).
// installWasmKernels() registers them; uninstallWasmKernels() restores the stock backend (benchmarks
// compare both in one process).
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { NativeGemm } from "./nativeGemm.ts";

type Info = tf.TensorInfo;
type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: Record<string, Info>; backend: BackendWasm; attrs?: Attrs };
type KernelFn = (args: KernelArgs) => Info | Info[];

const WASM = "wasm";
const installed: { name: string; original?: tf.KernelConfig }[] = [];
let cpu: MathBackendCPU | undefined;

function stock(name: string): KernelFn {
  const config = tf.getKernel(name, WASM);
  if (config === undefined) throw new Error(`wasmKernels: the WASM backend has no '${name}' kernel to wrap`);
  return config.kernelFunc as unknown as KernelFn;
}

/** Runs a stock WASM kernel and returns its single output. */
function run(name: string, inputs: Record<string, Info>, backend: BackendWasm, attrs: Attrs = {}): Info {
  return stock(name)({ inputs, backend, attrs }) as Info;
}

function release(backend: BackendWasm, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Swaps the last two axes. */
function transposeLast2(x: Info, backend: BackendWasm): Info {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return run("Transpose", { x }, backend, { perm });
}

/**
 * a [batch, M, K] @ b [batch, K, N] (either batch may be 1, shared) as one XNNPACK matmul per batch
 * entry on copies: the stock kernel runs batch > 1 through a naive loop (~10x slower at [5, 128, 64]).
 * A fused matmul's bias may hold one row per entry ([batch, 1, N]). Returns undefined where it does
 * not apply (no batch, other broadcasting).
 */
function perBatch(
  original: KernelFn,
  a: Info,
  b: Info,
  backend: BackendWasm,
  attrs: Attrs,
  bias?: Info,
): Info | undefined {
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  if (
    batch === 1 ||
    (batchA !== batchB && batchA !== 1 && batchB !== 1) ||
    a.dtype !== "float32" ||
    b.dtype !== "float32"
  )
    return undefined;
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const biasRows = bias ? tf.util.sizeFromShape(bias.shape) / n : 0;
  if (bias && (bias.shape[bias.shape.length - 1] !== n || (biasRows !== 1 && biasRows !== batch))) return undefined;
  const out = backend.makeOutput([...(batchA >= batchB ? a : b).shape.slice(0, -2), m, n], "float32");
  const part = (x: Info, shape: number[], i: number, whole: number) => {
    const p = backend.makeOutput(shape, "float32");
    const size = tf.util.sizeFromShape(shape);
    const at = whole === 1 ? 0 : i * size;
    backend.typedArrayFromHeap(p).set(backend.typedArrayFromHeap(x).subarray(at, at + size));
    return p;
  };
  for (let i = 0; i < batch; i++) {
    const ai = part(a, [1, m, k], i, batchA);
    const bi = part(b, [1, k, n], i, batchB);
    const biasI = bias ? part(bias, [n], i, biasRows) : undefined;
    const oi = original({
      inputs: { a: ai, b: bi, ...(biasI ? { bias: biasI } : {}) },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    }) as Info;
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(oi), i * m * n);
    release(backend, ai, bi, oi, ...(biasI ? [biasI] : []));
  }
  return out;
}

/**
 * A matmul kernel that never asks XNNPACK for a transposed operand, runs batches one by one, and
 * takes 2-D operands (the stock kernels need 3-D; the project calls the kernels directly on 2-D
 * tensors to spare tf.matMul's three reshapes).
 */
function untransposed(original: KernelFn): KernelFn {
  const kernel: KernelFn = ({ inputs, backend, attrs = {} }) => {
    if (inputs.a!.shape.length === 2 && inputs.b!.shape.length === 2) {
      const a3 = run("Reshape", { x: inputs.a! }, backend, { shape: [1, ...inputs.a!.shape] });
      const b3 = run("Reshape", { x: inputs.b! }, backend, { shape: [1, ...inputs.b!.shape] });
      const out3 = kernel({ inputs: { ...inputs, a: a3, b: b3 }, backend, attrs }) as Info;
      const out = run("Reshape", { x: out3 }, backend, { shape: out3.shape.slice(1) });
      release(backend, a3, b3, out3);
      return out;
    }
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const batched = !inputs.preluActivationWeights;
    if (!transposeA && !transposeB)
      return (
        (batched && perBatch(original, inputs.a!, inputs.b!, backend, attrs, inputs.bias)) ||
        original({ inputs, backend, attrs })
      );
    const a = transposeA ? transposeLast2(inputs.a!, backend) : inputs.a!;
    const b = transposeB ? transposeLast2(inputs.b!, backend) : inputs.b!;
    const plain = { ...attrs, transposeA: false, transposeB: false };
    const out =
      (batched && perBatch(original, a, b, backend, plain, inputs.bias)) ||
      original({ inputs: { ...inputs, a, b }, backend, attrs: plain });
    if (transposeA) release(backend, a);
    if (transposeB) release(backend, b);
    return out;
  };
  return kernel;
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, elu: 2 };

/** A matmul kernel on the native GEMM; `fallback` takes what it does not cover. */
function nativeMatMul(native: NativeGemm, fallback: KernelFn): KernelFn {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { a, b, bias, preluActivationWeights } = inputs as Record<string, Info | undefined>;
    const { transposeA: ta, transposeB: tb } = attrs as { transposeA: boolean; transposeB: boolean };
    const act = ACTIVATIONS[(attrs.activation as string | undefined) ?? "linear"];
    if (
      !a ||
      !b ||
      a.dtype !== "float32" ||
      b.dtype !== "float32" ||
      a.shape.length < 2 ||
      b.shape.length < 2 ||
      act === undefined ||
      preluActivationWeights
    )
      return fallback(args);
    const [ra, rb] = [a.shape.length, b.shape.length];
    const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    // A bias row shared by every batch entry ([n]), or one row per entry ([batch, 1, n]).
    const biasRows = bias ? tf.util.sizeFromShape(bias.shape) / n : 1;
    const biasOk =
      !bias ||
      (bias.dtype === "float32" &&
        bias.shape[bias.shape.length - 1] === n &&
        (biasRows === 1 || (biasRows === batch && bias.shape[bias.shape.length - 2] === 1)));
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1) || !biasOk || m * n * k === 0)
      return fallback(args);
    const out = backend.makeOutput([...(batchA >= batchB ? a : b).shape.slice(0, -2), m, n], "float32");
    // Views are taken after the allocation (malloc can grow, and so detach, the WASM memory).
    const heap = (x: Info) => backend.typedArrayFromHeap(x) as Float32Array;
    native.gemm(heap(a), heap(b), heap(out), batchA, batchB, m, k, n, ta, tb, bias ? heap(bias) : null, act);
    return out;
  };
}

/** out[s] = sum over i with segmentIds[i] = s of x[i]  ==  onehot(segmentIds)^T @ x. */
const unsortedSegmentSum: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { x, segmentIds } = inputs as { x: Info; segmentIds: Info };
  const numSegments = attrs.numSegments as number;
  const ids = backend.readSync(segmentIds.dataId) as Int32Array;
  const n = ids.length;
  const rowSize = tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
  const oneHotT = new Float32Array(numSegments * n);
  for (let i = 0; i < n; i++) if (ids[i]! >= 0 && ids[i]! < numSegments) oneHotT[ids[i]! * n + i] = 1;
  const m = backend.makeOutput([numSegments, n], "float32", undefined, oneHotT);
  const x2 = run("Reshape", { x }, backend, { shape: [n, rowSize] });
  const x2f = x.dtype === "float32" ? x2 : run("Cast", { x: x2 }, backend, { dtype: "float32" });
  const prod = run("BatchMatMul", { a: m, b: x2f }, backend, { transposeA: false, transposeB: false });
  const out = run("Reshape", { x: prod }, backend, { shape: [numSegments, ...x.shape.slice(segmentIds.shape.length)] });
  release(backend, m, x2, prod);
  if (x2f !== x2) release(backend, x2f);
  return out;
};

/**
 * dW[fh, fw, ic, oc] = sum over (b, oy, ox) of x[b, oy*s - pad + fh*d, ox*s - pad + fw*d, ic] * dy[b, oy, ox, oc]:
 * im2col(x)^T [FH*FW*IC, B*OH*OW] @ dy [B*OH*OW, OC]. NHWC only, as the WASM backend.
 */
const conv2DBackpropFilter: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const filterShape = attrs.filterShape as [number, number, number, number];
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC") {
    throw new Error(`wasmKernels: Conv2DBackpropFilter supports dataFormat NHWC only, got ${String(attrs.dataFormat)}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number],
    (attrs.dilations as [number, number]) ?? 1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | undefined,
    false,
    "channelsLast",
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: IC, outHeight: OH, outWidth: OW, outChannels: OC } = info;
  const {
    filterHeight: FH,
    filterWidth: FW,
    strideHeight: SH,
    strideWidth: SW,
    dilationHeight: DH,
    dilationWidth: DW,
  } = info;
  const { top: padTop, left: padLeft } = info.padInfo;
  const xs = backend.readSync(x.dataId) as Float32Array;
  const rows = FH * FW * IC;
  const cols = B * OH * OW;
  const colsT = new Float32Array(rows * cols);
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const col = (b * OH + oy) * OW + ox;
        for (let fh = 0; fh < FH; fh++) {
          const iy = oy * SH - padTop + fh * DH;
          if (iy < 0 || iy >= H) continue;
          for (let fw = 0; fw < FW; fw++) {
            const ix = ox * SW - padLeft + fw * DW;
            if (ix < 0 || ix >= W) continue;
            const src = ((b * H + iy) * W + ix) * IC;
            const row = (fh * FW + fw) * IC;
            for (let ic = 0; ic < IC; ic++) colsT[(row + ic) * cols + col] = xs[src + ic]!;
          }
        }
      }
    }
  }
  const a = backend.makeOutput([rows, cols], "float32", undefined, colsT);
  const dy2 = run("Reshape", { x: dy }, backend, { shape: [cols, OC] });
  const prod = run("BatchMatMul", { a, b: dy2 }, backend, { transposeA: false, transposeB: false });
  const out = run("Reshape", { x: prod }, backend, { shape: [FH, FW, IC, OC] });
  release(backend, a, dy2, prod);
  return out;
};

/**
 * Copies `rows` rows of `width` values from `src` (row stride `srcStride`, starting at `srcAt`) to
 * `dst` (stride `dstStride`, from `dstAt`): one set() per row for long rows, a loop for short ones.
 */
function copyRows(
  src: tf.backend_util.TypedArray,
  srcAt: number,
  srcStride: number,
  dst: tf.backend_util.TypedArray,
  dstAt: number,
  dstStride: number,
  rows: number,
  width: number,
): void {
  if (rows === 1 || (width === srcStride && width === dstStride)) {
    dst.set(src.subarray(srcAt, srcAt + rows * width), dstAt);
  } else if (width >= 256) {
    for (let r = 0; r < rows; r++)
      dst.set(src.subarray(srcAt + r * srcStride, srcAt + r * srcStride + width), dstAt + r * dstStride);
  } else {
    for (let r = 0; r < rows; r++) {
      const s = srcAt + r * srcStride;
      const d = dstAt + r * dstStride;
      for (let k = 0; k < width; k++) dst[d + k] = src[s + k]!;
    }
  }
}

/** Concat of numeric tensors (strings go to the stock kernel). */
function concatKernel(original: KernelFn): KernelFn {
  return (args) => {
    const xs = Object.values(args.inputs).filter((x) => x != null && tf.util.sizeFromShape(x.shape) > 0);
    if (xs.length < 2 || xs[0]!.dtype === "string") return original(args);
    const axis = tf.util.parseAxisParam(args.attrs!.axis as number, xs[0]!.shape)[0]!;
    const outShape = tf.backend_util.computeOutShape(
      xs.map((x) => x.shape),
      axis,
    );
    const { backend } = args;
    const out = backend.makeOutput(outShape, xs[0]!.dtype);
    const rows = tf.util.sizeFromShape(outShape.slice(0, axis));
    const outWidth = tf.util.sizeFromShape(outShape.slice(axis));
    const dst = backend.typedArrayFromHeap(out);
    let at = 0;
    for (const x of xs) {
      const width = tf.util.sizeFromShape(x.shape.slice(axis));
      copyRows(backend.typedArrayFromHeap(x), 0, width, dst, at, outWidth, rows, width);
      at += width;
    }
    return out;
  };
}

/** SplitV: each output's rows copied out of the input. */
const splitV: KernelFn = ({ inputs, backend, attrs = {} }) => {
  const { x } = inputs as { x: Info };
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number[], axis);
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axis));
  const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
  const srcWidth = x.shape[axis]! * inner;
  let at = 0;
  return sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    const out = backend.makeOutput(shape, x.dtype);
    // Views are taken after the allocation: malloc can grow (and so detach) the WASM memory.
    copyRows(
      backend.typedArrayFromHeap(x),
      at,
      srcWidth,
      backend.typedArrayFromHeap(out),
      0,
      s * inner,
      rows,
      s * inner,
    );
    at += s * inner;
    return out;
  });
};

/**
 * Sum of float32 values over leading axes in one pass in memory order, a float32 accumulator per
 * output. The stock kernel moves the summed axes last by a transpose and then adds each output's
 * values in that same order (axes given in ascending order), so the sums are the same bit for bit.
 * Other sums go to the stock kernel.
 */
function sumKernel(original: KernelFn): KernelFn {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { x } = inputs as { x: Info };
    // Axes in ascending order only: the stock kernel sums in the order the axes are given.
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const k = axes.length;
    const leading = k > 0 && k < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== "float32" || !leading || tf.util.sizeFromShape(x.shape) === 0) return original(args);
    const width = tf.util.sizeFromShape(x.shape.slice(k));
    const rows = tf.util.sizeFromShape(x.shape) / width;
    const out = backend.makeOutput(
      attrs.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k),
      "float32",
    );
    // Views are taken after the allocation: malloc can grow (and so detach) the WASM memory.
    const src = backend.typedArrayFromHeap(x);
    const sum = backend.typedArrayFromHeap(out);
    sum.fill(0);
    for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) sum[j]! += src[r * width + j]!;
    return out;
  };
}

/**
 * Tile as block copies: the axes from the last to the first, each one's blocks (that axis and all
 * after it, tiled already) repeated reps times in a row. A copy, so the values are the stock kernel's.
 */
function tileKernel(original: KernelFn): KernelFn {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { x } = inputs as { x: Info };
    const reps = attrs.reps as number[];
    if (x.dtype === "string" || reps.length !== x.shape.length) return original(args);
    const shape = [...x.shape];
    const out = backend.makeOutput(
      shape.map((d, i) => d * reps[i]!),
      x.dtype,
    );
    // Views are taken after the allocation: malloc can grow (and so detach) the WASM memory.
    const dst = backend.typedArrayFromHeap(out);
    let cur = backend.typedArrayFromHeap(x);
    if (dst.length === 0) return out;
    for (let d = shape.length - 1; d >= 0; d--) {
      const k = reps[d]!;
      if (k === 1) continue;
      const block = tf.util.sizeFromShape(shape.slice(d));
      const outer = cur.length / block;
      const next =
        d === 0 || reps.slice(0, d).every((r) => r === 1)
          ? dst
          : new (cur.constructor as Float32ArrayConstructor)(cur.length * k);
      for (let o = 0; o < outer; o++) {
        const from = o * block;
        for (let r = 0; r < k; r++) {
          const to = (o * k + r) * block;
          // Short blocks by a loop: a subarray view each costs more than the copy.
          if (block >= 64) next.set(cur.subarray(from, from + block), to);
          else for (let j = 0; j < block; j++) next[to + j] = cur[from + j]!;
        }
      }
      shape[d]! *= k;
      cur = next;
    }
    if (cur !== dst) dst.set(cur);
    return out;
  };
}

/** Runs a `cpu` kernel on copies of the inputs and copies the outputs back into WASM memory. */
function delegateToCpu(name: string): KernelFn {
  return ({ inputs, backend, attrs }) => {
    cpu ??= new MathBackendCPU();
    const kernel = tf.getKernel(name, "cpu")!.kernelFunc as unknown as (a: {
      inputs: Record<string, Info>;
      backend: MathBackendCPU;
      attrs?: Attrs;
    }) => Info | Info[];
    const cpuInputs: Record<string, Info> = {};
    for (const [key, info] of Object.entries(inputs)) {
      if (info == null) continue;
      cpuInputs[key] = cpu.makeTensorInfo(
        info.shape,
        info.dtype,
        backend.readSync(info.dataId) as tf.backend_util.BackendValues,
      );
    }
    const result = kernel({ inputs: cpuInputs, backend: cpu, attrs });
    const outputs = (Array.isArray(result) ? result : [result]).map((o) => {
      const values = cpu!.readSync(o.dataId) as tf.backend_util.TypedArray;
      const copy = backend.makeOutput(o.shape, o.dtype, undefined, values.slice());
      cpu!.disposeData(o.dataId, true);
      return copy;
    });
    for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId, true);
    return Array.isArray(result) ? outputs : outputs[0]!;
  };
}

function registerWasm(name: string, kernelFunc: KernelFn): void {
  const original = tf.getKernel(name, WASM);
  if (original) tf.unregisterKernel(name, WASM);
  // Keep the original's setupFunc: it binds the WASM functions that the wrapped kernel calls.
  tf.registerKernel({
    kernelName: name,
    backendName: WASM,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    setupFunc: original?.setupFunc,
  });
  installed.push({ name, original });
}

/** The kernels this layer adds or replaces, by kind. */
export const PROJECT_KERNELS = {
  replaced: ["BatchMatMul", "_FusedMatMul", "Concat", "SplitV", "Sum", "Tile"],
  added: ["UnsortedSegmentSum", "Conv2DBackpropFilter"],
} as const;

/**
 * Registers the project's WASM kernels (idempotent), the matmuls on `native` when given. Returns the
 * names of the cpu-delegated kernels.
 */
export function installWasmKernels(native?: NativeGemm): string[] {
  if (installed.length) return delegatedKernels();
  const batchMatMul = untransposed(stock("BatchMatMul"));
  const fusedMatMul = untransposed(stock("_FusedMatMul"));
  registerWasm("BatchMatMul", native ? nativeMatMul(native, batchMatMul) : batchMatMul);
  registerWasm("_FusedMatMul", native ? nativeMatMul(native, fusedMatMul) : fusedMatMul);
  nativeInstalled = native !== undefined;
  registerWasm("Concat", concatKernel(stock("Concat")));
  registerWasm("SplitV", splitV);
  registerWasm("Sum", sumKernel(stock("Sum")));
  registerWasm("Tile", tileKernel(stock("Tile")));
  registerWasm("UnsortedSegmentSum", unsortedSegmentSum);
  registerWasm("Conv2DBackpropFilter", conv2DBackpropFilter);
  for (const config of tf.getKernelsForBackend("cpu")) {
    if (tf.getKernel(config.kernelName, WASM) === undefined)
      registerWasm(config.kernelName, delegateToCpu(config.kernelName));
  }
  return delegatedKernels();
}

export function delegatedKernels(): string[] {
  const own = new Set<string>([...PROJECT_KERNELS.replaced, ...PROJECT_KERNELS.added]);
  return installed.filter((k) => !own.has(k.name)).map((k) => k.name);
}

export function wasmKernelsInstalled(): boolean {
  return installed.length > 0;
}

let nativeInstalled = false;

/** Whether the installed matmul kernels run the native GEMM. */
export function nativeGemmInstalled(): boolean {
  return installed.length > 0 && nativeInstalled;
}

/** Restores the stock WASM kernels. */
export function uninstallWasmKernels(): void {
  for (const { name, original } of installed.reverse()) {
    tf.unregisterKernel(name, WASM);
    if (original) tf.registerKernel(original);
  }
  installed.length = 0;
}
