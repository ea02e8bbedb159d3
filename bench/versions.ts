// npm run bench -- versions --baseline=DIR --checkpoint=DIR [--quick] [--rounds=N] [--steps=N]: this
// tree's agent code against another tree's on one agent checkpoint, in one process: a change meant
// to be faster and compute the same numbers, measured. DIR is a checkout of another commit (`git
// worktree add ../base <rev>`) whose node_modules is this tree's (`ln -s`), so that both load one
// TensorFlow.js: the backend and its kernels are this tree's for both, and only the agent's code
// differs. Each tree loads the checkpoint and takes the same training steps (act in explore mode on
// observations from the replay buffer, then an update); per round each tree's steps, the tree that
// goes first alternating (the second in a round ran slower). Prints the medians of the rounds' means
// per step (a few acts cost many times the typical one, and a run pays their sum), their ratio, the
// median and range of the rounds' ratios (a round's steps differ with the weights, so a round
// compares like with like), and whether every action and TD loss came out the same.
import { existsSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { initBackend } from "../backend/init.ts";
import { median, printTable } from "./timing.ts";

/** The parts of a tree's agent this bench drives (stable across versions). */
interface Tree {
  agent: {
    explore?: boolean;
    act(obs: unknown): number[];
    update(buffer: unknown, rng: unknown): { td: number };
    dispose(): void;
  };
  buffer: { obsSize: number; size: number; observations(): { slice(from: number, to: number): unknown } };
  rng: unknown;
  /** Each step's action and TD loss, as text. */
  outputs: string[];
  act: number[];
  update: number[];
  step: number;
}

export async function benchVersions(args: string[]): Promise<void> {
  const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const baseline = option("baseline");
  const checkpoint = option("checkpoint");
  if (!baseline || !checkpoint)
    throw new Error(
      "bench versions: give --baseline=DIR (another tree of this project) and --checkpoint=DIR (an imagination agent's checkpoint folder)",
    );
  const quick = args.includes("--quick");
  const rounds = Number(option("rounds") ?? (quick ? 2 : 8));
  const steps = Number(option("steps") ?? (quick ? 2 : 10));
  for (const [name, v] of [
    ["rounds", rounds],
    ["steps", steps],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`bench versions: --${name} must be a whole number >= 1`);
  const here = resolve(import.meta.dirname, "..");
  const there = resolve(baseline);
  if (!existsSync(join(there, "agent", "load.ts")))
    throw new Error(`bench versions: ${there} is not a tree of this project (no agent/load.ts)`);
  const tfjsOf = (root: string) => {
    try {
      return realpathSync(createRequire(join(root, "package.json")).resolve("@tensorflow/tfjs"));
    } catch {
      return undefined;
    }
  };
  if (tfjsOf(there) !== tfjsOf(here))
    throw new Error(
      `bench versions: ${there} loads another TensorFlow.js than this tree; link its node_modules to this one's (ln -s ${join(here, "node_modules")} ${join(there, "node_modules")})`,
    );
  const info = await initBackend();
  const trees = [await load(there, checkpoint), await load(here, checkpoint)] as const;

  const stepsOf = (t: Tree) => {
    const size = t.buffer.obsSize;
    const observations = t.buffer.observations();
    for (let k = 0; k < steps; k++, t.step++) {
      const slot = (t.step * 7919) % (t.buffer.size - 1);
      t.agent.explore = true;
      let t0 = performance.now();
      const action = t.agent.act(observations.slice(slot * size, (slot + 1) * size));
      t.act.push(performance.now() - t0);
      t0 = performance.now();
      const { td } = t.agent.update(t.buffer, t.rng);
      t.update.push(performance.now() - t0);
      t.outputs.push(`${action.join(",")};${td}`);
    }
  };
  // Warm-up (JIT, first allocations): one round each, not timed.
  for (const t of trees) stepsOf(t);
  for (const t of trees) [t.act, t.update] = [[], []];
  // A round's mean per step (what a run pays: a few acts cost many times the typical one).
  const perRound = (t: Tree, what: "act" | "update", r: number) =>
    t[what].slice(r * steps, (r + 1) * steps).reduce((x, y) => x + y, 0) / steps;
  const byRound = { act: [[], []] as number[][], update: [[], []] as number[][] };
  for (let r = 0; r < rounds; r++) {
    for (const t of r % 2 === 0 ? trees : [trees[1], trees[0]]) stepsOf(t);
    for (const what of ["act", "update"] as const)
      trees.forEach((t, i) => byRound[what][i]!.push(perRound(t, what, r)));
  }
  const rows = (["act", "update"] as const).map((what) => {
    const [a, b] = byRound[what] as [number[], number[]];
    return {
      "ms per": what,
      baseline: median(a),
      "this tree": median(b),
      ratio: median(b) / median(a),
      "rounds' ratio, median": median(a.map((x, j) => b[j]! / x)),
      "rounds' ratios, range": `${Math.min(...a.map((x, j) => b[j]! / x)).toFixed(2)}-${Math.max(...a.map((x, j) => b[j]! / x)).toFixed(2)}`,
    };
  });
  const [base, mine] = trees;
  const differs = base.outputs.findIndex((o, j) => o !== mine.outputs[j]);
  for (const t of trees) t.agent.dispose();
  console.log(
    `# ${checkpoint}: ${there} (baseline) against ${here}; ${rounds} rounds of ${steps} training steps (act, update) per tree, the first in a round alternating, medians of the rounds' means; backend ${info.kind}, GEMM ${info.gemm}`,
  );
  printTable(rows);
  console.log(
    differs < 0
      ? `the same actions and TD losses at all ${base.outputs.length} steps`
      : `they differ from step ${differs} on (warm-up included): baseline ${base.outputs[differs]}, this tree ${mine.outputs[differs]}`,
  );
}

/** A tree's agent from the checkpoint, loaded through that tree's own modules. */
async function load(root: string, checkpoint: string): Promise<Tree> {
  const module = (path: string) => import(pathToFileURL(join(root, path)).href);
  const { loadAgent } = await module("agent/load.ts");
  const { Rng } = await module("common/rng.ts");
  const { agent, buffer } = await loadAgent(checkpoint);
  if (typeof agent.update !== "function" || !("explore" in agent))
    throw new Error(`bench versions: ${checkpoint} is not an imagination agent's checkpoint`);
  return { agent, buffer, rng: new Rng(5), outputs: [], act: [], update: [], step: 0 };
}
