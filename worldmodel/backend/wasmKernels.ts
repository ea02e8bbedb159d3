// Kernels the project registers for TensorFlow.js's WASM backend, which is ~5x faster than the JS
// `cpu` backend but was built for inference:
//   - BatchMatMul / _FusedMatMul with a transposed operand (every backward pass of a matmul) run a
//     naive loop (~1.5 GFLOP/s) instead of XNNPACK (~13): transpose explicitly, then call the fast path.
//   - UnsortedSegmentSum (the gradient of gather) is missing: a one-hot matrix times the data.
//   - Conv2DBackpropFilter (the weight gradient of conv2d) is missing: im2col, then one matmul.
//   - every other kernel that the `cpu` backend has and WASM lacks runs on a private `cpu` backend
//     (inputs copied out of the WASM heap, results copied back).
// installWasmKernels() registers them; uninstallWasmKernels() restores the stock backend (benchmarks
// compare both in one process).
import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

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

/** A matmul kernel that never asks XNNPACK for a transposed operand. */
function untransposed(original: KernelFn): KernelFn {
  return ({ inputs, backend, attrs = {} }) => {
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original({ inputs, backend, attrs });
    const a = transposeA ? transposeLast2(inputs.a!, backend) : inputs.a!;
    const b = transposeB ? transposeLast2(inputs.b!, backend) : inputs.b!;
    const out = original({ inputs: { ...inputs, a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    if (transposeA) release(backend, a);
    if (transposeB) release(backend, b);
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
    x.shape as [number, number, number, number], filterShape, attrs.strides as [number, number], (attrs.dilations as [number, number]) ?? 1,
    attrs.pad as "same" | "valid" | number, attrs.dimRoundingMode as "floor" | undefined, false, "channelsLast",
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: IC, outHeight: OH, outWidth: OW, outChannels: OC } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = info;
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

/** Runs a `cpu` kernel on copies of the inputs and copies the outputs back into WASM memory. */
function delegateToCpu(name: string): KernelFn {
  return ({ inputs, backend, attrs }) => {
    cpu ??= new MathBackendCPU();
    const kernel = tf.getKernel(name, "cpu")!.kernelFunc as unknown as (a: { inputs: Record<string, Info>; backend: MathBackendCPU; attrs?: Attrs }) => Info | Info[];
    const cpuInputs: Record<string, Info> = {};
    for (const [key, info] of Object.entries(inputs)) {
      if (info == null) continue;
      cpuInputs[key] = cpu.makeTensorInfo(info.shape, info.dtype, backend.readSync(info.dataId) as tf.backend_util.BackendValues);
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
  tf.registerKernel({ kernelName: name, backendName: WASM, kernelFunc: kernelFunc as unknown as tf.KernelFunc, setupFunc: original?.setupFunc });
  installed.push({ name, original });
}

/** The kernels this layer adds or replaces, by kind. */
export const PROJECT_KERNELS = {
  replaced: ["BatchMatMul", "_FusedMatMul"],
  added: ["UnsortedSegmentSum", "Conv2DBackpropFilter"],
} as const;

/** Registers the project's WASM kernels (idempotent). Returns the names of the cpu-delegated kernels. */
export function installWasmKernels(): string[] {
  if (installed.length) return delegatedKernels();
  for (const name of PROJECT_KERNELS.replaced) registerWasm(name, untransposed(stock(name)));
  registerWasm("UnsortedSegmentSum", unsortedSegmentSum);
  registerWasm("Conv2DBackpropFilter", conv2DBackpropFilter);
  for (const config of tf.getKernelsForBackend("cpu")) {
    if (tf.getKernel(config.kernelName, WASM) === undefined) registerWasm(config.kernelName, delegateToCpu(config.kernelName));
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

/** Restores the stock WASM kernels. */
export function uninstallWasmKernels(): void {
  for (const { name, original } of installed.reverse()) {
    tf.unregisterKernel(name, WASM);
    if (original) tf.registerKernel(original);
  }
  installed.length = 0;
}
