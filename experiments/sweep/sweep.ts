// A sweep from start to end: expand the specs, skip jobs whose records exist, run the rest (local
// pool or Redis queue), regenerate each touched experiment's tables and plots, and report failures.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { hasCheckpoint } from "../../agent/checkpoint.ts";
import type { BackendChoice } from "../../backend/init.ts";
import { Progress } from "../progress.ts";
import type { RunRecord } from "../records.ts";
import { experiment } from "../registry.ts";
import { runFiles } from "../runFiles.ts";
import type { JobOutcome } from "./execute.ts";
import { reproduceCommand, writeComparison, writeManifest } from "./compare.ts";
import { expandSpecs, jobDone, jobRecordPath, type Job, type SweepSpec } from "./jobs.ts";
import { runLocal, type SweepReport } from "./localPool.ts";
import { runOnQueue, waitForRedis } from "./queue.ts";

export interface SweepOptions {
  workers?: number;
  backend?: BackendChoice;
  /** redis://host:port: enqueue the jobs and collect their records from queue workers. */
  queue?: string;
  /** Module URLs the local worker processes load first (--import). */
  imports?: string[];
  /** How long to wait for that Redis to answer before giving up (default 30 s). */
  queueTimeoutMs?: number;
  summary?: boolean;
  /**
   * Run only the runs of these names (--status's, e.g. Breakout-v0-agent-seed3): the others wait,
   * their records and checkpoints untouched. A name the sweep does not hold is an error.
   */
  only?: readonly string[];
  /** Abort to stop: no new jobs; running agent runs end at their next step with a checkpoint. */
  signal?: AbortSignal;
  /** Abort to quit at once (local pool: its workers are killed). */
  quit?: AbortSignal;
  log?: (line: string) => void;
}

export async function runSweep(
  specs: SweepSpec[],
  opts: SweepOptions = {},
): Promise<SweepReport & { skipped: number }> {
  const log = opts.log ?? console.log;
  const parts = expandSpecs(specs);
  const all = parts.flatMap((p) => p.jobs);
  if (opts.only) refuseUnknown(all, opts.only); // before anything is written
  for (const spec of specs) writeManifest(spec); // what `npm run sweep -- <it>` reproduces
  // A job is its config's hash: the same run in several grid points (a baseline the grid does not
  // touch) runs once, and its record is copied to the others.
  const copyTwins = () => {
    const done = new Set(all.filter(jobDone));
    const source = new Map<string, Job>();
    for (const j of done) if (!source.has(j.id)) source.set(j.id, j);
    let copied = 0;
    for (const j of all) {
      const from = source.get(j.id);
      if (!from || done.has(j)) continue;
      mkdirSync(dirname(jobRecordPath(j)), { recursive: true });
      copyFileSync(jobRecordPath(from), jobRecordPath(j));
      copied++;
    }
    return copied;
  };
  const shared = copyTwins();
  const pending = all.filter((j) => !jobDone(j));
  for (const line of staleRecords(all.filter((j) => !pending.includes(j)))) log(line);
  const distinct = pending.filter((j, i) => pending.findIndex((k) => k.id === j.id) === i);
  if (pending.length > distinct.length || shared)
    log(
      `sweep: ${pending.length - distinct.length + shared} jobs repeat another grid point's config: run once, record copied`,
    );
  const todo = startedFirst(distinct.filter((j) => !opts.only || opts.only.includes(j.run)));
  log(
    `sweep: ${all.length} jobs in ${parts.length} part(s); ${all.length - pending.length} have records, ${todo.length} to run ${opts.queue ? `through ${opts.queue}` : `on ${opts.workers ?? "all"} local worker(s)`}${todo.length < distinct.length ? ` (--only; ${distinct.length - todo.length} others wait)` : ""}`,
  );
  const progress = opts.log ? undefined : new Progress("sweep", todo.length);
  let finished = 0;
  const onOutcome = (job: Job, o: JobOutcome) => {
    // A run stopped with its checkpoint is not finished: a plain line, even beside a progress bar.
    if (!o.ok && o.interrupted) return log(`${job.experiment} ${job.run}: ${o.error}`);
    const line = `${job.experiment} ${job.run}: ${o.ok ? `${o.summary} (${o.record.wallSeconds.toFixed(1)} s)` : `FAILED ${o.error.split("\n")[0]}`}`;
    if (progress) progress.tick(line);
    else log(`[${++finished}/${todo.length}] ${line}`);
  };
  if (opts.queue && todo.length > 0) await waitForRedis(opts.queue, opts.queueTimeoutMs);
  const report = opts.queue
    ? await runOnQueue(todo, { url: opts.queue, signal: opts.signal, onOutcome })
    : await runLocal(todo, {
        workers: opts.workers,
        backend: opts.backend,
        signal: opts.signal,
        quit: opts.quit,
        onOutcome,
        imports: opts.imports,
      });
  progress?.stop();
  copyTwins();
  if (opts.summary !== false) {
    const touched = new Map(parts.map((p) => [`${p.experiment} ${p.resultsDir}`, p]));
    for (const p of touched.values()) {
      if (!p.jobs.some((j) => jobDone(j))) continue;
      const files = await experiment(p.experiment).summarise(p.resultsDir, reproduceCommand(p.spec));
      log(`${p.experiment}: wrote ${files.join(", ")}`);
    }
    for (const spec of specs) {
      const files = await writeComparison(spec, parts);
      if (files.length) log(`${spec.experiment}: compared the grid points in ${files.join(", ")}`);
    }
  }
  for (const f of report.failed) {
    log(
      `\nFAILED ${f.job.experiment} ${f.job.run} (job ${f.job.id})\n  config: ${JSON.stringify(f.job.config)}\n  error: ${f.error}${f.stderr ? `\n  stderr:\n${f.stderr}` : ""}`,
    );
  }
  if (report.interrupted)
    log(
      `sweep interrupted: ${report.done.length} jobs finished and recorded, ${report.left.length} left; run the same command again to resume`,
    );
  return { ...report, skipped: all.length - pending.length };
}

