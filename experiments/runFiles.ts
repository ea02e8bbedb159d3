// Where an agent experiment's run keeps its training log and its last checkpoint, beside the
// experiment's records: <results>/<exp>-logs/<run>.jsonl and <results>/<exp>-checkpoints/<run>/.
// Checkpoints are kept unless GUMBEL_WORLDS_CHECKPOINTS=0 (or --no-checkpoints on exp and sweep),
// so that any run's agent can be loaded afterwards (loadAgent), and so that a run killed on the way
// goes on from its last checkpoint when it runs again with the same config (a long sweep loses at
// most one evaluation interval per run).
import { join } from "node:path";
import type { TrainOptions } from "../agent/train.ts";

export type RunFiles = Pick<TrainOptions, "logFile" | "checkpointDir" | "resume">;

export function runFiles(resultsDir: string, experiment: string, run: string): RunFiles {
  const keep = process.env.GUMBEL_WORLDS_CHECKPOINTS !== "0";
  return {
    logFile: join(resultsDir, `${experiment}-logs`, `${run}.jsonl`),
    ...(keep ? { checkpointDir: join(resultsDir, `${experiment}-checkpoints`, run), resume: "if-same" } : {}),
  };
}
