// Runs an experiment's planned runs: each run is skipped when its record exists (so a command
// resumes where it stopped), a record made with another config is an error, and the runs are
// shared round-robin among worker processes (--shard k/n).
import { existsSync, readFileSync } from "node:fs";
import { makeRecord, recordPath, writeRecord, type RunRecord } from "../common/records.ts";
import type { BackendInfo } from "../worldmodel/backend/init.ts";
import { Progress } from "./progress.ts";

/** A number as it appears in run names: 0.5 -> "0p5" (no dots in file names). */
export const numberTag = (x: number): string => String(x).replace(".", "p");

export interface PlannedRun<C extends { seed: number }> {
  /** The record's file name within the experiment. */
  run: string;
  /** Everything that determines the result (stored in the record and compared on resume). */
  config: C;
}

/** True when the run's record exists; a record of the same name with another config is an error. */
export function recordDone(recordsDir: string, r: PlannedRun<{ seed: number }>): boolean {
  const path = recordPath(recordsDir, r.run);
  if (!existsSync(path)) return false;
  const saved = (JSON.parse(readFileSync(path, "utf8")) as RunRecord).config;
  if (JSON.stringify(saved) !== JSON.stringify(r.config)) {
    throw new Error(`${path} was made with another config (${JSON.stringify(saved)}); delete it or pass another --results folder`);
  }
  return true;
}

export async function runPlanned<C extends { seed: number }, M>(
  experiment: string,
  runs: PlannedRun<C>[],
  opts: { recordsDir: string; backend: BackendInfo; shard: [number, number] },
  execute: (config: C) => { metrics: M; summary: string } | Promise<{ metrics: M; summary: string }>,
): Promise<void> {
  const [index, count] = opts.shard;
  const todo = runs.filter((r, i) => i % count === index && !recordDone(opts.recordsDir, r));
  const progress = new Progress(count > 1 ? `${experiment} shard ${index + 1}/${count}` : experiment, todo.length);
  for (const r of todo) {
    const started = new Date();
    const { metrics, summary } = await execute(r.config);
    const record = makeRecord({ experiment, run: r.run, config: r.config, seed: r.config.seed, backend: opts.backend, started, metrics });
    writeRecord(opts.recordsDir, record);
    progress.tick(`${r.run}: ${summary} (${record.wallSeconds.toFixed(1)} s)`);
  }
  progress.stop();
}