/**
 * A sweep as a command: Ctrl-C (or SIGTERM) stops it cleanly, the running agent runs writing their
 * checkpoints first; a second Ctrl-C quits at once. A one-line tally at the end, exit code 1 on
 * failures or interruption.
 */
export async function runSweepCommand(
  specs: SweepSpec[],
  opts: Omit<SweepOptions, "signal" | "quit" | "log">,
): Promise<void> {
  const stop = new AbortController();
  const quit = new AbortController();
  // Every signal is answered, not left to Node's default (which would end the process before the
  // tally below). Under npm one Ctrl-C can arrive twice: a second one quits only a second later.
  let stoppedAt = 0;
  const onSignal = () => {
    if (!stop.signal.aborted) {
      stoppedAt = Date.now();
      console.log(
        "\nstopping: running jobs end at their next step with a checkpoint, finished records are kept; run the same command again to resume (Ctrl-C again to quit at once)",
      );
      stop.abort();
    } else if (Date.now() - stoppedAt > 1000 && !quit.signal.aborted) {
      console.log("quitting: the workers are stopped now; the tally follows");
      quit.abort();
    } else console.log("still stopping: the tally follows");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const report = await runSweep(specs, { ...opts, signal: stop.signal, quit: quit.signal });
  console.log(
    `sweep: ${report.done.length} done, ${report.failed.length} failed, ${report.skipped} skipped (records existed)${report.interrupted ? `, ${report.left.length} left` : ""}`,
  );
  process.exitCode = report.failed.length > 0 || report.interrupted ? 1 : 0;
}

/**
 * The runs that left a checkpoint (a sweep stopped before) ahead of those not started, each in the
 * sweep's order: a resumed sweep finishes the runs it began before it begins others.
 */
export function startedFirst(jobs: Job[]): Job[] {
  const started = jobs.filter((j) => {
    const { checkpointDir } = runFiles(j.resultsDir, j.experiment, j.run);
    return checkpointDir !== undefined && hasCheckpoint(checkpointDir);
  });
  return [...started, ...jobs.filter((j) => !started.includes(j))];
}

/** Throws at a name (--only's) that no job of the sweep, `all`, has. */
function refuseUnknown(all: Job[], names: readonly string[]): void {
  const known = new Set(all.map((j) => j.run));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length === 0) return;
  const some = [...known].slice(0, 6).join(", ");
  throw new Error(
    `sweep --only: no run named ${unknown.join(", ")} in this sweep (its runs: ${some}${known.size > 6 ? `, and ${known.size - 6} more` : ""})`,
  );
}

/**
 * One warning per experiment whose existing records rest on other library defaults than this
 * code's (or predate the fingerprint): they count as done, so the sweep would not rerun them.
 */
export function staleRecords(done: Job[]): string[] {
  const stale = new Map<string, { n: number; of: number; current: string }>();
  for (const j of done) {
    const current = experiment(j.experiment).defaultsFingerprint();
    if (current === undefined) continue;
    const s = stale.get(j.experiment) ?? { n: 0, of: 0, current };
    s.of++;
    if ((JSON.parse(readFileSync(jobRecordPath(j), "utf8")) as RunRecord).defaults !== current) s.n++;
    stale.set(j.experiment, s);
  }
  return [...stale]
    .filter(([, s]) => s.n > 0)
    .map(
      ([name, s]) =>
        `sweep: ${s.n} of the ${s.of} existing ${name} records were made under other library defaults than this code's (${s.current}) or before records named them: they count as done; move them aside to rerun them`,
    );
}
