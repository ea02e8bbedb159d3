// Entry of a local pool's worker process (tinypool, child_process runtime): one job per call, one
// tfjs backend per process.
import type { BackendChoice } from "../../backend/init.ts";
import { requestStop } from "../runFiles.ts";
import { executeJob, type JobOutcome } from "./execute.ts";
import type { Job } from "./jobs.ts";

let running = false;
let orphaned = false;

// An orphaned worker (its sweep was killed) ends its job at the next env step with a checkpoint,
// then exits: nobody would record the rest, and running the sweep again goes on from there.
process.on("disconnect", () => {
  orphaned = true;
  if (running) requestStop();
  else process.exit(1);
});
// Ctrl-C in a terminal reaches the whole process group: the parent decides (a sweep asks its jobs
// to stop with SIGUSR2, a queue worker lets running jobs finish), so a worker does not die mid-job.
process.on("SIGINT", () => {});
process.on("SIGUSR2", requestStop);
// SIGTERM (a shutdown, or the pool closing): an idle worker exits, a running job checkpoints and ends first.
process.on("SIGTERM", () => {
  if (!running) process.exit(143);
  requestStop();
});

export default async function run(task: { job: Job; backend: BackendChoice }): Promise<JobOutcome> {
  running = true;
  try {
    return await executeJob(task.job, task.backend);
  } finally {
    running = false;
    if (orphaned) process.exit(1);
  }
}
