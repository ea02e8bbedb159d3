// npm run bench -- backend: ms per training step and GFLOP/s of the W1 and W5 workloads on the
// tfjs `cpu` backend, the stock `wasm` backend and the project's `wasm` (kernels registered; with
// WASM's own GEMM and with the native one when built), in one run, with ratios; plus PyTorch (1
// thread) as the reference where `python3 -c 'import torch'` works.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendChoice } from "../backend/init.ts";
import { medianMs, printTable } from "./timing.ts";
import { findTorchPython, torchEnv } from "./torchEnv.ts";
import { mlpWorkload, rolloutWorkload, type Workload } from "./workloads.ts";

function torchReference(): Record<string, number> | undefined {
  const python = findTorchPython();
  if (!python) return undefined;
  try {
    const out = execFileSync(python, [join(import.meta.dirname, "torch_reference.py")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      env: torchEnv(),
      timeout: 300_000,
    });
    return Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { workload: string; ms: number })
        .map((r) => [r.workload, r.ms]),
    );
  } catch {
    return undefined; // the reference failed: the table goes without it, as without torch
  }
}

export async function benchBackend(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const repeats = quick ? 5 : 20;
  // "wasm-xnnpack": the project's kernels with WASM's own GEMM (what users without a C++ compiler get).
  const kinds: (BackendChoice | "wasm-xnnpack")[] = ["cpu", "wasm-stock", "wasm-xnnpack", "wasm"];
  const results: Record<string, Record<string, number | string>> = {};
  let gemm = "";
  for (const kind of kinds) {
    const info = await initBackend(kind === "wasm-xnnpack" ? { backend: "wasm", gemm: "xnnpack" } : { backend: kind });
    const label = kind === "wasm-xnnpack" ? kind : info.kind;
    if (kind === "wasm") gemm = info.gemm;
    for (const make of [mlpWorkload, rolloutWorkload]) {
      const w: Workload = make();
      const key = w.name.slice(0, 2);
      let ms: number | string;
      try {
        ms = medianMs(() => w.step(), kind === "cpu" ? Math.min(repeats, 5) : repeats, 2);
      } catch (err) {
        ms = `fails: ${(err as Error).message.split("\n")[0]!.slice(0, 60)}`;
      }
      w.dispose();
      (results[key] ??= { workload: w.name, gflop: w.flops / 1e9 })[label] = ms;
      console.log(
        JSON.stringify({
          bench: "backend",
          workload: w.name,
          backend: label,
          gemm: info.gemm,
          ms,
          gflops: typeof ms === "number" ? w.flops / 1e6 / ms : null,
          numTensors: tf.memory().numTensors,
        }),
      );
    }
  }
  const torch = args.includes("--no-torch") ? undefined : torchReference();
  const rows = Object.entries(results).map(([key, r]) => {
    const ours = r.wasm as number;
    const num = (v: unknown) => (typeof v === "number" ? v : NaN);
    const row: Record<string, string | number> = {
      workload: r.workload as string,
      "cpu ms": r.cpu!,
      "wasm-stock ms": typeof r["wasm-stock"] === "number" ? r["wasm-stock"] : "fails",
      "wasm-xnnpack ms": r["wasm-xnnpack"]!,
      "wasm ms": ours,
      "wasm GFLOP/s": (r.gflop as number) / (ours / 1000),
      "cpu/wasm": num(r.cpu) / ours,
      "stock/wasm": num(r["wasm-stock"]) / ours,
      "xnnpack/wasm": num(r["wasm-xnnpack"]) / ours,
    };
    if (torch?.[key] !== undefined) {
      row["torch ms"] = torch[key]!;
      row["wasm/torch"] = ours / torch[key]!;
    }
    return row;
  });
  console.log(
    `# median ms per training step (${repeats} repeats; cpu 5); "wasm" is the project's kernels with GEMM ${gemm}, "wasm-xnnpack" the same with WASM's own GEMM; ratios > 1 mean "wasm" is faster`,
  );
  if (!torch)
    console.log(
      "# PyTorch reference skipped: `python3 -c 'import torch'` fails (Debian package python3-torch provides it)",
    );
  printTable(rows);
  await initBackend({ backend: "wasm" });
}
