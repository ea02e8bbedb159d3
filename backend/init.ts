// initBackend: the one place that chooses the TensorFlow.js backend. Every entry point calls it
// and every result records what it returns.
//   auto: @tensorflow/tfjs-node (native TensorFlow) when it loads -- an optional dependency that
//         installs only where its library can be downloaded -- else WASM with the project's
//         kernels, else the plain JS cpu backend (20-100x slower than WASM; never chosen if WASM works).
//   On WASM the matmuls run the native GEMM where `npm ci` could build it (gemm "auto"), else XNNPACK.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { z } from "zod";
import { loadNativeGemm } from "./nativeGemm.ts";
import {
  delegatedKernels,
  installWasmKernels,
  nativeGemmInstalled,
  uninstallWasmKernels,
  wasmKernelsInstalled,
} from "./wasmKernels.ts";

export const BACKENDS = ["auto", "tfjs-node", "wasm", "wasm-stock", "cpu"] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export const BackendOptions = z
  .object({
    /** Which backend; "wasm-stock" is WASM without the project's kernels (for benchmarks). */
    backend: z.enum(BACKENDS).default("auto"),
    /**
     * Threads for native TensorFlow (TF_NUM_INTRAOP_THREADS, read when tfjs-node first loads). WASM
     * threads need SharedArrayBuffer workers, which tfjs-backend-wasm does not start in Node: one
     * process uses one core there, so sweeps run one process per core instead.
     */
    threads: z.number().int().min(1).max(256).optional(),
    /** WASM matmuls: "auto" takes the native GEMM when it is built, "xnnpack" keeps WASM's own. */
    gemm: z.enum(["auto", "xnnpack"]).default("auto"),
  })
  .strict();
export type BackendOptions = z.input<typeof BackendOptions>;

export interface BackendInfo {
  /** What was asked for. */
  requested: BackendChoice;
  /** The tfjs backend name in use: "tensorflow", "wasm" or "cpu". */
  name: string;
  /** "tfjs-node", "wasm" (with the project's kernels), "wasm-stock" or "cpu". */
  kind: Exclude<BackendChoice, "auto">;
  tfjsVersion: string;
  /** Kernels the WASM backend runs through the cpu backend (empty elsewhere). */
  cpuDelegated: string[];
  /** What runs the matmuls: "native" (the project's GEMM on the WASM heap), "xnnpack" (WASM), or the backend's own. */
  gemm: "native" | "xnnpack" | "backend";
  /** Why faster choices were skipped under "auto", and what the threads option did. */
  notes: string[];
}

let tfjsNodeTried: Promise<boolean> | undefined;

async function loadTfjsNode(): Promise<boolean> {
  tfjsNodeTried ??= import("@tensorflow/tfjs-node" as string).then(
    () => true,
    () => false,
  );
  return tfjsNodeTried;
}

async function use(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const { backend: requested, threads, gemm } = BackendOptions.parse(options);
  const notes: string[] = [];
  if (threads !== undefined) {
    process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
    notes.push(`threads ${threads}: applies to tfjs-node only (WASM runs single-threaded in Node)`);
  }
  const done = (kind: BackendInfo["kind"]): BackendInfo => ({
    requested,
    name: tf.getBackend(),
    kind,
    tfjsVersion: tf.version_core,
    cpuDelegated: kind === "wasm" ? delegatedKernels() : [],
    gemm:
      kind === "wasm" ? (nativeGemmInstalled() ? "native" : "xnnpack") : kind === "wasm-stock" ? "xnnpack" : "backend",
    notes,
  });

  if (requested === "auto" || requested === "tfjs-node") {
    if ((await loadTfjsNode()) && (await use("tensorflow"))) return done("tfjs-node");
    if (requested === "tfjs-node") {
      throw new Error(
        "initBackend: 'tfjs-node' was requested but @tensorflow/tfjs-node did not load (it is an optional dependency whose install downloads libtensorflow; try backend 'auto' or 'wasm')",
      );
    }
    notes.push("@tensorflow/tfjs-node is not installed or did not load");
  }
  if (requested === "auto" || requested === "wasm" || requested === "wasm-stock") {
    if (await use("wasm")) {
      if (requested === "wasm-stock") {
        uninstallWasmKernels();
        return done("wasm-stock");
      }
      const native = gemm === "auto" ? loadNativeGemm() : { why: "gemm 'xnnpack' requested" };
      if (wasmKernelsInstalled() && nativeGemmInstalled() !== (native.gemm !== undefined)) uninstallWasmKernels();
      installWasmKernels(native.gemm);
      if (!native.gemm) notes.push(`native GEMM: ${native.why}`);
      return done("wasm");
    }
    if (requested !== "auto") throw new Error(`initBackend: the WASM backend failed to initialise`);
    notes.push("the WASM backend failed to initialise");
  }
  if (!(await use("cpu"))) throw new Error("initBackend: not even the cpu backend initialised");
  return done("cpu");
}

/** One line: which backend runs and why the faster ones did not (for logs and the start of a run). */
export function describeBackend(info: BackendInfo): string {
  const what =
    info.kind === "wasm"
      ? `wasm (project kernels, GEMM ${info.gemm})`
      : info.kind === "tfjs-node"
        ? "tfjs-node (native TensorFlow)"
        : info.kind;
  return `backend: ${what}${info.requested === "auto" ? " chosen by auto" : " as requested"}${info.notes.length ? `; ${info.notes.join("; ")}` : ""}`;
}
