import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { describeBackend, initBackend } from "./init.ts";
import { loadNativeGemm } from "./nativeGemm.ts";

describe("initBackend", () => {
  it("auto picks tfjs-node when it loads, else the project's WASM, and says why", async () => {
    const info = await initBackend();
    expect(["tfjs-node", "wasm"]).toContain(info.kind);
    if (info.kind === "wasm") expect(info.notes.join(" ")).toMatch(/tfjs-node is not installed or did not load/);
    expect(tf.getBackend()).toBe(info.name);
  });
  it("wasm-stock and wasm switch the project kernels off and on", async () => {
    expect((await initBackend({ backend: "wasm-stock" })).cpuDelegated).toEqual([]);
    expect((await initBackend({ backend: "wasm" })).cpuDelegated.length).toBeGreaterThan(0);
  });
  it("gemm 'xnnpack' keeps WASM's own matmuls; auto takes the native GEMM when it is built", async () => {
    expect((await initBackend({ backend: "wasm", gemm: "xnnpack" })).gemm).toBe("xnnpack");
    const info = await initBackend({ backend: "wasm" });
    expect(info.gemm).toBe(loadNativeGemm().gemm ? "native" : "xnnpack");
    if (info.gemm === "xnnpack") expect(info.notes.join(" ")).toMatch(/native GEMM: /);
  });
  it("describes its choice in one line", async () => {
    const line = describeBackend(await initBackend());
    expect(line).toMatch(
      /^backend: (wasm \(project kernels, GEMM (native|xnnpack)\)|tfjs-node \(native TensorFlow\)) chosen by auto/,
    );
    expect(line).not.toContain("\n");
    expect(describeBackend(await initBackend({ backend: "cpu" }))).toBe("backend: cpu as requested");
    await initBackend({ backend: "wasm" });
  });
  it("cpu is available on request", async () => {
    expect((await initBackend({ backend: "cpu" })).name).toBe("cpu");
    await initBackend({ backend: "wasm" });
  });
  it("refuses an unknown backend and unknown options, naming them", async () => {
    await expect(initBackend({ backend: "webgpu" as never })).rejects.toThrow(/backend/);
    await expect(initBackend({ threds: 2 } as never)).rejects.toThrow(/threds/);
  });
  it("tfjs-node on request fails with the reason when it is not installed", async () => {
    const info = await initBackend();
    if (info.kind === "tfjs-node") return;
    await expect(initBackend({ backend: "tfjs-node" })).rejects.toThrow(
      /'tfjs-node' was requested but @tensorflow\/tfjs-node did not load/,
    );
    await initBackend({ backend: "wasm" });
  });
});
