// The backends besides the default (WASM with the native GEMM) that the backend-sensitive tests run
// on wherever they load, and the set-up each such test block shares.
import { afterAll, beforeAll } from "vitest";
import { initBackend, type BackendOptions } from "./init.ts";

export const OTHER_BACKENDS: { name: string; options: BackendOptions; fast: boolean }[] = [
  { name: "wasm with XNNPACK's GEMM (no C++ compiler)", options: { backend: "wasm", gemm: "xnnpack" }, fast: false },
  { name: "cpu", options: { backend: "cpu" }, fast: false },
  { name: "tfjs-node", options: { backend: "tfjs-node" }, fast: true },
];

/** Inside a describe block: switches to `options` before its tests (reporting whether it loaded) and back to WASM after. */
export function onBackend(options: BackendOptions): { loaded: () => boolean } {
  let loaded = false;
  beforeAll(async () => {
    loaded = await initBackend(options).then(
      () => true,
      () => false,
    );
  });
  afterAll(async () => {
    await initBackend({ backend: "wasm" });
  });
  return { loaded: () => loaded };
}
