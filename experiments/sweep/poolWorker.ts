// Entry of a local pool's worker process (tinypool, child_process runtime): one job per call, one
// tfjs backend per process.
import type { BackendChoice } from "../../worldmodel/backend/init.ts";
import { executeJob, type JobOutcome } from "./execute.ts";
import type { Job } from "./jobs.ts";

// An orphaned worker (its sweep was killed) stops at once instead of finishing a job nobody records.
process.on("disconnect", () => process.exit(1));

export default function run(task: { job: Job; backend: BackendChoice }): Promise<JobOutcome> {
  return executeJob(task.job, task.backend);
}
