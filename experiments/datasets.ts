// Fixed datasets of an env and seed, collected once and saved, loaded by every run that needs them
// (E2's explorer data, the world-model probe's random walks).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { collect } from "../data/collector.ts";
import { ReplayBuffer } from "../data/replayBuffer.ts";
import { checkName } from "../common/safePaths.ts";

/** How much data an experiment collects per env and seed (its `data` setting). */
export const DataConfig = z
  .object({
    /** Training transitions per env and seed. */
    steps: z.number().int().min(100).default(20000),
    /** Held-out transitions for evaluation. */
    testSteps: z.number().int().min(100).default(4000),
    numEnvs: z.number().int().min(1).default(8),
  })
  .strict()
  .default({ steps: 20000, testSteps: 4000, numEnvs: 8 });

export interface DatasetSpec {
  env: string;
  /** make()'s options, and the name files of the env with them go by (instead of the env id). */
  envOptions?: Record<string, unknown>;
  name?: string;
  seed: number;
  split: "train" | "test";
  steps: number;
  numEnvs: number;
  policy: "random" | "explorer";
}

/** The dataset under `dir` (collected and saved on first use); train and test use different env seeds. */
export function cachedDataset(dir: string, d: DatasetSpec): ReplayBuffer {
  // Explorer data keeps the file names it had before random walks were added.
  const policy = d.policy === "explorer" ? "" : `-${d.policy}`;
  if (d.envOptions && !d.name) throw new Error(`cachedDataset: ${d.env} with options needs a name for its files`);
  const name = checkName(d.name ?? d.env, "dataset env name");
  const path = join(dir, `${name}${policy}-seed${d.seed}-${d.split}-${d.steps}.gwrb`);
  if (existsSync(path)) return ReplayBuffer.load(path);
  const seed = d.seed * 2 + (d.split === "train" ? 0 : 1) + 1000;
  const buffer = collect({
    envId: d.env,
    envOptions: d.envOptions,
    steps: d.steps,
    numEnvs: d.numEnvs,
    seed,
    policy: d.policy,
  });
  buffer.save(path);
  return buffer;
}
