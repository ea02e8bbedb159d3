// The optional native GEMM (native/gemm.cc), built by `npm ci` where a C++ compiler is present. The
// WASM backend's matmuls then run it on the WASM heap in place (no copies): on this 2-core machine
// 3-6x XNNPACK-on-WASM at the agent's sizes (`npm run bench -- backend`). Absent, or with
// GUMBEL_WORLDS_NATIVE=0, nothing changes: XNNPACK does the matmuls.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface NativeGemm {
  /**
   * out[b] = act(op(a[b]) op(b[b]) + bias): a [batchA, m, k] (or [batchA, k, m] transposed), b
   * [batchB, k, n] (or [batchB, n, k]); a batch of 1 is shared; bias [n] or [batch, n]. act: 0 linear, 1 relu, 2 elu.
   */
  gemm(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    k: number,
    n: number,
    transposeA: boolean,
    transposeB: boolean,
    bias: Float32Array | null,
    activation: number,
  ): void;
}

const ADDON = fileURLToPath(new URL("../native/build/Release/gemm.node", import.meta.url));
let cached: { gemm?: NativeGemm; why: string } | undefined;

/** The addon, or undefined with the reason (not built, turned off, failed to load). */
export function loadNativeGemm(): { gemm?: NativeGemm; why: string } {
  if (cached) return cached;
  if (process.env.GUMBEL_WORLDS_NATIVE === "0") return (cached = { why: "turned off by GUMBEL_WORLDS_NATIVE=0" });
  if (!existsSync(ADDON)) return (cached = { why: "not built (npm ci builds it where a C++ compiler is present)" });
  try {
    return (cached = {
      gemm: createRequire(import.meta.url)(ADDON) as NativeGemm,
      why: "native/build/Release/gemm.node",
    });
  } catch (err) {
    return (cached = { why: `failed to load: ${(err as Error).message.split("\n")[0]}` });
  }
}
