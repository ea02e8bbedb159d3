// Matmuls as one kernel call each. tf.matMul and tf.fused.matMul reshape their operands to 3-D and
// the result back: three more ops per call, and at this project's sizes an op costs about what a
// small matmul does. The kernels of cpu, tfjs-node and the project's WASM layer take 2-D operands;
// the stock WASM kernels (backend "wasm-stock") do not, and get tf.matMul. _FusedMatMul has no
// registered gradient (tf.fused.matMul attaches one), so under a gradient tape dense() is tf.fused.matMul.
import * as tf from "@tensorflow/tfjs";
import { wasmKernelsInstalled } from "../../backend/wasmKernels.ts";

export type Activation = "relu" | "elu" | "linear";

const direct = () => tf.getBackend() !== "wasm" || wasmKernelsInstalled();
const taping = () => (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();

/** op(a) op(b) for 2-D (or batched 3-D) operands. */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (!direct()) return tf.matMul(a, b, transposeA, transposeB);
  return tf.engine().runKernel("BatchMatMul", { a, b }, { transposeA, transposeB }) as tf.Tensor;
}

/** act(x w + bias): one dense layer as one kernel. */
export function dense(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, activation: Activation = "linear"): tf.Tensor {
  if (!direct() || taping())
    return tf.fused.matMul({
      a: x as tf.Tensor2D,
      b: w as tf.Tensor2D,
      bias,
      activation: activation === "linear" ? undefined : activation,
    });
  return tf
    .engine()
    .runKernel(
      "_FusedMatMul",
      { a: x, b: w, bias },
      { transposeA: false, transposeB: false, activation, leakyreluAlpha: 0 },
    ) as tf.Tensor;
}
