// Where an agent experiment's run keeps its training log and its last checkpoint, beside the
// experiment's records: <results>/<exp>-logs/<run>.jsonl and <results>/<exp>-checkpoints/<run>/.
// Checkpoints are kept unless GUMBEL_WORLDS_CHECKPOINTS=0 (or --no-checkpoints on exp and sweep),
// every evaluation's rather than the last with GUMBEL_WORLDS_CHECKPOINTS=all (--all-checkpoints),
// and those around the evaluations an experiment's keepAround marks (efficiency: where a run falls back),
// so that any run's agent can be loaded afterwards (loadAgent), and so that a run killed on the way
// goes on from its last checkpoint when it runs again with the same config (a long sweep loses at
// most one evaluation interval per run). A run asked to stop (requestStop: a sweep's Ctrl-C) writes
// its checkpoint at its next step and loses nothing.
import { join } from "node:path";
import { trainAgent, type TrainOptions } from "../agent/train.ts";

export type RunFiles = Pick<
  TrainOptions,
  "logFile" | "checkpointDir" | "keepCheckpoints" | "keepAround" | "resume" | "shouldStop"
>;

let stopRequested = false;

/** Asks every experiment run of this process to stop at its next env step, after writing its checkpoint. */
export function requestStop(): void {
  stopRequested = true;
}

/** A run that stopped on request before its end: it has no record, its checkpoint says where it stopped. */
export class RunInterrupted extends Error {
  override name = "RunInterrupted";
}

/** `keepAround`: which evaluations' checkpoints (and the ones before them) outlive the next (TrainOptions). */
export function runFiles(
  resultsDir: string,
  experiment: string,
  run: string,
  keepAround?: TrainOptions["keepAround"],
): RunFiles {
  const which = process.env.GUMBEL_WORLDS_CHECKPOINTS;
  const checkpoints = {
    checkpointDir: join(resultsDir, `${experiment}-checkpoints`, run),
    resume: "if-same" as const,
    keepCheckpoints: which === "all",
    ...(keepAround && { keepAround }),
  };
  return {
    logFile: join(resultsDir, `${experiment}-logs`, `${run}.jsonl`),
    ...(which !== "0" ? checkpoints : {}),
    shouldStop: () => stopRequested,
  };
}

/** trainAgent for a run that ends in a record: one stopped on request throws RunInterrupted instead of returning a part. */
export async function trainForRecord(input: unknown, files: RunFiles): ReturnType<typeof trainAgent> {
  const trained = await trainAgent(input, files);
  if (!trained.result.interrupted) return trained;
  trained.agent.dispose();
  throw new RunInterrupted(
    `stopped at step ${trained.result.envSteps}, ${files.checkpointDir ? `its checkpoint in ${files.checkpointDir}` : "no checkpoint kept"}`,
  );
}
