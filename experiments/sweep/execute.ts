// Executes one job in this process and returns its record (or the error with what the job wrote to
// stderr). Used by the local pool's worker processes and by queue workers; the caller writes the
// record, so a job never leaves a half-written file behind.
import { makeRecord, type RunRecord } from "../records.ts";
import { initBackend, type BackendChoice, type BackendInfo } from "../../backend/init.ts";
import { experiment } from "../registry.ts";
import { RunInterrupted } from "../runFiles.ts";
import type { Job } from "./jobs.ts";

export type JobOutcome =
  | { ok: true; id: string; record: RunRecord<unknown, unknown>; summary: string }
  | { ok: false; id: string; error: string; stderr: string; interrupted?: true };

let backend: Promise<BackendInfo> | undefined;
let backendChoice: BackendChoice | undefined;

export async function executeJob(job: Job, choice: BackendChoice = "auto"): Promise<JobOutcome> {
  if (backend && backendChoice !== choice)
    throw new Error(`executeJob: this process runs backend ${backendChoice}, the job asks for ${choice}`);
  backendChoice = choice;
  backend ??= initBackend({ backend: choice });
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  // Keep what the job writes to stderr (still passing it through) to report it if the job fails.
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  const started = new Date();
  try {
    const info = await backend;
    const { metrics, summary } = await experiment(job.experiment).execute(job.config, job.resultsDir, job.run);
    const record = makeRecord({
      experiment: job.experiment,
      run: job.run,
      id: job.id,
      config: job.config,
      seed: job.config.seed,
      backend: info,
      started,
      metrics,
      defaults: experiment(job.experiment).defaultsFingerprint(),
    });
    return { ok: true, id: job.id, record, summary };
  } catch (err) {
    if (err instanceof RunInterrupted)
      return { ok: false, id: job.id, error: err.message, stderr: "", interrupted: true };
    return {
      ok: false,
      id: job.id,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      stderr: tail(stderr.join(""), 20000),
    };
  } finally {
    process.stderr.write = write;
  }
}

const tail = (s: string, n: number) => (s.length > n ? `...${s.slice(-n)}` : s);
