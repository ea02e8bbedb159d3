// Sweeps across machines through BullMQ on Redis. The coordinator (`npm run sweep -- <spec> --queue
// redis://host:port`) enqueues every job under its id (the config hash: enqueueing again adds
// nothing), then collects each finished job's record (and side files) from Redis and writes them
// into results/ as a local run would. Workers (`npm run worker -- --queue ...`) on any machine run
// jobs in their own local process pool. A failed job is retried with exponential backoff up to
// `attempts` times, then listed; a worker killed mid-job stops renewing its lock, and the job is
// moved back to the queue by another worker's stalled-job check and run again.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Job as QueueJob, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { writeFileAtomic } from "../../common/atomicWrite.ts";
import { checkRelativePath } from "../../common/safePaths.ts";
import type { BackendChoice } from "../../backend/init.ts";
import { experiment } from "../registry.ts";
import type { JobOutcome } from "./execute.ts";
import type { Job } from "./jobs.ts";
import { recordNameError, settleOutcome, startPool, type SweepReport } from "./localPool.ts";

export const QUEUE_NAME = "gumbel-worlds";

/** A finished job as stored in Redis: the outcome plus the side files it wrote (base64, relative to its results folder). */
type QueueResult = Extract<JobOutcome, { ok: true }> & { files: Record<string, string> };

