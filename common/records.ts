// Run records: every experiment run writes one JSON record with the same top-level keys, so that
// summaries and plots are regenerated from records alone (CleanRL/TD-MPC2's fixed metric names).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "./atomicWrite.ts";
import { checkName } from "./safePaths.ts";
import type { BackendInfo } from "../worldmodel/backend/init.ts";

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

let commitCache: string | undefined;
/**
 * The git commit of the code (with "+dirty" for uncommitted changes outside results/, whose records
 * and plots describe runs, not code), or "unknown" outside a checkout.
 */
export function gitCommit(): string {
  if (commitCache !== undefined) return commitCache;
  try {
    const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync(
      "git",
      ["status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude)results"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    ).trim();
    commitCache = dirty ? `${head}+dirty` : head;
  } catch {
    commitCache = "unknown";
  }
  return commitCache;
}

function projectVersion(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
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
