// Entry of a local pool's worker process (tinypool, child_process runtime): one job per call, one
// tfjs backend per process.
import type { BackendChoice } from "../../backend/init.ts";
import { executeJob, type JobOutcome } from "./execute.ts";
import type { Job } from "./jobs.ts";

// An orphaned worker (its sweep was killed) stops at once instead of finishing a job nobody records.
process.on("disconnect", () => process.exit(1));
// Ctrl-C in a terminal reaches the whole process group: the parent decides (a sweep stops its pool,
// a queue worker lets running jobs finish), so a worker does not die mid-job on its own.
process.on("SIGINT", () => {});

export default function run(task: { job: Job; backend: BackendChoice }): Promise<JobOutcome> {
  return executeJob(task.job, task.backend);
}
