// Run records: every experiment run writes one JSON record with the same top-level keys, so that
// summaries and plots are regenerated from records alone (CleanRL/TD-MPC2's fixed metric names).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../common/atomicWrite.ts";
import { canonicalJson } from "../common/canonicalJson.ts";
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
  /** gemm: what ran the matmuls ("native" sums in another order than "xnnpack": other numbers, same seed); older records lack it. */
  backend: { kind: string; name: string; gemm?: string };
  versions: { node: string; tfjs: string; project: string };
  commit: string;
  /** Hash of the library defaults the run rested on (registry.ts ExperimentParts.defaults). */
  defaults?: string;
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
  defaults?: string;
}): RunRecord<C, M> {
  return {
    experiment: args.experiment,
    run: args.run,
    ...(args.id !== undefined ? { id: args.id } : {}),
    config: args.config,
    seed: args.seed,
    backend: { kind: args.backend.kind, name: args.backend.name, gemm: args.backend.gemm },
    versions: { node: process.version, tfjs: tf.version.tfjs, project: projectVersion() },
    commit: gitCommit(),
    ...(args.defaults !== undefined ? { defaults: args.defaults } : {}),
    startedAt: args.started.toISOString(),
    wallSeconds: (Date.now() - args.started.getTime()) / 1000,
    metrics: args.metrics,
  };
}

/**
 * A run's wall time. A run continued from its checkpoint records only its last part in
 * `wallSeconds`, while its evaluations count the whole run (methodRun.ts), so the later of the two
 * is the run's.
 */
export function runSeconds(record: Pick<RunRecord<unknown, unknown>, "wallSeconds" | "metrics">): number {
  const evals = (record.metrics as { evals?: unknown } | null)?.evals;
  const last: unknown = Array.isArray(evals) ? evals[evals.length - 1] : undefined;
  const whole = (last as { wallSeconds?: unknown } | undefined)?.wallSeconds;
  return typeof whole === "number" && whole > record.wallSeconds ? whole : record.wallSeconds;
}

/** A short hash of a value's canonical JSON (equal values, equal hashes, whatever their key order). */
export function fingerprint(value: unknown, length = 12): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, length);
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

/**
 * "N records; backend wasm; commit abc123; defaults 1f2e3d4c5b6a": what produced a set of records,
 * for summaries and the report (defaults with counts where records differ in them).
 */
export function describeRecords(records: RunRecord<unknown, unknown>[]): string {
  const distinct = (xs: string[]) => [...new Set(xs)].join(", ") || "-";
  const base = `${records.length} records; backend ${distinct(records.map((r) => (r.backend.gemm ? `${r.backend.kind} (${r.backend.gemm} GEMM)` : r.backend.kind)))}; commit ${distinct(records.map((r) => r.commit))}`;
  if (!records.some((r) => r.defaults !== undefined)) return base;
  const counts = new Map<string, number>();
  for (const r of records)
    counts.set(r.defaults ?? "not recorded", (counts.get(r.defaults ?? "not recorded") ?? 0) + 1);
  const defaults = counts.size === 1 ? [...counts.keys()][0] : [...counts].map(([d, n]) => `${d} (${n})`).join(", ");
  return `${base}; defaults ${defaults}`;
}
