// npm run bench -- kernels [--quick] [--checkpoint=DIR]: what each project WASM kernel that replaces a
// stock one without changing a value (backend/wasmKernels.ts: Concat, SplitV, Sum over leading axes,
// Tile) saves in a cells agent's update and act. Two copies of one agent step side by side, one with
// the stock kernel swapped in and one with the project's, alternated round by round (medians, ratios);
// their losses and actions are checked equal at every step.
// Without --checkpoint: DoorKey-8x8's agent with its per-task entry (experiments/efficiency: cells
// with presence flags, search depth 60 over up to 1500 codes) at its initial weights on 2000
// random-walk steps; with one (an agent's checkpoint folder), that agent and its replay buffer.
import * as tf from "@tensorflow/tfjs";
import { ImaginationAgent } from "../agent/agent.ts";
import { parseAgentConfig } from "../agent/config.ts";
import { loadAgent } from "../agent/load.ts";
import { initBackend } from "../backend/init.ts";
import { loadNativeGemm } from "../backend/nativeGemm.ts";
import { installWasmKernels, uninstallWasmKernels } from "../backend/wasmKernels.ts";
import { Rng } from "../common/rng.ts";
import type { ReplayBuffer } from "../data/replayBuffer.ts";
import { collect } from "../data/collector.ts";
import { make, type TypedArray } from "../envs/index.ts";
import { PER_TASK } from "../experiments/efficiency/efficiency.ts";
import { median, printTable } from "./timing.ts";

/** The project kernels whose values are the stock kernel's (copies, or sums in the stock order). */
const SAME_VALUES = ["Concat", "SplitV", "Sum", "Tile"] as const;

interface Copy {
  agent: ImaginationAgent;
  rng: Rng;
}

export async function benchKernels(args: string[]): Promise<void> {
  const info = await initBackend({ backend: "wasm" });
  const quick = args.includes("--quick");
  const [rounds, updates, acts] = quick ? [2, 2, 1] : [6, 4, 2];
  const checkpoint = args.find((a) => a.startsWith("--checkpoint="))?.slice("--checkpoint=".length);
  const project = new Map(SAME_VALUES.map((n) => [n, tf.getKernel(n, "wasm")!]));
  uninstallWasmKernels();
  const stock = new Map(SAME_VALUES.map((n) => [n, tf.getKernel(n, "wasm")!]));
  installWasmKernels(loadNativeGemm().gemm);
  const use = (names: readonly string[], from: Map<string, tf.KernelConfig>) => {
    for (const n of names) {
      tf.unregisterKernel(n, "wasm");
      tf.registerKernel(from.get(n)!);
    }
  };

  const { copies, buffer, about } = checkpoint ? await fromCheckpoint(checkpoint) : await initialAgents();
  const size = buffer.obsSize;
  const observations = buffer.observations();
  let slot = 0;
  const nextObs = () => {
    slot = (slot + 7919) % (buffer.size - 1);
    return observations.slice(slot * size, (slot + 1) * size) as TypedArray;
  };
  // One round of one copy: `updates` updates and `acts` acts (ms each), and what they computed.
  const round = (c: Copy, obs: TypedArray[]) => {
    let t0 = performance.now();
    const losses = Array.from({ length: updates }, () => {
      const s = c.agent.update(buffer, c.rng);
      return `${s.td},${s.worldModel.loss}`;
    });
    const update = (performance.now() - t0) / updates;
    t0 = performance.now();
    const actions = obs.map((o) => c.agent.act(o).join(","));
    return { update, act: (performance.now() - t0) / acts, out: [...losses, ...actions].join(";") };
  };

  // Warm-up (JIT, first allocations), the same steps for both copies.
  const warm = [nextObs()];
  if (round(copies[0], warm).out !== round(copies[1], warm).out) throw new Error("bench kernels: the copies differ");
  const rows: Record<string, string | number>[] = [];
  for (const names of [...SAME_VALUES.map((n) => [n]), [...SAME_VALUES]]) {
    const t = { stockUpdate: [] as number[], update: [] as number[], stockAct: [] as number[], act: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const obs = Array.from({ length: acts }, nextObs);
      use(names, stock);
      const a = round(copies[0], obs);
      use(names, project);
      const b = round(copies[1], obs);
      if (a.out !== b.out)
        throw new Error(
          `bench kernels: with the project's ${names.join(", ")} the agent computed ${b.out}, with the stock ${a.out}`,
        );
      t.stockUpdate.push(a.update);
      t.update.push(b.update);
      t.stockAct.push(a.act);
      t.act.push(b.act);
    }
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
    rows.push({
      kernels: names.length > 1 ? "all four" : names[0]!,
      "update ms, stock": m.stockUpdate,
      project: m.update,
      "update ratio": m.update / m.stockUpdate,
      "act ms, stock": m.stockAct,
      "project ": m.act,
      "act ratio": m.act / m.stockAct,
    });
  }
  for (const c of copies) c.agent.dispose();
  console.log(
    `# ${about}; ${rounds} alternating rounds of ${updates} updates and ${acts} acts per copy, medians; backend ${info.kind}, GEMM ${info.gemm}; the same losses and actions checked`,
  );
  printTable(rows);
}

/** DoorKey-8x8's agent (its per-task entry) twice from one seed, on random-walk steps. */
async function initialAgents(): Promise<{ copies: [Copy, Copy]; buffer: ReplayBuffer; about: string }> {
  const envOptions = { size: 8 };
  const config = parseAgentConfig({ env: "GridDoorKey-v0", envOptions, ...PER_TASK["GridDoorKey-v0-8x8"] });
  const buffer = collect({ envId: "GridDoorKey-v0", envOptions, steps: 2000, numEnvs: 4, seed: 0 });
  const copy = (): Copy => ({
    agent: new ImaginationAgent(config, make("GridDoorKey-v0", envOptions), 0),
    rng: new Rng(1),
  });
  return { copies: [copy(), copy()], buffer, about: "DoorKey-8x8 per-task agent at its initial weights" };
}

/** An agent's checkpoint loaded twice (the buffer of the first). */
async function fromCheckpoint(dir: string): Promise<{ copies: [Copy, Copy]; buffer: ReplayBuffer; about: string }> {
  const [a, b] = [await loadAgent(dir), await loadAgent(dir)];
  if (!(a.agent instanceof ImaginationAgent) || !(b.agent instanceof ImaginationAgent))
    throw new Error(`bench kernels: ${dir} is not an imagination agent's checkpoint`);
  return {
    copies: [
      { agent: a.agent, rng: new Rng(1) },
      { agent: b.agent, rng: new Rng(1) },
    ],
    buffer: a.buffer,
    about: `${a.config.env} agent at step ${a.step} (${dir})`,
  };
}
