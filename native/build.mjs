// Builds the optional native GEMM (native/gemm.cc) with node-gyp at `npm ci`. Where there is no C++
// compiler or node-gyp fails, it says so in one line and exits 0: the WASM backend then keeps
// XNNPACK's GEMM (backend/nativeGemm.ts loads whichever is there).
// GUMBEL_WORLDS_NATIVE=0 skips the build.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (process.env.GUMBEL_WORLDS_NATIVE === "0") {
  console.log("gumbel-worlds: native GEMM skipped (GUMBEL_WORLDS_NATIVE=0)");
  process.exit(0);
}
// npm runs install scripts with npm_config_node_gyp set to its own node-gyp; else look beside npm.
const candidates = [
  process.env.npm_config_node_gyp,
  process.env.npm_execpath && join(dirname(process.env.npm_execpath), "../node_modules/node-gyp/bin/node-gyp.js"),
];
const nodeGyp = candidates.find((p) => p && existsSync(p));
if (!nodeGyp) {
  console.log("gumbel-worlds: native GEMM not built (node-gyp not found); the WASM GEMM is used");
  process.exit(0);
}
const result = spawnSync(process.execPath, [nodeGyp, "rebuild"], { cwd: here, encoding: "utf8", timeout: 300_000 });
if (result.status === 0 && existsSync(join(here, "build/Release/gemm.node"))) {
  console.log("gumbel-worlds: native GEMM built (native/build/Release/gemm.node)");
} else {
  const why = result.error
    ? result.error.message
    : ((result.stderr || result.stdout || "")
        .trim()
        .split("\n")
        .filter((l) => /error/i.test(l))[0] ?? `node-gyp exited with ${result.status}`);
  console.log(`gumbel-worlds: native GEMM not built (${why.trim()}); the WASM GEMM is used`);
}
