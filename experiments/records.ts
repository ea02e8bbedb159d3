// Run records: every experiment run writes one JSON record with the same top-level keys, so that
// summaries and plots are regenerated from records alone (CleanRL/TD-MPC2's fixed metric names).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import { gitCommit, projectVersion } from "../common/provenance.ts";
import { checkName } from "../common/safePaths.ts";
import type { BackendInfo } from "../backend/init.ts";

export interface RunRecord<Config = Record<string, unknown>, Metrics = Record<string, unknown>> {
  experiment: string;
  /** A stable name of the run within its experiment (also its file name). */
  run: string;
  /** The sweep job's id: hash of experiment, config and code version (experiments/sweep/jobs.ts). */
  id?: string;
  config: Config;
  seed: number;
  backend: { kind: string; name: string };
  versions: { node: string; tfjs: string; project: string };
  commit: string;
  startedAt: string;
  wallSeconds: number;
  metrics: Metrics;
}

export function makeRecord<C, M>(args: {
  experiment: string;
  run: string;
  id?: string;
  config: C;
  seed: number;
  backend: BackendInfo;
  started: Date;
  metrics: M;
}): RunRecord<C, M> {
  return {
    experiment: args.experiment,
    run: args.run,
    ...(args.id !== undefined ? { id: args.id } : {}),
    config: args.config,
    seed: args.seed,
    backend: { kind: args.backend.kind, name: args.backend.name },
    versions: { node: process.version, tfjs: tf.version.tfjs, project: projectVersion() },
    commit: gitCommit(),
    startedAt: args.started.toISOString(),
    wallSeconds: (Date.now() - args.started.getTime()) / 1000,
    metrics: args.metrics,
  };
}

export function recordPath(dir: string, run: string): string {
  return join(dir, `${checkName(run, "record run name")}.json`);
}

export function writeRecord(dir: string, record: RunRecord<unknown, unknown>): string {
  const path = recordPath(dir, record.run);
  writeFileAtomic(path, JSON.stringify(record, null, 1) + "\n");
  return path;
}

/** Every record in a folder (missing folder: none). */
export function readRecords<C = Record<string, unknown>, M = Record<string, unknown>>(dir: string): RunRecord<C, M>[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as RunRecord<C, M>);
}

/** "N records; backend wasm; commit abc123": what produced a set of records, for summaries and the report. */
export function describeRecords(records: RunRecord<unknown, unknown>[]): string {
  const distinct = (xs: string[]) => [...new Set(xs)].join(", ") || "-";
  return `${records.length} records; backend ${distinct(records.map((r) => r.backend.kind))}; commit ${distinct(records.map((r) => r.commit))}`;
}
