// The environment for the PyTorch reference processes: one thread, and an OpenBLAS kernel set that
// matches the CPU. Debian's OpenBLAS 0.3.21 misdetects recent CPUs and falls back to SSE3 kernels
// (5x slower); forcing a kernel set the CPU lacks (SkylakeX without AVX-512) dies with SIGILL.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export function openblasCoreType(): string | undefined {
  let flags = "";
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "";
  } catch {
    return undefined; // not Linux: leave OpenBLAS to itself
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  if (has("avx512f")) return "SkylakeX";
  if (has("avx2")) return "Haswell";
  return undefined;
}

export function torchEnv(): NodeJS.ProcessEnv {
  const core = openblasCoreType();
  return { ...process.env, OMP_NUM_THREADS: "1", ...(core ? { OPENBLAS_CORETYPE: core } : {}) };
}

/** The first interpreter that imports torch (Debian: python3-torch), or undefined: the PyTorch side is skipped. */
export function findTorchPython(): string | undefined {
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      execFileSync(python, ["-c", "import torch"], { stdio: "ignore", timeout: 60_000 });
      return python;
    } catch {
      // no torch with this interpreter
    }
  }
  return undefined;
}
