// Counts what a piece of TensorFlow.js code costs in dispatches: kernel calls (every kernel of the
// active backend wrapped while `fn` runs, kernels called from inside other kernels included) and
// tensors created. Small models here are bound by per-op overhead, so these counts predict speed.
import * as tf from "@tensorflow/tfjs";

export interface KernelCount {
  calls: number;
  tensors: number;
  /** Calls per kernel name, most first. */
  byKernel: [string, number][];
}

const engineClass = () => Object.getPrototypeOf(tf.engine()).constructor as { nextTensorId: number };

export function countKernels(fn: () => void): KernelCount {
  const byKernel = new Map<string, number>();
  const configs = tf.getKernelsForBackend(tf.getBackend());
  const originals = configs.map((c) => c.kernelFunc);
  configs.forEach((c, i) => {
    (c as { kernelFunc: tf.KernelFunc }).kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
      byKernel.set(c.kernelName, (byKernel.get(c.kernelName) ?? 0) + 1);
      return originals[i]!(args);
    }) as tf.KernelFunc;
  });
  const firstId = engineClass().nextTensorId;
  try {
    fn();
  } finally {
    configs.forEach((c, i) => ((c as { kernelFunc: tf.KernelFunc }).kernelFunc = originals[i]!));
  }
  const calls = [...byKernel.values()].reduce((a, b) => a + b, 0);
  return {
    calls,
    tensors: engineClass().nextTensorId - firstId,
    byKernel: [...byKernel.entries()].sort((a, b) => b[1] - a[1]),
  };
}