/** redis://[user:password@]host:port[/db] -> ioredis connection options. */
export function connectionOf(url: string): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  maxRetriesPerRequest: null;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: '${url}' is not a URL like redis://host:6379`);
  }
  if (u.protocol !== "redis:") throw new Error(`--queue: '${url}' must start with redis://`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new Error(`--queue: '${url}': the database must be a number`);
  return {
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * Waits until Redis at `url` answers PING, trying every second for at most `timeoutMs`; then one
 * clear error. Without it BullMQ retries an unreachable server for ever, printing as it goes.
 */
export async function waitForRedis(url: string, timeoutMs = 30_000): Promise<void> {
  const { maxRetriesPerRequest: _, ...options } = connectionOf(url);
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    const client = new Redis({
      ...options,
      lazyConnect: true,
      connectTimeout: Math.min(5000, Math.max(100, deadline - Date.now())),
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    let reason: string | undefined; // the socket's error says more than the rejected connect()
    client.on("error", (err: Error) => (reason ??= err.message));
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (err) {
      last = reason ?? ((err as Error).message || last);
    } finally {
      client.disconnect();
    }
    if (Date.now() + 1000 > deadline)
      throw new Error(
        `--queue: no Redis answered at ${url} within ${(timeoutMs / 1000).toFixed(0)} s (${last}); start redis-server there, or check the address`,
      );
    await sleep(1000);
  }
}

export interface QueueRunOptions {
  url: string;
  signal?: AbortSignal;
  onOutcome?: (job: Job, outcome: JobOutcome) => void;
  /** Tries per job before it is listed as failed. */
  attempts?: number;
  /** First retry delay (doubles each time). */
  backoffMs?: number;
  pollMs?: number;
}

/** Enqueues the jobs and waits until each one finished or failed for good, writing records as they come. */
export async function runOnQueue(jobs: Job[], opts: QueueRunOptions): Promise<SweepReport> {
  const report: SweepReport = { done: [], failed: [], left: [], interrupted: false };
  if (jobs.length === 0) return report;
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(opts.url) });
  const attempts = opts.attempts ?? 3;
  try {
    await queue.addBulk(
      jobs.map((job) => ({
        name: job.experiment,
        data: job,
        opts: { jobId: job.id, attempts, backoff: { type: "exponential", delay: opts.backoffMs ?? 5000 } },
      })),
    );
    // A job that failed for good in an earlier sweep is tried again.
    for (const job of jobs) {
      const q = await QueueJob.fromId(queue, job.id);
      if (q && (await q.getState()) === "failed") await q.retry("failed", { resetAttemptsMade: true });
    }
    const open = new Map(jobs.map((j) => [j.id, j]));
    while (open.size > 0) {
      if (opts.signal?.aborted) {
        report.interrupted = true;
        report.left.push(...open.values());
        break;
      }
      for (const [id, job] of open) {
        // The state first, then the job: a job read before it completed has no return value yet.
        const state = await queue.getJobState(id);
        if (state !== "completed" && state !== "failed" && state !== "unknown") continue;
        const q = await QueueJob.fromId<Job, QueueResult>(queue, id);
        if (!q || state === "unknown")
          throw new Error(`queue: job ${id} (${job.experiment} ${job.run}) disappeared from Redis`);
        if (state === "completed") {
          const result = q.returnvalue;
          // A worker's reply names files and a record: refused unless they stay inside the job's results folder.
          let outcome: JobOutcome = result;
          try {
            const files = Object.entries(result.files ?? {}).map(
              ([path, data]) => [checkRelativePath(path, `queue: job ${id}: side file`), data] as const,
            );
            const misnamed = recordNameError(job, result.record.run);
            if (misnamed) throw new Error(`queue: ${misnamed}`);
            for (const [path, data] of files) writeFileAtomic(join(job.resultsDir, path), Buffer.from(data, "base64"));
          } catch (err) {
            outcome = { ok: false, id, error: (err as Error).message, stderr: "" };
          }
          settleOutcome(report, job, outcome);
          opts.onOutcome?.(job, outcome);
          open.delete(id);
        } else if (state === "failed" && q.attemptsMade >= attempts) {
          const [error, ...stderr] = (q.failedReason ?? "unknown error").split("\n--- stderr ---\n");
          const failure: JobOutcome = {
            ok: false,
            id,
            error: `${error} (after ${q.attemptsMade} attempts)`,
            stderr: stderr.join(""),
          };
          settleOutcome(report, job, failure);
          opts.onOutcome?.(job, failure);
          open.delete(id);
        }
      }
      if (open.size > 0) await sleep(opts.pollMs ?? 500, opts.signal);
    }
  } finally {
    await queue.close();
  }
  return report;
}

export interface QueueWorkerOptions {
  url: string;
  concurrency?: number;
  backend?: BackendChoice;
  /** How long a job's lock lasts without renewal: a killed worker's job is retried after about this long. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (workers that stopped renewing their locks). */
  stalledIntervalMs?: number;
  log?: (line: string) => void;
  /** Module URLs the job processes load first (user envs and experiments: --import). */
  imports?: string[];
}

/** Starts a worker: jobs run in a pool of `concurrency` processes; returns a handle to close it. */
export function startQueueWorker(opts: QueueWorkerOptions): { worker: Worker; close: () => Promise<void> } {
  const concurrency = opts.concurrency ?? 1;
  const log = opts.log ?? console.log;
  const pool = startPool(concurrency, opts.imports);
  const worker = new Worker<Job, QueueResult>(
    QUEUE_NAME,
    async (q) => {
      const job = q.data;
      const started = Date.now();
      log(`running ${job.experiment} ${job.run} (job ${job.id}, attempt ${q.attemptsMade + 1})`);
      const outcome = (await pool.run({ job, backend: opts.backend ?? "auto" })) as JobOutcome;
      if (!outcome.ok) {
        log(`failed ${job.experiment} ${job.run}: ${outcome.error.split("\n")[0]}`);
        throw new Error(`${outcome.error}${outcome.stderr ? `\n--- stderr ---\n${outcome.stderr}` : ""}`);
      }
      log(`done ${job.experiment} ${job.run}: ${outcome.summary}`);
      return { ...outcome, files: sideFiles(job, started) };
    },
    {
      connection: connectionOf(opts.url),
      concurrency,
      lockDuration: opts.lockDurationMs ?? 60_000,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      maxStalledCount: 2,
    },
  );
  worker.on("error", (err) => log(`worker error: ${err.message}`));
  return {
    worker,
    close: async () => {
      await worker.close();
      await pool.destroy();
    },
  };
}

/** Files the job wrote under its results folder (not records, not caches), to send back with its record. */
function sideFiles(job: Job, since: number): Record<string, string> {
  const def = experiment(job.experiment);
  const skip = [def.recordsDir(job.resultsDir), ...def.caches(job.resultsDir)];
  const out: Record<string, string> = {};
  const walk = (dir: string, top = false) => {
    if (!existsSync(dir) || skip.includes(dir)) return;
    // Only the experiment's own files (results/e2-imagined/...), not other experiments' in the same folder.
    for (const name of readdirSync(dir).filter((n) => !top || n.startsWith(`${job.experiment}-`))) {
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.mtimeMs >= since && !name.endsWith(".tmp"))
        out[relative(job.resultsDir, path)] = readFileSync(path).toString("base64");
    }
  };
  walk(job.resultsDir, true);
  return out;
}

/** Waits `ms`, or less if `signal` aborts; the abort listener is removed either way (it is added on every poll). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
