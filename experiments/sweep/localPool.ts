// Runs jobs on a local pool of worker processes (tinypool, child_process runtime: each worker its
// own process and tfjs backend, so a WASM abort or an out-of-memory kills one worker, not the sweep).
// Every finished job's record is written atomically as soon as it arrives; a failed job is reported
// with its config and stderr and the others go on. Stopping (Ctrl-C) starts no new job and ends the
// running agent runs at their next step with a checkpoint; finished records stay, and running the
// sweep again resumes with the rest, the stopped runs from where they stopped.
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Tinypool } from "tinypool";
import { writeRecord } from "../records.ts";
import type { BackendChoice } from "../../backend/init.ts";
import { experiment } from "../registry.ts";
import { executeJob, type JobOutcome } from "./execute.ts";
import type { Job } from "./jobs.ts";

export interface FailedJob {
  job: Job;
  error: string;
  stderr: string;
}

export interface SweepReport {
  done: Job[];
  failed: FailedJob[];
  /** Jobs not run because the sweep was aborted. */
  left: Job[];
  interrupted: boolean;
}

export interface LocalPoolOptions {
  /** Module URLs every worker process loads first (user envs and experiments: --import). */
  imports?: string[];
  workers?: number;
  backend?: BackendChoice;
  /** Abort to stop: no new jobs, running agent runs end at their next step with a checkpoint. */
  signal?: AbortSignal;
  /** Abort to quit at once: the workers are killed (a second Ctrl-C). */
  quit?: AbortSignal;
  onOutcome?: (job: Job, outcome: JobOutcome) => void;
}

/** Books a job's outcome: a finished job's record is written where a local run would write it, a failure is listed. */
export function settleOutcome(report: SweepReport, job: Job, outcome: JobOutcome): void {
  const misnamed = outcome.ok ? recordNameError(job, outcome.record.run) : undefined;
  if (misnamed) outcome = { ok: false, id: job.id, error: misnamed, stderr: "" };
  if (outcome.ok) {
    writeRecord(experiment(job.experiment).recordsDir(job.resultsDir), outcome.record);
    report.done.push(job);
  } else {
    report.failed.push({ job, error: outcome.error, stderr: outcome.stderr });
  }
}

/** Why a worker's record may not be written for this job (its run name is not the job's), or undefined. */
export function recordNameError(job: Job, run: string): string | undefined {
  if (run === job.run) return undefined;
  return `job ${job.id}: the worker returned a record named ${JSON.stringify(run)}, expected ${JSON.stringify(job.run)}`;
}

/** Node flags that let a worker process load the TypeScript sources (tsx's loader). */
export function tsxExecArgv(imports: readonly string[] = []): string[] {
  return [
    "--import",
    pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
    ...imports.flatMap((u) => ["--import", u]),
  ];
}

/** A pool of `workers` processes, each running one job at a time (poolWorker.ts) after loading `imports`. */
export function startPool(workers: number, imports?: readonly string[]): Tinypool {
  return new Tinypool({
    filename: new URL("./poolWorker.ts", import.meta.url).href,
    runtime: "child_process",
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    execArgv: tsxExecArgv(imports),
    // Tinypool's child processes get only its own variable otherwise, so --all-checkpoints and
    // --no-checkpoints (GUMBEL_WORLDS_CHECKPOINTS), PATH and TMPDIR would not reach the jobs.
    env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
  });
}

export async function runLocal(jobs: Job[], opts: LocalPoolOptions = {}): Promise<SweepReport> {
  const workers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), jobs.length || 1));
  const report: SweepReport = { done: [], failed: [], left: [], interrupted: false };
  if (jobs.length === 0) return report;
  const pool = startPool(workers, opts.imports);
  // Stopping starts no new job and asks the running ones to end at their next env step with a
  // checkpoint (an experiment's agent runs do; others finish); quitting kills the workers at once.
  const onStop = () => {
    report.interrupted = true;
    for (const w of pool.threads) signalWorker(w.threadId, "SIGUSR2");
  };
  const onQuit = () => {
    report.interrupted = true;
    void pool.destroy();
  };
  opts.signal?.addEventListener("abort", onStop, { once: true });
  opts.quit?.addEventListener("abort", onQuit, { once: true });
  const queue = [...jobs];
  // One dispatcher per worker, so that the pool never holds a job that stopping would still start.
  const dispatch = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      if (report.interrupted) {
        report.left.push(job);
        continue;
      }
      let outcome: JobOutcome;
      try {
        outcome = (await pool.run({ job, backend: opts.backend ?? "auto" })) as JobOutcome;
      } catch (err) {
        // The worker process died (or we quit): a failure unless we are stopping.
        if (report.interrupted) {
          report.left.push(job);
          continue;
        }
        outcome = {
          ok: false,
          id: job.id,
          error: `worker process failed: ${err instanceof Error ? err.message : String(err)}`,
          stderr: "",
        };
      }
      if (!outcome.ok && outcome.interrupted) {
        // Stopped by a signal we did not send (a shutdown's SIGTERM): the sweep stops too.
        if (!report.interrupted) onStop();
        report.left.push(job);
      } else settleOutcome(report, job, outcome);
      opts.onOutcome?.(job, outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, dispatch));
  } finally {
    opts.signal?.removeEventListener("abort", onStop);
    opts.quit?.removeEventListener("abort", onQuit);
    await pool.destroy();
  }
  return report;
}

/** Sends a worker process a signal; one that has already exited is no error. */
function signalWorker(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {}
}

/** Runs jobs one after another in this process (tests, and callers that already chose a backend). */
export async function runInProcess(jobs: Job[], backend: BackendChoice = "auto"): Promise<SweepReport> {
  const report: SweepReport = { done: [], failed: [], left: [], interrupted: false };
  for (const job of jobs) settleOutcome(report, job, await executeJob(job, backend));
  return report;
}
